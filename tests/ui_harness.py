"""Runs one UI scenario in its own process (one Kivy app per process): the real screens, offscreen, fake devices,
a sandbox portal given by URL, and a Pilot pressing buttons. Usage:

    python tests/ui_harness.py SCENARIO PORTAL_URL OUT_DIR

Writes OUT_DIR/result.json ({"ok": ..., "error": ..., plus what the scenario observed}) and screenshots."""
from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from screens import kivy_env  # noqa: E402

kivy_env.configure(size=(1920, 1080), headless=True)

from drivers.fakes.printer import FakePrinter  # noqa: E402
from drivers.fakes.reader import FakeCodeReader  # noqa: E402
from drivers.fakes.scanner import FakeScanner  # noqa: E402
from kiosk.appliance import config  # noqa: E402
from kiosk.appliance import services as services_mod  # noqa: E402
from kiosk.appliance.technician import hash_pin  # noqa: E402

TECH_PIN = "135790"


def out_of_service(pilot, svc, out: Path) -> dict:
    """A broken printer takes the kiosk out of service between sessions; fixing it brings the kiosk back."""
    app = pilot.app
    app.monitor.interval = 0.5
    svc.printer.set_fault("paper_out")
    pilot.wait_state("out_of_service", timeout=20)
    pilot.screenshot(out / "out_of_service.png")
    reason = pilot.session.out_of_service_reason
    start_refused = not pilot.has_button("Bắt đầu nộp hồ sơ")
    svc.printer.set_fault("")
    pilot.wait_state("attract", timeout=20)
    return {"reason": reason, "start_refused": start_refused}


def technician(pilot, svc, out: Path) -> dict:
    """Five taps on the centre's name open the PIN pad; the PIN opens the panel; its actions work."""
    from kivy.core.window import Window

    def tap_corner():
        from kivy.tests.common import UnitTestTouch

        t = UnitTestTouch(40, Window.height - 30)
        t.touch_down()
        t.touch_up()

    for _ in range(5):
        pilot.call(tap_corner)
        time.sleep(0.1)
    pilot.frames(3)
    for digit in "000000":
        pilot.tap(digit)
    pilot.tap("OK")
    wrong_pin_refused = pilot.has_button("OK")
    for digit in TECH_PIN:
        pilot.tap(digit)
    pilot.tap("OK")
    pilot.wait_until(lambda: pilot.has_button("In thử"), 10, "the technician panel")
    jobs_before = len(svc.printer.jobs)
    pilot.tap("In thử")
    pilot.wait_until(lambda: len(svc.printer.jobs) > jobs_before, 10, "the test slip")
    pilot.wait_until(lambda: bool(pilot.app.root_window.children[0].devices), 10, "device checks")
    pilot.screenshot(out / "technician.png")
    pilot.tap("Tạm ngừng phục vụ")
    pilot.wait_until(lambda: pilot.session.state.value == "out_of_service", 10, "out of service")
    pilot.tap("Phục vụ trở lại")
    pilot.wait_until(lambda: pilot.session.state.value == "attract", 10, "back in service")
    pilot.tap("Đóng")
    return {"wrong_pin_refused": wrong_pin_refused, "test_slip_printed": len(svc.printer.jobs) > jobs_before}


class SteppedClock:
    """The session's clock, which the inactivity scenario moves forward instead of waiting (the app ticks it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


CLOCK = SteppedClock()


def inactivity(pilot, svc, out: Path) -> dict:
    """A citizen walks away mid-form: a countdown warns, then everything is wiped and the kiosk is idle again.
    The session's clock is moved forward past the warning, then past the timeout: nothing else is faked."""
    session = pilot.session
    pilot.tap("Bắt đầu nộp hồ sơ")
    pilot.wait_state("procedure")
    pilot.tap("Khai sinh cho con", contains=True)
    pilot.tap("Bắt đầu nộp")
    pilot.tap("Tôi đồng ý")
    pilot.wait_state("login")
    svc.reader.present("VNEID-TEST-0001")
    pilot.wait_state("form", timeout=20)
    had_citizen = session.data.citizen is not None
    timeout, warning = session.timeouts()
    CLOCK.advance(timeout - warning + 0.5)
    pilot.wait_until(lambda: pilot.has_button("Tôi vẫn đang dùng"), 10, "the inactivity warning")
    pilot.screenshot(out / "inactivity_warning.png")
    pilot.tap("Tôi vẫn đang dùng")
    kept = session.state.value == "form" and session.data.citizen is not None
    CLOCK.advance(timeout - warning + 0.5)
    pilot.wait_until(lambda: pilot.has_button("Tôi vẫn đang dùng"), 10, "the warning again")
    warned_again = session.state.value == "form"
    CLOCK.advance(warning + 0.5)
    pilot.wait_state("attract", timeout=10)
    return {"had_citizen": had_citizen, "kept_after_touch": kept, "warned_again": warned_again,
            "wiped": session.data.citizen is None and not session.data.form_values,
            "portal_logged_out": not svc.portal.logged_in}


def gallery(pilot, svc, out: Path) -> dict:
    """Screens in their error states, for people to look at (and for the test to check they are drawn)."""
    s = pilot.session
    shots = []

    def shot(name: str) -> None:
        pilot.wait_idle(20)
        pilot.frames(3)
        pilot.screenshot(out / f"{name}.png")
        shots.append(name)

    pilot.tap("Bắt đầu nộp hồ sơ")
    pilot.tap("Khai sinh cho con", contains=True)
    pilot.tap("Bắt đầu nộp")
    pilot.tap("Tôi đồng ý")
    pilot.wait_state("login")
    svc.reader.present("VNEID-TEST-9999")
    pilot.wait_until(lambda: s.data.error is not None, 20, "the login error")
    shot("login-unknown-code")
    svc.reader.present("001090012345||Nguyễn Văn An|01011990|Nam|Hà Nội|15082021")
    pilot.wait_until(lambda: s.data.error is not None and s.data.error.kind == "id_card_at_login", 20, "id card msg")
    shot("login-id-card")
    svc.reader.present("VNEID-TEST-0001")
    pilot.wait_state("form", 20)
    pilot.tap("Tiếp tục")
    pilot.wait_until(lambda: bool(s.data.form_errors), 10, "form errors")
    shot("form-errors")
    return {"shots": shots, "errors_shown": {k: v for k, v in s.data.form_errors.items()}}


SCENARIOS = {"gallery": gallery, "out_of_service": out_of_service, "technician": technician, "inactivity": inactivity}


def main() -> int:
    scenario, portal_url, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="kiosk-ui-"))
    settings = config.load(portal={"url": portal_url},
                           kiosk={"data_dir": str(data_dir), "technician_pin_hash": hash_pin(TECH_PIN),
                                  "inactivity_seconds": 12, "inactivity_warning_seconds": 6})
    svc = services_mod.build(settings, data_dir=data_dir, scanner=FakeScanner(delay=0.05),
                             printer=FakePrinter(width_dots=576), reader=FakeCodeReader(delay=0.2))
    from screens.app import run_app
    from screens.pilot import Pilot

    result: dict = {"ok": False}

    def script(app) -> None:
        pilot = Pilot(app)
        try:
            pilot.wait_state("attract")
            result.update(SCENARIOS[scenario](pilot, svc, out), ok=True)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            result["error"] = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            from kivy.clock import Clock

            Clock.schedule_once(lambda _dt: app.stop(), 0)

    run_app(svc, on_started=lambda app: threading.Thread(target=script, args=(app,), daemon=True).start(),
            with_fleet=False, session_clock=CLOCK)
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
