"""Review ("check your answers"): everything being confirmed, without scrolling: each answer with "Sửa" beside
it, the papers scanned, the fee and the appointment date."""
from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens.widgets import KioskScreen, appointment_text, fee_text


class AnswerRow(BoxLayout):
    label = StringProperty("")
    value = StringProperty("")
    field_id = StringProperty("")

    def edit(self) -> None:
        App.get_running_app().send("edit_field", field=self.field_id)


class ReviewScreen(KioskScreen):
    title = StringProperty("")
    fee = StringProperty("")
    appointment = StringProperty("")
    citizen = StringProperty("")
    documents = StringProperty("")
    postage = StringProperty("")  # results by post: the postage as a second fee line

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        proc = d.procedure
        if proc is None:
            return
        self.title = getattr(proc, "plain_name", "") or proc.name
        self.postage = d.postage_text
        # results by post: the postage is a second fee line, under the fee (the panel keeps its layout)
        self.fee = fee_text(d) + (f"\n+ Cước bưu điện: {d.postage_text}" if d.postage_text else "")
        self.appointment = appointment_text(d)
        self.citizen = d.citizen.full_name if d.citizen else ""
        rows = self.ids.rows
        rows.clear_widgets()
        from kiosk.domain.forms import applies

        for field in proc.form:
            if not applies(field, d.form_values):  # the post address when collected at the centre
                continue
            value = d.form_values.get(field.id, "") or "(bỏ trống)"
            rows.add_widget(Factory.AnswerRow(label=field.label, value=value, field_id=field.id))
        self.documents = "\n".join(f"•  {c.name}: {c.page_count} trang" for c in d.components) or "Không có"
