"""Review: everything the citizen is about to submit, with a way back to fix the form or the papers."""
from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import StringProperty

from screens.widgets import KioskScreen, appointment_text, fee_text


class ReviewScreen(KioskScreen):
    title = StringProperty("")
    fee = StringProperty("")
    appointment = StringProperty("")
    citizen = StringProperty("")

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        proc = d.procedure
        if proc is None:
            return
        self.title = proc.name
        self.fee = fee_text(d)
        self.appointment = appointment_text(d)
        self.citizen = d.citizen.full_name if d.citizen else ""
        rows = self.ids.rows
        rows.clear_widgets()
        for field in proc.form:
            value = d.form_values.get(field.id, "")
            if value:
                rows.add_widget(Factory.InfoRow(label=field.label + ":", value=value))
        docs = self.ids.docs
        docs.clear_widgets()
        for comp in d.components:
            docs.add_widget(Factory.InfoRow(label=comp.name + ":", value=f"{len(comp.pages)} trang"))
