"""The camera's focus help (drivers/camera_focus.py) on a fake lens camera (drivers/fakes/camera.py): a code held
up out of the camera's focus, where its own autofocus rests elsewhere, is brought into focus and read; a
fixed-focus camera and an empty counter never get the lens moved."""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera_focus import FocusAssist, FocusControl, probe, sharpness
from drivers.camera_reader import CameraReader
from drivers.fakes.camera import FakeLensCamera
from drivers.qrdecode import QrLock, QrTracker

sys.path.insert(0, str(Path(__file__).parent / "bench"))
from qrframes import render_code  # noqa: E402

LOGIN = "VNEID-7KQ2M9XW4HTR3CPA"
CODE = render_code(LOGIN, module_px=4)
HELD_UP_FROM = 15  # frames of the empty counter before the citizen holds the phone up


def _counter() -> np.ndarray:
    rng = np.random.default_rng(3)
    view = np.full((360, 480), 150, np.uint8)
    for _ in range(12):  # the counter top and what lies around: some shapes, not a code
        x, y = rng.integers(0, 420), rng.integers(0, 320)
        cv2.rectangle(view, (int(x), int(y)), (int(x) + 60, int(y) + 40), int(rng.integers(60, 220)), -1)
    return view


COUNTER = _counter()


def _scene(frame: int) -> np.ndarray:
    """The counter; from HELD_UP_FROM on, a phone held up showing the login code on its light screen."""
    view = COUNTER.copy()
    if frame >= HELD_UP_FROM:
        cx, cy = 240 + (frame % 3), 180  # a hand is never still
        cv2.rectangle(view, (cx - 85, cy - 130), (cx + 85, cy + 130), 35, -1)  # the phone's body
        cv2.rectangle(view, (cx - 77, cy - 115), (cx + 77, cy + 115), 235, -1)  # its screen
        y, x = cy - CODE.shape[0] // 2, cx - CODE.shape[1] // 2
        view[y:y + CODE.shape[0], x:x + CODE.shape[1]] = CODE
    return view


def _run(camera: FakeLensCamera, assist: FocusAssist | None, seconds: float = 6.0) -> float | None:
    """Frames at 30 fps through the kiosk's tracker and lock; the time of the read, or None."""
    tracker, lock = QrTracker(), QrLock()
    for i in range(int(seconds * 30)):
        ok, frame = camera.read()
        assert ok
        now = i / 30
        codes = tracker.decode(frame, budget_s=0.010)  # the focus is tested here, not the decoder's depth
        if assist is not None:
            assist.feed(frame, bool(codes), now)
        if lock.feed(codes, now=now):
            return now
    return None


@pytest.mark.parametrize("autofocus, manual, expected", [
    (False, False, FocusControl.NONE), (True, False, FocusControl.AUTO),
    (False, True, FocusControl.MANUAL), (True, True, FocusControl.BOTH)])
def test_probe_tells_what_the_camera_lets_software_do(autofocus, manual, expected):
    camera = FakeLensCamera(_scene, autofocus=autofocus, manual=manual)
    assert probe(camera) is expected
    assert camera.autofocus_on == autofocus  # the camera's own autofocus is left on where it has one


@pytest.mark.parametrize("autofocus", [True, False])
def test_a_code_held_out_of_focus_is_focused_on_and_read(autofocus):
    # in focus at 200; the camera's autofocus (or its fixed start) rests at 0: the code is blurred 8 px
    camera = FakeLensCamera(_scene, autofocus=autofocus, autofocus_settles_at=0.0)
    assert _run(FakeLensCamera(_scene, autofocus=autofocus, autofocus_settles_at=0.0), None, seconds=3) is None
    assist = FocusAssist(camera, probe(camera))
    read_at = _run(camera, assist)
    assert read_at is not None and read_at < 4.0, read_at
    assert assist.sweeps == 1
    assert camera.target > 100 and camera.target == camera.focus  # the lens stays where the code was read


def test_the_sweep_keeps_the_sharpest_position():
    # the phone shows text, not a code: the sweep runs once and ends at the sharpest of its nine positions
    def phone_with_text(frame: int) -> np.ndarray:
        view = _scene(0)
        cv2.rectangle(view, (155, 50), (325, 310), 35, -1)
        cv2.rectangle(view, (163, 65), (317, 295), 235, -1)
        for line in range(10):
            cv2.putText(view, "Dich vu cong", (170, 88 + 21 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 20, 1)
        return view if frame >= HELD_UP_FROM else COUNTER

    camera = FakeLensCamera(phone_with_text, autofocus=False)
    assist = FocusAssist(camera, probe(camera), hold_s=60)
    assert _run(camera, assist, seconds=4) is None
    assert assist.sweeps == 1 and camera.target == pytest.approx(255 * 6 / 8)  # 191, nearest to 200


def test_a_code_already_in_focus_moves_nothing():
    camera = FakeLensCamera(_scene, start_at=200.0, autofocus=False)
    assist = FocusAssist(camera, probe(camera))
    assert _run(camera, assist) is not None
    assert assist.sweeps == 0 and camera.target == 200.0


def test_fixed_focus_camera_and_empty_counter_leave_the_lens_alone():
    fixed = FakeLensCamera(_scene, autofocus=False, manual=False)
    assist = FocusAssist(fixed, probe(fixed))
    assert _run(fixed, assist, seconds=3) is None and assist.sweeps == 0
    empty = FakeLensCamera(lambda i: COUNTER, autofocus=True)
    assist = FocusAssist(empty, probe(empty))
    assert _run(empty, assist, seconds=3) is None and assist.sweeps == 0 and empty.autofocus_on


def test_after_the_phone_is_lowered_the_camera_autofocus_takes_over():
    held = lambda i: _scene(i) if i < 150 else COUNTER  # noqa: E731
    camera = FakeLensCamera(held, autofocus=True, autofocus_settles_at=0.0)
    assist = FocusAssist(camera, probe(camera))
    assert _run(camera, assist, seconds=4) is not None
    assert not camera.autofocus_on  # our position is held while the code is in view
    while camera.frame_number < 150 + 30:  # the phone is lowered at frame 150
        ok, frame = camera.read()
        assist.feed(frame, False, camera.frame_number / 30)
    assert camera.autofocus_on


def test_sharpness_is_highest_in_focus():
    values = [sharpness(cv2.GaussianBlur(_scene(20), (0, 0), s)) for s in (0.3, 1.5, 4.0)]
    assert values[0] > values[1] > values[2]


def test_camera_reader_focuses_a_real_time_fake_lens():
    camera = FakeLensCamera(_scene, autofocus=True, autofocus_settles_at=0.0, realtime=True)
    reader = CameraReader("fake-lens", capture_factory=lambda: camera)
    reader.start()
    try:
        read = reader.read(timeout=10)
        assert read is not None and read.text == LOGIN
        assert "autofocus and manual focus" in reader.status().detail
        assert reader.focus is not None and reader.focus.sweeps >= 1
    finally:
        reader.stop()
