"""Rating: the Ministry's five satisfaction levels, each a big button with a drawn face and its words (never
colours or faces alone). After a choice the session wipes and goes back to attract; the screen says thank you."""
from __future__ import annotations

from kivy.graphics import Color, Ellipse, Line
from kivy.properties import NumericProperty
from kivy.uix.widget import Widget

from screens.widgets import KioskScreen

LEVELS = [(5, "Rất hài lòng"), (4, "Hài lòng"), (3, "Bình thường"), (2, "Không hài lòng"), (1, "Rất không hài lòng")]
THANKS = "Cảm ơn Ông/Bà đã góp ý!"


class RatingFace(Widget):
    """A plain round face: the mouth curves up for 5, is flat for 3, curves down for 1."""

    level = NumericProperty(3)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, level=self._draw)

    def _draw(self, *_args) -> None:
        self.canvas.clear()
        r = min(self.width, self.height) / 2 - 4
        if r <= 0:
            return
        cx, cy = self.center
        lw = max(2.0, r / 12)
        with self.canvas:
            Color(0.96, 0.80, 0.25, 1)
            Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))
            Color(0.1, 0.1, 0.1, 1)
            Line(circle=(cx, cy, r), width=lw)
            e = r * 0.14
            for dx in (-0.36, 0.36):
                Ellipse(pos=(cx + dx * r - e, cy + 0.25 * r - e), size=(2 * e, 2 * e))
            bend = (self.level - 3) / 2 * 0.28 * r  # + smile, - frown
            mouth_y = cy - 0.35 * r + (0 if bend >= 0 else 0.1 * r)
            pts = []
            for i in range(17):
                t = -1 + i / 8
                pts += [cx + t * 0.5 * r, mouth_y - bend * (1 - t * t)]
            Line(points=pts, width=lw)


class RatingScreen(KioskScreen):
    pass
