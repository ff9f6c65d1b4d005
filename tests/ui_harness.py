"""Runs UI scenarios one after another in one kiosk app (one Kivy app per process; a Kivy start costs seconds): the
real screens, offscreen, fake devices, a sandbox portal given by URL, and a Pilot pressing buttons. Each scenario
starts and ends on the attract screen, as the citizens of one day do on one kiosk. Usage:

    python tests/ui_harness.py SCENARIO[,SCENARIO...] PORTAL_URL OUT_DIR [WIDTHxHEIGHT]

Writes OUT_DIR/result.json ({scenario: {"ok": ..., "error": ..., plus what it observed}}) and, per scenario, its
screenshots in OUT_DIR/<scenario>/."""
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

SIZE = tuple(int(v) for v in sys.argv[4].lower().split("x")) if len(sys.argv) > 4 else (1920, 1080)
kivy_env.configure(size=SIZE, headless=True)

from drivers.fakes.printer import FakePrinter  # noqa: E402
from drivers.fakes.reader import FakeCodeReader  # noqa: E402
from drivers.fakes.scanner import FakeScanner  # noqa: E402
from kiosk.appliance import config  # noqa: E402
from kiosk.appliance import services as services_mod  # noqa: E402
from kiosk.appliance.technician import hash_pin  # noqa: E402

TECH_PIN = "135790"


def out_of_service(pilot, svc, out: Path) -> dict:
    """A broken printer takes the kiosk out of service between sessions; fixing it brings the kiosk back."""
    monitor = pilot.app.monitor
    interval, monitor.interval = monitor.interval, 0.5
    try:
        svc.printer.set_fault("paper_out")
        pilot.wait_state("out_of_service", timeout=20)
        pilot.screenshot(out / "out_of_service.png")
        reason = pilot.session.out_of_service_reason
        start_refused = not pilot.has_button("Bắt đầu nộp hồ sơ")
        svc.printer.set_fault("")
        pilot.wait_state("attract", timeout=20)
    finally:
        svc.printer.set_fault("")
        monitor.interval = interval
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
    pilot.wait_until(lambda: pilot.has_button("In thử"), 30, "the technician panel")
    jobs_before = len(svc.printer.jobs)
    pilot.tap("In thử")
    pilot.wait_until(lambda: len(svc.printer.jobs) > jobs_before, 30, "the test slip")
    pilot.wait_until(lambda: bool(pilot.app.root_window.children[0].devices), 30, "device checks")
    pilot.screenshot(out / "technician.png")
    pilot.tap("Tạm ngừng phục vụ")
    pilot.wait_until(lambda: pilot.session.state.value == "out_of_service", 30, "out of service")
    pilot.tap("Phục vụ trở lại")
    pilot.wait_until(lambda: pilot.session.state.value == "attract", 30, "back in service")
    pilot.tap("Đóng")
    pilot.wait_until(lambda: not pilot.has_button("Đóng"), 30, "the panel to close")
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
    pilot.wait_until(lambda: pilot.has_button("Tôi cần thêm thời gian"), 30, "the inactivity warning")
    pilot.screenshot(out / "inactivity_warning.png")
    pilot.tap("Tôi cần thêm thời gian")
    kept = session.state.value == "form" and session.data.citizen is not None
    CLOCK.advance(timeout - warning + 0.5)
    pilot.wait_until(lambda: pilot.has_button("Tôi cần thêm thời gian"), 30, "the warning again")
    warned_again = session.state.value == "form"
    CLOCK.advance(warning + 0.5)
    pilot.wait_state("attract", timeout=30)
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
    pilot.wait_until(lambda: bool(s.data.form_errors), 30, "form errors")
    shot("form-errors")
    return {"shots": shots, "errors_shown": {k: v for k, v in s.data.form_errors.items()}}


def bad_day(pilot, svc, out: Path) -> dict:
    """A citizen's session on a bad day: the feeder jams at page 2 of the first document; the portal goes down as
    the citizen confirms (the code is checked, then the link drops); the printer is out of paper. The citizen leaves
    with a reference on screen; once the portal is back the outbox delivers by itself (nobody presses anything),
    and the reference finds the dossier. What `kiosk simulate --scanner-fault jam_at:2
    --printer-fault paper_out --portal-down-at-submit` does (with its sample answers), but the procedure is tapped
    rather than searched and the answers go in through the keyboard's keys, not tap by tap: the landscape simulate
    in test_ui_flow covers search and typing."""
    from kiosk.sandbox.testing import SandboxTestClient
    from screens.simulate import sample_value

    p, s, portal = pilot, pilot.session, SandboxTestClient(svc.config.portal.url)
    proc = svc.catalog.get("1.001193")
    shots: list[str] = []
    jams = 0

    def shot(name: str) -> None:
        p.screenshot(out / f"{len(shots) + 1:02d}-{name}.png")
        shots.append(name)

    p.tap("Bắt đầu nộp hồ sơ")
    p.wait_state("procedure")
    p.tap(proc.plain_name or proc.name, contains=True)
    p.wait_state("procedure_info")
    p.tap("Bắt đầu nộp")
    p.wait_state("consent")
    p.tap("Tôi đồng ý")
    p.wait_state("login")
    svc.reader.present("VNEID-TEST-0001")
    p.wait_state("form", timeout=20)
    today = svc.now().date()
    form = s.data.procedure.form  # the session's: the delivery question ends it where post is offered
    for index, field in enumerate(form):  # one question per screen, the answer through the keyboard's keys
        p.wait_until(lambda i=index: p.state != "form" or s.data.form_index == i, 30, "the question")
        if p.state != "form":
            break
        if not s.data.form_values.get(field.id) and field.required:
            value = sample_value(field, today)
            if field.type in ("choice", "yesno"):
                p.tap(value)
            else:
                p.enter_text(value)
        p.tap("Tiếp tục")
    assert p.state != "form", f"form refused: {s.data.form_errors}"
    p.wait_state("documents")
    svc.scanner.set_fault("jam_at:2")
    while p.state == "documents":
        sheets = max(2, s.component.min_pages)
        svc.scanner.load(sheets)  # the citizen puts the papers in the feeder
        p.tap("Quét")
        p.wait_idle(timeout=60)
        error = s.data.error
        if error is not None and error.kind == "paper_jam":
            # as a person would: read the message, clear the jam, put the unscanned sheets back, go on
            shot("documents-jam")
            jams += 1
            svc.scanner.set_fault("")
            svc.scanner.load(max(0, sheets - len(s.component.pages) - svc.scanner.pages_in_feeder))
            p.tap("Quét tiếp")
            p.wait_idle(timeout=60)
            error = s.data.error
        assert error is None, f"scan failed: {error.kind}"
        assert len(s.component.pages) == sheets, f"{len(s.component.pages)} pages scanned of {sheets} sheets"
        p.tap("Tiếp tục")
    p.wait_state("review")
    shot("review")
    p.tap("Xác nhận và gửi")
    p.wait_state("otp")
    p.wait_until(lambda: s.data.otp is not None, 20, "the one-time code to be sent")
    for digit in portal.otp_code(s.data.otp.otp_id):
        p.tap(digit)
    try:
        portal.set_faults({"fail_rate": 1, "modes": ["reset"],
                           "paths": ["/api/v1/blobs", "/api/v1/dossiers", "/api/v1/queue"]})
        svc.printer.set_fault("paper_out")  # the roll runs out during this session
        p.tap("Xác nhận")
        p.wait_until(lambda: p.state in ("submitting", "done"), 20, "submission to start")
        p.wait_state("done", timeout=90)
        p.wait_idle(timeout=30)
        shot("done")
    finally:
        portal.set_faults({})  # the portal recovers; the outbox delivers by itself
        svc.printer.set_fault("")  # the technician reloads paper
    data = s.data
    result = {"local_reference": data.local_reference, "delivered": data.delivered,
              "shown_code": data.dossier_code or data.local_reference,
              "shown_secret": data.lookup_secret,  # printed beside the code: status look-up needs both
              "pages": {c.id: c.page_count for c in data.components},
              "print_error": data.print_error.kind if data.print_error else None, "jams_cleared": jams}
    p.tap("Hoàn tất")
    p.wait_state("rating")
    from kivy.uix.button import Button

    p.tap(widget=p.call(lambda: next(w for w in p.app.manager.current_screen.walk()
                                     if isinstance(w, Button) and getattr(w, "level", None) == 5)))
    p.wait_state("attract")
    result["wiped"] = s.data.citizen is None and not s.data.components
    if not result["delivered"]:
        p.wait_until(lambda: svc.outbox.depth() == 0, 180, "the outbox to deliver the saved dossier")
    # the citizen comes back and types the code and the secret from the receipt
    p.tap("Tra cứu hồ sơ")
    p.wait_state("status_lookup")
    p.tap(widget=p.call(lambda: p.app.manager.current_screen.ids.code_box))
    p.enter_text(result["shown_code"])
    p.tap(widget=p.call(lambda: p.app.manager.current_screen.ids.secret_box))
    p.enter_text(result["shown_secret"])
    p.tap("Tra cứu")
    p.wait_idle(20)
    p.wait_until(lambda: s.data.status_view is not None or s.data.error is not None, 20, "the dossier's status")
    shot("status_lookup")
    assert s.data.status_view is not None, f"status look-up failed: {s.data.error.kind}"
    result["status_seen"] = s.data.status_view.status.value
    p.tap("Quay lại")
    p.wait_state("attract")
    return result | {"shots": shots}


SCENARIOS = {"bad_day": bad_day, "gallery": gallery, "out_of_service": out_of_service, "technician": technician,
             "inactivity": inactivity}


def main() -> int:
    names, portal_url, out = sys.argv[1].split(","), sys.argv[2], Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="kiosk-ui-"))
    # short waits between the interactive client's tries (the portal is down on purpose in bad_day)
    settings = config.load(portal={"url": portal_url, "retry_base": 0.05, "retry_cap": 0.2},
                           kiosk={"data_dir": str(data_dir), "technician_pin_hash": hash_pin(TECH_PIN)})
    svc = services_mod.build(settings, data_dir=data_dir, scanner=FakeScanner(delay=0.05, pages=0),
                             printer=FakePrinter(width_dots=576), reader=FakeCodeReader(delay=0.2))
    from screens.app import run_app
    from screens.pilot import Pilot

    results: dict = {name: {"ok": False, "error": "not run"} for name in names}

    def script(app) -> None:
        pilot = Pilot(app)
        try:
            for name in names:
                result = results[name] = {"ok": False}
                try:
                    pilot.wait_state("attract", timeout=30)
                    (out / name).mkdir(parents=True, exist_ok=True)
                    result.update(SCENARIOS[name](pilot, svc, out / name), ok=True)
                except BaseException as e:  # noqa: BLE001 - reported to the test
                    result["error"] = f"{type(e).__name__}: {e}"
                    traceback.print_exc()
                    try:  # the next scenario starts from the attract screen all the same
                        pilot.screenshot(out / name / "failure.png")
                        pilot.call(lambda: pilot.session.send("cancel"))
                    except BaseException:  # noqa: BLE001
                        traceback.print_exc()
        finally:
            from kivy.clock import Clock

            Clock.schedule_once(lambda _dt: app.stop(), 0)

    run_app(svc, on_started=lambda app: threading.Thread(target=script, args=(app,), daemon=True).start(),
            with_fleet=False, session_clock=CLOCK)
    (out / "result.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
