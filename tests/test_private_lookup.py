"""Issue 14: private status look-up. Dossier codes are sequential, so look-up needs the code and the short secret
printed beside it (and inside the receipt's QR); wrong tries are limited per code and per kiosk; what it shows is
the status and appointment, never personal data."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import zxingcpp

from drivers.escpos_decode import decode_raster, decoded_qr_payloads, stack_vertically
from kiosk import messages
from kiosk.domain.codes import SECRET_ALPHABET, decode_receipt_qr, encode_receipt_qr
from kiosk.portal.client import LookupRefused
from kiosk.portal.models import DossierSubmission, DossierView
from kiosk.sandbox.store import (LOOKUP_MAX_WRONG_PER_CLIENT, LOOKUP_MAX_WRONG_PER_CODE, LOOKUP_WINDOW,
                                 SandboxError, SandboxStore)
from kiosk.session.machine import State
from portal_fixtures import client, confirm, doc_ref, fake_pdf, sandbox, sandbox_server, submission  # noqa: F401
from session_fixtures import CITIZEN_ID_NUMBER, CITIZEN_NAME, Kiosk, kiosk, portal, shared_outbox  # noqa: F401


def _wrong(secret: str) -> str:
    return next(c * 6 for c in SECRET_ALPHABET if c * 6 != secret)


def _submit(client, sandbox, ref: str = "KIOSK-TEST-01-000001", secret: str | None = None):
    client.login("VNEID-TEST-0001")
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    sub = submission(confirm(client, sandbox), [doc_ref("to_khai", data, 1)], ref)
    if secret:
        sub = sub.model_copy(update={"lookup_secret": secret})
    return client.submit(sub, "idem-" + ref)


# ------------------------------------------------------------------------------------------ the portal (sandbox)
def test_lookup_needs_the_secret_and_a_wrong_one_is_refused_like_an_unknown_code(client, sandbox) -> None:
    receipt = _submit(client, sandbox)
    code, secret = receipt.dossier_code, receipt.lookup_secret
    assert len(secret) == 6 and set(secret) <= set(SECRET_ALPHABET)
    with pytest.raises(LookupRefused) as no_secret:
        client.dossier(code, "")
    assert no_secret.value.code == "lookup_secret_required"
    with pytest.raises(LookupRefused) as wrong:
        client.dossier(code, _wrong(secret))
    assert (wrong.value.code, wrong.value.remaining_attempts) == ("lookup_mismatch", LOOKUP_MAX_WRONG_PER_CODE - 1)
    with pytest.raises(LookupRefused) as unknown:  # a code nobody has: the same answer, so codes cannot be probed
        client.dossier(code[:-4] + "9999", secret)
    assert unknown.value.code == "lookup_mismatch"
    view = client.dossier(code, secret.lower())  # as typed on a keyboard
    assert view.dossier_code == code and view.appointment_date == dt.date(2026, 11, 24)
    assert client.dossier("KIOSK-TEST-01-000001", secret).dossier_code == code  # by the kiosk's reference too
    # the public view: status and appointment; nothing of the citizen's or of the form
    public = view.model_dump_json()
    for personal in ("Nguyễn", "001099012345", "Tràng Tiền", "Mai", "Hà Nội", secret):
        assert personal not in public
    assert set(DossierView.model_fields) >= {"status", "appointment_date"}
    assert not {"form", "citizen", "full_name", "id_number", "address"} & set(DossierView.model_fields)


def test_the_old_unauthenticated_routes_are_gone(client, sandbox) -> None:
    import httpx

    code = _submit(client, sandbox).dossier_code
    for path in (f"/api/v1/dossiers/{code}", "/api/v1/dossiers/by-reference/KIOSK-TEST-01-000001"):
        r = httpx.get(sandbox.url + path, timeout=5)
        assert r.status_code in (404, 405) and code not in r.text


def test_an_offline_receipts_secret_is_the_one_the_portal_keeps(client, sandbox) -> None:
    receipt = _submit(client, sandbox, secret="ACD347")  # made by the kiosk, printed before delivery
    assert receipt.lookup_secret == "ACD347"
    assert client.dossier(receipt.dossier_code, "ACD347").dossier_code == receipt.dossier_code


def _store_with_dossier(tmp_path: Path) -> tuple[SandboxStore, str, str]:
    """A bare store (no server): the attempt limits, with a clock the test moves."""
    store = SandboxStore(tmp_path / "lookup.sqlite3")
    login = store.login("VNEID-TEST-0001", "K1")
    session = store.session(login.session_token)
    otp = store.request_otp(session)
    token = store.verify_otp(session, otp.otp_id, store.peek_otp(otp.otp_id)).confirmation_token
    sub = DossierSubmission(procedure_code="1.001193", kiosk_id="K1", local_reference="K1-261202-ABCDEF",
                            confirmed_at=store.now(), confirmation_token=token)
    receipt = store.submit(session, sub, "idem-limits-01")
    return store, receipt.dossier_code, receipt.lookup_secret


def test_wrong_tries_are_limited_per_code_then_the_lock_passes(tmp_path: Path) -> None:
    store, code, secret = _store_with_dossier(tmp_path)
    try:
        for i in range(LOOKUP_MAX_WRONG_PER_CODE - 1):
            with pytest.raises(SandboxError) as e:
                store.lookup(code, _wrong(secret), f"kiosk:K{i}")  # from different kiosks: the code counts
            assert (e.value.code, e.value.remaining_attempts) == ("lookup_mismatch", LOOKUP_MAX_WRONG_PER_CODE - 1 - i)
        with pytest.raises(SandboxError) as e:
            store.lookup(code, _wrong(secret), "kiosk:K9")
        assert (e.value.code, e.value.status) == ("lookup_locked", 429) and e.value.retry_after
        with pytest.raises(SandboxError) as e:  # locked: even the right secret is refused until the window passes
            store.lookup(code, secret, "kiosk:K1")
        assert e.value.code == "lookup_locked" and 0 < e.value.retry_after <= LOOKUP_WINDOW.total_seconds()
        store.advance_clock(LOOKUP_WINDOW.total_seconds() + 1)
        assert store.lookup(code, secret, "kiosk:K1").dossier_code == code
    finally:
        store.close()


def test_wrong_tries_are_limited_per_kiosk_across_codes(tmp_path: Path) -> None:
    store, code, secret = _store_with_dossier(tmp_path)
    try:
        for i in range(LOOKUP_MAX_WRONG_PER_CLIENT):  # one guess each at many neighbours' codes
            with pytest.raises(SandboxError):
                store.lookup(f"000.20.31.H38-261202-{i + 100:04d}", "ACDE47", "kiosk:K-GUESSER")
        with pytest.raises(SandboxError) as e:
            store.lookup(code, secret, "kiosk:K-GUESSER")
        assert e.value.code == "lookup_locked"
        assert store.lookup(code, secret, "kiosk:K-OTHER").dossier_code == code  # another kiosk is not locked
    finally:
        store.close()


# ------------------------------------------------------------------------------------------ the kiosk
def test_receipt_prints_the_secret_beside_the_code_and_inside_its_qr(kiosk: Kiosk) -> None:
    kiosk.to_done()
    d = kiosk.data
    assert d.delivered and len(d.lookup_secret) == 6
    stored = next(x for x in kiosk.sandbox.store.all_dossiers() if x["local_reference"] == d.local_reference)
    assert stored["lookup_secret"] == d.lookup_secret  # the kiosk's secret was sent with the dossier and kept
    stream = kiosk.printer.jobs[0]  # the printed bytes, decoded: a native QR command or a raster QR
    paper = stack_vertically(decode_raster(stream)).convert("L")
    qrs = decoded_qr_payloads(stream) + [r.text for r in zxingcpp.read_barcodes(paper)]
    assert encode_receipt_qr(d.dossier_code, d.lookup_secret) in qrs
    parsed = decode_receipt_qr(next(q for q in qrs if q.startswith("DVCK1|")))
    assert (parsed.code, parsed.secret) == (d.dossier_code, d.lookup_secret)


def test_status_screen_needs_the_secret_when_the_code_is_typed_and_the_qr_carries_it(kiosk: Kiosk) -> None:
    kiosk.to_done()
    code, secret = kiosk.data.dossier_code, kiosk.data.lookup_secret
    kiosk.send("next")
    kiosk.send("skip")
    assert kiosk.state is State.ATTRACT
    kiosk.send("status_lookup")
    assert kiosk.state is State.STATUS_LOOKUP
    jobs = len(kiosk.runner.jobs)
    kiosk.send("lookup", code=code, secret="")  # typed the code only: asked for the secret, nothing sent
    assert kiosk.data.error.kind == "lookup_secret_required" and len(kiosk.runner.jobs) == jobs
    assert kiosk.data.status_view is None
    kiosk.send("lookup", code=code, secret=_wrong(secret))
    kiosk.settle()
    assert kiosk.data.error.kind == "lookup_mismatch" and kiosk.data.status_view is None
    assert "còn" in kiosk.data.error.text and kiosk.data.error.next_step  # plain Vietnamese, a next step
    kiosk.present(f"DVCK1|{code}")  # an old receipt's QR (code only): the code is kept, the secret asked
    assert kiosk.data.error.kind == "lookup_secret_required" and kiosk.data.status_code == code
    kiosk.present(encode_receipt_qr(code, secret))  # the receipt's QR: code and secret, straight to the status
    view = kiosk.data.status_view
    assert view is not None and view.dossier_code == code and kiosk.data.error is None
    shown = json.dumps(view.model_dump(mode="json"), ensure_ascii=False)
    assert CITIZEN_NAME not in shown and CITIZEN_ID_NUMBER not in shown and "Lê Minh Khôi" not in shown


def test_lookup_messages_are_plain_vietnamese_with_a_next_step() -> None:
    for code in ("lookup_secret_required", "lookup_mismatch", "lookup_locked"):
        m = messages.for_portal_code(code)
        assert m.kind == code and m.title and m.text and m.next_step
        assert "error" not in (m.title + m.text).lower()
    assert "còn 2 lần" in messages.for_portal_code("lookup_mismatch", remaining_attempts=2).text


def test_a_ready_electronic_result_is_printed_at_the_status_screen(kiosk: Kiosk, tmp_path: Path) -> None:
    """2.000635 (bản sao trích lục hộ tịch): its result is a printable electronic copy (catalogue result_copy)."""
    import httpx

    from kiosk.portal.client import PortalClient
    from portal_fixtures import KIOSK_ID

    with PortalClient(kiosk.sandbox.url, kiosk_id=KIOSK_ID) as c:
        c.login("VNEID-TEST-0001")
        data = fake_pdf("tờ khai")
        c.upload_blob(data)
        sub = submission(confirm(c, kiosk.sandbox), [doc_ref("to_khai", data, 1)], "KIOSK-TEST-01-PRINT1",
                         procedure_code="2.000635")
        receipt = c.submit(sub, "idem-print-result-1")
    code, secret = receipt.dossier_code, receipt.lookup_secret
    kiosk.send("status_lookup")
    assert kiosk.state is State.STATUS_LOOKUP
    kiosk.present(encode_receipt_qr(code, secret))
    assert kiosk.data.status_view is not None and not kiosk.data.status_view.result_printable  # not ready yet
    kiosk.send("print_result")
    assert not kiosk.runner.jobs or all(kiosk._is_read_job(j) for j in kiosk.runner.jobs)  # nothing to print
    httpx.post(f"{kiosk.sandbox.url}/api/v1/sandbox/dossiers/{code}/status", json={"status": "completed"}, timeout=5)
    kiosk.present(encode_receipt_qr(code, secret))
    view = kiosk.data.status_view
    assert view.result_electronic and view.result_printable
    before = len(kiosk.printer.jobs)
    kiosk.send("print_result")
    kiosk.settle()
    assert kiosk.data.result_printed and kiosk.data.error is None and len(kiosk.printer.jobs) == before + 1
    paper = stack_vertically(decode_raster(kiosk.printer.jobs[-1]))  # the printer's bytes, decoded back
    assert paper.width == kiosk.printer.width_dots and paper.height > 300
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed (Debian: tesseract-ocr tesseract-ocr-vie)")
    path = tmp_path / "result.png"
    paper.save(path)
    text = subprocess.run(["tesseract", str(path), "-", "-l", "vie", "--psm", "6"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    assert "Bản sao trích lục hộ tịch" in flat and "Mã kiểm tra" in flat, flat  # its title, how to verify it
    assert code in flat.replace(" ", ""), flat


def test_a_fee_due_comes_with_a_vietqr_when_the_centre_has_an_account(kiosk: Kiosk) -> None:
    import httpx

    from kiosk.domain.vietqr import parse_tlv
    from kiosk.portal.client import PortalClient
    from portal_fixtures import KIOSK_ID

    with PortalClient(kiosk.sandbox.url, kiosk_id=KIOSK_ID) as c:
        c.login("VNEID-TEST-0001")
        data = fake_pdf("tờ khai")
        c.upload_blob(data)
        receipt = c.submit(submission(confirm(c, kiosk.sandbox), [doc_ref("to_khai", data, 1)], "KIOSK-TEST-01-FEE6"),
                           "idem-fee-due-1")
    code, secret = receipt.dossier_code, receipt.lookup_secret
    httpx.post(f"{kiosk.sandbox.url}/api/v1/sandbox/dossiers/{code}/status", json={"status": "payment_required"},
               timeout=5)
    kiosk.send("status_lookup")
    kiosk.present(encode_receipt_qr(code, secret))
    assert kiosk.data.status_view.status_code == 6 and kiosk.data.status_payment_qr == ""  # no account: words only
    pay = kiosk.services.config.payment
    pay.bank_bin, pay.account = "970415", "113366668888"
    try:
        kiosk.present(encode_receipt_qr(code, secret))
        fields = parse_tlv(kiosk.data.status_payment_qr)
        view = kiosk.data.status_view
        assert fields["54"] == str(view.fee_amount) and fields["62"]["08"] == view.payment_code
    finally:
        pay.bank_bin = pay.account = ""
