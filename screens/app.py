"""The Kivy application: one ScreenManager, one screen per session state, re-rendered when the session changes.

Screens hold no flow logic: they render `session.state`/`session.data` and send events. Blocking work runs on
worker threads (`ThreadRunner`) and comes back to the UI thread through the Kivy clock.
"""
from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable

from screens import kivy_env  # noqa: F401 - configured by callers before this import

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.appliance.runtime import Appliance
from kiosk.session.machine import STEP_COUNT, Session, State

if TYPE_CHECKING:
    from kiosk.appliance.monitor import HealthMonitor
    from kiosk.outbox.store import Sender
    from screens.widgets import TimeoutWarning

log = logging.getLogger("kiosk.ui")
HERE = Path(__file__).resolve().parent

#: state -> "module:Class" of its screen (one .py + one .kv each).
SCREENS: dict[State, str] = {
    State.ATTRACT: "attract:AttractScreen",
    State.PROCEDURE: "procedure:ProcedureScreen",
    State.PROCEDURE_INFO: "procedure_info:ProcedureInfoScreen",
    State.CONSENT: "consent:ConsentScreen",
    State.LOGIN: "login:LoginScreen",
    State.FORM: "form:FormScreen",
    State.DOCUMENTS: "documents:DocumentsScreen",
    State.REVIEW: "review:ReviewScreen",
    State.OTP: "otp:OtpScreen",
    State.SUBMITTING: "submitting:SubmittingScreen",
    State.DONE: "done:DoneScreen",
    State.RATING: "rating:RatingScreen",
    State.STATUS_LOOKUP: "status_lookup:StatusLookupScreen",
    State.QUEUE_TICKET: "queue_ticket:QueueTicketScreen",
    State.OUT_OF_SERVICE: "out_of_service:OutOfServiceScreen",
}


class ThreadRunner:
    """Runs each job on a daemon thread; delivers the result on the Kivy thread."""

    def __init__(self) -> None:
        self.active = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        def work() -> None:
            result, error = None, None
            try:
                result = fn()
            except Exception as e:  # noqa: BLE001 - delivered to the session as an event
                error = e
            finally:
                with self._lock:
                    self.active -= 1
            Clock.schedule_once(lambda _dt: done(result, error), 0)

        with self._lock:
            self.active += 1
        threading.Thread(target=work, name="kiosk-job", daemon=True).start()

    def post(self, fn: Callable[[], None]) -> None:
        Clock.schedule_once(lambda _dt: fn(), 0)


def with_sandbox_text_message(svc: Any) -> None:
    """The demo's simulator (fake devices) also reads "the text message on the citizen's phone" when the
    portal is the sandbox on this machine: its test-only endpoint knows the one-time code. A kiosk with real
    devices has no simulator, and one talking to a real portal gets no such hook."""
    from drivers import registry
    from kiosk.portal.client import is_loopback_url

    sim = getattr(svc, "simulator", None)
    if sim is None or (sim.can_read_text_message and sim.can_approve_login) \
            or not is_loopback_url(svc.config.portal.url):
        return
    from kiosk.sandbox.testing import SandboxTestClient

    sandbox = SandboxTestClient(svc.config.portal.url)  # also the VNeID app approving the kiosk's QR (issue 11)
    svc.simulator = registry.simulator(reader=svc.reader, scanner=svc.scanner,
                                       chip_reader=getattr(svc, "chip_reader", None), text_message=sandbox.otp_code,
                                       approve_login=sandbox.approve_login)


class KioskApp(App):
    """`px(n)`: n pixels at 1080 on the short side of the window, so layouts hold in landscape and portrait."""

    title = "DVC Kiosk"
    use_kivy_settings = False
    scale = NumericProperty(1.0)
    clock_text = StringProperty("")
    centre_name = StringProperty("")
    step_text = StringProperty("")
    session = ObjectProperty(None, allownone=True)
    portrait = BooleanProperty(False)
    time_text = StringProperty("")

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        with_sandbox_text_message(session.services)
        self.centre_name = session.services.config.kiosk.centre_name
        self.manager: ScreenManager | None = None
        self.appliance: Appliance | None = None
        self.monitor: HealthMonitor | None = None
        self.sender: Sender | None = None
        self.exit_code = 0
        self._render_pending = False
        self._warning: TimeoutWarning | None = None
        self.on_started: list[Callable[[], None]] = []

    def px(self, n: float) -> float:
        return n * self.scale

    def build(self):
        Window.clearcolor = (1, 1, 1, 1)
        self.scale = min(Window.size) / 1080.0
        self.portrait = Window.height > Window.width
        from screens import keyboard, technician, widgets  # noqa: F401 - registers the shared widget classes

        self.gesture = technician.SecretGesture(lambda: technician.open_pin_pad(self))
        for shared in ("widgets.kv", "keyboard.kv", "technician.kv"):
            Builder.load_file(str(HERE / shared))
        self.manager = ScreenManager(transition=NoTransition())
        for state, target in SCREENS.items():
            module_name, cls_name = target.split(":")
            module = importlib.import_module(f"screens.{module_name}")
            kv = HERE / f"{module_name}.kv"
            if kv.exists() and str(kv) not in Builder.files:
                Builder.load_file(str(kv))
            screen = getattr(module, cls_name)(name=state.value)
            self.manager.add_widget(screen)
        self.session.subscribe(self._on_session_changed)
        Window.bind(on_touch_down=self._any_touch, on_key_down=self._any_key, on_request_close=self._refuse_close)
        Clock.schedule_interval(self._tick, 0.5)
        self._update_clock()
        Clock.schedule_interval(lambda _dt: self._update_clock(), 15)
        self._render()
        return self.manager

    def on_start(self) -> None:
        for callback in self.on_started:
            callback()

    # ------------------------------------------------------------------------------------------ session
    def _on_session_changed(self, _session: Session) -> None:
        """Called from the session (on the UI thread): render on the next frame, once per burst of events."""
        if not self._render_pending:
            self._render_pending = True
            Clock.schedule_once(lambda _dt: self._render(), 0)

    def _render(self) -> None:
        self._render_pending = False
        s = self.session
        step = s.step
        self.step_text = f"Bước {step}/{STEP_COUNT}" if step else ""
        manager = self.manager
        assert manager is not None, "rendered before build()"
        screen = manager.get_screen(s.state.value)
        if manager.current != screen.name:
            manager.current = screen.name
        screen.render(s)
        self._render_warning()

    def _render_warning(self) -> None:
        from screens.widgets import TimeoutWarning

        remaining = self.session.warning_remaining
        if remaining is None:
            if self._warning is not None:
                self._warning.dismiss()
                self._warning = None
            return
        if self._warning is None:
            self._warning = TimeoutWarning(on_continue=self.session.touch)
            self._warning.open()
        self._warning.seconds = int(remaining + 0.999)

    def _tick(self, _dt: float) -> None:
        self.session.tick()

    def _any_touch(self, _window, touch) -> bool:
        self.session.touch()
        if self.session.state in (State.ATTRACT, State.OUT_OF_SERVICE):  # never while a citizen's data is shown
            return self.gesture.touch(touch.x, touch.y, Window.width, Window.height, self.scale)
        return False

    def _any_key(self, _window, key: int, *_args) -> bool:
        """Every key from a keyboard is swallowed: the kiosk types through its own on-screen keyboard and reads
        code readers and the keypad through evdev, so a key here is a stray USB keyboard (F1, Escape, Alt+F4)."""
        self.session.touch()
        return True

    def open_settings(self, *_args) -> bool:
        """Kivy's settings panel (F1 or the menu key) is never shown to a citizen."""
        log.info("settings panel refused (kiosk mode)")
        return False

    def build_config(self, config) -> None:
        """No application .ini either: the kiosk's settings are kiosk.toml, checked by kiosk.appliance.config."""

    def _refuse_close(self, *_args) -> bool:
        log.info("close request refused (kiosk mode)")
        return True

    def _update_clock(self) -> None:
        now = self.session.services.now()
        self.clock_text = f"{now:%H:%M}  {now:%d/%m/%Y}"
        self.time_text = f"{now:%H:%M}"

    # ------------------------------------------------------------------------------------------ helpers for kv
    def send(self, event: str, **payload: Any) -> None:
        self.session.send(event, **payload)

    def screenshot(self, path: Path) -> Path:
        """The screen as a citizen sees it. Without a popup, the screen is rendered through an FBO (steadier than
        reading the back buffer); with one (countdown, technician panel), the window's back buffer is read."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if len(Window.children) > 1:
            written = Window.screenshot(name=str(path.with_name(path.stem + "%(counter)04d.png")))
            Path(written).replace(path)
        else:
            assert self.manager is not None, "a screenshot before build()"
            self.manager.export_to_png(str(path))
        return path


def run_app(svc, *, on_started: Callable[[KioskApp], None] | None = None, with_fleet: bool = True,
            session_clock: Callable[[], float] | None = None) -> int:
    """Run the kiosk: the UI over one session, and the appliance's background parts (kiosk.appliance.runtime)
    driven from the UI loop. `session_clock` (tests) replaces the session's monotonic clock, so a test can let the
    inactivity time pass without waiting for it."""
    import signal

    runner = ThreadRunner()
    session = Session(svc, runner) if session_clock is None else Session(svc, runner, clock=session_clock)
    app = KioskApp(session)

    def request_stop(exit_code: int) -> None:
        app.exit_code = exit_code
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    appliance = Appliance(svc, session, request_stop=request_stop, with_fleet=with_fleet,
                          post=lambda fn: Clock.schedule_once(lambda _dt: fn(), 0))  # keypad actions: UI thread
    app.appliance = appliance
    app.sender, app.monitor = appliance.sender, appliance.monitor
    # systemd stops the kiosk with SIGTERM: leave through the app so the outbox gets its last round
    signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda _dt: app.stop(), 0))

    def started() -> None:
        appliance.start()
        Clock.schedule_interval(lambda _dt: appliance.every_second(), 1.0)

    app.on_started.append(started)
    if on_started is not None:
        app.on_started.append(lambda: on_started(app))
    try:
        app.run()
    finally:
        appliance.stop()
    return app.exit_code
