"""Keypad focus (issue 12 §2): the keypad's arrow keys move a focus over every control of the screen (or of the
popup over it), in reading order; the focused control is drawn inside a strong ring and its words are spoken;
the select key presses it. Until the citizen moves the focus on a screen, the select key does the screen's main
action and the ring is on that (BigButton.focused, from kiosk.appliance.keypad_control.select_target).

The navigator lives on the UI thread (the keypad's actions are posted there). It keeps no widget past its screen:
a new screen, question or session forgets the focus, so the next press starts again from the main action.
"""
from __future__ import annotations

import weakref
from typing import Any

from kivy.core.window import Window
from kivy.graphics import Color, InstructionGroup, Line
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.widget import Widget

_ROW = 24  # px: controls whose tops differ by less than this are one row, read left to right


def _shown(w: Widget) -> bool:
    node: Any = w
    while node is not None:
        if getattr(node, "opacity", 1) <= 0.01 or getattr(node, "disabled", False) or getattr(node, "collapsed", False):
            return False
        if node.parent is node or node.parent is Window:
            break
        node = node.parent
    if w.width < 2 or w.height < 2:
        return False
    x, y = w.to_window(*w.center)
    return 0 <= x <= Window.width and 0 <= y <= Window.height


def label_of(w: Widget) -> str:
    """The words a control shows (its text without markup, NFC), or its spoken name for an icon-only one."""
    from screens.widgets import plain_text

    text = getattr(w, "spoken_name", "") or getattr(w, "text", "") or ""
    return " ".join(plain_text(text).split())


class FocusNavigator:
    """`move(+1 / -1)` and `press()` for the keypad controller; `ring` draws where the focus is."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._chosen: weakref.ReferenceType | None = None
        self._where: tuple | None = None
        self._ring = InstructionGroup()
        self._ring_owner: weakref.ReferenceType | None = None
        self._bound: weakref.ReferenceType | None = None

    # ------------------------------------------------------------------ what can be focused
    def _root(self) -> Widget | None:
        popups = [w for w in Window.children if w is not self.app.manager]
        if popups:
            return popups[0]
        manager = self.app.manager
        return manager.current_screen if manager is not None else None

    def controls(self) -> list[Widget]:
        """Every control a finger could press now, top to bottom, each row left to right."""
        root = self._root()
        if root is None:
            return []
        found = [w for w in root.walk(restrict=True) if isinstance(w, ButtonBehavior) and _shown(w) and label_of(w)]

        def reading_order(w: Widget) -> tuple[float, float]:
            x, top = w.to_window(w.x, w.top)
            return (-round(top / (_ROW * self.app.scale)), x)

        return sorted(found, key=reading_order)

    def _here(self) -> tuple:
        s = self.app.session
        return (s.epoch, s.state, s.data.form_index, id(self._root()))

    @property
    def focused(self) -> Widget | None:
        """The control the citizen moved the focus to on this screen, if it is still there."""
        if self._chosen is None or self._where != self._here():
            return None
        w = self._chosen()
        return w if w is not None and w in self.controls() else None

    # ------------------------------------------------------------------ keypad
    def move(self, step: int) -> str:
        """Move the focus `step` controls on (wrapping round); the words of the newly focused control."""
        controls = self.controls()
        if not controls:
            return ""
        current = self.focused
        if current is not None:
            index = (controls.index(current) + step) % len(controls)
        else:  # from the main action, where the ring was
            start = next((i for i, w in enumerate(controls) if getattr(w, "focused", False)), None)
            index = (start + step) % len(controls) if start is not None else (0 if step > 0 else len(controls) - 1)
        chosen = controls[index]
        self._chosen, self._where = weakref.ref(chosen), self._here()
        self.app.keypad_target = ""  # one ring: the moved one
        self.draw()
        return label_of(chosen)

    def press(self) -> bool:
        """Press the focused control as a tap would; False when the citizen has not moved the focus here."""
        w = self.focused
        if w is None:
            return False
        w.trigger_action(duration=0)
        return True

    def reset(self) -> None:
        self._chosen = None
        self.draw()

    # ------------------------------------------------------------------ the ring
    def draw(self, *_args) -> None:
        """Draw the ring round the focused control (in the canvas of what it is on, so screenshots show it)."""
        owner = self._ring_owner() if self._ring_owner is not None else None
        if owner is not None:
            owner.canvas.after.remove(self._ring)
            self._ring_owner = None
        bound = self._bound() if self._bound is not None else None
        if bound is not None:
            bound.unbind(pos=self.draw, size=self.draw)
            self._bound = None
        w = self.focused
        if w is None:
            return
        from screens.widgets import theme

        px = self.app.px
        x, y = w.to_window(w.x, w.y)
        gap, width = px(10), px(6)
        self._ring.clear()
        self._ring.add(Color(*theme.paper))
        self._ring.add(Line(rectangle=(x - gap - width, y - gap - width, w.width + 2 * (gap + width),
                                       w.height + 2 * (gap + width)), width=px(3)))
        self._ring.add(Color(*theme.focus))
        self._ring.add(Line(rectangle=(x - gap, y - gap, w.width + 2 * gap, w.height + 2 * gap), width=width))
        root = self._root()
        owner = self.app.manager if root is self.app.manager.current_screen else root
        if owner is None:
            return
        owner.canvas.after.add(self._ring)
        self._ring_owner = weakref.ref(owner)
        w.bind(pos=self.draw, size=self.draw)
        self._bound = weakref.ref(w)
