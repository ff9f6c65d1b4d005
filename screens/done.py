"""Done: the dossier is received (or saved to be sent), the receipt and the queue ticket are printing.
The dossier code stays on screen, big, whatever the printer does."""
from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from screens.widgets import KioskScreen, appointment_text


class DoneScreen(KioskScreen):
    headline = StringProperty("")
    code = StringProperty("")
    explanation = StringProperty("")
    appointment = StringProperty("")
    queue = StringProperty("")
    printing = StringProperty("")
    print_problem = BooleanProperty(False)

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        if d.delivered:
            self.headline = "Hồ sơ đã được tiếp nhận"
            self.code = d.dossier_code
            self.explanation = "Mã hồ sơ của bạn:"
        else:
            self.headline = "Hồ sơ đã được lưu"
            self.code = d.local_reference
            self.explanation = ("Máy chưa kết nối được Cổng dịch vụ công. Hồ sơ đã được lưu an toàn và sẽ được "
                                "gửi tự động. Mã tham chiếu của bạn:")
        self.appointment = appointment_text(d)
        t = d.ticket
        self.queue = f"Số thứ tự của bạn: {t.number} — {t.counter}" if t is not None else ""
        self.print_problem = d.print_error is not None
        if d.print_error is not None:
            pe = d.print_error
            self.printing = f"Lưu ý: {pe.title}. {pe.text} {pe.next_step}"
        elif d.receipt_printed:
            self.printing = "Mời bạn nhận biên nhận và phiếu số thứ tự ở khe máy in."
        else:
            self.printing = "Đang in biên nhận…"
