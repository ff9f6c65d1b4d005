"""Status look-up: scan the QR on a receipt, or type the dossier code, and see where the dossier is."""
from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.portal.client import STATUS_LABELS
from kiosk.domain.receipt import format_datetime
from kiosk.domain.statuses import status_lines
from kiosk.portal.models import NATIONAL_STATUS_CODE
from screens.widgets import KioskScreen


class StatusLookupScreen(KioskScreen):
    code = StringProperty("")
    typing = BooleanProperty(False)
    result = StringProperty("")

    def start_typing(self) -> None:
        self.typing = True
        self.ids.keyboard.attach(self.code, self._typed, mode="code")

    def _typed(self, text: str) -> None:
        self.code = text

    def lookup(self) -> None:
        self.typing = False
        self.ids.keyboard.detach()
        self.send("lookup", code=self.code)

    def render(self, session) -> None:
        super().render(session)
        v = session.data.status_view
        if v is None:
            self.result = ""
            return
        lines = [
            f"Mã hồ sơ: {v.dossier_code}",
            f"Tình trạng: {NATIONAL_STATUS_CODE.get(v.status, '')}. {STATUS_LABELS.get(v.status, v.status.value)}",
            f"Thủ tục: {v.procedure_name or v.procedure_code}",
            f"Ngày tiếp nhận: {format_datetime(v.received_at)}",  # the centre's time, not the portal's UTC
        ]
        if v.appointment_date:
            lines.append(f"Ngày hẹn trả kết quả: {v.appointment_date:%d/%m/%Y}")
        lines += status_lines(v.status_code or NATIONAL_STATUS_CODE.get(v.status), note=v.note,
                              fee_amount=v.fee_amount, payment_code=v.payment_code, result_at=v.result_at)
        self.result = "\n".join(lines)

    def on_leave(self, *_args) -> None:
        self.code, self.typing, self.result = "", False, ""
