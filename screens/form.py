"""Form: the procedure's fields, rendered from the catalogue, prefilled from VNeID; typed on the on-screen
keyboard. Messages from validation stand next to the field they are about."""
from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens.widgets import KioskScreen

KEYBOARD_MODE = {"text": "text", "address": "text", "phone": "number", "number": "number", "date": "date"}
YES_NO = ("Có", "Không")


def capitals_for(field) -> str:
    """Names take a capital at each word (Nguyễn Văn An); other text a capital at its start."""
    if field.type not in ("text", "address"):
        return "none"
    return "words" if "name" in field.id or "ho_ten" in field.id else "first"


class FormRow(BoxLayout):
    """One question: its label, the answer box (or choices), help, and the message about it."""

    label = StringProperty("")
    help = StringProperty("")
    kind = StringProperty("text")
    field_id = StringProperty("")
    value = StringProperty("")
    error = StringProperty("")
    focused = BooleanProperty(False)


class FormScreen(KioskScreen):
    typing = BooleanProperty(False)
    focused = StringProperty("")
    title = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._built_for = None
        self._rows: dict[str, object] = {}
        self._fields: dict[str, object] = {}

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        proc = d.procedure
        if proc is None:
            return
        if self._built_for is not proc.code:
            self._build(proc)
        self.title = proc.name
        for fid, row in self._rows.items():
            value = d.form_values.get(fid, "")
            row.value = value
            row.error = d.form_errors.get(fid, "")
            row.focused = fid == self.focused
            for chip in row.ids.choices.children:
                chip.state = "down" if chip.text == value else "normal"

    def _build(self, proc) -> None:
        self._built_for = proc.code
        self.focused = ""
        self.typing = False
        box = self.ids.fields
        box.clear_widgets()
        self._rows.clear()
        self._fields = {f.id: f for f in proc.form}
        for field in proc.form:
            row = Factory.FormRow(label=field.label + (" *" if field.required else ""), help=field.help,
                                  kind=field.type, field_id=field.id)
            if field.type in ("choice", "yesno"):
                for choice in (field.choices if field.type == "choice" else YES_NO):
                    chip = Factory.FieldChip(text=choice, value=choice, group=f"form-{field.id}")
                    chip.bind(on_release=lambda c, fid=field.id: self.choose(fid, c.text))
                    row.ids.choices.add_widget(chip)
            else:
                row.ids.input.bind(on_release=lambda _b, fid=field.id: self.focus(fid))
            box.add_widget(row)
            self._rows[field.id] = row

    def choose(self, field_id: str, value: str) -> None:
        self.stop_typing()
        self.send("set", field=field_id, value=value)

    def focus(self, field_id: str) -> None:
        field = self._fields[field_id]
        self.focused = field_id
        self.typing = True
        current = self._rows[field_id].value
        self.ids.keyboard.attach(current, lambda text: self.send("set", field=field_id, value=text),
                                 mode=KEYBOARD_MODE.get(field.type, "text"), capitalize=capitals_for(field))
        self.ids.scroll.scroll_to(self._rows[field_id], padding=10, animate=False)
        for fid, row in self._rows.items():
            row.focused = fid == field_id

    def stop_typing(self) -> None:
        self.typing = False
        self.focused = ""
        self.ids.keyboard.detach()
        for row in self._rows.values():
            row.focused = False

    def primary(self) -> None:
        """'Tiếp tục' moves to the next empty field while typing, else asks the session to check the form."""
        if self.typing:
            order = list(self._rows)
            after = order[order.index(self.focused) + 1:] if self.focused in order else []
            nxt = next((fid for fid in after if self._fields[fid].type not in ("choice", "yesno")
                        and not self._rows[fid].value), None)
            if nxt is not None:
                self.focus(nxt)
            else:
                self.stop_typing()  # the citizen sees the whole form once more before going on
            return
        self.send("next")
