"""A whole citizen session through the real Kivy screens (offscreen SDL), pressing buttons like a person, against
the sandbox portal over loopback HTTP: the portal must hold the dossier with every scanned page, the printer must
have received a receipt whose QR leads back to that dossier, and every screen must have been drawn."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageStat

from drivers.escpos_decode import decode_raster, decoded_qr_payloads, stack_vertically
from portal_fixtures import portal_dossiers
from kiosk.sandbox.server import start_sandbox

pytestmark = pytest.mark.ui

STEPS = ["attract", "procedure", "procedure_info", "consent", "login", "form", "documents", "review", "otp",
         "done", "rating", "status_lookup", "queue_ticket"]


def run_simulate(portal_url: str, out: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    env["KIVY_HOME"] = str(out.parent / "kivy-home")
    return subprocess.run(
        [sys.executable, "-m", "screens.main", "simulate", "--portal", portal_url, "--out", str(out), *extra],
        env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """One simulated session (landscape), shared by the assertions below: it takes a while to press every key.
    At 1280×720, two thirds of full size (the screens scale with the window, text included): the session is what
    is tested here; the full-size look of every screen is the goldens' (docs/architecture.md, what the UI tests
    draw). Half the rendering CPU."""
    base = tmp_path_factory.mktemp("ui")
    with start_sandbox(base / "portal.sqlite3") as sandbox:
        out = base / "out"
        result = run_simulate(sandbox.url, out, "--size", "1280x720")
        dossiers = portal_dossiers(sandbox)
    return result, out, dossiers


def test_simulated_session_completes(simulated):
    result, out, _ = simulated
    assert result.returncode == 0, result.stderr[-3000:]
    session = json.loads((out / "session.json").read_text(encoding="utf-8"))
    assert session["ok"] is True
    assert session["procedure_code"] == "1.001193"
    assert session["dossier_code"], "the portal gave no dossier code"
    assert session["wiped"] is True, "the citizen's data was not wiped after the session"
    assert [s["step"] for s in session["steps"]] == STEPS


def test_portal_holds_the_dossier_with_every_scanned_page(simulated):
    result, out, dossiers = simulated
    session = json.loads((out / "session.json").read_text(encoding="utf-8"))
    ours = [d for d in dossiers if d["dossier_code"] == session["dossier_code"]]
    assert len(ours) == 1, "the dossier is missing or stored twice"
    documents = ours[0]["documents"]
    assert documents[0]["component"] == "to_khai_dien_tu"  # the filled declaration form comes first
    assert {d["component"]: d["pages"] for d in documents[1:]} == session["pages"]
    assert all(pages >= 1 for pages in session["pages"].values())
    assert len(dossiers) == 1


def test_the_first_pdf_the_sandbox_holds_is_the_filled_declaration(simulated):
    """`kiosk simulate` for a birth registration (issue 14): the portal's first document of the dossier is the
    official tờ khai filled with what the simulated citizen typed, not a placeholder."""
    import shutil

    _, out, dossiers = simulated
    session = json.loads((out / "session.json").read_text(encoding="utf-8"))
    [ours] = [d for d in dossiers if d["dossier_code"] == session["dossier_code"]]
    first = ours["documents"][0]
    blob = out.parent / "portal.sqlite3.blobs" / first["sha256"][:2] / first["sha256"]  # as the sandbox keeps it
    data = blob.read_bytes()
    assert data.startswith(b"%PDF-") and first["pages"] == 1
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (Debian: poppler-utils)")
    text = subprocess.run(["pdftotext", "-raw", str(blob), "-"], check=True, capture_output=True, text=True).stdout
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text
    assert "Lê Minh Khôi" in text and "Lê Thị Hồng Nhung" in text  # the answers the simulated citizen typed


def test_every_step_was_drawn(simulated):
    _, out, _ = simulated
    for n, step in enumerate(STEPS, start=1):
        path = out / "screens" / f"{n:02d}-{step}.png"
        assert path.exists(), f"no screenshot of {step}"
        with Image.open(path) as img:
            assert img.size == (1280, 720)  # the window asked for
            assert ImageStat.Stat(img.convert("L")).stddev[0] > 10, f"{path.name} is blank"


def test_printed_receipt_leads_back_to_the_dossier(simulated):
    _, out, _ = simulated
    session = json.loads((out / "session.json").read_text(encoding="utf-8"))
    stream = (out / "receipt.bin").read_bytes()
    images = decode_raster(stream)
    assert images, "the printer received no raster image"
    paper = stack_vertically(images).convert("L")
    # the QR is printed with the printer's own QR command where the model has one, else drawn in the raster
    codes = decoded_qr_payloads(stream) + [r.text for r in zxingcpp.read_barcodes(paper)]
    # the code and the look-up secret printed beside it (one codec: kiosk.domain.codes)
    assert f"DVCK1|{session['dossier_code']}|{session['shown_secret']}" in codes
    ticket = decode_raster((out / "ticket.bin").read_bytes())
    assert ticket, "no queue ticket printed"
    assert session["queue_number"]


def test_no_personal_data_in_the_logs_of_a_whole_session(simulated):
    """Everything the kiosk logged during the session (its stderr, at INFO) names no person and no number."""
    from screens.simulate import SAMPLE_TEXT

    result, _, _ = simulated
    logs = result.stderr + result.stdout
    assert "step login -> form" in logs, "the session's log is not what this test thinks it is"
    citizen = ["Nguyễn Văn An", "001099012345", "Tràng Tiền", "01/01/1990"]
    typed = [SAMPLE_TEXT["child"], SAMPLE_TEXT["mother"], "Trạm y tế"]
    for secret in citizen + typed:
        assert secret not in logs, f"personal data in the logs: {secret!r}"


def test_status_look_up_shows_the_dossier_in_the_centres_time(simulated):
    """The portal answers in UTC; a citizen reads the centre's clock (UTC+7)."""
    import datetime as dt
    import re
    from zoneinfo import ZoneInfo

    _, out, _ = simulated
    session = json.loads((out / "session.json").read_text(encoding="utf-8"))
    shown = re.search(r"Ngày tiếp nhận: (\d\d/\d\d/\d{4} \d\d:\d\d)", session["status_text"])
    assert shown, session["status_text"]
    received = dt.datetime.strptime(shown.group(1), "%d/%m/%Y %H:%M")
    now = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)
    assert dt.timedelta(0) <= now - received < dt.timedelta(minutes=15), (received, now)
    assert "Mới đăng ký" in session["status_text"]
