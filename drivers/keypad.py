"""The tactile keypad: a USB 12-key (ATM style: 0-9, * and #) or navigation keypad, read through evdev.

Every key becomes an abstract `KeypadAction`; screens never see key codes. The keypad is grabbed (its keys
never reach Kivy as keyboard input) and read on a background thread like the HID code reader
(drivers/hid_reader.py; both open it through drivers/evdev_input.py).
Actions come out through `read(timeout)` / `events(timeout)` or through callbacks
registered with `on_action()`; callbacks run on the reader thread, so the UI hops to its own thread
(Kivy: `Clock.schedule_once`).

Default key map (`DEFAULT_KEYMAP`; one mapping of key name -> action name overrides it, from config
`[keypad] keymap = { KEY_F5 = "HELP", KEY_KPDOT = "NONE" }`; "NONE" unmaps a key):

| keys | action |
|---|---|
| KEY_0..9, KEY_KP0..9, KEY_NUMERIC_0..9 | DIGIT_0..DIGIT_9 |
| KEY_KPASTERISK, KEY_NUMERIC_STAR, Shift+8 | STAR |
| KEY_NUMERIC_POUND, Shift+3 | HASH |
| KEY_ENTER, KEY_KPENTER, KEY_SELECT, KEY_OK | SELECT (Enter, the green key) |
| KEY_UP, KEY_LEFT, KEY_PAGEUP | PREVIOUS |
| KEY_DOWN, KEY_RIGHT, KEY_PAGEDOWN, KEY_TAB | NEXT |
| KEY_BACKSPACE, KEY_BACK | BACK |
| KEY_ESC, KEY_CANCEL | CANCEL (the red key) |
| KEY_DELETE, KEY_KPDOT, KEY_CLEAR | CLEAR (the yellow key: erase the entry) |
| KEY_HELP, KEY_F1 | HELP |
| KEY_F2, KEY_AGAIN | REPEAT |
| KEY_VOLUMEUP, KEY_KPPLUS | VOLUME_UP |
| KEY_VOLUMEDOWN, KEY_KPMINUS | VOLUME_DOWN |
| KEY_MUTE, KEY_F3 | SPEECH_TOGGLE |
| KEY_F4, KEY_KPSLASH | MORE_TIME (answer the inactivity warning) |

Auto-repeat (a held key) repeats only VOLUME_UP / VOLUME_DOWN / NEXT / PREVIOUS; a held digit or SELECT is one
press, so a shaky hand does not enter "5555". Releases are ignored.
"""
from __future__ import annotations

import abc
import dataclasses
import enum
import logging
import os
import queue
import threading
import time
from typing import Any, ClassVar
from collections.abc import Callable, Mapping

from drivers.base import Device, DeviceGone, DeviceStatus, Health
from drivers.evdev_input import GrabbedInput, ecodes

log = logging.getLogger(__name__)


class KeypadAction(str, enum.Enum):
    DIGIT_0 = "DIGIT_0"
    DIGIT_1 = "DIGIT_1"
    DIGIT_2 = "DIGIT_2"
    DIGIT_3 = "DIGIT_3"
    DIGIT_4 = "DIGIT_4"
    DIGIT_5 = "DIGIT_5"
    DIGIT_6 = "DIGIT_6"
    DIGIT_7 = "DIGIT_7"
    DIGIT_8 = "DIGIT_8"
    DIGIT_9 = "DIGIT_9"
    STAR = "STAR"
    HASH = "HASH"
    SELECT = "SELECT"
    NEXT = "NEXT"
    PREVIOUS = "PREVIOUS"
    BACK = "BACK"
    CANCEL = "CANCEL"
    CLEAR = "CLEAR"
    HELP = "HELP"
    REPEAT = "REPEAT"
    VOLUME_UP = "VOLUME_UP"
    VOLUME_DOWN = "VOLUME_DOWN"
    SPEECH_TOGGLE = "SPEECH_TOGGLE"
    MORE_TIME = "MORE_TIME"

    @property
    def digit(self) -> str | None:
        """"5" for DIGIT_5, None for the other actions."""
        return self.value[-1] if self.value.startswith("DIGIT_") else None


DIGITS = tuple(KeypadAction(f"DIGIT_{d}") for d in range(10))
REPEATABLE = frozenset({KeypadAction.VOLUME_UP, KeypadAction.VOLUME_DOWN, KeypadAction.NEXT, KeypadAction.PREVIOUS})

DEFAULT_KEYMAP: dict[str, str] = {
    **{f"KEY_{d}": f"DIGIT_{d}" for d in range(10)},
    **{f"KEY_KP{d}": f"DIGIT_{d}" for d in range(10)},
    **{f"KEY_NUMERIC_{d}": f"DIGIT_{d}" for d in range(10)},
    "KEY_KPASTERISK": "STAR", "KEY_NUMERIC_STAR": "STAR", "KEY_NUMERIC_POUND": "HASH",
    "KEY_ENTER": "SELECT", "KEY_KPENTER": "SELECT", "KEY_SELECT": "SELECT", "KEY_OK": "SELECT",
    "KEY_UP": "PREVIOUS", "KEY_LEFT": "PREVIOUS", "KEY_PAGEUP": "PREVIOUS",
    "KEY_DOWN": "NEXT", "KEY_RIGHT": "NEXT", "KEY_PAGEDOWN": "NEXT", "KEY_TAB": "NEXT",
    "KEY_BACKSPACE": "BACK", "KEY_BACK": "BACK",
    "KEY_ESC": "CANCEL", "KEY_CANCEL": "CANCEL",
    "KEY_DELETE": "CLEAR", "KEY_KPDOT": "CLEAR", "KEY_CLEAR": "CLEAR",
    "KEY_HELP": "HELP", "KEY_F1": "HELP",
    "KEY_F2": "REPEAT", "KEY_AGAIN": "REPEAT",
    "KEY_VOLUMEUP": "VOLUME_UP", "KEY_KPPLUS": "VOLUME_UP",
    "KEY_VOLUMEDOWN": "VOLUME_DOWN", "KEY_KPMINUS": "VOLUME_DOWN",
    "KEY_MUTE": "SPEECH_TOGGLE", "KEY_F3": "SPEECH_TOGGLE",
    "KEY_F4": "MORE_TIME", "KEY_KPSLASH": "MORE_TIME",
}
# keyboards that send "#" and "*" as Shift+3 / Shift+8 (US layout)
SHIFTED_KEYMAP: dict[str, str] = {"KEY_3": "HASH", "KEY_8": "STAR"}
UNMAPPED = ("NONE", "")


@dataclasses.dataclass(frozen=True)
class KeypadEvent:
    action: KeypadAction
    key: str = ""        # evdev key name (KEY_KP5), "" from the fake
    repeat: bool = False  # an auto-repeat of a held key
    at: float = dataclasses.field(default_factory=time.monotonic)


ActionCallback = Callable[[KeypadEvent], None]


def build_keymap(overrides: Mapping[str, str] | None = None) -> dict[str, KeypadAction]:
    """DEFAULT_KEYMAP with `overrides` applied; names are checked (a typo in config fails at start-up)."""
    merged = dict(DEFAULT_KEYMAP)
    for key, action in (overrides or {}).items():
        if ecodes is not None and key not in ecodes.ecodes:
            raise ValueError(f"unknown key name {key!r} in keypad keymap")
        if str(action).upper() in UNMAPPED:
            merged.pop(key, None)
            continue
        try:
            KeypadAction(str(action).upper())
        except ValueError:
            raise ValueError(f"unknown keypad action {action!r} for {key}; one of "
                             f"{', '.join(a.value for a in KeypadAction)}") from None
        merged[key] = str(action).upper()
    return {key: KeypadAction(action) for key, action in merged.items()}


class KeyActionTranslator:
    """evdev (code, value) pairs -> KeypadAction. Pure logic, no device. value 1 press, 2 auto-repeat, 0 release."""

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        assert ecodes is not None, "evdev is required"
        by_name = build_keymap(keymap)
        self._actions = {ecodes.ecodes[name]: (name, action) for name, action in by_name.items()
                         if name in ecodes.ecodes}
        self._shifted = {ecodes.ecodes[name]: (name, KeypadAction(action)) for name, action in SHIFTED_KEYMAP.items()}
        self._shift_keys = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
        self._held_shift: set[int] = set()

    def feed(self, code: int, value: int) -> KeypadEvent | None:
        if code in self._shift_keys:
            (self._held_shift.add if value else self._held_shift.discard)(code)
            return None
        if value not in (1, 2):
            return None
        entry = self._shifted.get(code) if self._held_shift else None
        entry = entry or self._actions.get(code)
        if entry is None:
            return None
        name, action = entry
        if value == 2 and action not in REPEATABLE:
            return None
        return KeypadEvent(action, key=name, repeat=value == 2)


# --------------------------------------------------------------------------------------------- interface
class Keypad(Device):
    kind: ClassVar[str] = "keypad"

    @abc.abstractmethod
    def start(self) -> None:
        """Open (and grab) the keypad and begin reading. Idempotent. Raises DeviceGone / DeviceBusy."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop reading and release the keypad. Idempotent; wakes a waiting read()."""

    @abc.abstractmethod
    def read(self, timeout: float) -> KeypadEvent | None:
        """The next action, None when none came in `timeout` s; DeviceGone once the keypad is lost."""

    def events(self, timeout: float) -> list[KeypadEvent]:
        """Wait up to `timeout` for the first action, then return it with every other one already queued."""
        first = self.read(timeout)
        if first is None:
            return []
        out = [first]
        while (more := self.read(0)) is not None:
            out.append(more)
        return out

    @abc.abstractmethod
    def on_action(self, callback: ActionCallback) -> Callable[[], None]:
        """Call `callback(event)` for every action (on the reader thread); returns the unsubscribe function.
        Actions delivered to callbacks are still queued for read() as well."""


_GONE = object()
_STOPPED = object()
MAX_QUEUED = 64


class QueuedKeypad(Keypad):
    """Queue + callbacks + lost-device bookkeeping shared by the evdev keypad and the fake."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._events: queue.Queue = queue.Queue()
        self._callbacks: list[ActionCallback] = []
        self._gone_detail = ""
        self._lock = threading.Lock()

    def on_action(self, callback: ActionCallback) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def _deliver(self, event: KeypadEvent) -> None:
        while self._events.qsize() >= MAX_QUEUED:  # nobody reads: drop the oldest
            try:
                self._events.get_nowait()
            except queue.Empty:
                break
        self._events.put(event)
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - a screen's bug must not stop the keypad
                log.exception("keypad callback failed")

    def _mark_gone(self, detail: str) -> None:
        log.warning("keypad %s lost: %s", self.driver, detail)
        self._gone_detail = detail or "keypad lost"
        self._events.put(_GONE)

    def read(self, timeout: float) -> KeypadEvent | None:
        if self._gone_detail and self._events.empty():
            raise DeviceGone(self._gone_detail, device=self.device)
        try:
            item = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
        except queue.Empty:
            return None
        if item is _GONE:
            self._events.put(_GONE)
            raise DeviceGone(self._gone_detail, device=self.device)
        if item is _STOPPED:
            return None
        return item

    def describe(self) -> dict:
        return {**super().describe(), "device": str(self.device)}


class EvdevKeypad(QueuedKeypad):
    """A keypad at `device_path` (prefer /dev/input/by-id/...-event-kbd). `keymap` overrides DEFAULT_KEYMAP;
    `open_device` is for tests: it builds the evdev device object from the path."""

    driver = "evdev"

    def __init__(self, device_path: str, *, keymap: Mapping[str, str] | None = None,
                 open_device: Callable[[str], Any] | None = None) -> None:
        super().__init__(device_path)
        self.keymap = dict(keymap or {})
        build_keymap(self.keymap)  # validate now
        self._input = GrabbedInput(device_path, what="keypad", open_device=open_device)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._gone_detail = ""
            self._events = queue.Queue()
            try:
                self._open()
            except DeviceGone as e:
                self._gone_detail = e.detail
                raise
            self._thread = threading.Thread(target=self._run, name="keypad-evdev", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            self._events.put(_STOPPED)
            thread.join(timeout=2.0)

    def close(self) -> None:
        self.stop()

    def _open(self) -> None:
        self._input.open()  # grabbed: keypad keys never reach the kiosk's text fields

    def _run(self) -> None:
        try:
            self._watch()
        except OSError as e:
            self._mark_gone(f"{type(e).__name__}: {e}")
        finally:
            try:
                self._close()
            except Exception:  # noqa: BLE001 - closing a vanished device may fail in any way
                log.debug("closing keypad failed", exc_info=True)

    def _watch(self) -> None:
        translator = KeyActionTranslator(self.keymap)
        for code, value in self._input.key_events(self._stopping):
            action = translator.feed(code, value)
            if action is not None:
                self._deliver(action)

    def _close(self) -> None:
        self._input.close()

    def status(self) -> DeviceStatus:
        if self._gone_detail:
            return DeviceStatus(Health.FAILED, self._gone_detail, DeviceGone.kind)
        if self._thread is not None and self._thread.is_alive():
            return DeviceStatus(Health.OK, f"keypad on {self.device}")
        if not os.path.exists(self.device):
            return DeviceStatus(Health.FAILED, f"no input device at {self.device}", DeviceGone.kind)
        return DeviceStatus(Health.OK, f"keypad on {self.device} (not started)")
