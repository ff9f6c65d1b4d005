"""The citizen's session: the single source of truth for where a citizen is (plain Python, no Kivy).

A state machine in the pibooth style: each state has an optional `_enter_<state>` (start its work),
`_exit_<state>` (stop it) and `_on_<state>` (handle an event). Screens never decide flow: they call
`session.send(event, **payload)` and re-render from `session.state` / `session.data` when notified.

Blocking work (code reading, login, scanning, packing, uploading, printing) never runs inside `send`: it is
handed to a `Runner`, and its result comes back later as an event. Every job carries the epoch it was started
in; a result arriving after the citizen moved on or the session was wiped is dropped, except the outcome of a
submission, which the outbox owns and which is never lost.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import time
from collections import deque
from typing import Any, Protocol
from collections.abc import Callable

from drivers.base import DeviceError, ScannedPage, ScanSettings, ScanSource

from kiosk import messages
from kiosk.domain.codes import new_local_reference, new_lookup_secret
from kiosk.errors import UnknownEvent
from kiosk.messages import UserMessage
from kiosk.session.events import Event, Result, event_name

log = logging.getLogger("kiosk.session.machine")


class State(str, enum.Enum):
    ATTRACT = "attract"
    PROCEDURE = "procedure"
    PROCEDURE_INFO = "procedure_info"
    CONSENT = "consent"
    LOGIN = "login"
    FORM = "form"
    DOCUMENTS = "documents"
    REVIEW = "review"
    OTP = "otp"
    SUBMITTING = "submitting"
    DONE = "done"
    RATING = "rating"
    STATUS_LOOKUP = "status_lookup"
    QUEUE_TICKET = "queue_ticket"
    OUT_OF_SERVICE = "out_of_service"


#: The citizen's path, for the step indicator ("Bước 3/7").
STEP_OF: dict[State, int] = {
    State.PROCEDURE: 1, State.PROCEDURE_INFO: 1, State.CONSENT: 2, State.LOGIN: 2, State.FORM: 3,
    State.DOCUMENTS: 4, State.REVIEW: 5, State.OTP: 6, State.SUBMITTING: 6, State.DONE: 7,
}
STEP_COUNT = 7

#: Where "back" goes. States not listed have no back (attract, submitting, done, out of service).
BACK: dict[State, State] = {
    State.PROCEDURE: State.ATTRACT,
    State.PROCEDURE_INFO: State.PROCEDURE,
    State.CONSENT: State.PROCEDURE_INFO,
    State.LOGIN: State.CONSENT,
    State.FORM: State.PROCEDURE_INFO,  # logged in: going back past the form means starting over; see _on_back
    State.DOCUMENTS: State.FORM,
    State.REVIEW: State.DOCUMENTS,
    State.OTP: State.REVIEW,
    State.RATING: State.DONE,
    State.STATUS_LOOKUP: State.ATTRACT,
    State.QUEUE_TICKET: State.ATTRACT,
}

#: States where the inactivity timer runs. Submitting is excluded: the dossier is on its way.
TIMED_STATES = frozenset(STEP_OF) - {State.SUBMITTING} | {State.RATING, State.STATUS_LOOKUP, State.QUEUE_TICKET}

#: How many steps `history` keeps (a few sessions' worth).
HISTORY_STEPS = 200

#: Events any state accepts.
GLOBAL_EVENTS = frozenset({"cancel", "back", "touch", "dismiss_error", "out_of_service", "back_in_service",
                           "speech_toggle", "more_time", "large_text_toggle", "contrast_toggle", "set_lang",
                           "call_staff"})
#: A citizen using speech or the keypad gets this many times the inactivity timeout, and every warning gives at
#: least MIN_WARNING_SECONDS to answer (EN 301 549 7.1.3 / WCAG 2.2.1: time to ask for more).
ASSISTED_TIMEOUT_FACTOR = 2.0
MIN_WARNING_SECONDS = 20.0

#: Work the citizen watches (a slow portal, a long batch of pages) keeps the inactivity timer from running, but
#: only this long: a citizen who walks away during a hung call is still wiped.
BUSY_CEILING_SECONDS = 120.0
#: A confirmed dossier waits this long for the portal; then the citizen gets the offline receipt (local
#: reference) and the outbox delivers later.
SUBMIT_DEADLINE_SECONDS = 45.0
#: This many failsafes within FAILSAFE_WINDOW_SECONDS take the kiosk out of service (a bug a restart may clear).
FAILSAFE_LIMIT, FAILSAFE_WINDOW_SECONDS = 3, 120.0


class Runner(Protocol):
    """Runs blocking work off the caller's thread and delivers `done(result, error)` back on it."""

    def submit(self, fn: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None: ...


class ImmediateRunner:
    """Runs a job synchronously, on the caller's thread (ManualRunner uses it to run one held job). Not a runner
    for a whole session: the login screen re-arms its code read after every empty read, which on one thread would
    never return to the caller."""

    def submit(self, fn, done):
        try:
            result = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the session as an event
            done(None, e)
        else:
            done(result, None)


class ManualRunner:
    """Holds jobs until the test runs them: lets tests observe 'busy' states and deliver results out of order."""

    def __init__(self) -> None:
        self.jobs: deque[tuple[Callable[[], Any], Callable]] = deque()

    def submit(self, fn, done):
        self.jobs.append((fn, done))

    def run_next(self) -> None:
        fn, done = self.jobs.popleft()
        ImmediateRunner().submit(fn, done)

    def run_all(self, limit: int = 1000) -> None:
        while self.jobs and limit:
            self.run_next()
            limit -= 1


@dataclasses.dataclass
class Component:
    """One document component to scan for the chosen procedure, with the pages scanned so far."""

    id: str
    name: str
    min_pages: int = 1
    pages: list[ScannedPage] = dataclasses.field(default_factory=list)
    blank: set[int] = dataclasses.field(default_factory=set)  # indexes the citizen should confirm
    submitted_pages: int = 0  # what was sent, kept after the scans themselves are wiped

    @property
    def complete(self) -> bool:
        return len(self.pages) >= self.min_pages

    @property
    def page_count(self) -> int:
        return len(self.pages) or self.submitted_pages


@dataclasses.dataclass
class SessionData:
    """Everything a citizen entered or the kiosk learned in one session. Wiped (replaced) when it ends."""

    procedure: Any = None  # kiosk.domain.catalog.Procedure
    search_query: str = ""
    field_filter: str = ""
    consented: bool = False
    citizen: Any = None  # kiosk.portal.models.CitizenProfile
    id_card: dict | None = None
    login: Any = None  # kiosk.session.login_doors.DoorState: the login door, QR, chip identity, staff (wiped here)
    form_values: dict[str, str] = dataclasses.field(default_factory=dict)
    form_errors: dict[str, str] = dataclasses.field(default_factory=dict)
    form_index: int = 0  # the question on screen (one per screen)
    form_editing: bool = False  # came from review's "Sửa": the next "Tiếp tục" goes back there
    clean_form: dict[str, Any] = dataclasses.field(default_factory=dict)
    components: list[Component] = dataclasses.field(default_factory=list)
    current_component: int = 0
    scanning: bool = False
    otp: Any = None  # kiosk.portal.models.OtpChallenge
    otp_attempts_left: int | None = None
    otp_locked: bool = False
    confirmation_token: str = ""
    local_reference: str = ""
    lookup_secret: str = ""  # printed beside the code and in the receipt's QR: status look-up needs both
    appointment_date: dt.date | None = None
    fee_text: str = ""
    postage_text: str = ""  # results by post: the postage fee line ("" when collected at the centre)
    dossier_code: str = ""
    delivered: bool = False
    received_at: dt.datetime | None = None
    receipt_printed: bool = False
    print_started: bool = False
    ticket: Any = None  # kiosk.portal.models.QueueTicket
    print_error: UserMessage | None = None
    status_view: Any = None  # kiosk.portal.models.DossierView
    status_code: str = ""  # the status screen: the code scanned without a secret (old receipt), or looked up
    status_secret: str = ""  # the secret of the dossier shown (to print its electronic result); wiped with the rest
    result_printed: bool = False
    status_payment_qr: str = ""  # status 6: a VietQR for the amount due (when the centre has a collecting account)
    rating: int | None = None
    error: UserMessage | None = None
    busy: str = ""
    notice: str = ""
    # "Gọi cán bộ" from the help panel: "" | "sending" | "sent" | "failed" (messages.STAFF_*), and its request
    staff_call: str = ""
    staff_call_token: str = ""
    # accessibility, chosen by this citizen (the wipe resets them for the next one)
    speech_mode: bool = False  # spoken guidance (kiosk.appliance.guide)
    keypad_mode: bool = False  # the tactile keypad is in use
    large_text: bool = False
    high_contrast: bool = False
    lang: str = "vi"  # "vi" | "en"

    def wipe_pages(self) -> None:
        for c in self.components:
            c.submitted_pages = c.submitted_pages or len(c.pages)
            for p in c.pages:
                p.image.close()
            c.pages.clear()


@dataclasses.dataclass
class StepRecord:
    state: str
    entered: float
    left: float | None = None

    @property
    def seconds(self) -> float:
        return (self.left or time.monotonic()) - self.entered


class Session:
    """The state machine. `services` gives it the catalogue, portal, devices, outbox and config."""

    def __init__(self, services: Any, runner: Runner, *, clock: Callable[[], float] = time.monotonic,
                 strict: bool = False):
        """`strict` (tests): an unknown event raises `UnknownEvent` instead of being logged and ignored."""
        self.services = services
        self.strict = strict
        self.failures: deque[tuple[float, str, str, str]] = deque(maxlen=20)  # (when, error type, state, event)
        self._busy_since: float | None = None
        self._entered_at = clock()
        self.runner = runner
        self.clock = clock
        self.state = State.ATTRACT
        self.data = SessionData()
        self.epoch = 0
        self.last_activity = clock()
        self.warning_remaining: float | None = None
        # The latest steps only: the kiosk runs for weeks, one session after another.
        self.history: deque[StepRecord] = deque([StepRecord(State.ATTRACT.value, clock())], maxlen=HISTORY_STEPS)
        self.out_of_service_reason = ""
        self._listeners: list[Callable[[Session], None]] = []
        self._queue: deque[tuple[str, dict]] = deque()
        self._dispatching = False
        self._reader_down = False
        cfg = services.config.kiosk
        self.timeout = cfg.inactivity_seconds
        self.warning = cfg.inactivity_warning_seconds
        if hasattr(services.portal, "on_retry"):
            # a portal call is retried after a transient fault: the citizen reads "Đang kết nối lại…", not an error
            services.portal.on_retry = lambda *_: self._post(lambda: self.send(Result.RETRYING, _epoch=self.epoch))

    # ------------------------------------------------------------------------------------------ public API
    def subscribe(self, listener: Callable[[Session], None]) -> None:
        self._listeners.append(listener)

    def send(self, event: Event | Result | str, **payload: Any) -> None:
        """Handle one event. Re-entrant sends (from handlers or immediate jobs) are queued, not nested.
        Never raises (but for an unknown event in strict mode): any error in a handler ends in the failsafe."""
        try:
            name = event_name(event)
        except UnknownEvent:
            if self.strict:
                raise
            log.error("unknown event ignored in %s", self.state.value)
            return
        self._queue.append((name, payload))
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while self._queue:
                ev, pl = self._queue.popleft()
                try:
                    self._dispatch(ev, pl)
                except Exception as e:  # noqa: BLE001 - the session never crashes: see _failsafe
                    self._queue.clear()
                    self._failsafe(e, ev)
        finally:
            self._dispatching = False
        self._notify_listeners()

    def _notify_listeners(self, *, again: bool = True) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception as e:  # noqa: BLE001 - a screen that cannot draw this state must not stop the app
                self._failsafe(e, "render")
                if again:
                    self._notify_listeners(again=False)
                return

    # ------------------------------------------------------------------------------------------ failsafe
    def _failsafe(self, error: BaseException, event: str) -> None:
        """pibooth's failsafe state: log what broke (type, state, place; never the error's text, which may
        quote the citizen), apologise, wipe, back to attract. A confirmed dossier is the outbox's: the citizen
        still gets the receipt (with the local reference when it is not delivered yet)."""
        where, now = self.state, self.clock()
        self.failures.append((now, type(error).__name__, where.value, event))
        log.error("failsafe: %s in state %s on %s at %s", type(error).__name__, where.value, event, _origin(error))
        recent = [f for f in self.failures if now - f[0] <= FAILSAFE_WINDOW_SECONDS]
        confirmed = self._dossier_confirmed()
        try:
            if confirmed:
                self.data.busy = ""
                if where is not State.DONE:
                    self.data.received_at = self.data.received_at or self.services.now()
                    self.data.wipe_pages()
                    self.goto(State.DONE)
                elif not self.data.receipt_printed and not self.data.print_started:
                    self._enter_done()
                return
            if where is State.SUBMITTING:  # confirmed but never saved: the citizen can confirm again
                self.data.busy = ""
                self.data.error = messages.for_exception(error)
                self.goto(State.REVIEW)
                return
            if len(recent) >= FAILSAFE_LIMIT:
                self.out_of_service_reason = "software_error"
                self._wipe_and_go(State.OUT_OF_SERVICE)
                return
            self._wipe_and_go(State.ATTRACT)
            self.data.error = messages.APOLOGY
        except Exception as again:  # noqa: BLE001 - even the way out failed
            log.error("failsafe recovery failed: %s at %s", type(again).__name__, _origin(again))
            if confirmed:  # no receipt could be made: the citizen still leaves with the reference on screen
                self.state, self.epoch = State.DONE, self.epoch + 1
                self.data.busy, self.data.print_started = "", True
                self.data.print_error = messages.for_exception(again, device_kind="printer").with_next_step(
                    f"Hồ sơ đã được lưu. Mã hồ sơ của Ông/Bà là {self.data.dossier_code or self.data.local_reference}."
                    " Vui lòng báo cán bộ tại quầy để được in biên nhận.")
                return
            self.data = SessionData()
            self.data.error = messages.APOLOGY
            self.state = State.ATTRACT
            self.epoch += 1

    def _dossier_confirmed(self) -> bool:
        """True once the dossier is the outbox's (on disk), or the receipt step was reached."""
        ref = self.data.local_reference
        return self.state is State.DONE or (bool(ref) and self._outbox_has(ref))

    def _outbox_has(self, reference: str) -> bool:
        try:
            return bool(self.services.outbox.has(reference))
        except Exception:  # noqa: BLE001 - an unreadable outbox cannot make the failsafe fail
            log.error("failsafe: outbox unreadable")
            return False

    def touch(self) -> None:
        """Any touch or key: the citizen is still there."""
        self.last_activity = self.clock()
        if self.warning_remaining is not None:
            self.warning_remaining = None
            self._notify()

    def tick(self) -> None:
        """Called about twice a second by the app: runs the inactivity countdown and the submission deadline."""
        now = self.clock()
        if self.state is State.SUBMITTING and now - self._entered_at >= SUBMIT_DEADLINE_SECONDS:
            self.send(Event.TIMEOUT)
            return
        if self.state not in TIMED_STATES:
            self.warning_remaining = None
            return
        busy = bool(self.data.busy or self.data.scanning)
        if not busy:
            self._busy_since = None
        elif self._busy_since is None:
            self._busy_since = now
        if self._busy_since is not None and now - self._busy_since < BUSY_CEILING_SECONDS:  # set only while busy
            # The citizen is watching work they started (a long batch of pages, a slow portal): not idle.
            self.last_activity = now
            if self.warning_remaining is not None:
                self.warning_remaining = None
                self._notify()
            return
        idle = self.clock() - self.last_activity
        timeout, warning = self.timeouts()
        if idle >= timeout:
            log.info("inactivity timeout in %s: session wiped", self.state.value)
            self.send("timeout")
        elif idle >= timeout - warning:
            remaining = max(0.0, timeout - idle)
            if self.warning_remaining is None or int(remaining) != int(self.warning_remaining):
                self.warning_remaining = remaining
                self._notify()
        elif self.warning_remaining is not None:
            self.warning_remaining = None
            self._notify()

    def timeouts(self) -> tuple[float, float]:
        """(inactivity timeout, warning) in force for this citizen: longer with speech or the keypad; the
        warning gives at least MIN_WARNING_SECONDS (never more than half the timeout)."""
        timeout = self.timeout
        if self.data.speech_mode or self.data.keypad_mode:
            timeout *= ASSISTED_TIMEOUT_FACTOR
        return timeout, max(self.warning, min(MIN_WARNING_SECONDS, timeout / 2))

    @property
    def step(self) -> int | None:
        return STEP_OF.get(self.state)

    def step_durations(self) -> list[dict]:
        return [{"step": r.state, "seconds": round(r.seconds, 3)} for r in self.history]

    # ------------------------------------------------------------------------------------------ machinery
    def _notify(self) -> None:
        if not self._dispatching:
            self._notify_listeners()

    def _dispatch(self, event: str, payload: dict) -> None:
        if event.startswith("_"):  # a job's result: payload has the epoch it was started in
            if payload.pop("_epoch") != self.epoch:
                log.debug("dropped stale result %s", event)
                return
        else:
            self.last_activity = self.clock()
            self.warning_remaining = None
        handler = getattr(self, f"_on_{self.state.value}", None)
        if handler is not None and handler(event, **payload) is not False:
            return
        self._on_any(event, **payload)

    def _on_any(self, event: str, **payload: Any) -> None:
        if event == "cancel" or event == "timeout":
            if self.state in (State.ATTRACT, State.OUT_OF_SERVICE, State.SUBMITTING):
                return
            self._wipe_and_go(State.ATTRACT)
            self.data.notice = messages.CANCELLED_NOTICE if event == "cancel" else messages.TIMED_OUT_NOTICE
        elif event == "back":
            target = BACK.get(self.state)
            if target is not None:
                self.data.error = None
                self.goto(target)
        elif event == "dismiss_error":
            self.data.error = None
        elif event == "out_of_service":
            self.out_of_service_reason = payload.get("reason", "")
            if self.state in (State.ATTRACT, State.OUT_OF_SERVICE) or payload.get("force"):
                self._wipe_and_go(State.OUT_OF_SERVICE)
        elif event == "back_in_service":
            if self.state is State.OUT_OF_SERVICE:
                self.out_of_service_reason = ""
                self.goto(State.ATTRACT)
        elif event in ("touch", "more_time"):
            pass  # _dispatch already restarted the countdown and cleared the warning
        elif event == Result.RETRYING.value:
            if self.data.busy:
                self.data.busy = messages.RECONNECTING
        elif event == "speech_toggle":
            on = payload.get("on")
            self.data.speech_mode = (not self.data.speech_mode) if on is None else bool(on)
            if payload.get("keypad"):
                self.data.keypad_mode = True
        elif event == "large_text_toggle":
            self.data.large_text = not self.data.large_text
        elif event == "contrast_toggle":
            self.data.high_contrast = not self.data.high_contrast
        elif event == "set_lang":
            lang = str(payload.get("lang", ""))
            if lang in ("vi", "en"):
                self.data.lang = lang
        elif event == "call_staff":
            self._call_staff()
        elif event == Result.STAFF_CALLED.value:
            if payload.get("token") == self.data.staff_call_token:  # not a request of a wiped session's
                self.data.staff_call = "sent" if payload.get("ok") else "failed"
        else:
            log.debug("event %s ignored in %s", event, self.state.value)

    def _call_staff(self) -> None:
        """Tell the centre's staff this kiosk needs help: the kiosk id (the client's) and the step, nothing else.
        Not tied to the step's epoch: the answer still shows if the citizen moves on meanwhile."""
        if self.data.staff_call == "sending":
            return
        import secrets

        token = secrets.token_hex(8)
        self.data.staff_call, self.data.staff_call_token = "sending", token
        portal, step = self.services.portal, self.state.value

        def done(_result: Any, error: BaseException | None) -> None:
            if error is not None:
                if not isinstance(error, Exception):
                    raise error
                log.warning("call staff failed: %s %s", type(error).__name__, getattr(error, "code", ""))
            self.send(Result.STAFF_CALLED, _epoch=self.epoch, ok=error is None, token=token)

        self.runner.submit(lambda: portal.call_staff(step), done)

    def goto(self, target: State) -> None:
        """Leave the current state (its exit hook) and enter `target` (its enter hook)."""
        old = self.state
        exit_hook = getattr(self, f"_exit_{old.value}", None)
        if exit_hook:
            exit_hook()
        now = self.clock()
        self.history[-1].left = now
        self.history.append(StepRecord(target.value, now))
        self.state = target
        self.epoch += 1
        self._entered_at = now
        self._busy_since = None
        self.data.busy = ""
        self.warning_remaining = None
        log.info("step %s -> %s", old.value, target.value)
        enter_hook = getattr(self, f"_enter_{target.value}", None)
        if enter_hook:
            enter_hook()

    def _wipe_and_go(self, target: State) -> None:
        """End the session: forget everything the citizen entered or scanned, log out of the portal."""
        self.data.wipe_pages()
        forget_warm = getattr(self.services.outbox, "forget_warm", None)
        if forget_warm is not None:
            forget_warm()  # text layers started on review for papers that were never confirmed
        self.data = SessionData()
        self._portal_logout()
        self.goto(target)

    def _portal_logout(self) -> None:
        try:
            self.services.portal.logout()
        except Exception:  # noqa: BLE001 - forgetting a token cannot fail the wipe
            log.exception("portal logout failed")

    def _job(self, fn: Callable[[], Any], ok: str, failed: str, *, busy: str = "", **extra: Any) -> None:
        """Run `fn` off the caller's thread; its result comes back as event `ok` (result=...) or `failed`
        (error=...)."""
        epoch = self.epoch
        if busy:
            self.data.busy = busy

        def done(result: Any, error: BaseException | None) -> None:
            if error is None:
                self.send(ok, _epoch=epoch, result=result, **extra)
            else:
                if not isinstance(error, Exception):
                    raise error  # KeyboardInterrupt and the like are not the citizen's business
                # type and stable code only: an exception's text may quote what the citizen entered
                code = getattr(error, "code", "") or getattr(error, "kind", "")
                log.warning("%s: %s %s", failed.strip("_").replace("_", " "), type(error).__name__, code)
                self.send(failed, _epoch=epoch, error=error, **extra)

        self.runner.submit(fn, done)

    def _fail(self, error: BaseException, *, device_kind: str = "") -> None:
        self.data.busy = ""
        self.data.error = messages.for_exception(error, device_kind=device_kind)

    # ------------------------------------------------------------------------------------------ attract
    def _enter_attract(self) -> None:
        self.services.reader.stop()

    def _on_attract(self, event: str, **p: Any):
        if event not in ("touch", "out_of_service", "back_in_service"):
            self.data.notice = ""  # the word about the last session was read; the next one starts clean
        if event == "start":
            self.goto(State.PROCEDURE)
        elif event == "status_lookup":
            self.goto(State.STATUS_LOOKUP)
        elif event == "queue_ticket":
            self.goto(State.QUEUE_TICKET)
        elif event == "choose":  # a popular procedure tapped straight from the attract screen
            self.goto(State.PROCEDURE)
            self.send("choose", **p)
        else:
            return False

    # ------------------------------------------------------------------------------------------ procedure
    def _on_procedure(self, event: str, **p: Any):
        if event == "search":
            self.data.search_query = str(p.get("query", ""))[:100]
        elif event == "field":
            self.data.field_filter = str(p.get("field", ""))
        elif event == "choose":
            procedure = self.services.catalog.get(p.get("code", ""))
            if procedure is None:
                self.data.error = UserMessage("Không tìm thấy thủ tục", "Thủ tục này hiện không có trên máy.",
                                              "Chọn một thủ tục khác hoặc hỏi cán bộ tại quầy.",
                                              kind="unknown_procedure")
                return
            if self.data.procedure is not None and self.data.procedure.code != procedure.code:
                self._forget_dossier()
            self.data.procedure = procedure
            self.goto(State.PROCEDURE_INFO)
        else:
            return False

    def _forget_dossier(self) -> None:
        """The citizen switched procedure: the answers and scans were for the other one and must not be
        submitted with this one (the login and consent stay)."""
        d = self.data
        d.wipe_pages()
        d.form_values, d.form_errors, d.clean_form = {}, {}, {}
        d.components, d.current_component = [], 0

    def _enter_procedure_info(self) -> None:
        proc = self.data.procedure
        self.data.appointment_date = self._appointment(proc, self.services.now())
        quote = self._fee_quote()
        self.data.fee_text = quote.text_vi if quote else ""

    def _on_procedure_info(self, event: str, **p: Any):
        if event == "next":
            self.goto(State.FORM if self.data.citizen is not None else State.CONSENT)
        else:
            return False

    # ------------------------------------------------------------------------------------------ consent, login
    def _on_consent(self, event: str, **p: Any):
        if event in ("agree", "next"):
            self.data.consented = True
            self.goto(State.LOGIN)
        elif event == "decline":
            self._wipe_and_go(State.ATTRACT)
            self.data.notice = messages.DECLINED_NOTICE
        else:
            return False

    def _enter_login(self) -> None:
        self.services.reader.start()
        self._reader_down = False  # a failure on an earlier visit must not let "retry" arm a second read
        self._read_code()

    def _exit_login(self) -> None:
        from kiosk.session import login_doors

        login_doors.leave(self)
        self.services.reader.stop()

    def _read_code(self) -> None:
        reader = self.services.reader
        self._job(lambda: reader.read(timeout=1.0), "_code_read", "_reader_failed")

    def _on_login(self, event: str, **p: Any):
        from kiosk.session import login_doors

        if login_doors.handle(self, event, p):  # the QR-shown, chip and assisted doors (issue 11)
            return
        if event == "_code_read":
            read = p["result"]
            if read is None or self.data.busy:
                self._read_code()
                return
            self.send("code", text=read.text)
        elif event == "code":
            self._login_with(str(p.get("text", "")))
        elif event == "_reader_failed":
            self._fail(p["error"], device_kind="code_reader")
            self._reader_down = True
        elif event == "_login_ok":
            login = p["result"]
            # only an answer for the citizen still here becomes the portal session (a late answer for one who
            # left is dropped above and never used)
            self.services.portal.adopt_session(login.session_token)
            self.data.citizen = login.citizen
            self.data.busy = ""
            self.data.error = None
            self.goto(State.FORM)
        elif event == "_login_failed":
            self._fail(p["error"])
            self._read_code()
        elif event == "retry":
            self.data.error = None
            if self._reader_down:
                self._reader_down = False
                self._read_code()
        else:
            return False

    def _login_with(self, text: str) -> None:
        from kiosk.domain.codes import IdCardQr, ReceiptQr, Rejected, VneidLogin, parse_code

        if self.data.busy:
            return
        parsed = parse_code(text)
        if isinstance(parsed, VneidLogin):
            portal = self.services.portal
            self.data.error = None
            self._job(lambda: portal.login(parsed.token, adopt=False), "_login_ok", "_login_failed",
                      busy="Đang kiểm tra tài khoản VNeID…")
            return
        if isinstance(parsed, IdCardQr):
            from kiosk.session import login_doors

            if login_doors.id_card_scanned(self, text, parsed):  # chip / assisted door: the card's BAC keys
                self._read_code()
                return
            self.data.error = UserMessage(
                "Đây là mã QR trên thẻ căn cước",
                "Để nộp hồ sơ, bạn cần đăng nhập bằng mã QR trong ứng dụng VNeID.",
                "Mở ứng dụng VNeID, chọn mã QR đăng nhập rồi đưa trước camera.", kind="id_card_at_login")
        elif isinstance(parsed, ReceiptQr):
            self.data.error = UserMessage(
                "Đây là mã QR trên biên nhận",
                "Mã này dùng để tra cứu hồ sơ, không dùng để đăng nhập.",
                "Mở ứng dụng VNeID, chọn mã QR đăng nhập rồi đưa trước camera.", kind="receipt_at_login")
        else:
            assert isinstance(parsed, Rejected)
            log.info("login code rejected: %s", parsed.reason)
            self.data.error = messages.rejected_code(parsed.reason_vi)
        self._read_code()

    # ------------------------------------------------------------------------------------------ form
    def _enter_form(self) -> None:
        from kiosk.domain import forms
        d = self.data
        came_from = State(self.history[-2].state) if len(self.history) > 1 else None
        postal = self.services.config.postal
        if postal.enabled:  # "Nhận kết quả qua bưu điện" where the procedure allows it (issue 14)
            d.procedure = forms.with_delivery(d.procedure, postal.postage_vnd, postal.paid_on_delivery)
        if not d.form_values:
            d.form_values = forms.prefill(d.procedure, d.citizen, d.id_card)
        if d.form_editing:
            return  # "Sửa" on the review screen chose the question
        # one question per screen: from the start, or (back from the papers) the last question asked
        d.form_index = self._asked(len(d.procedure.form) - 1, -1) if came_from is State.DOCUMENTS else 0

    def _asked(self, index: int, step: int) -> int:
        """`index`, or the nearest question from it in direction `step` that is asked with these answers
        (the post address only when by post); -1 or len(form) past the ends."""
        from kiosk.domain import forms
        form = self.data.procedure.form
        while 0 <= index < len(form) and not forms.applies(form[index], self.data.form_values):
            index += step
        return index

    def _form_done(self) -> None:
        """Every question answered: check the whole form (forms.validate is the rule); on an error, show the
        first question in error."""
        from kiosk.domain import forms
        d = self.data
        result = forms.validate(d.procedure, d.form_values)
        d.form_errors = dict(result.errors)
        if result.errors:
            ids = [f.id for f in d.procedure.form]
            d.form_index = next((i for i, fid in enumerate(ids) if fid in result.errors), d.form_index)
            return
        d.clean_form = result.json_values()
        if d.form_editing and d.components and all(c.complete for c in d.components):
            d.form_editing = False
            self.goto(State.REVIEW)
            return
        d.form_editing = False
        self.goto(State.DOCUMENTS)

    def _on_form(self, event: str, **p: Any):
        from kiosk.domain import forms
        if event == "set":
            field = str(p["field"])
            self.data.form_values[field] = str(p.get("value", ""))
            self.data.form_errors.pop(field, None)
        elif event == "next":
            self._form_done()
        elif event == "next_question":
            d = self.data
            form = d.procedure.form
            d.form_index = min(max(0, d.form_index), len(form) - 1)
            field = form[d.form_index]
            error = forms.validate(d.procedure, d.form_values).errors.get(field.id)
            if error:
                d.form_errors[field.id] = error
                return
            d.form_errors.pop(field.id, None)
            following = self._asked(d.form_index + 1, 1)
            if d.form_editing and field.id == forms.DELIVERY_FIELD and following < len(form):
                d.form_index = following  # "Sửa" on the choice, now by post: the address comes next
            elif d.form_editing or following >= len(form):
                self._form_done()
            else:
                d.form_index = following
        elif event == "back":
            d = self.data
            if d.form_editing:  # "Quay lại" from an answer opened with "Sửa": back to the review (checked)
                self._form_done()
                return
            previous = self._asked(d.form_index - 1, -1)
            if previous >= 0:
                d.form_index = previous
                return
            # Logged in: back leaves the dossier; ask the citizen to cancel instead of losing the form silently.
            self.goto(State.PROCEDURE_INFO)
        else:
            return False

    # ------------------------------------------------------------------------------------------ documents
    def _enter_documents(self) -> None:
        if not self.data.components:
            self.data.components = [
                Component(d.id, d.name, d.min_pages)  # 0: a paper only some citizens have (may be skipped)
                for d in self.data.procedure.documents
                if d.scan_at_kiosk
            ]
            self.data.current_component = 0

    def _exit_documents(self) -> None:
        self.data.scanning = False

    @property
    def component(self) -> Component | None:
        comps = self.data.components
        return comps[self.data.current_component] if 0 <= self.data.current_component < len(comps) else None

    def _on_documents(self, event: str, **p: Any):
        comp = self.component
        if event == "scan":
            if self.data.scanning or comp is None:
                return
            self._start_scan(comp)
        elif event == "_page":
            page: ScannedPage = p["page"]
            target = self.data.components[p["component"]]
            page.index = len(target.pages)
            target.pages.append(page)
            if self._looks_blank(page):
                target.blank.add(page.index)
        elif event == "_scan_done":
            self.data.scanning = False
            self.data.busy = ""
            self.data.error = None
        elif event == "_scan_failed":
            self.data.scanning = False
            self._fail(p["error"], device_kind="scanner")
        elif event == "delete_page":
            idx = _index(p.get("index"))
            if comp and idx is not None and 0 <= idx < len(comp.pages):
                comp.pages.pop(idx).image.close()
                comp.blank = {i if i < idx else i - 1 for i in comp.blank if i != idx}
        elif event == "keep_page":
            idx = _index(p.get("index"))
            if comp and idx is not None:
                comp.blank.discard(idx)
        elif event == "rescan":
            if comp and not self.data.scanning:
                for page in comp.pages:
                    page.image.close()
                comp.pages.clear()
                comp.blank.clear()
                self._start_scan(comp)
        elif event == "select":
            i = _index(p.get("component"))
            if i is not None and 0 <= i < len(self.data.components) and not self.data.scanning:
                self.data.current_component = i
        elif event == "next":
            if self.data.scanning:
                return
            if comp is not None and not comp.complete:
                self.data.error = UserMessage(
                    "Chưa đủ giấy tờ", f"Bạn chưa quét “{comp.name}”.",
                    "Đặt giấy tờ vào khay rồi bấm “Quét”.", kind="missing_document")
                return
            if comp is not None and comp.blank:
                self.data.error = UserMessage(
                    "Có trang trắng", "Máy thấy có trang trắng trong giấy tờ vừa quét.",
                    "Bấm “Xóa trang” để bỏ trang trắng, hoặc “Giữ trang” nếu trang đó cần nộp.", kind="blank_page")
                return
            comps, later = self.data.components, self.data.current_component + 1
            # The next paper in order (an optional one is shown, not skipped), then any still missing.
            nxt = later if later < len(comps) else next((i for i, c in enumerate(comps) if not c.complete), None)
            if nxt is not None:
                self.data.current_component = nxt
                self.data.error = None
                return
            self.goto(State.REVIEW)
        elif event == "back":
            if self.data.scanning:
                return
            if self.data.current_component > 0:
                self.data.current_component -= 1
                return
            return False
        else:
            return False

    def _start_scan(self, comp: Component) -> None:
        scanner = self.services.scanner
        cfg = self.services.config.scanner
        settings = ScanSettings(source=ScanSource(cfg.source), dpi=cfg.dpi, mode=cfg.mode)
        epoch, index = self.epoch, self.data.current_component
        self.data.scanning = True
        self.data.error = None

        def on_page(page: ScannedPage) -> None:
            self._post(lambda: self.send("_page", _epoch=epoch, page=page, component=index))

        self._job(lambda: scanner.scan(settings, on_page=on_page, timeout=cfg.timeout), "_scan_done", "_scan_failed",
                  busy="Đang quét giấy tờ…", component=index)

    def _post(self, fn: Callable[[], None]) -> None:
        """Deliver a progress event from a worker thread on the session's thread (the runner decides how)."""
        post = getattr(self.runner, "post", None)
        (post or (lambda f: f()))(fn)

    @staticmethod
    def _looks_blank(page: ScannedPage) -> bool:
        try:
            from kiosk.domain.pages import analyse_page

            return bool(analyse_page(page.image).blank)
        except Exception:  # noqa: BLE001 - blank detection is advice, never a failure
            log.exception("blank-page analysis failed")
            return False

    # ------------------------------------------------------------------------------------------ review, OTP
    def _enter_review(self) -> None:
        """The fee for what is actually submitted (pages scanned, copies asked for), the postage when the result
        goes by post, and today's appointment."""
        from kiosk.domain import forms
        quote = self._fee_quote()
        self.data.fee_text = quote.text_vi if quote else ""
        postal = self.services.config.postal
        by_post = forms.delivery_choice(self.data.clean_form)[0] == "post"
        self.data.postage_text = forms.postage_text(postal.postage_vnd, postal.paid_on_delivery) if by_post else ""
        self.data.appointment_date = self._appointment(self.data.procedure, self.services.now())
        self._warm_documents()

    def _warm_documents(self) -> None:
        """While the citizen reads the review and types the one-time code, the outbox starts the text layer of the
        scans as they would be packed now, so confirming does not wait for OCR (issue 14). Nothing is saved."""
        outbox = self.services.outbox
        if not getattr(outbox, "warms", False):
            return
        dpi = self.services.config.scanner.dpi
        documents = [[p.image.copy() for p in c.pages] for c in self.data.components if c.pages]

        def work() -> None:
            from kiosk.domain.pages import pack_pages

            for images in documents:
                outbox.warm(pack_pages(images, dpi).pdf)
                for image in images:
                    image.close()

        def done(_result: Any, error: BaseException | None) -> None:
            if error is not None:
                log.warning("warming the text layer failed: %s", type(error).__name__)

        self.runner.submit(work, done)

    def _on_review(self, event: str, **p: Any):
        if event == "edit_form":
            self.goto(State.FORM)
        elif event == "edit_field":
            ids = [f.id for f in self.data.procedure.form]
            field = str(p.get("field", ""))
            if field in ids:
                self.data.form_index, self.data.form_editing = ids.index(field), True
                self.goto(State.FORM)
        elif event == "edit_documents":
            self.goto(State.DOCUMENTS)
        elif event == "next":
            self.goto(State.OTP)
        else:
            return False

    def _enter_otp(self) -> None:
        if self.data.otp is None or self.data.otp_locked:
            self._request_otp()

    def _request_otp(self) -> None:
        portal = self.services.portal
        self.data.otp_locked = False
        self._job(lambda: portal.request_otp(), "_otp_sent", "_otp_failed", busy="Đang gửi mã xác nhận…")

    def _on_otp(self, event: str, **p: Any):
        if event == "_otp_sent":
            self.data.otp = p["result"]
            self.data.otp_attempts_left = self.data.otp.max_attempts
            self.data.busy = ""
            self.data.error = None
            self.data.notice = f"Mã xác nhận đã được gửi tới số điện thoại {self.data.otp.sent_to}".strip()
        elif event == "_otp_failed":
            self._fail(p["error"])
        elif event == "resend":
            if not self.data.busy:
                self.data.error = None
                self._request_otp()
        elif event in ("submit_code", "next"):
            code = "".join(ch for ch in str(p.get("code", ""))[:32] if ch in "0123456789")  # ASCII digits only
            if self.data.busy or self.data.otp is None:
                return
            if len(code) != self.data.otp.length:
                self.data.error = UserMessage("Mã xác nhận chưa đủ", f"Mã xác nhận gồm {self.data.otp.length} chữ số.",
                                              "Nhập đủ các chữ số trong tin nhắn.", kind="otp_short")
                return
            portal, otp_id = self.services.portal, self.data.otp.otp_id
            self._job(lambda: portal.verify_otp(otp_id, code), "_otp_ok", "_otp_wrong", busy="Đang kiểm tra mã…")
        elif event == "_otp_ok":
            self.data.confirmation_token = p["result"].confirmation_token
            self.data.error = None
            self.goto(State.SUBMITTING)
        elif event == "_otp_wrong":
            err = p["error"]
            self._fail(err)
            code = getattr(err, "code", "")
            if code == "otp_wrong":
                self.data.otp_attempts_left = getattr(err, "remaining_attempts", None)
            elif code in ("otp_locked", "otp_expired"):
                self.data.otp_locked = True
        else:
            return False

    # ------------------------------------------------------------------------------------------ submitting
    def _enter_submitting(self) -> None:
        """Pack, save to the outbox (durable), then try to deliver now. The screen says 'received' only after
        the outbox has the dossier on disk."""
        data, svc = self.data, self.services
        data.local_reference = data.local_reference or new_local_reference(svc.config.kiosk.id, svc.now())
        data.lookup_secret = data.lookup_secret or new_lookup_secret()  # on the receipt even when offline
        procedure, citizen = data.procedure, data.citizen
        components = [(c.id, c.name, [p.image for p in c.pages]) for c in data.components if c.pages]
        from kiosk.domain import forms

        form = dict(data.clean_form)
        method, address = forms.delivery_choice(form)
        for key in (forms.DELIVERY_FIELD, forms.DELIVERY_ADDRESS_FIELD):  # they go as the dossier's result_delivery
            form.pop(key, None)
        delivery = {"method": method, "address": address,
                    "postage_vnd": svc.config.postal.postage_vnd if method == "post" else 0}
        form["_citizen"] = {"id_number": citizen.id_number, "full_name": citizen.full_name} if citizen else {}
        token, ref, appointment = data.confirmation_token, data.local_reference, data.appointment_date
        secret = data.lookup_secret
        dpi = svc.config.scanner.dpi

        def work():
            from kiosk.portal.models import DocumentRef, DossierSubmission, ResultDelivery
            from kiosk.domain.pages import pack_pages

            from kiosk.session.dossier import declaration_document

            blobs: dict[str, bytes] = {}
            refs = []
            first = declaration_document(procedure, form, citizen, svc.config, svc.now())
            if first is not None:  # the filled declaration form goes first (issue 14)
                refs.append(first[0])
                blobs[first[0].sha256] = first[1]
            for comp_id, name, images in components:
                packed = pack_pages(images, dpi)
                blobs[packed.sha256] = packed.pdf
                refs.append(DocumentRef(component=comp_id, name=name, sha256=packed.sha256, size=len(packed.pdf),
                                        pages=packed.pages))
            submission = DossierSubmission(
                procedure_code=procedure.code, form=form, documents=refs, kiosk_id=svc.config.kiosk.id,
                local_reference=ref, confirmed_at=svc.now(), confirmation_token=token, appointment_date=appointment,
                lookup_secret=secret, result_delivery=ResultDelivery(**delivery))
            svc.outbox.enqueue(submission, blobs)  # durable before anything says "received"
            return svc.outbox.deliver(ref, svc.portal)  # None when the portal could not be reached in time

        self._job(work, "_submitted", "_submit_failed", busy="Đang gửi hồ sơ…")

    def _on_submitting(self, event: str, **p: Any):
        if event == "_submitted":
            receipt = p["result"]
            self.data.received_at = self.services.now()
            if receipt is not None:
                self.data.dossier_code = receipt.dossier_code
                self.data.lookup_secret = receipt.lookup_secret or self.data.lookup_secret  # the portal's word
                self.data.delivered = True
                self.data.appointment_date = receipt.appointment_date or self.data.appointment_date
            self.data.wipe_pages()  # the outbox has the packed copy; keep no raw scans in memory
            self.goto(State.DONE)
        elif event == "_submit_failed":
            err = p["error"]
            if self.services.outbox.has(self.data.local_reference):
                # Saved but refused in a way a retry cannot fix (e.g. account level): say so, keep it for staff.
                self.data.received_at = self.services.now()
                self.data.error = messages.for_exception(err)
                self.goto(State.DONE)
            else:
                self._fail(err)
                self.goto(State.REVIEW)
        elif event == "timeout" and self.clock() - self._entered_at >= SUBMIT_DEADLINE_SECONDS:
            if self._outbox_has(self.data.local_reference):
                # the portal hangs: the dossier is on disk, the outbox delivers it; the citizen gets the receipt
                log.warning("submission still running after %.0f s: offline receipt", SUBMIT_DEADLINE_SECONDS)
                self.data.received_at = self.services.now()
                self.data.wipe_pages()
                self.goto(State.DONE)
        elif event in ("cancel", "back", "timeout"):
            return  # nothing interrupts a confirmed submission
        else:
            return False

    # ------------------------------------------------------------------------------------------ done, rating
    def _enter_done(self) -> None:
        data, svc = self.data, self.services
        if data.print_started:
            return  # back from the rating screen: printed (or tried) once already; staff reprint on request
        data.print_started = True
        receipt_data = self._receipt_data()
        printer, portal = svc.printer, svc.portal
        code, proc_code = data.dossier_code, data.procedure.code
        from kiosk.session import login_doors

        assisted = login_doors.assisted(self) is not None  # an assisted dossier is checked at the verification counter

        def work():
            from kiosk.domain.receipt import receipt_job, ticket_job

            job = receipt_job(receipt_data, printer.width_dots, getattr(printer, "native_qr", False))
            svc.last_receipt = job
            receipt_bytes = printer.print_job(job)
            ticket = ticket_bytes = None
            try:
                ticket = portal.queue_ticket(procedure_code=proc_code, dossier_code=code or None)
                if ticket is not None and assisted:
                    from kiosk.portal.identity import VERIFICATION_COUNTER

                    ticket = ticket.model_copy(update={"counter": VERIFICATION_COUNTER})
            except Exception as e:  # noqa: BLE001 - no number today is not a failure of the dossier
                log.warning("queue ticket unavailable: %s", type(e).__name__)
            ticket_error = None
            if ticket is not None:
                try:
                    ticket_bytes = printer.print_job(ticket_job(_ticket_data(ticket, svc.config.kiosk.centre_name),
                                                                printer.width_dots))
                except DeviceError as e:  # the receipt is out; the number must still reach the citizen
                    ticket_error = e
            return {"receipt": receipt_bytes, "ticket": ticket_bytes, "queue": ticket, "ticket_error": ticket_error}

        self._job(work, "_printed", "_print_failed", busy="Đang in biên nhận…")

    def _receipt_data(self):
        from kiosk.domain.receipt import ReceiptData
        from kiosk.session import login_doors

        d, svc = self.data, self.services
        return ReceiptData(
            centre_name=svc.config.kiosk.centre_name, kiosk_id=svc.config.kiosk.id,
            dossier_code=d.dossier_code or None, local_reference=d.local_reference, lookup_secret=d.lookup_secret,
            procedure_code=d.procedure.code, procedure_name=d.procedure.name,
            citizen_name=d.citizen.full_name if d.citizen else "",
            received_at=d.received_at or svc.now(), appointment_date=d.appointment_date,
            documents=[(c.name, c.page_count) for c in d.components if c.page_count],
            fee_text=d.fee_text, offline=not d.delivered, payment_qr=self._payment_qr(),
            assisted_note=login_doors.receipt_note(self),
            delivery_address=_delivery_address(d.clean_form),
            postage_text=d.postage_text)

    def _payment_qr(self) -> str | None:
        pay = self.services.config.payment
        if not (pay.bank_bin and pay.account and self.data.procedure is not None):
            return None
        try:
            from kiosk.domain.vietqr import vietqr_payload

            quote = self._fee_quote()
            amount = quote.amount_vnd if quote else 0
            if amount <= 0:
                return None
            return vietqr_payload(pay.bank_bin, pay.account, amount,
                                  self.data.dossier_code or self.data.local_reference)
        except Exception:  # noqa: BLE001 - a missing payment code never blocks the receipt
            log.exception("payment QR unavailable")
            return None

    def _on_done(self, event: str, **p: Any):
        if event == "_printed":
            self.data.busy = ""
            self.data.receipt_printed = True
            self.data.ticket = ticket = p["result"]["queue"]
            self.services.last_print = p["result"]
            if p["result"].get("ticket_error") is not None:
                msg = messages.for_exception(p["result"]["ticket_error"], device_kind="printer")
                self.data.print_error = msg.with_next_step(
                    f"Biên nhận đã in xong. Số thứ tự của Ông/Bà là {ticket.number}, "
                    "ghi lớn trên màn hình này. Mời Ông/Bà đến quầy và đọc số này cho cán bộ.")
        elif event == "_print_failed":
            self.data.busy = ""
            msg = messages.for_exception(p["error"], device_kind="printer")
            # never ask an elderly citizen to copy an 18-character code: staff find the dossier from the kiosk
            self.data.print_error = msg.with_next_step(
                "Hồ sơ đã được lưu an toàn. Mời Ông/Bà đến quầy tiếp nhận: cán bộ sẽ in biên nhận cho Ông/Bà.")
        elif event in ("next", "finish"):
            self.goto(State.RATING)
        elif event == "back":
            return
        else:
            return False

    def _on_rating(self, event: str, **p: Any):
        if event == "rate":
            level, code = p.get("level"), self.data.dossier_code or None
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
                log.warning("rating ignored: not a level 1-5")
                return
            self.data.rating = level
            portal = self.services.portal
            self._job(lambda: portal.rate(level, dossier_code=code), "_rated", "_rated")
            self._wipe_and_go(State.ATTRACT)
            self.data.notice = messages.RATED_NOTICE
        elif event in ("skip", "next"):
            self._wipe_and_go(State.ATTRACT)
        else:
            return False

    # ------------------------------------------------------------------------------------------ side paths
    def _enter_status_lookup(self) -> None:
        self._reader_down = False
        self.services.reader.start()
        self._read_code()

    def _exit_status_lookup(self) -> None:
        self.services.reader.stop()

    def _on_status_lookup(self, event: str, **p: Any):
        from kiosk.domain.codes import ReceiptQr, parse_code

        d = self.data
        if event == "_code_read":
            read = p["result"]
            if read is not None and not d.busy:
                parsed = parse_code(read.text)
                if isinstance(parsed, ReceiptQr) and parsed.secret:
                    self.send("lookup", code=parsed.code, secret=parsed.secret)
                elif isinstance(parsed, ReceiptQr):  # an old receipt's QR: the code only; the secret is typed
                    d.status_view, d.status_code = None, parsed.code
                    d.error = messages.for_portal_code("lookup_secret_required")
                else:
                    d.error = UserMessage("Không phải mã biên nhận", "Mã QR này không phải mã trên biên nhận hồ sơ.",
                                          "Đưa mã QR in trên biên nhận vào trước camera, hoặc nhập mã hồ sơ.",
                                          kind="not_a_receipt")
            self._read_code()
        elif event == "_reader_failed":
            self._fail(p["error"], device_kind="code_reader")
            self._reader_down = True
        elif event == "retry":
            d.error = None
            if self._reader_down:  # typing the code still works meanwhile
                self._reader_down = False
                self._read_code()
        elif event == "lookup":
            code = str(p.get("code", "")).strip().upper()[:96]
            secret = str(p.get("secret", ""))[:32]
            if not code or d.busy:
                return
            from kiosk.portal.client import lookup_dossier, lookup_request  # the code and the receipt's secret

            portal = self.services.portal
            d.status_view, d.status_code, d.status_secret, d.result_printed = None, code, "", False
            try:
                code, secret = lookup_request(code, secret)  # no secret: refused here, nothing is sent
            except Exception as e:  # noqa: BLE001 - typed PortalError; the message says what to do
                self._fail(e)
                return
            d.status_secret = secret
            self._job(lambda: lookup_dossier(portal, code, secret), "_status", "_status_failed",
                      busy="Đang tra cứu hồ sơ…")
        elif event == "_status":
            d.busy = ""
            d.error = None
            d.status_view = p["result"]
            d.status_payment_qr = self._status_payment_qr(d.status_view)
        elif event == "_status_failed":
            d.status_secret = ""
            self._fail(p["error"])
        elif event == "print_result":
            view = d.status_view
            if view is None or not view.result_printable or d.busy or not d.status_secret:
                return
            svc, code, secret = self.services, view.dossier_code, d.status_secret

            def work():
                from kiosk.domain.receipt import result_job

                result = svc.portal.electronic_result(code, secret)
                return svc.printer.print_job(result_job(result, svc.config.kiosk.centre_name, svc.printer.width_dots))

            self._job(work, "_result_printed", "_result_print_failed", busy="Đang in kết quả…")
        elif event == "_result_printed":
            d.busy, d.error, d.result_printed = "", None, True
        elif event == "_result_print_failed":
            err = p["error"]
            self._fail(err, device_kind="printer" if isinstance(err, DeviceError) else "")
        else:
            return False

    def _status_payment_qr(self, view) -> str:
        """Status 6 (Yêu cầu nghĩa vụ tài chính): a VietQR for the amount due, the payment code as its purpose,
        when the centre has a collecting account ([payment]); "" otherwise."""
        pay = self.services.config.payment
        if view is None or view.status_code != 6 or not view.fee_amount or not (pay.bank_bin and pay.account):
            return ""
        try:
            from kiosk.domain.vietqr import vietqr_payload

            return vietqr_payload(pay.bank_bin, pay.account, view.fee_amount, view.payment_code or view.dossier_code)
        except Exception:  # noqa: BLE001 - the amount and the code stay on screen in words
            log.exception("status payment QR unavailable")
            return ""

    def _enter_queue_ticket(self) -> None:
        svc = self.services
        printer, portal = svc.printer, svc.portal

        def work():
            from kiosk.domain.receipt import ticket_job

            ticket = portal.queue_ticket()
            try:
                printer.print_job(ticket_job(_ticket_data(ticket, svc.config.kiosk.centre_name),
                                             printer.width_dots))
            except DeviceError as e:
                return ticket, e
            return ticket, None

        self._job(work, "_ticket", "_ticket_failed", busy="Đang lấy số thứ tự…")

    def _on_queue_ticket(self, event: str, **p: Any):
        if event == "_ticket":
            ticket, print_error = p["result"]
            self.data.busy = ""
            self.data.ticket = ticket
            if print_error is not None:
                self.data.print_error = messages.for_exception(print_error, device_kind="printer").with_next_step(
                    f"Số thứ tự của bạn là {ticket.number}. Vui lòng ghi nhớ số này và báo cán bộ tại quầy.")
        elif event == "_ticket_failed":
            self._fail(p["error"])
        elif event == "retry":
            if self.data.busy or self.data.ticket is not None:
                return  # the screen offers "retry" until a number shows: a tap while fetching must not take two
            self.data.error = None
            self._enter_queue_ticket()
        elif event in ("next", "finish"):
            self._wipe_and_go(State.ATTRACT)
        else:
            return False

    # ------------------------------------------------------------------------------------------ helpers
    def _appointment(self, procedure, received: dt.datetime) -> dt.date | None:
        try:
            from kiosk.domain.appointment import appointment_date

            return appointment_date(procedure.processing, received, self.services.holidays)
        except Exception:  # noqa: BLE001 - an unknown date is shown as "cán bộ sẽ thông báo"
            log.exception("appointment date unavailable for %s", getattr(procedure, "code", "?"))
            return None

    def _fee_quote(self):
        """The fee for this dossier: per page and per copy where the procedure charges so."""
        d = self.data
        try:
            from kiosk.domain.catalog import fee_for

            pages = sum(c.page_count for c in d.components)
            try:
                copies = max(1, int(d.clean_form.get("copies", 1)))
            except (TypeError, ValueError):
                copies = 1
            return fee_for(d.procedure, pages=pages, copies=copies)
        except Exception:  # noqa: BLE001 - an unknown fee is shown as "cán bộ sẽ thông báo"
            log.exception("fee unavailable")
            return None


def _delivery_address(clean_form: dict) -> str:
    """The post address of checked form values, or "" when the result is collected at the centre."""
    from kiosk.domain import forms

    return forms.delivery_choice(clean_form)[1]


def _ticket_data(ticket, centre_name: str):
    from kiosk.domain.receipt import TicketData

    return TicketData(centre_name=centre_name, number=ticket.number, counter=ticket.counter,
                      waiting=ticket.waiting, issued_at=ticket.issued_at)


def _index(value: Any) -> int | None:
    """A list index from a screen's payload, or None for anything that is not a small non-negative int."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < 10_000 else None


def _origin(error: BaseException) -> str:
    """Where an error was raised (file:line of the innermost frame): enough for a technician, no data."""
    tb = error.__traceback__
    if tb is None:
        return "?"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
