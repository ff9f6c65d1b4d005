"""Done: the dossier is received (or saved to be sent), the receipt and the queue ticket are printing.
The queue number is on screen, large, whatever the printer or the portal does; without a number the panel says
in plain words where to go instead. The dossier code stays on screen too."""
from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from screens.widgets import KioskScreen, appointment_text

NO_NUMBER = "Mời Ông/Bà đến quầy tiếp nhận và nói: “Tôi đã nộp hồ sơ ở máy”. Cán bộ sẽ gọi Ông/Bà."


class DoneScreen(KioskScreen):
    headline = StringProperty("")
    code = StringProperty("")
    secret = StringProperty("")  # the look-up secret, printed beside the code on the receipt
    explanation = StringProperty("")
    appointment = StringProperty("")
    queue_heading = StringProperty("")
    queue_number = StringProperty("")
    queue = StringProperty("")
    printing = StringProperty("")
    print_problem = BooleanProperty(False)

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        if d.delivered:
            self.headline = "Hồ sơ đã được tiếp nhận"
            self.code = d.dossier_code
            self.explanation = "Mã hồ sơ:"
        else:
            self.headline = "Hồ sơ đã được lưu"
            self.code = d.local_reference
            self.explanation = ("Máy chưa kết nối được Cổng dịch vụ công. Hồ sơ đã được lưu an toàn và máy sẽ tự "
                                "gửi đi. Mã tham chiếu:")
        self.secret = d.lookup_secret
        self.appointment = appointment_text(d)
        t = d.ticket
        if t is not None:
            self.queue_heading = "Số thứ tự của Ông/Bà"
            self.queue_number = t.number
            self.queue = t.counter or ""
        elif d.busy:
            self.queue_heading, self.queue_number, self.queue = "Số thứ tự", "", "Đang lấy số…"
        else:
            self.queue_heading, self.queue_number, self.queue = "Chưa có số thứ tự", "", NO_NUMBER
        self.print_problem = d.print_error is not None
        if d.print_error is not None:
            pe = d.print_error
            self.printing = f"{pe.title}. {pe.next_step}"
        elif d.receipt_printed:
            self.printing = "Mời Ông/Bà nhận biên nhận và phiếu số thứ tự ở khe máy in."
        else:
            self.printing = "Đang in biên nhận…"
