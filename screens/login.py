"""Login: the citizen shows the VNeID app's QR code to the reader. A camera reader's live picture is shown with
a framing guide; decoding happens off the UI thread (the session's reader job)."""
from __future__ import annotations

import logging

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ObjectProperty

from screens.widgets import KioskScreen

log = logging.getLogger("kiosk.ui.login")


class LoginScreen(KioskScreen):
    preview_texture = ObjectProperty(None, allownone=True)
    simulated = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._reader = None
        self._event = None

    def on_enter(self, *_args) -> None:
        self._event = Clock.schedule_interval(self._update_preview, 1 / 10)

    def on_leave(self, *_args) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.preview_texture = None

    def render(self, session) -> None:
        super().render(session)
        self._reader = session.services.reader
        self.simulated = getattr(self._reader, "driver", "") == "fake"

    def present_test_code(self) -> None:
        """Demo only (fake reader): as if a citizen held up the sandbox's test VNeID code."""
        if self._reader is not None and hasattr(self._reader, "present"):
            self._reader.present("VNEID-TEST-0001")

    def _update_preview(self, _dt) -> None:
        if self._reader is None:
            return
        try:
            frame = self._reader.preview()
        except Exception:  # noqa: BLE001 - a preview glitch must not stop the login
            log.exception("preview failed")
            return
        if frame is None:
            return
        h, w = frame.shape[:2]
        fmt = "bgr" if frame.ndim == 3 else "luminance"
        tex = self.preview_texture
        if tex is None or tex.size != (w, h) or tex.colorfmt != fmt:
            tex = Texture.create(size=(w, h), colorfmt=fmt)
            tex.flip_vertical()
        tex.blit_buffer(frame.tobytes(), colorfmt=fmt, bufferfmt="ubyte")
        self.preview_texture = tex
