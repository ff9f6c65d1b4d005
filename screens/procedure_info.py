"""Procedure info: before starting, the citizen sees the papers needed, the fee, the processing time and the
appointment date if they submit now."""
from __future__ import annotations

from kivy.properties import StringProperty

from screens.widgets import KioskScreen, appointment_text, fee_text

KIND_VI = {"original": "bản chính", "copy": "bản sao", "form": "tờ khai"}


def processing_text(p) -> str:
    if p.same_day:
        text = "Trả kết quả trong ngày"
        if p.cutoff:
            text += f" (nộp sau {p.cutoff} thì trả vào ngày làm việc tiếp theo)"
        return text
    if p.working_days:
        text = f"{p.working_days} ngày làm việc"
        if p.max_working_days and p.max_working_days > p.working_days:
            text += f", tối đa {p.max_working_days} ngày nếu cần xác minh"
        return text
    return p.note or "Cán bộ sẽ thông báo thời hạn"


class ProcedureInfoScreen(KioskScreen):
    title = StringProperty("")        # the official name
    plain_title = StringProperty("")  # the short plain title the tile showed ("Khai sinh cho con")
    plain = StringProperty("")        # the plain explanation
    documents = StringProperty("")
    fee = StringProperty("")
    processing = StringProperty("")
    appointment = StringProperty("")

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        proc = d.procedure
        if proc is None:
            return
        self.title, self.plain = proc.name, proc.plain
        self.plain_title = proc.plain_name if proc.plain_name and proc.plain_name != proc.name else ""
        lines = []
        for doc in proc.documents:
            how = "quét tại máy" if doc.scan_at_kiosk else "mang theo khi nhận kết quả"
            lines.append(f"•  {doc.name} ({doc.count} {KIND_VI.get(doc.kind, doc.kind)}, {how})")
        self.documents = "\n".join(lines) or "Không cần giấy tờ kèm theo."
        self.fee = fee_text(d)
        self.processing = processing_text(proc.processing)
        self.appointment = appointment_text(d)
