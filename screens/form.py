"""Form: one question per screen (GOV.UK "one thing per page"), from the procedure's catalogue entry, prefilled
from VNeID, typed on the on-screen keyboard. The session keeps which question is on screen (`form_index`) and
checks each answer with `forms.validate`; its message stands right under the question.

Landscape: while typing, the question, its help, its message and the answer box stand on the left and the
keyboard on the right, so nothing the citizen needs is ever under the keyboard. Portrait: the keyboard is below."""
from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from screens.widgets import KioskScreen

KEYBOARD_MODE = {"text": "text", "address": "text", "phone": "number", "number": "number", "date": "date"}
YES_NO = ("Có", "Không")


def capitals_for(field) -> str:
    """Names take a capital at each word (Nguyễn Văn An); other text a capital at its start."""
    if field.type not in ("text", "address"):
        return "none"
    return "words" if "name" in field.id or "ho_ten" in field.id else "first"


class FormScreen(KioskScreen):
    typing = BooleanProperty(False)
    choosing = BooleanProperty(False)
    optional = BooleanProperty(False)
    question = StringProperty("")
    progress = StringProperty("")
    greeting = StringProperty("")  # on the first question, after login: "Xin chào Ông/Bà <full name>"
    help = StringProperty("")
    value = StringProperty("")
    error = StringProperty("")
    field_id = StringProperty("")
    title = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[int, str, int] | None = None  # (citizen's data, procedure, question)
        self._field: Any = None

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        proc = d.procedure
        if proc is None or not proc.form:
            return
        index = min(max(0, d.form_index), len(proc.form) - 1)
        field = proc.form[index]
        self._field = field
        self.title = getattr(proc, "plain_name", "") or proc.name
        self.progress = f"Câu {index + 1} / {len(proc.form)}"
        name = getattr(d.citizen, "full_name", "") if d.citizen is not None else ""
        self.greeting = f"Xin chào Ông/Bà {name}" if (index == 0 and name) else ""
        self.question = field.label
        self.optional = not field.required
        self.help = field.help
        self.field_id = field.id
        self.value = d.form_values.get(field.id, "")
        self.error = d.form_errors.get(field.id, "")
        self.choosing = field.type in ("choice", "yesno")
        key = (id(d), proc.code, index)
        if key != self._shown:  # a new question (or a new citizen): its own answer box, keyboard or choices
            self._shown = key
            self._build_choices(field)
            if self.choosing:
                self.stop_typing()
            else:
                self.focus_current()
        for chip in self.ids.choices.children:
            chip.state = "down" if chip.text == self.value else "normal"

    def _build_choices(self, field) -> None:
        box = self.ids.choices
        box.clear_widgets()
        if field.type not in ("choice", "yesno"):
            return
        for choice in (field.choices if field.type == "choice" else YES_NO):
            chip = Factory.AnswerChip(text=choice, value=choice, group=f"form-{field.id}")
            chip.bind(on_release=lambda c, fid=field.id: self.send("set", field=fid, value=c.text))
            box.add_widget(chip)

    def focus_current(self) -> None:
        field = self._field
        if field is None or field.type in ("choice", "yesno"):
            return
        self.typing = True
        fid = field.id
        self.ids.keyboard.attach(self.value, lambda text: self.send("set", field=fid, value=text),
                                 mode=KEYBOARD_MODE.get(field.type, "text"), capitalize=capitals_for(field))

    def stop_typing(self) -> None:
        self.typing = False
        self.ids.keyboard.detach()

    def primary(self) -> None:
        """'Tiếp tục': the session checks this answer and shows the next question (the last checks them all)."""
        self.send("next_question")

    def on_leave(self, *_args) -> None:
        self.stop_typing()
        self._shown = None
