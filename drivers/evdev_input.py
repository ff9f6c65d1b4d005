"""An evdev input device held exclusively: what the HID code reader (drivers/hid_reader.py) and the tactile
keypad (drivers/keypad.py) share. Opening grabs the device, so its key presses never reach Kivy as keyboard
input (a scan must not type into a form; a keypad key must not reach a text field); `key_events` yields each
key event (code, value) until told to stop; `close` ungrabs and closes.

    dev = GrabbedInput("/dev/input/by-id/...-event-kbd", what="keypad")
    dev.open()                                   # DeviceBusy (grabbed by another program) / DeviceGone
    for code, value in dev.key_events(stopping, on_idle=...):   # OSError (ENODEV) once unplugged
        ...
    dev.close()
"""
from __future__ import annotations

import errno
import select
import threading
from typing import Any
from collections.abc import Callable, Iterator

from drivers.base import DeviceBusy, DeviceGone

try:
    from evdev import InputDevice, ecodes
except ImportError:  # non-Linux development machines: the device reports itself gone
    InputDevice, ecodes = None, None  # type: ignore[assignment,misc]

#: How long one wait for input lasts (the stop flag and `on_idle` are looked at in between).
POLL_SECONDS = 0.05


class GrabbedInput:
    """The input device at `path`, opened with `open_device` (default evdev.InputDevice; tests give a stand-in
    with the same methods: grab, ungrab, close, fd, read_one). `what` names it in errors ("keypad")."""

    def __init__(self, path: str, *, what: str = "input device",
                 open_device: Callable[[str], Any] | None = None) -> None:
        self.path, self.what = path, what
        self._open_device = open_device or InputDevice
        self._dev: Any = None

    @property
    def is_open(self) -> bool:
        return self._dev is not None

    def open(self) -> None:
        if self._open_device is None or ecodes is None:
            raise DeviceGone("evdev is not available on this system", device=self.path)
        try:
            self._dev = self._open_device(self.path)
            self._dev.grab()  # exclusive: its keys never reach the kiosk's text fields
        except OSError as e:
            self.close()
            if e.errno == errno.EBUSY:  # another program grabbed it (a stray kiosk instance, a desktop)
                raise DeviceBusy(f"{self.what} is grabbed by another program", device=self.path) from e
            raise DeviceGone(f"cannot open/grab {self.what}: {type(e).__name__}", device=self.path) from e

    def key_events(self, stopping: threading.Event, *,
                   on_idle: Callable[[], None] | None = None) -> Iterator[tuple[int, int]]:
        """(key code, value) of every EV_KEY event (value 1 press, 0 release, 2 auto-repeat) until `stopping`
        is set; `on_idle()` after each quiet poll. Raises OSError (ENODEV) when the device is unplugged."""
        dev = self._dev
        assert dev is not None, "open() first"
        while not stopping.is_set():
            ready, _, _ = select.select([dev.fd], [], [], POLL_SECONDS)
            if not ready:
                if on_idle is not None:
                    on_idle()
                continue
            event = dev.read_one()
            while event is not None:
                if event.type == ecodes.EV_KEY:
                    yield event.code, event.value
                event = dev.read_one()

    def close(self) -> None:
        dev, self._dev = self._dev, None
        if dev is None:
            return
        try:
            dev.ungrab()
        except OSError:
            pass
        dev.close()
