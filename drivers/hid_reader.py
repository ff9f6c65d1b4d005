"""USB 2D scanners in keyboard-wedge (HID) mode, via evdev.

The scanner types each code as key presses and ends it with Enter. We grab the input device so those key
presses never reach the kiosk's text fields (a scan while the form is open must not type into it), and
translate them ourselves with the US layout, which is what scanners emit by default.

Keyboard mode only carries ASCII. Vietnamese text (the ID card's name and address) arrives intact only
if the scanner is set to its "Unicode Alt-code" output (Alt held, the code point typed in decimal on the
keypad), which `KeyTranslator` understands; otherwise configure the scanner for USB CDC and use
`SerialReader`. Scanners set to send no suffix are handled by ending a code after a short idle gap.
"""
from __future__ import annotations

import os
import time
from typing import Any
from collections.abc import Callable

from drivers.base import DeviceGone, DeviceStatus, Health
from drivers.evdev_input import GrabbedInput, ecodes
from drivers.serial_reader import MAX_CODE_BYTES, ThreadedCodeReader

_US_LAYOUT = {
    # key name: (plain, shifted)
    **{f"KEY_{c}": (c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"KEY_{d}": (d, s) for d, s in zip("1234567890", "!@#$%^&*()", strict=True)},
    "KEY_MINUS": ("-", "_"), "KEY_EQUAL": ("=", "+"), "KEY_LEFTBRACE": ("[", "{"), "KEY_RIGHTBRACE": ("]", "}"),
    "KEY_SEMICOLON": (";", ":"), "KEY_APOSTROPHE": ("'", '"'), "KEY_GRAVE": ("`", "~"),
    "KEY_BACKSLASH": ("\\", "|"), "KEY_COMMA": (",", "<"), "KEY_DOT": (".", ">"), "KEY_SLASH": ("/", "?"),
    "KEY_SPACE": (" ", " "), "KEY_TAB": ("\t", "\t"),
    "KEY_KPMINUS": ("-", "-"), "KEY_KPPLUS": ("+", "+"), "KEY_KPASTERISK": ("*", "*"),
    "KEY_KPSLASH": ("/", "/"), "KEY_KPDOT": (".", "."),
}
_KEYPAD_DIGITS = {f"KEY_KP{d}": d for d in "0123456789"}


class KeyTranslator:
    """Key events (US layout) -> completed codes. Pure logic, no device: fed (code, value) pairs where
    value is 1 for press, 0 for release, 2 for auto-repeat (ignored: scanners do not repeat keys)."""

    def __init__(self, max_chars: int = MAX_CODE_BYTES) -> None:
        assert ecodes is not None, "evdev is required"
        self.max_chars = max_chars
        self._chars = {ecodes.ecodes[name]: pair for name, pair in _US_LAYOUT.items()}
        self._keypad = {ecodes.ecodes[name]: digit for name, digit in _KEYPAD_DIGITS.items()}
        self._shift_keys = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
        self._alt_keys = {ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT}
        self._enter_keys = {ecodes.KEY_ENTER, ecodes.KEY_KPENTER}
        self._buffer: list[str] = []
        self._held_shift: set[int] = set()
        self._held_alt: set[int] = set()
        self._caps = False
        self._alt_digits = ""
        self._overflow = False

    def feed(self, code: int, value: int) -> str | None:
        """One key event; returns a code when this event completed one (Enter), else None."""
        if value == 2:
            return None
        if code in self._shift_keys:
            (self._held_shift.add if value else self._held_shift.discard)(code)
            return None
        if code in self._alt_keys:
            (self._held_alt.add if value else self._held_alt.discard)(code)
            if not value and not self._held_alt:
                self._end_alt_code()
            return None
        if value != 1:
            return None
        if code == ecodes.KEY_CAPSLOCK:
            self._caps = not self._caps
        elif code in self._enter_keys:
            return self.flush()
        elif self._held_alt and code in self._keypad:
            self._alt_digits = (self._alt_digits + self._keypad[code])[-7:]
        elif code in self._keypad:
            self._append(self._keypad[code])
        elif code in self._chars:
            plain, shifted = self._chars[code]
            upper = bool(self._held_shift) != (self._caps and plain.isalpha())
            self._append(shifted if upper else plain)
        return None

    def flush(self) -> str | None:
        """End the current code (Enter, or an idle gap); None when there is nothing (or it overflowed)."""
        text, overflow = "".join(self._buffer), self._overflow
        self._buffer, self._overflow, self._alt_digits = [], False, ""
        return text if text and not overflow else None

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

    def _append(self, char: str) -> None:
        if len(self._buffer) >= self.max_chars:
            self._overflow = True  # a runaway "code": drop it whole at the next Enter
            return
        self._buffer.append(char)

    def _end_alt_code(self) -> None:
        digits, self._alt_digits = self._alt_digits, ""
        if not digits:
            return
        point = int(digits)
        if 0 < point <= 0x10FFFF and not 0xD800 <= point <= 0xDFFF:
            self._append(chr(point))


class HidReader(ThreadedCodeReader):
    """A keyboard-wedge scanner at `device_path` (prefer /dev/input/by-id/...-event-kbd: stable across
    reboots). `open_device` is for tests: it builds the evdev device object from the path."""

    driver = "hid"

    def __init__(self, device_path: str, *, idle_end_s: float = 0.3,
                 open_device: Callable[[str], Any] | None = None) -> None:
        super().__init__(device_path)
        self.idle_end_s = idle_end_s
        self._input = GrabbedInput(device_path, what="input device", open_device=open_device)

    def _open(self) -> None:
        self._input.open()  # grabbed: scans never type into the kiosk's text fields

    def _watch(self) -> None:
        translator, last_key = KeyTranslator(), time.monotonic()

        def end_after_a_gap() -> None:  # scanners set to send no suffix
            if translator.pending and time.monotonic() - last_key > self.idle_end_s:
                self._deliver_if_any(translator.flush())

        for code, value in self._input.key_events(self._stopping, on_idle=end_after_a_gap):
            last_key = time.monotonic()
            self._deliver_if_any(translator.feed(code, value))

    def _deliver_if_any(self, text: str | None) -> None:
        if text:
            self._deliver(text)

    def _close(self) -> None:
        self._input.close()

    def _idle_status(self) -> DeviceStatus:
        if not os.path.exists(self.device):
            return DeviceStatus(Health.FAILED, f"no input device at {self.device}", DeviceGone.kind)
        return super()._idle_status()
