"""What a citizen and a technician meet when things go wrong, through the real screens (offscreen, a portrait
kiosk): a jam, a portal outage at the moment of submitting, a printer out of paper, a broken device between
sessions, a citizen who walks away, and the technician's hidden panel. The scenarios run one after another in one
kiosk app (tests/ui_harness.py: one Kivy app per process, and a Kivy start costs seconds), each from the attract
screen back to it, as on a kiosk's day; each test below checks what its scenario saw."""
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

pytestmark = pytest.mark.ui
HARNESS = Path(__file__).with_name("ui_harness.py")
SCENARIOS = ("bad_day", "out_of_service", "technician", "inactivity")
#: A portrait kiosk, at two thirds of 1080x1920: the screens scale with the window (the same layout), the
#: scenarios' behaviour is what is tested here, and llvmpipe's rendering costs half. The full-size portrait look is
#: the goldens' and tests/test_ui_accessibility.py's.
PORTRAIT = (720, 1280)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with start_sandbox(tmp_path_factory.mktemp("ui-portal") / "portal.sqlite3") as handle:
        yield handle


def run_scenarios(names, portal_url: str, out: Path, size: tuple[int, int]) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    env["KIVY_HOME"] = str(out.parent / "kivy-home")
    proc = subprocess.run([sys.executable, str(HARNESS), ",".join(names), portal_url, str(out),
                           f"{size[0]}x{size[1]}"], env=env, capture_output=True, text=True, timeout=400)
    result_file = out / "result.json"
    assert result_file.exists(), proc.stderr[-3000:]
    return json.loads(result_file.read_text(encoding="utf-8")), proc.stderr


@pytest.fixture(scope="module")
def day(sandbox, tmp_path_factory):
    """The kiosk's day: every scenario, in one app. Yields a function giving one scenario's result (failing its
    test, with the app's log, if the scenario failed) and where its screenshots are."""
    out = tmp_path_factory.mktemp("ui-day") / "out"
    results, stderr = run_scenarios(SCENARIOS, sandbox.url, out, PORTRAIT)

    def scenario(name: str) -> tuple[dict, Path]:
        result = results[name]
        assert result["ok"], f"{result.get('error')}\n{stderr[-3000:]}"
        return result, out / name

    return scenario


def drawn(path: Path) -> bool:
    with Image.open(path) as img:
        return ImageStat.Stat(img.convert("L")).stddev[0] > 10


def test_bad_day_in_portrait(day, sandbox):
    """Portrait kiosk; the feeder jams at page 2; the portal goes down as the citizen confirms; the printer is out
    of paper. The citizen still leaves with a reference on screen, nothing is lost, and once the portal is back
    the outbox delivers the dossier by itself, with every page, and the reference finds it."""
    session, shots = day("bad_day")
    assert session["jams_cleared"] >= 1
    assert session["delivered"] is False, "the portal was down: the receipt must say saved, not received"
    assert session["shown_code"] == session["local_reference"]
    assert session["print_error"] == "paper_out"
    assert session["wiped"] is True
    assert session["status_seen"] == "received", "the saved dossier was not found by its reference later"
    ours = [d for d in portal_dossiers(sandbox) if d["local_reference"] == session["local_reference"]]
    assert len(ours) == 1, "the dossier must reach the portal exactly once"
    # the declaration is made, not scanned
    scanned = [d for d in ours[0]["documents"] if d["component"] != "to_khai_dien_tu"]
    assert {d["component"]: d["pages"] for d in scanned} == session["pages"]
    assert all(p == 2 for p in session["pages"].values()), "the jam lost or doubled a page"
    pngs = sorted(shots.glob("*.png"))
    assert len(pngs) == len(session["shots"])
    for shot in pngs:
        with Image.open(shot) as img:
            assert img.size == PORTRAIT
        assert drawn(shot), shot.name
    assert any(p.name.endswith("documents-jam.png") for p in pngs)


def test_broken_device_takes_the_kiosk_out_of_service_until_fixed(day):
    result, shots = day("out_of_service")
    assert result["start_refused"], "a citizen could start a session that cannot finish"
    assert "printer" in result["reason"]
    assert drawn(shots / "out_of_service.png")


def test_technician_panel_behind_pin(day):
    result, shots = day("technician")
    assert result["wrong_pin_refused"]
    assert result["test_slip_printed"]
    assert drawn(shots / "technician.png")


def test_walking_away_wipes_the_session(day):
    result, shots = day("inactivity")
    assert result["had_citizen"] and result["kept_after_touch"] and result["warned_again"]
    assert result["wiped"] and result["portal_logged_out"]
    assert drawn(shots / "inactivity_warning.png")
