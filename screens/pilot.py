"""Pilot: drives the running kiosk like a person — finds a button by the words on it, taps it with a real touch
event through Kivy's input path, waits for the screen to change, and takes screenshots.

The Kivy app owns the main thread; the pilot runs its script on another thread and hands every look or
touch to the UI thread through the clock, waiting for it to be done.
"""
from __future__ import annotations

import threading
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterator

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.widget import Widget


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


def _in_scrollview(w: Widget) -> bool:
    return _scrollview_of(w) is not None


def _plain(text: str) -> str:
    """Button text without markup, for matching."""
    import re

    return unicodedata.normalize("NFC", re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", text)).strip()


class Pilot:
    def __init__(self, app, *, step_delay: float = 0.05) -> None:
        self.app = app
        self.step_delay = step_delay

    # ------------------------------------------------------------------------------------------ plumbing
    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run `fn` on the UI thread and return its result."""
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
        """Let the UI draw a few frames (layouts settle, bindings fire)."""
        for _ in range(n):
            self.call(lambda: None)
            time.sleep(1 / 60)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.call(lambda: None)  # one UI frame between looks (the predicate runs here, and may call())
            if predicate():
                self.frames(2)
                return
            time.sleep(0.05)
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
        self.wait_until(lambda: not self.session.data.busy and not self.session.data.scanning, timeout, "work to finish")

    # ------------------------------------------------------------------------------------------ looking
    def _roots(self) -> list[Widget]:
        modals = [w for w in Window.children if w is not self.app.root]
        return modals or [self.app.manager.current_screen]

    def _buttons_now(self) -> list[tuple[str, Widget]]:
        return [(_plain(w.text), w) for root in self._roots() for w in _walk(root)
                if isinstance(w, Button) and _visible(w)]

    def buttons(self) -> list[tuple[str, Widget]]:
        return self.call(self._buttons_now)

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
        from kivy.tests.common import UnitTestTouch

        def locate() -> Widget:
            return widget if widget is not None else self._find_now(text, contains)

        if self.call(lambda: self._needs_scroll(locate())):
            self.call(lambda: self._scroll_now(locate()))
            self.frames(3)

        def press():
            target = locate()
            x, y = target.to_window(*target.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            return touch, _in_scrollview(target)

        touch, in_list = self.call(press)
        time.sleep(0.04)  # a finger stays down a moment
        self.call(touch.touch_up)
        if in_list:
            time.sleep(0.25)  # a ScrollView hands a tap on to its content 0.2 s after the finger lifts
        self.frames(1)
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
        of each word, then the mark keys ("â ê ô", "ă ơ ư", "đ") and the tone key ("á à ả ã ạ")."""
        for i, word in enumerate(text.split(" ")):
            if i:
                self.tap("Dấu cách")
            for key in keys_for_word(word):
                self.tap(key)

    def screenshot(self, path: Path) -> Path:
        for _ in range(3):
            self.frames(3)
            self.call(lambda: self.app.screenshot(path))
            if not is_blank(path):
                return path
        raise PilotError(f"screenshot {path.name} came out blank")


# ---------------------------------------------------------------------------------------------- helpers
_TONE_BUTTON = {"\u0301": "á", "\u0300": "à", "\u0309": "ả", "\u0303": "ã", "\u0323": "ạ"}
_HAT, _HORN_OR_BREVE = "\u0302", ("\u031b", "\u0306")


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
    from PIL import Image, ImageStat

    with Image.open(path) as img:
        stat = ImageStat.Stat(img.convert("L"))
    return stat.stddev[0] < 2.0
