"""A code reader with no hardware, for the demo, `kiosk simulate` and tests.

`present(text)` is a citizen holding a code up; `read()` hands it over `delay` seconds later, like a camera
that needs a few frames to lock on. `present_image(img)` runs the real decoder on a picture, so a test can
show the fake the same thing it would show the camera. Faults make it fail the ways real readers fail:
"gone" (unplugged: read raises DeviceGone), "garbage" (every read returns random bytes decoded as text,
like a scanner on the wrong baud rate), "timeout" (never reads anything).
"""
from __future__ import annotations

import collections
import os
import threading
import time

import numpy as np

from drivers.base import CodeRead, CodeReader, DeviceGone, DeviceStatus, Health

FAULTS = ("", "gone", "garbage", "timeout")


class FakeCodeReader(CodeReader):
    driver = "fake"

    def __init__(self, codes: list[str] | None = None, delay: float = 0.3, fault: str = "") -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fake code-reader fault {fault!r}; use one of {FAULTS}")
        self.delay = delay
        self.fault = fault
        self._pending: collections.deque[tuple[float, str]] = collections.deque()
        self._changed = threading.Condition()
        self._stops = 0  # bumped by stop(): a read() waiting across a stop returns None, like real readers
        for text in codes or []:
            self.present(text)

    # ------------------------------------------------------------------ what tests and the demo call
    def present(self, text: str) -> None:
        """Queue a code as if a citizen held it up now."""
        with self._changed:
            self._pending.append((time.monotonic(), text))
            self._changed.notify_all()

    def present_image(self, image) -> list[str]:
        """Decode a picture (PIL image or ndarray) with the camera's decoder and queue what it finds.
        Returns the decoded payloads ([] when the picture holds no readable code, as a camera would)."""
        from drivers.qrdecode import decode_frame

        codes = decode_frame(np.asarray(image.convert("L") if hasattr(image, "convert") else image))
        for text in codes:
            self.present(text)
        return codes

    def set_fault(self, fault: str) -> None:
        """Switch fault mode at run time (a test unplugs the reader mid-session)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fake code-reader fault {fault!r}")
        with self._changed:
            self.fault = fault
            self._changed.notify_all()

    # ------------------------------------------------------------------ CodeReader
    def start(self) -> None:
        """Nothing to switch on: presented codes are readable whether or not the fake was started."""

    def stop(self) -> None:
        with self._changed:
            self._stops += 1
            self._changed.notify_all()

    def close(self) -> None:
        self.stop()

    def status(self) -> DeviceStatus:
        if self.fault == "gone":
            return DeviceStatus(Health.FAILED, "fake reader unplugged", DeviceGone.kind)
        if self.fault:
            return DeviceStatus(Health.WARNING, f"fake fault: {self.fault}")
        return DeviceStatus(Health.OK, f"fake reader, {len(self._pending)} code(s) queued")

    def read(self, timeout: float) -> CodeRead | None:
        started = time.monotonic()
        deadline = started + max(0.0, timeout)
        with self._changed:
            stops_before = self._stops
            while True:
                if self._stops != stops_before:
                    return None
                if self.fault == "gone":
                    raise DeviceGone("fake reader unplugged", device="fake")
                now = time.monotonic()
                wake_at = deadline
                if self.fault == "garbage":
                    if now >= started + self.delay:
                        return CodeRead(os.urandom(48).decode("utf-8", "replace"), source="fake")
                    wake_at = min(deadline, started + self.delay)
                elif self.fault != "timeout" and self._pending:
                    ready_at = self._pending[0][0] + self.delay
                    if now >= ready_at:
                        return CodeRead(self._pending.popleft()[1], source="fake")
                    wake_at = min(deadline, ready_at)
                if now >= deadline:
                    return None
                self._changed.wait(wake_at - now)
