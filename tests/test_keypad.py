"""The tactile keypad: key translation on synthetic evdev events, the evdev keypad driven through a stand-in
input device (no /dev/uinput on CI, as in test_readers.py), the config override, and the fake."""
from __future__ import annotations

import errno
import os
import threading
import time

import pytest
from evdev import InputEvent, ecodes

from drivers.base import DeviceBusy, DeviceGone, Health
from drivers.fakes.keypad import FakeKeypad
from drivers.keypad import (
    DEFAULT_KEYMAP, DIGITS, EvdevKeypad, Keypad, KeyActionTranslator, KeypadAction, build_keymap,
)

A = KeypadAction


def _press(name: str) -> list[tuple[int, int]]:
    code = ecodes.ecodes[name]
    return [(code, 1), (code, 0)]


def _translate(events, keymap=None) -> list[KeypadAction]:
    translator = KeyActionTranslator(keymap)
    return [e.action for e in (translator.feed(c, v) for c, v in events) if e is not None]


# --------------------------------------------------------------------------------------------- translation
def test_digits_from_every_kind_of_keypad():
    for prefix in ("KEY_", "KEY_KP", "KEY_NUMERIC_"):
        events = [ev for d in "0123456789" for ev in _press(f"{prefix}{d}")]
        assert _translate(events) == list(DIGITS), prefix
    assert A.DIGIT_5.digit == "5" and A.SELECT.digit is None


def test_navigation_and_function_keys():
    names = ["KEY_UP", "KEY_DOWN", "KEY_LEFT", "KEY_RIGHT", "KEY_ENTER", "KEY_KPENTER", "KEY_BACKSPACE",
             "KEY_ESC", "KEY_DELETE", "KEY_HELP", "KEY_F1", "KEY_F2", "KEY_VOLUMEUP", "KEY_VOLUMEDOWN",
             "KEY_MUTE", "KEY_F4", "KEY_KPASTERISK", "KEY_NUMERIC_POUND"]
    assert _translate([ev for n in names for ev in _press(n)]) == [
        A.PREVIOUS, A.NEXT, A.PREVIOUS, A.NEXT, A.SELECT, A.SELECT, A.BACK, A.CANCEL, A.CLEAR, A.HELP, A.HELP,
        A.REPEAT, A.VOLUME_UP, A.VOLUME_DOWN, A.SPEECH_TOGGLE, A.MORE_TIME, A.STAR, A.HASH]


def test_shifted_star_and_hash_from_keyboard_style_pads():
    shift = ecodes.KEY_LEFTSHIFT
    events = [(shift, 1), *_press("KEY_3"), *_press("KEY_8"), (shift, 0), *_press("KEY_3")]
    assert _translate(events) == [A.HASH, A.STAR, A.DIGIT_3]


def test_held_keys_repeat_only_where_it_is_safe():
    vol, five = ecodes.KEY_VOLUMEUP, ecodes.KEY_KP5
    events = [(vol, 1), (vol, 2), (vol, 2), (vol, 0), (five, 1), (five, 2), (five, 2), (five, 0)]
    translator = KeyActionTranslator()
    out = [e for e in (translator.feed(c, v) for c, v in events) if e is not None]
    assert [(e.action, e.repeat) for e in out] == [
        (A.VOLUME_UP, False), (A.VOLUME_UP, True), (A.VOLUME_UP, True), (A.DIGIT_5, False)]
    assert out[0].key == "KEY_VOLUMEUP"


def test_unmapped_keys_and_releases_are_ignored():
    assert _translate(_press("KEY_Q") + [(ecodes.KEY_ENTER, 0)]) == []


def test_config_overrides_one_mapping():
    keymap = {"KEY_KPDOT": "back", "KEY_F5": "SPEECH_TOGGLE", "KEY_TAB": "NONE"}
    assert _translate(_press("KEY_KPDOT") + _press("KEY_F5") + _press("KEY_TAB"), keymap) == [
        A.BACK, A.SPEECH_TOGGLE]
    assert _translate(_press("KEY_KPDOT")) == [A.CLEAR]  # the default is untouched
    assert "KEY_TAB" in DEFAULT_KEYMAP and "KEY_TAB" not in build_keymap(keymap)
    with pytest.raises(ValueError, match="unknown keypad action"):
        build_keymap({"KEY_F5": "LAUNCH_MISSILES"})
    with pytest.raises(ValueError, match="unknown key name"):
        build_keymap({"KEY_NOPE": "HELP"})
    with pytest.raises(ValueError):
        EvdevKeypad("/dev/input/kp", keymap={"KEY_F5": "LAUNCH_MISSILES"})


# --------------------------------------------------------------------------------------------- evdev keypad
class _StandInInputDevice:
    """Quacks like evdev.InputDevice: a pipe makes select() see readiness; events are synthetic. The pipe is
    drained and filled under the same lock as the event list, so no wake-up is lost between the two."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self.fd = self._r
        self.events: list[InputEvent] = []
        self.grabbed = self.closed = self.unplugged = False
        self.lock = threading.Lock()

    def type_keys(self, keys) -> None:
        with self.lock:
            self.events += [InputEvent(0, 0, ecodes.EV_KEY, c, v) for c, v in keys]
            self.events.append(InputEvent(0, 0, ecodes.EV_SYN, 0, 0))
            os.write(self._w, b"x")

    def unplug(self) -> None:
        self.unplugged = True
        os.write(self._w, b"x")

    def read_one(self):
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        with self.lock:
            if self.events:
                return self.events.pop(0)
            try:
                os.read(self._r, 4096)
            except BlockingIOError:
                pass
        return None

    def grab(self) -> None:
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def close(self) -> None:
        self.closed = True
        os.close(self._r)
        os.close(self._w)


def _keypad(**kwargs) -> tuple[EvdevKeypad, list[_StandInInputDevice]]:
    devices: list[_StandInInputDevice] = []
    keypad = EvdevKeypad("/dev/input/by-id/usb-keypad-event-kbd",
                         open_device=lambda p: devices.append(_StandInInputDevice(p)) or devices[-1], **kwargs)
    return keypad, devices


def test_evdev_keypad_grabs_and_delivers_actions_to_reads_and_callbacks():
    keypad, devices = _keypad()
    assert isinstance(keypad, Keypad)
    heard: list[KeypadAction] = []
    unsubscribe = keypad.on_action(lambda e: heard.append(e.action))
    keypad.start()
    dev = devices[0]
    assert dev.grabbed  # keypad keys never reach Kivy as typing
    dev.type_keys(_press("KEY_KP1") + _press("KEY_KP2") + _press("KEY_KPENTER"))
    first = keypad.read(2)
    assert first is not None and first.action is A.DIGIT_1 and first.key == "KEY_KP1"
    deadline = time.monotonic() + 2
    rest = []
    while len(rest) < 2 and time.monotonic() < deadline:
        rest += keypad.events(0.5)
    assert [e.action for e in rest] == [A.DIGIT_2, A.SELECT]
    assert heard == [A.DIGIT_1, A.DIGIT_2, A.SELECT]
    unsubscribe()
    dev.type_keys(_press("KEY_HELP"))
    assert keypad.read(2).action is A.HELP and heard == [A.DIGIT_1, A.DIGIT_2, A.SELECT]
    assert keypad.read(0.05) is None and keypad.events(0.05) == []
    assert keypad.status().health is Health.OK
    keypad.stop()
    assert dev.closed and not dev.grabbed
    keypad.stop()  # idempotent


def test_evdev_keypad_uses_the_configured_map():
    keypad, devices = _keypad(keymap={"KEY_KPDOT": "REPEAT"})
    keypad.start()
    devices[0].type_keys(_press("KEY_KPDOT"))
    assert keypad.read(2).action is A.REPEAT
    keypad.stop()


def test_a_callback_that_raises_does_not_stop_the_keypad():
    keypad, devices = _keypad()
    keypad.on_action(lambda e: 1 / 0)
    keypad.start()
    devices[0].type_keys(_press("KEY_KP7") + _press("KEY_KP8"))
    assert [keypad.read(2).action, keypad.read(2).action] == [A.DIGIT_7, A.DIGIT_8]
    keypad.stop()


def test_stopping_releases_a_waiting_read():
    keypad, _ = _keypad()
    keypad.start()
    threading.Timer(0.1, keypad.stop).start()
    started = time.monotonic()
    assert keypad.read(5) is None
    assert time.monotonic() - started < 1.0


def test_evdev_keypad_unplugged():
    keypad, devices = _keypad()
    keypad.start()
    devices[0].unplug()
    with pytest.raises(DeviceGone):
        keypad.read(2)
    assert keypad.status().error_kind == "device_gone"
    keypad.stop()


def test_evdev_keypad_grabbed_elsewhere_or_missing():
    class Grabbed(_StandInInputDevice):
        def grab(self) -> None:
            raise OSError(errno.EBUSY, "Device or resource busy")

    with pytest.raises(DeviceBusy):
        EvdevKeypad("kp", open_device=Grabbed).start()
    missing = EvdevKeypad("/dev/input/by-id/no-such-keypad")
    assert missing.status().health is Health.FAILED
    with pytest.raises(DeviceGone):
        missing.start()


# --------------------------------------------------------------------------------------------- fake
def test_fake_keypad_injects_actions():
    keypad = FakeKeypad()
    heard = []
    keypad.on_action(lambda e: heard.append(e.action))
    keypad.press("5").join()  # not started: a real pad's keys would go nowhere either
    assert keypad.read(0.05) is None
    keypad.start()
    keypad.press(A.NEXT, "SELECT", "*", "#").join()
    keypad.type_digits("042").join()
    got = keypad.events(1)
    assert [e.action for e in got] == [A.NEXT, A.SELECT, A.STAR, A.HASH, A.DIGIT_0, A.DIGIT_4, A.DIGIT_2]
    assert heard == [e.action for e in got]
    started = time.monotonic()
    keypad.press("1", "2", gap=0.1)
    assert keypad.read(1).action is A.DIGIT_1 and keypad.read(1).action is A.DIGIT_2
    assert time.monotonic() - started >= 0.09
    with pytest.raises(ValueError):
        keypad.press("LAUNCH")


def test_fake_keypad_unplugged_wakes_a_waiting_read():
    keypad = FakeKeypad()
    keypad.start()
    threading.Timer(0.1, keypad.set_fault, args=("gone",)).start()
    started = time.monotonic()
    with pytest.raises(DeviceGone):
        keypad.read(5)
    assert time.monotonic() - started < 1.0
    assert keypad.status().health is Health.FAILED
    with pytest.raises(DeviceGone):
        keypad.start()
    keypad.set_fault(None)
    keypad.start()
    assert keypad.status().health is Health.OK and keypad.read(0.05) is None
    keypad.press("9").join()
    assert keypad.read(1).action is A.DIGIT_9
    with pytest.raises(ValueError):
        FakeKeypad(fault="on-fire")


def test_speech_and_keypad_drivers_import_nothing_of_the_kiosk():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for rel in ("drivers/speech.py", "drivers/espeak_speech.py", "drivers/keypad.py", "drivers/fakes/speech.py",
                "drivers/fakes/keypad.py"):
        tree = ast.parse((root / rel).read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [n for n in names if n.split(".")[0] in ("kiosk", "screens")], rel
