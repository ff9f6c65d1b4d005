"""Out of service: a device a session needs is broken, so no citizen starts a session that cannot finish.
The reason is shown small, for the technician."""
from __future__ import annotations

from kivy.properties import StringProperty

from screens.widgets import KioskScreen


class OutOfServiceScreen(KioskScreen):
    reason = StringProperty("")

    def render(self, session) -> None:
        super().render(session)
        self.reason = session.out_of_service_reason
