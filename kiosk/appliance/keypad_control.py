"""The tactile keypad drives the session (issue 12): each `KeypadAction` becomes the session event the screen's
touch control would send. Runs on the session's thread: the Appliance posts each action there.

- SELECT: the screen's primary action (attract: start; consent: agree; documents: scan, then next; ...), or,
  once the citizen has moved the focus on this screen, the focused control.
- NEXT / PREVIOUS (the arrows): with a screen to move over (`focus`, the UI's screens.focus.FocusNavigator),
  the focus moves to the next / previous control and its words are spoken; without one, NEXT is SELECT and
  PREVIOUS is BACK.
- BACK: back.  CANCEL: cancel, after a second press (consent: decline).
- REPEAT / HELP: the guide.  MORE_TIME: more_time.  VOLUME_UP/DOWN: the speech volume.  SPEECH_TOGGLE.
- digits: attract 1/2/3 (start, status look-up, queue ticket); procedure: the Nth procedure the guide read
  out; consent 1 agree, 2 decline; the form: choices by number, text by multi-tap (kiosk.domain.multitap),
  dates and numbers digit by digit, # done; OTP: the code (a tone per digit, never spoken), submitted when
  complete; rating 1-5.
The first keypad press of a session only turns speech mode and keypad mode on (and the guide speaks the screen):
someone who cannot see does not know yet what the key does.
"""
from __future__ import annotations

import logging
import time
from typing import Any
from collections.abc import Callable

from drivers.keypad import KeypadAction as A

from kiosk.domain.multitap import MultiTap
from kiosk.session.machine import State

log = logging.getLogger(__name__)

CANCEL_CONFIRM_SECONDS = 10.0


class KeypadController:
    def __init__(self, session: Any, guide: Any, speech: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.session, self.guide, self.speech, self.clock = session, guide, speech, clock
        self._where: tuple | None = None
        self._otp = ""
        self._entry: MultiTap | None = None
        self._digits = ""
        self._cancel_at: float | None = None
        self.focus: Any = None  # the UI's focus navigator (move(step) -> words, press() -> bool, reset()), if any

    def attach(self, keypad: Any, post: Callable[[Callable[[], None]], None]) -> Callable[[], None]:
        """Listen to `keypad`; each action is handed to `post` (the UI thread). Returns the unsubscribe."""
        return keypad.on_action(lambda event: post(lambda: self.handle(event.action)))

    # ------------------------------------------------------------------ entry
    def handle(self, action: A | str) -> None:
        try:
            self._handle(A(action))
        except Exception:  # noqa: BLE001 - a keypad bug must not stop the session
            log.exception("keypad action %s failed", action)

    def _handle(self, action: A) -> None:
        s, d = self.session, self.session.data
        self._sync()
        if not d.keypad_mode:
            s.send("speech_toggle", on=True, keypad=True)
            self.speech.tone("ok")
            return
        if action is not A.CANCEL:
            self._cancel_at = None
        if action in (A.NEXT, A.PREVIOUS) and self.focus is not None:
            s.touch()
            self.guide.control(self.focus.move(1 if action is A.NEXT else -1))
        elif action is A.SELECT and self.focus is not None and self.focus.press():
            s.touch()
        elif action in (A.SELECT, A.NEXT):
            self._primary()
        elif action in (A.BACK, A.PREVIOUS):
            s.send("back")
        elif action is A.CANCEL:
            self._cancel()
        elif action is A.REPEAT:
            s.touch()
            self.guide.repeat()
        elif action is A.HELP:
            s.touch()
            self.guide.help()
        elif action is A.MORE_TIME:
            s.send("more_time")
            self.speech.tone("ok", interrupt=True)
        elif action in (A.VOLUME_UP, A.VOLUME_DOWN):
            s.touch()
            (self.speech.volume_up if action is A.VOLUME_UP else self.speech.volume_down)()
            self.speech.tone("digit", interrupt=True)
        elif action is A.SPEECH_TOGGLE:
            s.send("speech_toggle")
        elif action is A.CLEAR:
            s.touch()
            self._clear()
        elif action.digit is not None or action in (A.STAR, A.HASH):
            key = action.digit or ("*" if action is A.STAR else "#")
            self._key(key)

    def _sync(self) -> None:
        """A new screen (or question): forget what was being typed for the last one."""
        s = self.session
        where = (s.epoch, s.state, s.data.form_index)
        if where != self._where:
            self._where = where
            self._otp, self._entry, self._digits = "", None, ""
            if self.focus is not None:
                self.focus.reset()

    # ------------------------------------------------------------------ actions
    def _primary(self) -> None:
        s, d = self.session, self.session.data
        state = s.state
        if d.error is not None and state not in (State.LOGIN, State.STATUS_LOOKUP, State.QUEUE_TICKET, State.DOCUMENTS):
            s.send("dismiss_error")
        if state is State.ATTRACT:
            s.send("start")
        elif state is State.PROCEDURE:
            if self.guide.procedure_choices:
                s.send("choose", code=self.guide.procedure_choices[0])
        elif state is State.CONSENT:
            s.send("agree")
        elif state in (State.LOGIN, State.STATUS_LOOKUP):
            s.send("retry")
        elif state is State.FORM:
            self._key("#")
        elif state is State.DOCUMENTS:
            comp = s.component
            if d.scanning:
                s.touch()
            elif comp is not None and comp.blank:
                s.send("keep_page", index=min(comp.blank))
            elif comp is not None and not comp.complete:
                s.send("scan")
            else:
                s.send("next")
        elif state is State.OTP:
            if d.otp is not None and len(self._otp) == d.otp.length:
                self._submit_otp()
            else:
                s.touch()
                self.guide.repeat()
        elif state is State.RATING:
            s.send("skip")
        elif state is State.QUEUE_TICKET:
            s.send("finish" if d.ticket is not None else "retry")
        elif state in (State.SUBMITTING, State.OUT_OF_SERVICE):
            s.touch()
        else:
            s.send("next")

    def _cancel(self) -> None:
        s = self.session
        if s.state is State.CONSENT:
            s.send("decline")
            return
        now = self.clock()
        if self._cancel_at is not None and now - self._cancel_at <= CANCEL_CONFIRM_SECONDS:
            self._cancel_at = None
            s.send("cancel")
            return
        self._cancel_at = now
        s.touch()
        self.speech.say("Bạn muốn hủy và xóa hồ sơ đang làm? Bấm phím Đỏ lần nữa để hủy. "
                        "Bấm phím khác để tiếp tục.", lang=s.data.lang)

    def _clear(self) -> None:
        s = self.session
        if s.state is State.OTP:
            self._otp = ""
            self.speech.tone("error")
        elif s.state is State.FORM:
            if self._entry is not None:
                self._entry.backspace()
            self._digits = self._digits[:-1]
            self.speech.tone("digit")
        elif s.state is State.DOCUMENTS and s.component is not None and s.component.blank:
            s.send("delete_page", index=min(s.component.blank))

    def _key(self, key: str) -> None:
        s, d = self.session, self.session.data
        state = s.state
        n = int(key) if key.isdigit() else None
        if state is State.ATTRACT and n is not None:
            event = {1: "start", 2: "status_lookup", 3: "queue_ticket"}.get(n)
            s.send(event) if event else s.touch()
        elif state is State.PROCEDURE and n:
            if n <= len(self.guide.procedure_choices):
                s.send("choose", code=self.guide.procedure_choices[n - 1])
            else:
                s.touch()
                self.speech.tone("error")
        elif state is State.CONSENT and n in (1, 2):
            s.send("agree" if n == 1 else "decline")
        elif state is State.FORM:
            self._form_key(key)
        elif state is State.DOCUMENTS and n == 1 and not d.scanning:
            s.send("scan")
        elif state is State.OTP and n is not None:
            s.touch()
            if d.otp is None or d.busy:
                return
            self._otp += key
            self.speech.tone("digit")  # never the digit itself
            if len(self._otp) >= d.otp.length:
                self._submit_otp()
        elif state is State.RATING and n and 1 <= n <= 5:
            s.send("rate", level=n)
        elif state is State.DONE and key == "#":
            s.send("next")
        else:
            s.touch()

    def _submit_otp(self) -> None:
        code, self._otp = self._otp, ""
        self.session.send("submit_code", code=code)

    def _form_key(self, key: str) -> None:
        s, d = self.session, self.session.data
        form = d.procedure.form
        field = form[min(max(d.form_index, 0), len(form) - 1)]
        s.touch()
        if field.type in ("choice", "yesno"):
            options = field.choices if field.type == "choice" else ["Có", "Không"]
            if key.isdigit() and 1 <= int(key) <= len(options):
                self._answer(field.id, options[int(key) - 1])
            elif key == "#" and d.form_values.get(field.id):
                s.send("next_question")
            else:
                self.speech.tone("error")
            return
        if field.type in ("date", "number", "phone"):
            if key.isdigit():
                self._digits += key
                self.speech.tone("digit")
            elif key == "#":
                if not self._digits:
                    s.send("next_question")  # keep the answer there is (or skip an optional question)
                    return
                value = self._digits
                if field.type == "date" and len(value) == 8:
                    value = f"{value[:2]}/{value[2:4]}/{value[4:]}"
                self._answer(field.id, value)
            return
        # text, address: multi-tap letters
        if key == "#":
            if self._entry is None:
                s.send("next_question")
                return
            self._answer(field.id, self._entry.finish())
            return
        if self._entry is None:
            self._entry = MultiTap(capitalize=field.id.endswith("name"))
        self._entry.press(key, at=self.clock())
        self.guide.echo(self._entry.pending or self._entry.text[-1:])

    def _answer(self, field: str, value: str) -> None:
        self._entry, self._digits = None, ""
        self.session.send("set", field=field, value=value)
        self.session.send("next_question")


def select_target(session: Any) -> str:
    """What the select key does now, for the on-screen focus ring (the same choices as `_primary`): "primary"
    (the footer's main button), "scan", "keep_page", "choice" (the first procedure read out), "retry", or ""
    (nothing: the kiosk is working)."""
    s, d = session, session.data
    state = s.state
    if state is State.PROCEDURE:
        return "choice"
    if state in (State.LOGIN, State.STATUS_LOOKUP):
        return "retry"
    if state in (State.SUBMITTING, State.OUT_OF_SERVICE):
        return ""
    if state is State.DOCUMENTS:
        comp = s.component
        if d.scanning:
            return ""
        if comp is not None and comp.blank:
            return "keep_page"
        if comp is not None and not comp.complete:
            return "scan"
    return "primary"
