"""What a citizen and a technician meet when things go wrong, through the real screens (offscreen): a jam, a
portal outage at the moment of submitting, a printer out of paper, a broken device between sessions, a citizen
who walks away, and the technician's hidden panel. Each runs in its own process (one Kivy app per process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from kiosk.sandbox.server import start_sandbox
from portal_fixtures import portal_dossiers
from test_ui_flow import run_simulate

pytestmark = pytest.mark.ui
HARNESS = Path(__file__).with_name("ui_harness.py")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with start_sandbox(tmp_path_factory.mktemp("ui-portal") / "portal.sqlite3") as handle:
        yield handle


def run_scenario(name: str, portal_url: str, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    env["KIVY_HOME"] = str(out.parent / "kivy-home")
    proc = subprocess.run([sys.executable, str(HARNESS), name, portal_url, str(out)], env=env,
                          capture_output=True, text=True, timeout=240)
    result_file = out / "result.json"
    assert result_file.exists(), proc.stderr[-3000:]
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert result["ok"], f"{result.get('error')}\n{proc.stderr[-3000:]}"
    return result


def drawn(path: Path) -> bool:
    with Image.open(path) as img:
        return ImageStat.Stat(img.convert("L")).stddev[0] > 10


def test_bad_day_in_portrait(sandbox, tmp_path):
    """Portrait kiosk; the feeder jams at page 2; the portal goes down as the citizen confirms; the printer is out
    of paper. The citizen still leaves with a reference on screen, nothing is lost, and once the portal is back
    the outbox delivers the dossier by itself, with every page, and the reference finds it."""
    out = tmp_path / "out"
    result = run_simulate(sandbox.url, out, "--size", "1080x1920", "--scanner-fault", "jam_at:2",
                          "--printer-fault", "paper_out", "--portal-down-at-submit")
    assert result.returncode == 0, result.stderr[-3000:]
    session = json.loads((out / "session.json").read_text(encoding="utf-8"))
    assert session["jams_cleared"] >= 1
    assert session["delivered"] is False, "the portal was down: the receipt must say saved, not received"
    assert session["shown_code"] == session["local_reference"]
    assert session["print_error"] == "paper_out"
    assert session["status_seen"] == "received", "the saved dossier was not found by its reference later"
    ours = [d for d in portal_dossiers(sandbox) if d["local_reference"] == session["local_reference"]]
    assert len(ours) == 1, "the dossier must reach the portal exactly once"
    # the declaration is made, not scanned
    scanned = [d for d in ours[0]["documents"] if d["component"] != "to_khai_dien_tu"]
    assert {d["component"]: d["pages"] for d in scanned} == session["pages"]
    assert all(p == 2 for p in session["pages"].values()), "the jam lost or doubled a page"
    for shot in (out / "screens").glob("*.png"):
        with Image.open(shot) as img:
            assert img.size == (1080, 1920)
        assert drawn(shot), shot.name
    assert any(p.name.endswith("documents-jam.png") for p in (out / "screens").iterdir())


def test_broken_device_takes_the_kiosk_out_of_service_until_fixed(sandbox, tmp_path):
    result = run_scenario("out_of_service", sandbox.url, tmp_path / "oos")
    assert result["start_refused"], "a citizen could start a session that cannot finish"
    assert "printer" in result["reason"]
    assert drawn(tmp_path / "oos" / "out_of_service.png")


def test_technician_panel_behind_pin(sandbox, tmp_path):
    result = run_scenario("technician", sandbox.url, tmp_path / "tech")
    assert result["wrong_pin_refused"]
    assert result["test_slip_printed"]
    assert drawn(tmp_path / "tech" / "technician.png")


def test_walking_away_wipes_the_session(sandbox, tmp_path):
    result = run_scenario("inactivity", sandbox.url, tmp_path / "idle")
    assert result["had_citizen"] and result["kept_after_touch"] and result["warned_again"]
    assert result["wiped"] and result["portal_logged_out"]
    assert drawn(tmp_path / "idle" / "inactivity_warning.png")
