"""Focus help for the camera code reader: a code held 10-20 cm from a webcam is often out of its focus, and no
decoder undoes a blur wider than a module. Where the camera lets software move its lens, `FocusAssist` does
contrast-detection autofocus on the centre of the view while something is held up and no code is read.

What the camera offers is found out once (`probe`): continuous autofocus (V4L2 `focus_automatic_continuous`,
OpenCV's CAP_PROP_AUTOFOCUS), a movable lens (`focus_absolute`, CAP_PROP_FOCUS), both, or neither (a
fixed-focus camera: nothing to do). Continuous autofocus is switched on at the start and trusted first; when it
has not produced a read within `hunt_after_s` while something is in view, the lens is swept in `steps` positions
over `focus_range`, each held `settle_frames` frames for the motor to arrive, sharpness (variance of the
Laplacian on the centre, downscaled) measured on the next frame; then the sharpest position is kept for
`hold_s`, and the sweep is tried again if that did not read either. Once the view is empty again (the citizen
lowered the phone) or a code was read and the view emptied, the camera's own autofocus takes over again.

"Something in view" is the centre of a small grey copy differing from the empty view (a slow running average of
frames while nothing was held up) by more than `activity_level` grey levels on average: the sweep never runs
in front of an empty counter, where the moving focus would only make the preview pulse.

Works on any object with OpenCV's ``get(prop)``/``set(prop, value)`` (a `cv2.VideoCapture`, or the fake lens
in drivers/fakes/camera.py)."""
from __future__ import annotations

import dataclasses
import enum
from typing import Protocol

import numpy as np

from drivers.opencv import cv2

_SMALL = (160, 90)  # the activity check's working size


class LensControls(Protocol):
    """The part of OpenCV's VideoCapture that the focus help uses."""

    def get(self, prop: int) -> float: ...

    def set(self, prop: int, value: float) -> bool: ...


class FocusControl(enum.Enum):
    NONE = "fixed focus"
    AUTO = "continuous autofocus"
    MANUAL = "manual focus"
    BOTH = "autofocus and manual focus"


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian on the centre half of the view, halved in size (area-averaged: sensor noise,
    which the Laplacian also sees, averages out; edges do not): high when in focus."""
    h, w = gray.shape[:2]
    centre = gray[h // 4:h - h // 4, w // 4:w - w // 4]
    f = min(0.5, 320 / max(1, centre.shape[1]))
    centre = cv2.resize(centre, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(centre, cv2.CV_32F).var())


def probe(cap: LensControls) -> FocusControl:
    """What the camera lets software do with its focus (tries the settings; leaves autofocus on if it has it)."""
    auto = bool(cap.set(cv2.CAP_PROP_AUTOFOCUS, 1)) and cap.get(cv2.CAP_PROP_AUTOFOCUS) == 1
    manual = False
    if auto:
        cap.set(cv2.CAP_PROP_AUTOFOCUS, 0)
    before = cap.get(cv2.CAP_PROP_FOCUS)
    if before >= 0:
        target = before + 5 if before < 200 else before - 5
        manual = bool(cap.set(cv2.CAP_PROP_FOCUS, target)) and abs(cap.get(cv2.CAP_PROP_FOCUS) - target) < 1
        cap.set(cv2.CAP_PROP_FOCUS, before)
    if auto:
        cap.set(cv2.CAP_PROP_AUTOFOCUS, 1)
    return {(True, True): FocusControl.BOTH, (True, False): FocusControl.AUTO,
            (False, True): FocusControl.MANUAL}.get((auto, manual), FocusControl.NONE)


class _State(enum.Enum):
    WATCH = "watch"  # autofocus (or the last kept position) and waiting for a read
    SWEEP = "sweep"
    HOLD = "hold"  # the sharpest position of the last sweep


@dataclasses.dataclass
class FocusAssist:
    cap: LensControls
    control: FocusControl = FocusControl.NONE
    focus_range: tuple[float, float] = (0.0, 255.0)  # focus_absolute's range on common UVC webcams
    steps: int = 9
    settle_frames: int = 2
    hunt_after_s: float = 1.5
    hold_s: float = 2.0
    activity_level: float = 8.0
    sweeps: int = 0  # how many sweeps ran (for the doctor and the benchmark)

    def __post_init__(self) -> None:
        self._state = _State.WATCH
        self._since = 0.0
        self._background: np.ndarray | None = None
        self._active_since: float | None = None
        self._positions: list[float] = []
        self._scores: list[float] = []
        self._wait = 0
        self._manual = False  # autofocus switched off by us

    @property
    def can_move_lens(self) -> bool:
        return self.control in (FocusControl.MANUAL, FocusControl.BOTH)

    def feed(self, gray: np.ndarray, read: bool, now: float) -> None:
        """One decoded frame: `read` says whether it gave a payload. Moves the lens when that helps."""
        if not self.can_move_lens:
            return
        if not self._activity(gray):  # nothing held up: the camera's own autofocus, and wait
            if self._manual:
                self._resume_autofocus()
            self._state, self._active_since = _State.WATCH, None
            return
        if self._active_since is None:
            self._active_since = self._since = now
        if read:  # keep the lens where it read
            self._state, self._since = (_State.HOLD if self._manual else _State.WATCH), now
        elif self._state is _State.SWEEP:
            self._sweep_step(gray, now)
        elif now - self._since >= (self.hold_s if self._state is _State.HOLD else self.hunt_after_s):
            self._start_sweep(now)

    def reset(self) -> None:
        """A new session: the camera's own autofocus again, and forget the empty view's picture."""
        if self._manual:
            self._resume_autofocus()
        self._state, self._background, self._active_since = _State.WATCH, None, None

    # ------------------------------------------------------------------ internals
    def _activity(self, gray: np.ndarray) -> bool:
        small = cv2.resize(gray, _SMALL, interpolation=cv2.INTER_AREA).astype(np.float32)
        if self._background is None:
            self._background = small
            return False
        h, w = small.shape
        diff = float(np.abs(small - self._background)[h // 4:h - h // 4, w // 4:w - w // 4].mean())
        active = diff > self.activity_level
        if not active:  # learn the empty view slowly (light changes through the day)
            cv2.accumulateWeighted(small, self._background, 0.1)
        return active

    def _start_sweep(self, now: float) -> None:
        lo, hi = self.focus_range
        self._positions = [lo + (hi - lo) * i / (self.steps - 1) for i in range(self.steps)]
        self._scores = []
        if self.control is FocusControl.BOTH:
            self.cap.set(cv2.CAP_PROP_AUTOFOCUS, 0)
        self._manual = True
        self.cap.set(cv2.CAP_PROP_FOCUS, self._positions[0])
        self._wait = self.settle_frames
        self._state, self._since = _State.SWEEP, now
        self.sweeps += 1

    def _sweep_step(self, gray: np.ndarray, now: float) -> None:
        if self._wait > 0:
            self._wait -= 1
            return
        self._scores.append(sharpness(gray))
        if len(self._scores) < len(self._positions):
            self.cap.set(cv2.CAP_PROP_FOCUS, self._positions[len(self._scores)])
            self._wait = self.settle_frames
            return
        best = self._positions[int(np.argmax(self._scores))]
        self.cap.set(cv2.CAP_PROP_FOCUS, best)
        self._state, self._since = _State.HOLD, now

    def _resume_autofocus(self) -> None:
        if self.control is FocusControl.BOTH:
            self.cap.set(cv2.CAP_PROP_AUTOFOCUS, 1)
        self._manual = False
