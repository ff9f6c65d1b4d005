"""Pilot: drives the running kiosk like a person — finds a button by the words on it, taps it with a real touch
event through Kivy's input path, waits for the screen to change, and takes screenshots.

The Kivy app owns the main thread; the pilot runs its script on another thread and hands every look or
touch to the UI thread through the clock, waiting for it to be done. Each hand-over is one pass of the UI loop (the
screen is drawn between two), so the pilot waits for frames and conditions, never for a fixed time — except where
Kivy itself keeps one (a ScrollView hands a tap on to its content 0.2 s after the finger lifts).
"""
from __future__ import annotations

import threading
import time
import unicodedata
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from screens.widgets import source_text


class PilotError(AssertionError):
    """The person could not do what the script asked (no such button, the screen never changed...)."""


def _walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from _walk(child)


def _visible(w: Widget) -> bool:
    node: Any = w
    while node is not None and node is not node.parent:
        if getattr(node, "opacity", 1) <= 0.01 or getattr(node, "disabled", False):
            return False
        node = node.parent
        if node is Window:
            break
    if w.width < 2 or w.height < 2:
        return False
    x, y = w.to_window(*w.center)
    return 0 <= x <= Window.width and 0 <= y <= Window.height


def _scrollview_of(w: Widget):
    from kivy.uix.scrollview import ScrollView

    node = w.parent
    while node is not None and node is not node.parent:
        if isinstance(node, ScrollView):
            return node
        node = node.parent
    return None


def _frame_scroll_of(w: Widget):
    """The frame body's scroller (screens.widgets.FrameScroll) the widget is in, when it scrolls."""
    from screens.widgets import FrameScroll

    node = w.parent
    while node is not None and node is not node.parent:
        if isinstance(node, FrameScroll):
            return node if node.do_scroll_y else None
        node = node.parent
    return None


def _inside(w: Widget, box: Widget) -> bool:
    x, y = w.to_window(*w.center)
    bx, by = box.to_window(box.x, box.y)
    return bx <= x <= bx + box.width and by <= y <= by + box.height


def _in_scrollview(w: Widget) -> bool:
    return _scrollview_of(w) is not None


def _plain(text: str) -> str:
    """Button text without markup, for matching."""
    from screens.widgets import plain_text

    return plain_text(text)


class Pilot:
    def __init__(self, app, *, step_delay: float = 0.0, tap_every_key: bool = False) -> None:
        """`tap_every_key`: every text typed is typed tap by tap. By default only the first text with Vietnamese
        marks is (so every session taps letters, the space bar, mark and tone keys); later texts go through the
        keyboard's own keys without a tap each (`enter_text`): a tap costs a few frames, a whole form of them
        tens of seconds. `keys_tapped` counts the taps on keys, for the record."""
        self.app = app
        self.step_delay = step_delay  # a pause after each tap, for people watching a demo; 0 in tests
        self.tap_every_key = tap_every_key
        self.keys_tapped = 0
        self._typed_marks_by_tap = False

    # ------------------------------------------------------------------------------------------ plumbing
    def call(self, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Run `fn` on the UI thread and return its result. A frozen UI fails after `timeout`: 30 s, since a
        loaded machine (four test workers on two cores, llvmpipe on one thread) once took over 10 s to come round."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def run(_dt):
            try:
                box["result"] = fn()
            except BaseException as e:  # noqa: BLE001 - re-raised on the pilot's thread
                box["error"] = e
            done.set()

        Clock.schedule_once(run, 0)
        if not done.wait(timeout):
            raise PilotError(f"the UI did not answer within {timeout} s (frozen?)")
        if "error" in box:
            raise box["error"]
        return box["result"]

    def frames(self, n: int = 2) -> None:
        """Let the UI go round its loop `n` times (each is a frame: layouts settle, bindings fire, it draws)."""
        for _ in range(n):
            self.call(lambda: None)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        """Look once a frame until `predicate()` holds (it runs on the pilot's thread, and may call())."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.call(lambda: None)  # one UI frame between looks
            if predicate():
                self.frames(2)  # what the change triggers (layout, the next screen's bindings) is done
                return
            time.sleep(0.01)  # leave the CPU to the workers the UI is waiting for
        raise PilotError(f"timed out after {timeout} s waiting for {what or predicate}; state is {self.state}")

    @property
    def session(self):
        return self.app.session

    @property
    def state(self) -> str:
        return self.session.state.value

    def wait_state(self, state: str, timeout: float = 15.0) -> None:
        self.wait_until(lambda: self.session.state.value == state and not self.app._render_pending,
                        timeout, f"screen {state!r}")

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until the session is not busy (no spinner shown)."""
        self.wait_until(lambda: not self.session.data.busy and not self.session.data.scanning, timeout,
                        "work to finish")

    # ------------------------------------------------------------------------------------------ looking
    def _roots(self) -> list[Widget]:
        modals = [w for w in Window.children if w is not self.app.root]
        return modals or [self.app.manager.current_screen]

    def _buttons_now(self) -> list[tuple[str, Widget]]:
        return [(_plain(source_text(w)), w) for root in self._roots() for w in _walk(root)
                if isinstance(w, Button) and _visible(w)]

    def buttons(self) -> list[tuple[str, Widget]]:
        return self.call(self._buttons_now)

    def shown_buttons(self) -> list[str]:
        """The visible buttons' words as the citizen reads them (in the displayed language, markup dropped)."""
        return self.call(lambda: [_plain(w.text) for _label, w in self._buttons_now()])

    def _find_now(self, text: str, contains: bool = False) -> Widget:
        want = unicodedata.normalize("NFC", text)
        buttons = self._buttons_now()
        found = [w for label, w in buttons if (want in label if contains else label == want)]
        if not found:
            labels = sorted({label for label, _ in buttons})
            raise PilotError(f"no visible button {text!r} on screen {self.session.state.value!r}; buttons: {labels}")
        return found[0]

    def find(self, text: str, *, contains: bool = False) -> Widget:
        return self.call(lambda: self._find_now(text, contains))

    def has_button(self, text: str, *, contains: bool = False) -> bool:
        try:
            self.find(text, contains=contains)
            return True
        except PilotError:
            return False

    # ------------------------------------------------------------------------------------------ doing
    def tap(self, text: str | None = None, *, widget: Widget | None = None, contains: bool = False) -> None:
        """Find (or take) the button, bring it into view if a list hides it, and press it with a finger."""
        from screens.finger import Finger

        def locate() -> Widget:
            if widget is not None:
                return widget
            if text is None:
                raise ValueError("tap() needs the button's text or the widget")
            return self._find_now(text, contains)

        def press(scrolled: bool = False):
            target = locate()
            if not scrolled and self._needs_scroll(target):
                self._scroll_now(target)
                return None
            body = _frame_scroll_of(target)
            if not scrolled and body is not None and not _inside(target, body):
                body.scroll_to_widget(target)  # a body too long for the screen (large text): swipe it into sight
                return None
            x, y = target.to_window(*target.center)
            touch = Finger(x, y)
            touch.touch_down()
            return touch, _in_scrollview(target)

        pressed = self.call(press)
        if pressed is None:  # the list moved: let it lay out, then press where the button now is
            self.frames(2)
            pressed = self.call(lambda: press(scrolled=True))
        touch, in_list = pressed
        self.call(touch.touch_up)  # the finger lifts on the next frame
        if in_list:
            # a ScrollView hands a tap on to its content 0.2 s after the finger lifts (Kivy's own constant), and the
            # button lets go of the touch then: wait for both
            time.sleep(0.2)
            self.wait_until(lambda: self.call(lambda: not touch.grab_list), 2, "the list to pass the tap on")
        self.frames(1)
        if self.step_delay:
            time.sleep(self.step_delay)

    @staticmethod
    def _needs_scroll(target: Widget) -> bool:
        sv = _scrollview_of(target)
        if sv is None:
            return False
        x, y = target.to_window(*target.center)
        sx, sy = sv.to_window(sv.x, sv.y)
        return not (sx <= x <= sx + sv.width and sy <= y <= sy + sv.height)

    @staticmethod
    def _scroll_now(target: Widget) -> None:
        """Like a person swiping the list until the thing to tap is in sight."""
        _scrollview_of(target).scroll_to(target, padding=20, animate=False)

    def type_text(self, text: str) -> None:
        """Type on the on-screen keyboard the way a citizen who does not know Telex would: the plain letters
        of each word, then the mark keys ("â ê ô", "ă ơ ư", "đ") and the tone key ("á à ả ã ạ"). Tap by tap
        for the first text with marks (or every text, with `tap_every_key`); otherwise see `enter_text`."""
        marked = has_marks(text)
        if not (self.tap_every_key or (marked and not self._typed_marks_by_tap)):
            self.enter_text(text)
            return
        for label in keys_for_text(text):
            self.tap(label)
            self.keys_tapped += 1
        self._typed_marks_by_tap = self._typed_marks_by_tap or marked

    def enter_text(self, text: str) -> None:
        """Put `text` in the field the on-screen keyboard is attached to, through the keyboard's own keys (the same
        `press` a tap on a key calls: composing, capitals, the field's update) but without touching each one — for
        the fields after the first, when what is tested is the rest of the flow rather than typing."""

        def press_all() -> str:
            from screens.keyboard import LAYOUTS, VietKeyboard

            boards = [w for root in self._roots() for w in _walk(root) if isinstance(w, VietKeyboard) and _visible(w)]
            if not boards:
                raise PilotError(f"no on-screen keyboard open on screen {self.state!r}")
            board = boards[0]
            keys = {label: key for row in LAYOUTS[board.mode] for label, key, _width in row}
            for label in keys_for_text(text):
                if label not in keys:
                    raise PilotError(f"no key {label!r} on the {board.mode} keyboard")
                board.press(keys[label])
            return board.text

        self.call(press_all)
        self.frames(1)

    def screenshot(self, path: Path) -> Path:
        """The screen as a citizen sees it, as a PNG. Without a popup the screen is rendered through an FBO on the
        UI thread and encoded here, on the pilot's thread (the UI goes on meanwhile); with one (countdown, technician
        panel) the app reads the window's back buffer (KioskApp.screenshot). A blank capture is taken again."""
        for _ in range(3):
            self.frames(2)
            grabbed = self.call(self._grab_now)
            if grabbed is None:
                self.call(lambda: self.app.screenshot(path))
                if not is_blank(path):
                    return path
                continue
            from PIL import Image

            size, pixels = grabbed
            image = Image.frombytes("RGBA", size, pixels)  # the FBO is drawn top-down: no flip
            if not _blank_image(image):
                path.parent.mkdir(parents=True, exist_ok=True)
                image.save(path, compress_level=1)
                return path
        raise PilotError(f"screenshot {path.name} came out blank")

    def _grab_now(self) -> tuple[tuple[int, int], bytes] | None:
        if len(Window.children) > 1:  # a popup is open: it is not part of the screen manager's canvas
            return None
        texture = self.app.manager.export_as_image().texture
        return tuple(texture.size), bytes(texture.pixels)


# ---------------------------------------------------------------------------------------------- helpers
_TONE_BUTTON = {"\u0301": "á", "\u0300": "à", "\u0309": "ả", "\u0303": "ã", "\u0323": "ạ"}
_HAT, _HORN_OR_BREVE = "\u0302", ("\u031b", "\u0306")
_MARK_KEYS = {*_TONE_BUTTON.values(), "â ê ô", "ă ơ ư", "đ"}


def has_marks(text: str) -> bool:
    """Whether typing `text` needs a mark or tone key (đ, â, ơ, á, ...)."""
    return any(label in _MARK_KEYS for label in keys_for_text(text))


def keys_for_text(text: str) -> list[str]:
    """The key labels for a whole text: each word's keys, with the space bar between words."""
    labels: list[str] = []
    for i, word in enumerate(text.split(" ")):
        if i:
            labels.append("Dấu cách")
        labels += keys_for_word(word)
    return labels


def keys_for_word(word: str) -> list[str]:
    """The on-screen keys (their labels) that produce `word`: base letters, then marks, then the tone."""
    keys: list[str] = []
    hat = horn = False
    tone = ""
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONE_BUTTON:
            tone = _TONE_BUTTON[ch]
        elif ch == _HAT:
            hat = True
        elif ch in _HORN_OR_BREVE:
            horn = True
        elif ch in "đĐ":
            keys += ["D", "đ"]
        elif ch.isalpha():
            keys.append(ch.upper())
        else:
            keys.append(ch)
    if hat:
        keys.append("â ê ô")
    if horn:
        keys.append("ă ơ ư")
    if tone:
        keys.append(tone)
    return keys


def is_blank(path: Path) -> bool:
    """A screenshot with (almost) one colour is a failed capture, not a screen."""
    from PIL import Image

    with Image.open(path) as img:
        return _blank_image(img)


def _blank_image(img) -> bool:
    from PIL import ImageStat

    return ImageStat.Stat(img.convert("L")).stddev[0] < 2.0
