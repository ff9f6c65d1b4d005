"""One-time code: the citizen types the 6-digit code sent to their phone on a large numeric pad."""
from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from screens.widgets import KioskScreen


class OtpScreen(KioskScreen):
    code = StringProperty("")
    length = NumericProperty(6)
    attempts = StringProperty("")
    locked = BooleanProperty(False)
    #: The demo's hooks (drivers.fakes.simulator.Simulator; None on a kiosk with real devices).
    simulator = ObjectProperty(None, allownone=True)
    simulated = BooleanProperty(False)
    display = StringProperty("_ _ _ _ _ _")  # what the code box shows: the digits typed, a _ for each still missing

    def on_code(self, *_args) -> None:
        self._show_code()

    def on_length(self, *_args) -> None:
        self._show_code()

    def _show_code(self) -> None:
        # kv does not re-evaluate an expression hidden in a call chain (' '.join(list(root.code...))): set it here
        self.display = " ".join(self.code.ljust(int(self.length), "_"))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._session = None

    def read_text_message(self) -> None:
        """Demo only: as if the citizen read the code on their phone (the simulator asks the sandbox portal, off
        the UI thread); nothing happens when there is no way to know it."""
        import threading

        from kivy.clock import Clock

        s, simulator = self._session, self.simulator
        if s is None or s.data.otp is None or simulator is None or not simulator.can_read_text_message:
            return
        otp_id = s.data.otp.otp_id

        def fetch() -> None:
            code = simulator.text_message(otp_id)
            if code is not None:
                Clock.schedule_once(lambda _dt: setattr(self, "code", code), 0)

        threading.Thread(target=fetch, name="demo-text-message", daemon=True).start()

    def render(self, session) -> None:
        super().render(session)
        self._session = session
        self.simulator = getattr(session.services, "simulator", None)
        self.simulated = self.simulator is not None and self.simulator.can_read_text_message
        d = session.data
        if d.otp is not None:
            self.length = d.otp.length
        self.locked = d.otp_locked
        left = d.otp_attempts_left
        self.attempts = f"Ông/Bà còn {left} lần nhập." if (left is not None and d.error and not d.otp_locked) else ""
        if d.error is not None and d.error.kind in ("otp_wrong", "otp_locked", "otp_expired"):
            self.code = ""

    def press(self, key: str) -> None:
        if key == "backspace":
            self.code = self.code[:-1]
        elif key.isdigit() and len(self.code) < self.length:
            self.code += key

    def submit(self) -> None:
        self.send("submit_code", code=self.code)

    def resend(self) -> None:
        self.code = ""
        self.send("resend")

    def on_leave(self, *_args) -> None:
        self.code = ""
