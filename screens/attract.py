"""Attract: the idle screen. Start a dossier, tap a popular procedure, look up a dossier, or take a number."""
from __future__ import annotations

from screens.widgets import ChoiceButton, KioskScreen, choice_text


class AttractScreen(KioskScreen):
    def render(self, session) -> None:
        super().render(session)
        box = self.ids.popular
        catalog = session.services.catalog
        if getattr(self, "_catalog", None) is catalog:
            return
        self._catalog = catalog  # rebuilt when a newer catalogue arrives from the portal
        box.clear_widgets()
        for proc in catalog.popular(6):
            btn = ChoiceButton(text=choice_text(proc.name), value=proc.code)
            btn.bind(on_release=lambda b: self.send("choose", code=b.value))
            box.add_widget(btn)
