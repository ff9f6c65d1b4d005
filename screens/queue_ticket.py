"""Queue ticket only: take a number for the counter without submitting anything here."""
from __future__ import annotations

from kivy.properties import StringProperty

from screens.widgets import KioskScreen


class QueueTicketScreen(KioskScreen):
    number = StringProperty("")
    details = StringProperty("")
    printing = StringProperty("")
    instead = StringProperty("")  # no number could be had: what to do instead, in the middle of the screen

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        t = d.ticket
        self.number = t.number if t is not None else ""
        self.details = (f"{t.counter}. Có {t.waiting} người đang chờ trước Ông/Bà." if t is not None else "")
        if d.print_error is not None:
            pe = d.print_error
            self.printing = f"Lưu ý: {pe.title}. {pe.next_step}"
        elif t is not None:
            self.printing = "Mời Ông/Bà nhận phiếu ở khe máy in."
        else:
            self.printing = ""
        self.instead = NO_NUMBER if t is None and d.error is not None else ""


#: Shown when no number could be had (the portal did not answer): the citizen is never left without a way on.
NO_NUMBER = ("Máy chưa lấy được số thứ tự cho Ông/Bà.\n\n"
             "Ông/Bà có thể bấm \u201cThử lại\u201d, hoặc đến thẳng quầy tiếp nhận hồ sơ: "
             "cán bộ sẽ cấp số và hướng dẫn.")
