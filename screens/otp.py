"""One-time code: the citizen types the 6-digit code sent to their phone on a large numeric pad."""
from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from screens.widgets import KioskScreen


class OtpScreen(KioskScreen):
    code = StringProperty("")
    length = NumericProperty(6)
    attempts = StringProperty("")
    locked = BooleanProperty(False)
    simulated = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._session = None

    def show_demo_code(self) -> None:
        """Demo only (simulated devices, sandbox portal): read the code 'sent to the phone' from the sandbox's
        test-only endpoint, as if the citizen read their text message."""
        import threading

        from kivy.clock import Clock

        s = self._session
        if s is None or s.data.otp is None:
            return
        url = f"{s.services.config.portal.url.rstrip('/')}/api/v1/sandbox/otp/{s.data.otp.otp_id}"

        def fetch() -> None:
            import httpx

            try:
                code = httpx.get(url, timeout=5).json()["code"]
            except Exception:  # noqa: BLE001 - not a sandbox: nothing to show
                return
            Clock.schedule_once(lambda _dt: setattr(self, "code", code), 0)

        threading.Thread(target=fetch, daemon=True).start()

    def render(self, session) -> None:
        super().render(session)
        self._session = session
        self.simulated = getattr(session.services.reader, "driver", "") == "fake"
        d = session.data
        if d.otp is not None:
            self.length = d.otp.length
        self.locked = d.otp_locked
        left = d.otp_attempts_left
        self.attempts = f"Bạn còn {left} lần nhập." if (left is not None and d.error and not d.otp_locked) else ""
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
