"""Documents: scan each required paper. Pages appear as they arrive; a page can be deleted, the whole
component rescanned; a page that looks blank is pointed out and the citizen decides."""
from __future__ import annotations

from kivy.factory import Factory
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens.widgets import ChoiceButton, KioskScreen, choice_text

THUMB_WIDTH = 220


def thumbnail_texture(image) -> Texture:
    """A small grey texture of a scanned page (kept per page object, made once)."""
    thumb = image.convert("L")
    thumb.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 1.5))
    tex = Texture.create(size=thumb.size, colorfmt="luminance")
    tex.blit_buffer(thumb.tobytes(), colorfmt="luminance", bufferfmt="ubyte")
    tex.flip_vertical()
    return tex


class PageCard(BoxLayout):
    """A scanned page: its thumbnail, its number, delete (and keep, when it looks blank)."""

    texture = ObjectProperty(None, allownone=True)
    number = NumericProperty(0)
    blank = BooleanProperty(False)


class DocumentsScreen(KioskScreen):
    component_name = StringProperty("")
    progress = StringProperty("")
    scanning = BooleanProperty(False)
    page_count = NumericProperty(0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._textures: dict[int, Texture] = {}
        self._shown: tuple | None = None

    #: The demo's hooks (drivers.fakes.simulator.Simulator; None on a kiosk with real devices): the "Mô phỏng"
    #: button puts papers in the fake feeder through it.
    simulator = ObjectProperty(None, allownone=True)
    simulated = BooleanProperty(False)

    def render(self, session) -> None:
        super().render(session)
        self.simulator = getattr(session.services, "simulator", None)
        self.simulated = self.simulator is not None and self.simulator.can_feed_papers
        d = session.data
        comps = d.components
        current = comps[d.current_component] if 0 <= d.current_component < len(comps) else None
        self.scanning = d.scanning
        self.component_name = current.name if current else ""
        self.page_count = len(current.pages) if current else 0
        self.progress = f"Giấy tờ {d.current_component + 1}/{len(comps)}" if comps else ""
        self._render_components(comps, d.current_component)
        if current is not None:
            self._render_pages(current)

    def _render_components(self, comps, current_index: int) -> None:
        box = self.ids.components
        box.clear_widgets()
        for i, comp in enumerate(comps):
            status = f"Đã quét {len(comp.pages)} trang" if comp.pages else "Chưa quét"
            mark = "» " if i == current_index else ""
            btn = ChoiceButton(text=choice_text(mark + comp.name, status), value=i)
            btn.bind(on_release=lambda b: self.send("select", component=b.value))
            box.add_widget(btn)

    def _render_pages(self, comp) -> None:
        key = (comp.id, tuple(id(p) for p in comp.pages), tuple(sorted(comp.blank)))
        if key == self._shown:
            return
        self._shown = key
        live = {id(p) for p in comp.pages}
        self._textures = {k: v for k, v in self._textures.items() if k in live}
        box = self.ids.pages
        box.clear_widgets()
        for i, page in enumerate(comp.pages):
            tex = self._textures.get(id(page))
            if tex is None:
                tex = self._textures[id(page)] = thumbnail_texture(page.image)
            card = Factory.PageCard(texture=tex, number=i + 1, blank=i in comp.blank)
            card.ids.delete.bind(on_release=lambda _b, idx=i: self.send("delete_page", index=idx))
            card.ids.keep.bind(on_release=lambda _b, idx=i: self.send("keep_page", index=idx))
            box.add_widget(card)
