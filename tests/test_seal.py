"""Issue 14, searchable sealed dossiers: the OCR text layer under a packed scan, the kiosk's PAdES seal made with
the key and certificate it got at enrolment (the sandbox is the CA), the sandbox's check on receipt, and the
outbox's preparation step keeping its write order across crashes."""
from __future__ import annotations

import io
import logging
import stat
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from kiosk.domain.pages import PAGE_BUDGET_BYTES, pack_pages
from kiosk.outbox import seal
from kiosk.outbox import store as outbox_store
from kiosk.outbox.prepare import Preparer, add_text_layer
from kiosk.outbox.store import DELIVERED, PENDING, REJECTED, Outbox
from kiosk.portal.client import PortalClient, PortalRejected
from kiosk.sandbox import seals
from kiosk.sandbox.store import SandboxError
from kiosk.sandbox.testing import SandboxTestClient
from portal_fixtures import (  # noqa: F401  (fixtures)
    KIOSK_ID,
    client,
    closed_port,
    confirm,
    doc_ref,
    sandbox,
    sandbox_server,
    submission,
)

FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
LINE = "Giấy chứng sinh: Nguyễn Thị Hoà"
_codes = iter(range(7000, 8000))


def text_scan(dpi: int = 150, *, height_in: float = 1.2, font_pt: float = 15) -> Image.Image:
    """One small scanned slip with a line of Vietnamese print (a cheap page for tesseract)."""
    img = Image.new("L", (round(dpi * 6.5), round(dpi * height_in)), 250)
    ImageDraw.Draw(img).text((dpi // 4, dpi // 3), LINE, font=ImageFont.truetype(FONT, round(font_pt / 72 * dpi)),
                             fill=25)
    return img


def tiny_pdf(label: str) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    pdf.docinfo["/Title"] = label
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return done.stdout.decode()


def render(data: bytes, tmp: Path, dpi: int = 100) -> Image.Image:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", "-png", "-", str(tmp / "page")], input=data,
                   check=True)
    with Image.open(tmp / "page.png") as img:
        return img.copy()


def enrol(sandbox, folder: Path, kiosk_id: str = KIOSK_ID) -> seal.Sealer:
    """What `kiosk provision` does: register, make the seal key and CSR, have the sandbox's CA certify it."""
    with PortalClient(sandbox.url, kiosk_id=kiosk_id, read_timeout=10) as portal:
        credentials = portal.register_kiosk(f"ENROL-TEST-{next(_codes):04d}")
        key = seal.load_or_create_key(folder / seal.KEY_FILE)
        answer = portal.seal_certificate(seal.make_csr(key, kiosk_id).decode(), kiosk_token=credentials.kiosk_token)
    seal.save_certificate(folder / seal.CERT_FILE, answer.certificate_pem, key, kiosk_id)
    sealer = seal.Sealer.from_folder(folder)
    assert sealer is not None
    return sealer


@pytest.fixture
def patient_portal(sandbox):
    """The outbox's client, with room for the sandbox's first seal check (pyHanko's import)."""
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=1, read_timeout=10, upload_timeout=10) as p:
        yield p


def sealed_dossier(client, sandbox, ref: str, documents: dict[str, bytes]):
    if not client.logged_in:
        client.login("VNEID-TEST-0001")
    token = confirm(client, sandbox)
    docs = [doc_ref(label, data, 1) for label, data in documents.items()]
    return submission(token, docs, local_reference=ref), {d.sha256: documents[d.component] for d in docs}


# ---------------------------------------------------------------------------------------------- the text layer
def test_the_text_layer_finds_the_vietnamese_words_and_the_page_still_looks_like_the_scan(tmp_path):
    packed = pack_pages([text_scan()], 150)
    searchable = add_text_layer(packed.pdf, workers=1)
    text = unicodedata.normalize("NFC", pdf_text(searchable))
    assert pdf_text(packed.pdf).strip() == ""  # the scan alone has no text (so the check can fail)
    for word in ("Giấy", "chứng", "sinh", "Nguyễn", "Thị"):
        assert word in text, text
    assert unicodedata.is_normalized("NFC", pdf_text(searchable))
    before, after = render(packed.pdf, tmp_path), render(searchable, tmp_path)
    assert before.size == after.size and ImageChops.difference(before, after).getbbox() is None  # invisible
    assert len(searchable) <= PAGE_BUDGET_BYTES  # one page: within the page-packing target
    assert add_text_layer(searchable) == searchable  # a page with text is not read again


# ---------------------------------------------------------------------------------------------- the seal
def test_a_sealed_pdf_validates_and_tampering_or_a_foreign_ca_is_refused(tmp_path):
    ca = seals.SandboxCA(tmp_path / "ca")
    key = seal.load_or_create_key(tmp_path / "kiosk" / seal.KEY_FILE)
    assert stat.S_IMODE((tmp_path / "kiosk" / seal.KEY_FILE).stat().st_mode) == 0o600
    certificate = ca.issue(seal.make_csr(key, KIOSK_ID).decode(), KIOSK_ID)
    seal.save_certificate(tmp_path / "kiosk" / seal.CERT_FILE, certificate, key, KIOSK_ID)
    sealer = seal.Sealer.from_folder(tmp_path / "kiosk")
    original = tiny_pdf("to-khai")
    sealed = sealer.seal(original)
    assert sealed.startswith(original)  # an incremental update: the document itself is untouched
    check = seals.verify_pdf(sealed, KIOSK_ID, ca)
    assert check.status == seals.VERIFIED and check.signer == KIOSK_ID
    # The seal is the kiosk's, invisible, and says it is no citizen's signature.
    with pikepdf.open(io.BytesIO(sealed)) as pdf:
        field = next(f for f in pdf.Root.AcroForm.Fields if str(f.T) == seal.FIELD_NAME)
        assert [float(v) for v in field.get("/Rect", [0, 0, 0, 0])] == [0, 0, 0, 0]
        assert "công dân" in str(field.V.Reason) and KIOSK_ID in str(field.V.Name)

    flipped = bytearray(sealed)
    flipped[sealed.index(b"/Title") + 2] ^= 0x01  # inside the signed byte range
    with pytest.raises(SandboxError) as refused:
        seals.verify_pdf(bytes(flipped), KIOSK_ID, ca)
    assert refused.value.status == 422 and refused.value.code == "seal_invalid"

    other_ca = seals.SandboxCA(tmp_path / "other-ca")  # same name, another key
    with pytest.raises(SandboxError, match="CA"):
        seals.verify_pdf(sealed, KIOSK_ID, other_ca)
    with pytest.raises(SandboxError, match="another kiosk"):
        seals.verify_pdf(sealed, "KIOSK-TEST-99", ca)
    with pytest.raises(SandboxError, match="appended"):
        seals.verify_pdf(sealed + b"\n% appended after sealing\n", KIOSK_ID, ca)
    # A certified kiosk must seal: stripping the seal does not get a changed file through.
    with pytest.raises(SandboxError, match="no seal"):
        seals.verify_pdf(original, KIOSK_ID, ca)
    assert seals.verify_pdf(original, "KIOSK-NEVER-CERTIFIED", ca).status == seals.UNSEALED


def test_provision_makes_the_seal_key_and_gets_its_certificate(tmp_path, sandbox, monkeypatch, capsys):
    import argparse

    from kiosk.cli import provision as provision_cli

    answers = tmp_path / "site.toml"
    answers.write_text(f'[kiosk]\nid = "KIOSK-HN-0042"\ncentre_name = "Bộ phận Một cửa UBND xã Đông Anh"\n'
                       f'commune = "Xã Đông Anh"\nagency_code = "000.20.31.H26"\n[portal]\nurl = "{sandbox.url}"\n'
                       '[printer]\ndriver = "fake"\n'
                       f'[scanner]\ndriver = "fake"\n[code_reader]\ndriver = "fake"\n'
                       f'[provision]\nenrolment_code = "ENROL-TEST-{next(_codes):04d}"\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    provision_cli.add_arguments(parser)
    root = tmp_path / "root"
    argv = ["--root", str(root), "--from-file", str(answers), "--non-interactive", "--no-self-test"]
    code = provision_cli.run(parser.parse_args(argv))
    assert code == 0, capsys.readouterr()
    site = root / "etc/dvc-kiosk"
    assert stat.S_IMODE((site / seal.KEY_FILE).stat().st_mode) == 0o600
    sealer = seal.Sealer.from_folder(site)
    assert sealer is not None and sealer.kiosk_id == "KIOSK-HN-0042"
    verdict = seals.verify_pdf(sealer.seal(tiny_pdf("x")), "KIOSK-HN-0042", seals.ca_for(sandbox.store))
    assert verdict.status == "verified"
    before = (site / seal.CERT_FILE).read_bytes()
    assert provision_cli.run(parser.parse_args(argv)) == 0
    assert (site / seal.CERT_FILE).read_bytes() == before  # a re-run keeps key and certificate


# ---------------------------------------------------------------------------------------------- the outbox
def test_a_tampered_document_is_refused_by_the_sandbox_and_kept_for_the_technician(tmp_path, client, sandbox,
                                                                                   patient_portal, caplog):
    sealer = enrol(sandbox, tmp_path / "site")

    def tamper(_doc, data: bytes) -> bytes:  # sealed, then changed on the way (what the portal must catch)
        sealed = bytearray(sealer.seal(data))
        sealed[sealed.index(b"/Title") + 2] ^= 0x01
        return bytes(sealed)

    sub, blobs = sealed_dossier(client, sandbox, "KIOSK-TEST-01-000901", {"to-khai": tiny_pdf("a")})
    with Outbox(tmp_path / "kiosk", preparer=tamper) as outbox:
        outbox.enqueue(sub, blobs)
        with caplog.at_level(logging.ERROR, "kiosk.outbox.store"):
            assert outbox.deliver(sub.local_reference, patient_portal) is None  # nothing raised at the citizen
        item = outbox.get(sub.local_reference)
        assert item.state == REJECTED and item.last_error == "seal_invalid"
        assert "seal did not verify" in caplog.text and "kiosk outbox list" in caplog.text
    assert SandboxTestClient(sandbox.url).dossiers() == []
    # The contract: a typed 422 seal_invalid.
    sub, blobs = sealed_dossier(client, sandbox, "KIOSK-TEST-01-000902", {"to-khai": tamper(None, tiny_pdf("b"))})
    patient_portal.upload_blob(next(iter(blobs.values())), confirmation_token=sub.confirmation_token)
    with pytest.raises(PortalRejected) as refused:
        patient_portal.submit(sub, idempotency_key=sub.local_reference)
    assert refused.value.code == "seal_invalid" and refused.value.status == 422


def test_a_crash_after_sealing_and_before_upload_delivers_the_sealed_dossier_once(tmp_path, client, sandbox,
                                                                                  patient_portal):
    sealer = enrol(sandbox, tmp_path / "site")
    calls = []

    def preparer(doc, data):
        calls.append(doc.component)
        return Preparer(sealer, ocr=False)(doc, data)

    sub, blobs = sealed_dossier(client, sandbox, "KIOSK-TEST-01-000903",
                                {"to-khai": tiny_pdf("a"), "giay-chung-sinh": tiny_pdf("b")})
    data_dir = tmp_path / "kiosk"
    with Outbox(data_dir, preparer=preparer) as outbox, \
            PortalClient(f"http://127.0.0.1:{closed_port()}", kiosk_id=KIOSK_ID, connect_timeout=0.2) as down:
        outbox.enqueue(sub, blobs)
        assert outbox.deliver(sub.local_reference, down) is None  # prepared, then the link is down
        assert outbox.get(sub.local_reference).state == PENDING and len(calls) == 2
    # The kiosk dies here (after the preparation's commit, before any upload) and starts again.
    with Outbox(data_dir, preparer=preparer) as outbox:
        prepared = outbox.submission(sub.local_reference)
        assert {d.sha256 for d in prepared.documents}.isdisjoint(blobs)  # the sealed versions replaced them
        assert sorted(p.stem for p in (data_dir / "outbox-blobs").iterdir()) == \
            sorted(d.sha256 for d in prepared.documents)  # the unsealed files are gone
        receipt = outbox.deliver(sub.local_reference, patient_portal)
        assert receipt is not None and outbox.get(sub.local_reference).state == DELIVERED
    assert len(calls) == 2  # not prepared twice
    [dossier] = SandboxTestClient(sandbox.url).dossiers()
    assert [d["seal"] for d in dossier["documents"]] == ["verified", "verified"]
    assert [d["sha256"] for d in dossier["documents"]] == [d.sha256 for d in prepared.documents]


def test_a_crash_inside_the_preparation_leaves_the_dossier_as_it_was(tmp_path, client, sandbox, patient_portal,
                                                                     monkeypatch):
    sealer = enrol(sandbox, tmp_path / "site")
    sub, blobs = sealed_dossier(client, sandbox, "KIOSK-TEST-01-000904",
                                {"to-khai": tiny_pdf("a"), "giay-chung-sinh": tiny_pdf("b")})
    data_dir = tmp_path / "kiosk"
    real_write = outbox_store._write_durably
    written = []

    def dies_after_one(path, data):
        real_write(path, data)
        written.append(path)
        raise KeyboardInterrupt("power cut")  # between the first new file and the commit

    with Outbox(data_dir, preparer=Preparer(sealer, ocr=False)) as outbox:
        outbox.enqueue(sub, blobs)
        monkeypatch.setattr(outbox_store, "_write_durably", dies_after_one)
        with pytest.raises(KeyboardInterrupt):
            outbox.deliver(sub.local_reference, patient_portal)
        monkeypatch.setattr(outbox_store, "_write_durably", real_write)
    assert written and written[0].exists()  # an orphan from the cut
    with Outbox(data_dir, preparer=Preparer(sealer, ocr=False)) as outbox:
        assert not written[0].exists()  # tidied on start
        assert outbox.submission(sub.local_reference) == sub  # still the dossier as confirmed
        assert {sha: outbox.blob(sha) for sha in blobs} == blobs
        assert outbox.deliver(sub.local_reference, patient_portal) is not None
    [dossier] = SandboxTestClient(sandbox.url).dossiers()
    assert {d["seal"] for d in dossier["documents"]} == {"verified"}


def test_a_broken_seal_key_holds_dossiers_back_for_the_technician(tmp_path, client, sandbox, patient_portal):
    folder = tmp_path / "site"
    enrol(sandbox, folder)
    (folder / seal.KEY_FILE).write_bytes(b"not a key")
    with pytest.raises(seal.SealError):
        seal.Sealer.from_folder(folder)
    sub, blobs = sealed_dossier(client, sandbox, "KIOSK-TEST-01-000905", {"to-khai": tiny_pdf("a")})
    with Outbox(tmp_path / "kiosk", preparer=Preparer(seal.SealError("seal_key_unreadable"), ocr=False)) as outbox:
        outbox.enqueue(sub, blobs)
        assert outbox.deliver(sub.local_reference, patient_portal) is None
        item = outbox.get(sub.local_reference)
        assert item.state == REJECTED and item.last_error == "seal_key_unreadable"
    assert SandboxTestClient(sandbox.url).dossiers() == []  # never sent unsealed


# ---------------------------------------------------------------------------------------------- the whole path
def test_a_session_delivers_searchable_sealed_pdfs_that_the_sandbox_verifies(tmp_path, sandbox_server,
                                                                             monkeypatch):
    """...and the OCR is done while the citizen is on the review and one-time-code screens: after confirming, no
    scan is read again (the citizen's wait is the seal and the upload only)."""
    import threading

    from kiosk.outbox import prepare
    from session_fixtures import PaperScanner, build_kiosk, close_kiosk

    reads: list[str] = []
    real_text_layer = prepare.add_text_layer

    def recording_text_layer(data: bytes, **kw):
        out = real_text_layer(data, **kw)
        if out != data:  # a scan was read (the declaration has its own text and comes back as it was)
            reads.append(threading.current_thread().name)
        return out

    monkeypatch.setattr(prepare, "add_text_layer", recording_text_layer)
    sandbox_server.reset(tmp_path / "portal.sqlite3")
    sealer = enrol(sandbox_server, tmp_path / "site")
    outbox = Outbox(tmp_path / "kiosk", preparer=Preparer(sealer, workers=2))
    k = build_kiosk(tmp_path, sandbox_server, outbox=outbox,
                    scanner=PaperScanner(sheet=lambda: text_scan(75, height_in=3, font_pt=30)))
    try:
        k.to_done()
        assert k.data.delivered and k.data.dossier_code
    finally:
        close_kiosk(k)
    [dossier] = SandboxTestClient(sandbox_server.url).dossiers()
    docs = dossier["documents"]
    assert docs[0]["component"] == "to_khai_dien_tu" and len(docs) >= 3
    assert reads and all(name.startswith("ocr-warm") for name in reads), reads
    assert {d["seal"] for d in docs} == {"verified"}
    for d in docs[1:]:  # the scans: searchable now
        text = unicodedata.normalize("NFC", pdf_text(sandbox_server.store.blob_path(d["sha256"]).read_bytes()))
        assert "Nguyễn" in text and "chứng" in text, text


def test_the_technicians_retry_prepares_and_seals_like_the_kiosk(tmp_path, client, sandbox, monkeypatch, capsys):
    """`kiosk outbox retry` delivers through the same preparation step: a dossier the session could not send is
    sealed by the technician's run too (the sandbox refuses an unsealed one from a certified kiosk)."""
    import json

    from kiosk.appliance.fleet import save_credentials
    from kiosk.appliance.provision import enrol_seal
    from kiosk.cli import main

    site = tmp_path / "site"
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, read_timeout=10) as portal:
        credentials = portal.register_kiosk(f"ENROL-TEST-{next(_codes):04d}")
        enrol_seal(portal, credentials.kiosk_token, site)
    save_credentials(site / "credentials.json", credentials)
    data = tmp_path / "kiosk-data"
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(data))
    monkeypatch.setenv("KIOSK_KIOSK__ID", KIOSK_ID)
    monkeypatch.setenv("KIOSK_PORTAL__URL", sandbox.url)
    monkeypatch.setenv("KIOSK_PORTAL__CREDENTIALS_FILE", str(site / "credentials.json"))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    sub, blobs = sealed_dossier(client, sandbox, "KIOSK-TEST-01-000906", {"to-khai": tiny_pdf("a")})
    with Outbox(data) as outbox:  # saved; the session's own attempt never happened
        outbox.enqueue(sub, blobs)
    assert main(["outbox", "retry", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"delivered": 1, "pending": 0, "errors": []}
    [dossier] = SandboxTestClient(sandbox.url).dossiers()
    assert [d["seal"] for d in dossier["documents"]] == ["verified"]


def test_a_warmed_text_layer_is_used_once_and_forgotten_with_the_session(monkeypatch):
    """Preparer.warm starts the OCR before confirming; the preparation then takes that result (not reading the
    page again); forget_warm (the session's wipe) drops what was never confirmed."""
    from kiosk.outbox import prepare

    pdf = pack_pages([text_scan(150)], 150).pdf
    preparer = Preparer(None, workers=1)
    preparer.warm(pdf)

    def must_not_read(data: bytes, **kw):
        raise AssertionError("the page was read again after confirming")

    monkeypatch.setattr(prepare, "add_text_layer", must_not_read)
    out = preparer(None, pdf)
    assert "Nguyễn" in unicodedata.normalize("NFC", pdf_text(out))
    with pytest.raises(AssertionError, match="read again"):  # used once: a second preparation reads it itself
        preparer(None, pdf)
    monkeypatch.setattr(prepare, "add_text_layer", lambda data, **kw: data)
    preparer.warm(pdf)
    preparer.forget_warm()
    with pytest.raises(AssertionError, match="read again"):
        monkeypatch.setattr(prepare, "add_text_layer", must_not_read)
        preparer(None, pdf)


def test_a_seal_can_be_made_after_a_chip_card_was_read_in_the_same_process():
    """The chip code parses a SOD with asn1crypto's CMS first (its name table's reverse index is built then);
    the seal's signing_certificate_v2 attribute, added by asn1crypto.tsp, must still be known afterwards
    (this failed whole seal tests when a chip test ran earlier in the same worker)."""
    import subprocess
    import sys

    code = ("import drivers.icao.pa\nfrom asn1crypto import cms\ncms.CMSAttributeType('message_digest')\n"
            "import pyhanko.sign.signers\ncms.CMSAttributeType('signing_certificate_v2')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-800:]
