"""QR decoding for the code readers: one frame at a time (`decode_frame`), many frames into one read (`QrLock`),
and `kiosk qr decode FILE...` for technicians and CI.

zxing-cpp does the decoding: it is fast on 1280x720 frames and, unlike zbar, does not guess Shift-JIS or
Latin-1 for short Vietnamese UTF-8 payloads without an ECI marker. A first pass runs on a despeckled frame;
only when it finds nothing do other variants run (deblurred, zxing's own multi-scale + inverted search, a
local threshold against glare, a 2x copy for far-away codes), each while the frame's time budget
lasts. A camera sees a code in many
frames, so a missed frame costs little and a slow one costs latency: the budget wins.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np
import zxingcpp

DEFAULT_BUDGET_S = 0.030
_MAX_PIXELS_TO_DOUBLE = 1920 * 1080  # doubling a phone photo would cost far more than the budget
_FORMATS = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode])


def _read(gray: np.ndarray, *, binarizer=zxingcpp.Binarizer.LocalAverage, downscale: bool = False,
          invert: bool = False) -> list[str]:
    results = zxingcpp.read_barcodes(
        gray, formats=_FORMATS, try_rotate=False, try_downscale=downscale, try_invert=invert, binarizer=binarizer,
    )
    return [_payload_text(r) for r in results if r.valid]


def _payload_text(result: zxingcpp.Barcode) -> str:
    """The payload as text. Byte-mode QR without an ECI marker is read as UTF-8 when its bytes are valid
    UTF-8 (how phones, ID cards and our printers write Vietnamese); otherwise zxing's own transcoding stands."""
    if not result.symbology_identifier.endswith(("2", "4", "6")):  # ]Q2/]Q4/]Q6: an ECI marker is present
        try:
            return bytes(result.bytes).decode("utf-8")
        except UnicodeDecodeError:
            pass
    return result.text


def _denoise(gray: np.ndarray) -> np.ndarray:
    """3x3 median: removes sensor speckle and JPEG ringing while keeping module edges."""
    return cv2.medianBlur(gray, 3)


def _deblur(gray: np.ndarray) -> np.ndarray:
    """Light smoothing then an unsharp mask: gives back edges to soft or shaken codes without
    amplifying the noise a bare sharpen would."""
    smooth = cv2.GaussianBlur(gray, (0, 0), 0.8)
    blurred = cv2.GaussianBlur(smooth, (0, 0), 2.0)
    return cv2.addWeighted(smooth, 1.8, blurred, -0.8, 0)


def _local_threshold(gray: np.ndarray) -> np.ndarray:
    """Mean-of-neighbourhood threshold: survives glare that washes out part of a code."""
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0)
    return cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 2)


def _double(gray: np.ndarray) -> np.ndarray:
    """2x bicubic: codes held far away (modules under 3 px) give zxing's finder-pattern search enough pixels."""
    return cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)


# The passes, in order; measured on tests/bench frames (see the benchmark). The first is the cheap common
# case; the rest run only while nothing was found and the budget lasts. Inverted (light-on-dark) codes
# and very large modules are found by the third pass, far-away (small) codes by the last.
_PASSES: tuple[Callable[[np.ndarray], list[str]], ...] = (
    lambda g: _read(_denoise(g)),
    lambda g: _read(_deblur(g)),
    lambda g: _read(g, downscale=True, invert=True),
    lambda g: _read(_local_threshold(g), binarizer=zxingcpp.Binarizer.FixedThreshold),
    lambda g: _read(_double(g)) if g.size <= _MAX_PIXELS_TO_DOUBLE else [],
)


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A contiguous 8-bit grey copy/view of a BGR, BGRA or grey frame (other shapes come back unchanged
    in shape, and decode to nothing)."""
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 3:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    elif frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    return np.ascontiguousarray(frame)


def decode_frame(gray: np.ndarray, budget_s: float = DEFAULT_BUDGET_S) -> list[str]:
    """Every QR payload found in one frame (grey preferred; BGR is converted), without duplicates.

    The later passes run only while nothing was found, and stop once `budget_s` of this thread's CPU time
    has been spent: CPU time, not wall time, so that a frame decodes the same on a busy machine as on an
    idle one (results are reproducible; only latency varies with load).
    """
    started = time.thread_time()
    gray = to_gray(gray)
    if gray.ndim != 2 or min(gray.shape) < 21:
        return []
    codes: list[str] = []
    for decode_pass in _PASSES:
        codes = decode_pass(gray)
        if codes or time.thread_time() - started > budget_s:
            break
    return list(dict.fromkeys(codes))


class QrLock:
    """Turns per-frame decodes into reads: a payload is reported once it was seen `hits` times within
    `window_s`, and not again while it stays in view (until unseen for `release_s`), so a citizen holding
    a phone up produces exactly one read. A single stray decode never becomes a read."""

    def __init__(self, hits: int = 2, window_s: float = 1.0, release_s: float = 2.0) -> None:
        self.hits, self.window_s, self.release_s = hits, window_s, release_s
        self._seen: dict[str, list[float]] = {}
        self._locked: dict[str, float] = {}  # payload -> last time seen while locked

    def feed(self, codes: Iterable[str], now: float | None = None) -> list[str]:
        """Add one frame's decodes; returns the payloads that just locked (usually none)."""
        now = time.monotonic() if now is None else now
        self._locked = {p: t for p, t in self._locked.items() if now - t < self.release_s}
        self._seen = {p: [t for t in ts if now - t <= self.window_s] for p, ts in self._seen.items()}
        self._seen = {p: ts for p, ts in self._seen.items() if ts}
        locked_now: list[str] = []
        for payload in dict.fromkeys(codes):
            if payload in self._locked:
                self._locked[payload] = now
                continue
            times = self._seen.setdefault(payload, [])
            times.append(now)
            if len(times) >= self.hits:
                del self._seen[payload]
                self._locked[payload] = now
                locked_now.append(payload)
        return locked_now

    def reset(self) -> None:
        """Forget everything (a new session may show the same code again)."""
        self._seen.clear()
        self._locked.clear()


def decode_file(path: Path) -> dict:
    """One JSON-ready record for one image file, decoded exactly as the camera decodes a frame."""
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else np.empty(0, np.uint8)
    gray = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if gray is None:
        return {"file": str(path), "codes": [], "ms": 0.0, "error": "unreadable image"}
    started = time.perf_counter()
    codes = decode_frame(gray)
    return {"file": str(path), "codes": codes, "ms": round((time.perf_counter() - started) * 1000, 2)}


def decode_command(args: argparse.Namespace) -> int:
    """`kiosk qr decode FILE...`: one JSON line per image; exit 1 when an image could not be read."""
    status = 0
    for path in args.files:
        record = decode_file(Path(path))
        status |= 1 if "error" in record else 0
        print(json.dumps(record, ensure_ascii=False), flush=True)
    if status:
        print("kiosk qr decode: some files could not be read as images", file=sys.stderr)
    return status
