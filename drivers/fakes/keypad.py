"""A keypad for the demo, `kiosk simulate` and tests: actions are injected with `press()` and come out of
`read()` / `events()` / the callbacks exactly as from the evdev keypad (callbacks on a thread of the fake's
own, like the real reader thread).

Faults: "gone" (unplugged: the next read raises DeviceGone, status FAILED); `set_fault("gone")` while a
read waits wakes it.
"""
from __future__ import annotations

import queue
import threading
import time

from drivers.base import DeviceGone, DeviceStatus, Health
from drivers.keypad import KeypadAction, KeypadEvent, QueuedKeypad

FAULTS = (None, "gone")


class FakeKeypad(QueuedKeypad):
    driver = "fake"

    def __init__(self, *, fault: str | None = None) -> None:
        super().__init__("fake")
        self._started = False
        self._fault: str | None = None
        self.set_fault(fault)

    def set_fault(self, fault: str | None) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        self._fault = fault
        if fault == "gone" and not self._gone_detail:
            self._mark_gone("keypad unplugged (fake)")
        elif fault is None and self._gone_detail:  # plugged back in: a fresh queue, like reopening the device
            self._gone_detail = ""
            self._events = queue.Queue()

    def start(self) -> None:
        if self._fault == "gone":
            raise DeviceGone("keypad unplugged (fake)", device=self.device)
        self._started = True

    def stop(self) -> None:
        self._started = False

    def press(self, *actions: KeypadAction | str, gap: float = 0.0) -> threading.Thread:
        """Inject actions (KeypadAction, its name "SELECT", or a digit "5") from a separate thread, `gap` s apart;
        returns that thread (join it to wait). Ignored while stopped or unplugged, like a real pad."""
        parsed = [_parse(a) for a in actions]

        def run() -> None:
            for i, action in enumerate(parsed):
                if i and gap:
                    time.sleep(gap)
                if self._started and self._fault is None:
                    self._deliver(KeypadEvent(action))

        thread = threading.Thread(target=run, name="fake-keypad", daemon=True)
        thread.start()
        return thread

    def type_digits(self, digits: str, gap: float = 0.0) -> threading.Thread:
        return self.press(*digits, gap=gap)

    def status(self) -> DeviceStatus:
        if self._fault == "gone":
            return DeviceStatus(Health.FAILED, "keypad unplugged (fake)", DeviceGone.kind)
        return DeviceStatus(Health.OK, "fake keypad" + ("" if self._started else " (not started)"))


def _parse(action: KeypadAction | str) -> KeypadAction:
    if isinstance(action, KeypadAction):
        return action
    if len(action) == 1 and action.isdigit():
        return KeypadAction(f"DIGIT_{action}")
    return {"*": KeypadAction.STAR, "#": KeypadAction.HASH}.get(action) or KeypadAction(action.upper())
