"""Procedure: find the procedure — the most used first, by field, or by searching as you type (with or
without diacritics, typos and Telex spellings tolerated by the catalogue's search)."""
from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from screens.widgets import ChoiceButton, KioskScreen, choice_text, icon_for

MAX_RESULTS = 8


class ProcedureScreen(KioskScreen):
    query = StringProperty("")
    field = StringProperty("")
    typing = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple | None = None

    def start_typing(self) -> None:
        self.typing = True
        self.ids.keyboard.attach(self.query, lambda text: self.send("search", query=text), mode="text")

    def stop_typing(self) -> None:
        self.typing = False
        self.ids.keyboard.detach()

    def render(self, session) -> None:
        super().render(session)
        d, catalog = session.data, session.services.catalog
        self.query, self.field = d.search_query, d.field_filter
        self._render_fields(catalog)
        if self.query.strip():
            procedures = [hit.procedure for hit in catalog.search(self.query, limit=MAX_RESULTS, lang=d.lang)]
            heading = ("Kết quả tìm kiếm:" if procedures
                       else "Không tìm thấy thủ tục phù hợp. Hãy thử từ khác, ví dụ “khai sinh”.")
        elif self.field:
            procedures, heading = catalog.in_field(self.field)[:MAX_RESULTS], f"Lĩnh vực {self.field}:"
        else:
            procedures, heading = catalog.popular(MAX_RESULTS), "Thủ tục nhiều người nộp:"
        key = (heading, tuple(p.code for p in procedures))
        if key == self._shown:
            return
        self._shown = key
        self.ids.results_heading.text = heading
        box = self.ids.results
        box.clear_widgets()
        for proc in procedures:
            btn = ChoiceButton(text=choice_text(proc.plain_name or proc.name, proc.plain), value=proc.code,
                               icon=icon_for(proc))
            btn.bind(on_release=lambda b: self.send("choose", code=b.value))
            box.add_widget(btn)

    def _render_fields(self, catalog) -> None:
        chips = self.ids.fields
        if chips.children:
            for chip in chips.children:
                chip.state = "down" if chip.value == self.field else "normal"
            return
        from kivy.factory import Factory

        for name in ["", *catalog.fields()[:5]]:
            chip = Factory.FieldChip(text=name or "Tất cả", value=name, group="fields",
                                     state="down" if name == self.field else "normal")
            chip.bind(on_release=lambda c: self.send("field", field=c.value))
            chips.add_widget(chip)
