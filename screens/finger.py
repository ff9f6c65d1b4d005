"""One finger on the touch screen, for the pilot (`kiosk simulate`, the demo, the UI tests).

The same touch as Kivy's `kivy.tests.common.UnitTestTouch`, which cannot be imported without pytest: an installed
kiosk has no pytest, and `kiosk simulate` must run there too (`make wheel-check`)."""
from __future__ import annotations

from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent


class Finger(MotionEvent):
    """`Finger(x, y)` at window coordinates; then `touch_down()`, `touch_move(x, y)`, `touch_up()`."""

    def __init__(self, x: float, y: float) -> None:
        self.eventloop = EventLoop
        super().__init__(type(self).__name__, 99, self._at(x, y), is_touch=True, type_id="touch")
        self.profile = ["pos"]  # x, y and pos are set

    def _at(self, x: float, y: float) -> dict[str, float]:
        win = EventLoop.window
        return {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)}

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)

    def touch_down(self, *_args) -> None:
        self.eventloop.post_dispatch_input("begin", self)

    def touch_move(self, x: float, y: float) -> None:
        self.move(self._at(x, y))
        self.eventloop.post_dispatch_input("update", self)

    def touch_up(self, *_args) -> None:
        self.eventloop.post_dispatch_input("end", self)
