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
from kivy.properties import AliasProperty, BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

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
#: The order screens are made in ahead of need, once the first screen is drawn (one per frame): the attract
#: screen's ways out first, then the path of a dossier. Any screen needed earlier is made when it is needed.
BUILD_AHEAD: tuple[State, ...] = (
    State.PROCEDURE, State.PROCEDURE_INFO, State.STATUS_LOOKUP, State.QUEUE_TICKET, State.CONSENT, State.LOGIN,
    State.FORM, State.DOCUMENTS, State.REVIEW, State.OTP, State.SUBMITTING, State.DONE, State.RATING,
    State.OUT_OF_SERVICE, State.ATTRACT,
)
SHARED_KV = ("widgets.kv", "keyboard.kv", "technician.kv")


def load_shared_kv() -> None:
    """The rules every screen uses (frame, buttons, keyboard, technician panel): before the first screen."""
    from screens import keyboard, technician, widgets  # noqa: F401 - registers the shared widget classes

    for shared in SHARED_KV:
        kv = HERE / shared
        if str(kv) not in Builder.files:
            Builder.load_file(str(kv))


def make_screen(state: State) -> Screen:
    """The screen of `state`, its module imported and its .kv loaded at first use (each kv file holds the rules of
    its own screen only, over the shared ones of `load_shared_kv`)."""
    module_name, cls_name = SCREENS[state].split(":")
    module = importlib.import_module(f"screens.{module_name}")
    kv = HERE / f"{module_name}.kv"
    if kv.exists() and str(kv) not in Builder.files:
        Builder.load_file(str(kv))
    return getattr(module, cls_name)(name=state.value)


class KioskScreenManager(ScreenManager):
    """A ScreenManager whose screens are made when first needed, so the kiosk starts with its first screen only.

    To its users it has every screen of `SCREENS` from the start: `get_screen(name)` (and so `current = name`)
    makes a screen not made yet, `has_screen` and `screen_names` count those too. `screens` holds the screens
    made so far. `build_next()` makes one more ahead of need (the app calls it in idle frames)."""

    def __init__(self, **kwargs: Any) -> None:
        self._unmade: dict[str, State] = {state.value: state for state in SCREENS}
        super().__init__(**kwargs)

    def _get_screen_names(self) -> list[str]:
        return [s.name for s in self.screens] + list(self._unmade)

    screen_names = AliasProperty(_get_screen_names, bind=("screens",))

    @property
    def unmade(self) -> list[str]:
        return list(self._unmade)

    def _make(self, name: str) -> None:
        state = self._unmade.get(name)
        if state is None:
            return
        screen = make_screen(state)
        del self._unmade[name]
        self.add_widget(screen)

    def get_screen(self, name: str) -> Screen:
        self._make(name)
        return super().get_screen(name)

    def has_screen(self, name: str) -> bool:
        return name in self._unmade or super().has_screen(name)

    def build_next(self, order: tuple[State, ...] = BUILD_AHEAD) -> bool:
        """Make the next screen of `order` not made yet; False when every screen is made."""
        if not self._unmade:
            return False
        ahead = [state.value for state in order if state.value in self._unmade]
        name: str = ahead[0] if ahead else next(iter(self._unmade))
        self._make(name)
        return True

    def build_all(self) -> None:
        while self.build_next():
            pass


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
    from kiosk.portal.urls import is_loopback_url

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
    speech_on = BooleanProperty(False)  # the header's "Nghe" shows it (the session's speech_mode)
    keypad_on = BooleanProperty(False)  # a keypad user: the focus ring shows what the select key will do
    keypad_target = StringProperty("")  # kiosk.appliance.keypad_control.select_target, while keypad_on
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
        from screens.focus import FocusNavigator

        self.focus = FocusNavigator(self)  # the keypad's arrows move it (kiosk.appliance.keypad_control)

    def px(self, n: float) -> float:
        return n * self.scale

    def build(self):
        Window.clearcolor = (1, 1, 1, 1)
        self.scale = min(Window.size) / 1080.0
        self.portrait = Window.height > Window.width
        from screens import technician

        self.gesture = technician.SecretGesture(lambda: technician.open_pin_pad(self))
        load_shared_kv()
        # only the session's screen is made now (the attract screen): the others in idle frames once it is drawn
        # (`_build_ahead`), or at once when needed before that
        self.manager = KioskScreenManager(transition=NoTransition())
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
        Window.bind(on_flip=self._first_frame)

    def _first_frame(self, *_args) -> None:
        """The first screen is on the glass: make the other screens ahead of need, one per frame."""
        Window.unbind(on_flip=self._first_frame)
        Clock.schedule_interval(self._build_ahead, 0)

    def _build_ahead(self, _dt: float) -> bool | None:
        """One screen made per idle frame (a frame where no session change waits to be shown: a tap is answered
        first). Returns False, ending the schedule, once every screen is made."""
        manager = self.manager
        if not isinstance(manager, KioskScreenManager):
            return False
        if self._render_pending:
            return None
        return manager.build_next()

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
        switched = manager.current != screen.name
        if switched:
            manager.current = screen.name
        self._apply_modes()
        screen.render(s)
        from screens.widgets import FrameScroll, hold_minimums

        for body_scroll in screen.walk(restrict=True):
            if isinstance(body_scroll, FrameScroll):
                hold_minimums(body_scroll.children[0])
                if switched:
                    body_scroll.scroll_y = 1  # a screen shown again starts at its top
        self._render_warning()
        if s.data.lang != "vi":
            self.relabel()
        self.focus.draw()  # the moved focus is forgotten on a new screen: its ring goes with it

    def _apply_modes(self) -> None:
        """The citizen's accessibility choices (session data, reset by the wipe) -> the theme the kv files read."""
        from screens.widgets import theme

        d = self.session.data
        self.speech_on = bool(d.speech_mode)
        self.keypad_on = bool(d.keypad_mode)
        from kiosk.appliance.keypad_control import select_target

        moved = self.focus.focused is not None
        self.keypad_target = select_target(self.session) if (self.keypad_on and not moved) else ""
        lang_before = theme.lang
        theme.apply(large=bool(d.large_text), contrast=bool(d.high_contrast), lang=d.lang)
        Window.clearcolor = tuple(theme.paper)
        if theme.lang != lang_before:
            self.relabel()

    def relabel(self) -> None:
        """Every label of every screen (and any popup) in the displayed language."""
        from screens.widgets import relabel

        if self.manager is not None:
            relabel(*self.manager.screens, *[w for w in Window.children if w is not self.manager])

    def _render_warning(self) -> None:
        from screens.widgets import TimeoutWarning

        remaining = self.session.warning_remaining
        if remaining is None:
            if self._warning is not None:
                self._warning.dismiss()
                self._warning = None
            return
        if self._warning is None:
            self._warning = TimeoutWarning(on_continue=lambda: self.session.send("more_time"))
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
    if appliance.keypad_controller is not None:
        appliance.keypad_controller.focus = app.focus
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
