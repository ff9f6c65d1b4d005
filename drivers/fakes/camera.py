"""A webcam with a lens, for the focus help's tests and benchmark: it answers OpenCV's capture calls
(`read`, `get`, `set`, `isOpened`, `release`) like a V4L2 camera, and blurs what it shows by how far its lens
is from the position that brings the held-up object into focus.

It can be told to be each kind of camera a kiosk may have: fixed focus (`manual=False, autofocus=False`:
setting the focus is refused, as V4L2 refuses an absent control), manual focus only, or with continuous
autofocus that settles where it wants (`autofocus_settles_at`: many webcams' autofocus gives up on something
10 cm away and rests at far focus). The lens travels `lens_speed` focus units per frame, so a new position is
reached only some frames later; frames come at `fps` when `realtime`, else as fast as they are read."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from drivers.opencv import cv2


class FakeLensCamera:
    def __init__(self, scene: Callable[[int], np.ndarray], *, in_focus_at: float = 200.0,
                 blur_per_unit: float = 1 / 25, autofocus: bool = True, manual: bool = True,
                 autofocus_settles_at: float = 0.0, start_at: float = 0.0, lens_speed: float = 60.0,
                 fps: float = 30.0, realtime: bool = False, noise: float = 2.0, seed: int = 0) -> None:
        self.scene = scene  # frame number -> the view, sharp (grey or BGR uint8)
        self.in_focus_at, self.blur_per_unit = in_focus_at, blur_per_unit
        self.has_autofocus, self.has_manual = autofocus, manual
        self.autofocus_settles_at = autofocus_settles_at
        self.lens_speed, self.fps, self.realtime, self.noise = lens_speed, fps, realtime, noise
        self.autofocus_on = False
        self.focus = self.target = float(start_at)
        self.frame_number = 0
        self._opened = True
        self._rng = np.random.default_rng(seed)
        self._next_at = time.monotonic()
        self._noise: list[np.ndarray] | None = None

    # ------------------------------------------------------------------ what OpenCV's VideoCapture offers
    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self._opened

    def release(self) -> None:
        self._opened = False

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_AUTOFOCUS:
            return float(self.autofocus_on) if self.has_autofocus else -1.0
        if prop == cv2.CAP_PROP_FOCUS:
            return self.target if self.has_manual else -1.0  # the control's value, as V4L2 reports it
        if prop == cv2.CAP_PROP_FPS:
            return self.fps
        return -1.0

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_AUTOFOCUS and self.has_autofocus:
            self.autofocus_on = bool(value)
            return True
        if prop == cv2.CAP_PROP_FOCUS and self.has_manual and not self.autofocus_on:
            self.target = float(np.clip(value, 0, 255))  # V4L2 clamps to the control's range
            return True
        return False

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self._opened:
            return False, None
        if self.realtime:
            self._next_at += 1 / self.fps
            time.sleep(max(0.0, self._next_at - time.monotonic()))
        goal = self.autofocus_settles_at if self.autofocus_on else self.target
        step = float(np.clip(goal - self.focus, -self.lens_speed, self.lens_speed))
        self.focus += step
        view: np.ndarray = self.scene(self.frame_number).astype(np.float32)
        self.frame_number += 1
        sigma = abs(self.focus - self.in_focus_at) * self.blur_per_unit
        if sigma > 0.1:
            view = cv2.GaussianBlur(view, (0, 0), sigma)
        if self._noise is None or self._noise[0].shape != view.shape:  # a few sensor-noise frames, cycled
            self._noise = [self._rng.normal(0, self.noise, view.shape).astype(np.float32) for _ in range(4)]
        view += self._noise[self.frame_number % 4]
        return True, np.clip(view, 0, 255).astype(np.uint8)
