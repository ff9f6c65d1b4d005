"""Attract: the idle screen. Start a dossier, tap a popular procedure, look up a dossier, or take a number."""
from __future__ import annotations

from screens.widgets import ChoiceButton, KioskScreen, choice_text


class AttractScreen(KioskScreen):
    def render(self, session) -> None:
        super().render(session)
        box = self.ids.popular
        if box.children:
            return
        for proc in session.services.catalog.popular(6):
            btn = ChoiceButton(text=choice_text(proc.name), value=proc.code)
            btn.bind(on_release=lambda b: self.send("choose", code=b.value))
            box.add_widget(btn)
