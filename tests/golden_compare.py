"""One rule for comparing a screen capture with its golden PNG (tests/test_screen_goldens.py, tests/test_statuses.py).

A pixel differs when any channel moves by more than CHANNEL_DIFF; a capture matches when at most MAX_DIFF_FRACTION
of its pixels differ (offscreen Mesa llvmpipe is deterministic here: the tolerance only absorbs driver-level
noise). `UPDATE_GOLDENS=1` writes the capture as the new golden instead (look at it before committing). A failing
capture leaves its PNG and a diff mask beside the test's output, named in the failure. The workers
(tests/screen_worker.py, tests/status_screen_worker.py) hand their captures over raw (`.npy`, H×W×3 RGB,
top-down): no PNG to encode there and decode here."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

CHANNEL_DIFF = 48
MAX_DIFF_FRACTION = 0.005


def load_capture(path: Path) -> np.ndarray:
    return np.load(path)


def remove_captures(out: Path) -> None:
    """The raw captures (about 8 MB each at 1080p) once the module is done; a failing case has its PNG beside."""
    for capture in out.glob("*.npy"):
        capture.unlink()


def assert_matches_golden(got_rgb: np.ndarray, golden: Path, out: Path, name: str) -> None:
    import cv2  # its PNG decoder and per-pixel loops: half the CPU of Pillow's for a full-screen pair

    got = cv2.cvtColor(np.ascontiguousarray(got_rgb), cv2.COLOR_RGB2BGR)  # as cv2.imread gives the golden
    assert got.any(), f"{name}: an all-black capture"
    if os.environ.get("UPDATE_GOLDENS") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        from PIL import Image

        Image.fromarray(np.ascontiguousarray(got_rgb)).save(golden, optimize=True)
        return
    assert golden.exists(), f"no golden for {name}: run with UPDATE_GOLDENS=1 and look at it"
    want = cv2.imread(str(golden), cv2.IMREAD_COLOR)
    assert want.shape == got.shape, f"{name}: size {got.shape[1::-1]} != golden {want.shape[1::-1]}"
    diff = cv2.absdiff(got, want)
    mask = cv2.threshold(cv2.max(cv2.max(diff[:, :, 0], diff[:, :, 1]), diff[:, :, 2]), CHANNEL_DIFF, 255,
                         cv2.THRESH_BINARY)[1]
    differing = cv2.countNonZero(mask) / (got.shape[0] * got.shape[1])
    if differing > MAX_DIFF_FRACTION:
        diff_path, new_path = out / f"{name}-diff.png", out / f"{name}.png"
        cv2.imwrite(str(diff_path), mask)
        cv2.imwrite(str(new_path), got)
        pytest.fail(f"{name}: {differing:.2%} of pixels differ from {golden.name} (diff mask {diff_path}, "
                    f"new image {new_path})")
