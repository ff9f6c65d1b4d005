"""The kiosk's camera as a code reader: OpenCV capture on one background thread, QR decoding on another.

Capture never waits for decoding: the decoder always takes the newest frame and skips the ones it had no
time for, so the live preview stays smooth on a slow kiosk PC. A payload becomes a read only once
`QrLock` has seen it in two frames within a second, and is not read again while it stays in view. The
decoder follows the code from frame to frame (`QrTracker`): where the last frames showed it is tried first.
Where the camera lets software move its lens, `FocusAssist` (drivers/camera_focus.py) focuses on what is held up
when the camera's own autofocus does not bring a read; its lens commands are applied by the capture thread
between two reads (OpenCV's capture is not made to be driven from two threads).
A video file works as a fake camera (replayed at its own frame rate, looping by default); with
`loop_file=False` its end behaves like an unplugged camera.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from drivers.base import DeviceGone, DeviceStatus, Health
from drivers.camera_focus import FocusAssist, LensControls, probe
from drivers.opencv import cv2
from drivers.qrdecode import DEFAULT_BUDGET_S, QrLock, QrTracker, to_gray
from drivers.serial_reader import ThreadedCodeReader

LOST_AFTER_S = 2.0  # a live camera that delivers no frame for this long is treated as unplugged


class Capture(LensControls, Protocol):
    """What the reader needs of a capture: OpenCV's VideoCapture, or a fake camera with the same calls."""

    def read(self) -> tuple[bool, Any]: ...

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name

    def release(self) -> None: ...


class CameraReader(ThreadedCodeReader):
    driver = "camera"

    def __init__(self, device: str | int, width: int = 1280, height: int = 720, *, loop_file: bool = True,
                 lock: QrLock | None = None, decode_budget_s: float = DEFAULT_BUDGET_S,
                 capture_factory: Callable[[], Capture] | None = None) -> None:
        """`capture_factory` opens something with VideoCapture's calls instead of `device` (a fake lens camera
        in tests and benchmarks)."""
        is_index = isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit())
        super().__init__(str(device))
        self.source: int | str = int(device) if is_index else str(device)
        self.is_file = not is_index and Path(str(device)).is_file()
        self.width, self.height = width, height
        self.loop_file = loop_file
        self.decode_budget_s = decode_budget_s
        self._qr_lock = lock or QrLock()
        self._cap: Capture | None = None
        self._latest: np.ndarray | None = None
        self._frame_seq = 0
        self._new_frame = threading.Condition()
        self._fps = 0.0
        self._capture_factory = capture_factory
        self._lens_commands: deque[tuple[int, float]] = deque(maxlen=8)
        self.focus: FocusAssist | None = None  # set once the capture is open

    # ------------------------------------------------------------------ public extras
    def preview(self) -> np.ndarray | None:
        """The newest frame (BGR) for the login screen's live preview; None before the first frame."""
        return self._latest

    def reset_lock(self) -> None:
        """Forget codes already read (a new citizen may show the same code the last one did), and give the
        focus back to the camera's own autofocus."""
        self._qr_lock.reset()
        if self.focus is not None:
            self.focus.reset()

    # ------------------------------------------------------------------ ThreadedCodeReader
    def _open(self) -> None:
        """Only the quick checks: opening a V4L2 camera can take a second, so that happens on the capture
        thread (start() is called from the UI thread); a camera that then fails to open reads as DeviceGone."""
        problem = "" if self._capture_factory else self._source_problem()
        if problem:
            raise DeviceGone(problem, device=self.device)
        self.is_file = not isinstance(self.source, int) and Path(self.source).is_file()
        self._latest = None
        self._qr_lock.reset()  # a fresh start is a fresh session: the last citizen's code may be read again

    def _open_capture(self) -> Capture:
        if self._capture_factory is not None:
            cap = self._capture_factory()
        elif isinstance(self.source, int):
            cap = cv2.VideoCapture(self.source, cv2.CAP_V4L2)
            if cap.isOpened():
                # MJPG: most USB webcams give 1280x720 at 30 fps only compressed (raw YUYV: 5-10 fps).
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a queue of stale ones
        else:
            cap = cv2.VideoCapture(self.source)
        if not cap.isOpened():
            cap.release()
            raise DeviceGone("camera cannot be opened", device=self.device)
        if not self.is_file:
            self.focus = FocusAssist(_DeferredLens(cap, self._lens_commands), probe(cap))
        return cap

    def _watch(self) -> None:
        capture_done = threading.Event()
        decoder = threading.Thread(target=self._decode_loop, args=(capture_done,), daemon=True,
                                   name="code-reader-camera-decode")
        decoder.start()
        try:
            self._capture_loop()
        finally:
            capture_done.set()
            with self._new_frame:
                self._new_frame.notify_all()
            decoder.join(timeout=1.0)

    def _capture_loop(self) -> None:
        self._cap = self._open_capture()
        file_fps = self._cap.get(cv2.CAP_PROP_FPS) if self.is_file else 0.0
        frame_interval = 1.0 / file_fps if 1.0 <= file_fps <= 240.0 else 1.0 / 30
        last_frame_at = next_due = time.monotonic()
        frames, frames_since_open, fps_since = 0, 0, last_frame_at
        while not self._stopping.is_set():
            while self._lens_commands:
                self._cap.set(*self._lens_commands.popleft())
            ok, frame = self._cap.read()
            now = time.monotonic()
            if not ok or frame is None:
                if self.is_file:
                    if not self.loop_file or frames_since_open == 0:
                        raise DeviceGone("video file ended", device=self.device)
                    self._cap.release()  # reopening rewinds every container; seeking does not
                    self._cap = cv2.VideoCapture(self.source)
                    frames_since_open = 0
                    continue
                if now - last_frame_at > LOST_AFTER_S:
                    raise DeviceGone("camera stopped delivering frames", device=self.device)
                time.sleep(0.02)
                continue
            last_frame_at = now
            with self._new_frame:
                self._latest = frame
                self._frame_seq += 1
                self._new_frame.notify_all()
            frames += 1
            frames_since_open += 1
            if now - fps_since >= 1.0:
                self._fps, frames, fps_since = frames / (now - fps_since), 0, now
            if self.is_file:  # replay a file at its recorded pace, like a camera would deliver it
                next_due += frame_interval
                time.sleep(max(0.0, next_due - time.monotonic()))

    def _decode_loop(self, capture_done: threading.Event) -> None:
        seen_seq = 0
        tracker = QrTracker()  # where the code was in the last frames: tried first in the next one
        while not capture_done.is_set():
            with self._new_frame:
                if self._frame_seq == seen_seq:
                    self._new_frame.wait(timeout=0.1)
                    if self._frame_seq == seen_seq:
                        continue
                frame, seen_seq = self._latest, self._frame_seq
            if frame is None:
                continue
            codes = tracker.decode(frame, budget_s=self.decode_budget_s)
            if self.focus is not None:
                gray = to_gray(frame)  # any frame the decoder took (BGR, BGRA, grey), as the decoder sees it
                if gray.ndim == 2 and min(gray.shape) >= 21:
                    self.focus.feed(gray, bool(codes), time.monotonic())
            for payload in self._qr_lock.feed(codes):
                self._deliver(payload)

    def _close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    def status(self) -> DeviceStatus:
        status = super().status()
        if status.health is Health.OK and self._cap is not None:
            focus = self.focus.control.value if self.focus else "video file"
            return DeviceStatus(Health.OK, f"camera {self.device}: {self._fps:.0f} fps, {focus}")
        return status

    def _idle_status(self) -> DeviceStatus:
        problem = "" if self._capture_factory else self._source_problem()
        if problem:
            return DeviceStatus(Health.FAILED, problem, DeviceGone.kind)
        return super()._idle_status()

    def _source_problem(self) -> str:
        """Why the source cannot be a camera ("" when it may be): checked without opening anything."""
        if isinstance(self.source, int):
            return "" if Path(f"/dev/video{self.source}").exists() else f"no /dev/video{self.source}"
        if Path(self.source).is_file() or "://" in self.source:
            return ""
        return "no camera or video file at this path"


class _DeferredLens:
    """What `FocusAssist` drives: its settings are queued for the capture thread, which applies them between
    two reads; it never reads the camera itself (the probe did, on the capture thread)."""

    def __init__(self, cap: Capture, queue: deque[tuple[int, float]]) -> None:
        self._cap, self._queue = cap, queue

    def set(self, prop: int, value: float) -> bool:
        self._queue.append((prop, float(value)))
        return True

    def get(self, prop: int) -> float:  # pragma: no cover - FocusAssist does not read back
        return -1.0
