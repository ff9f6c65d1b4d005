"""QR decoding for the code readers: one frame at a time (`decode_frame`), many frames into one read (`QrLock`),
and `kiosk qr decode FILE...` for technicians and CI.

zxing-cpp does the decoding: it is fast on 1280x720 and 1920x1080 frames and, unlike zbar, does not guess
Shift-JIS or Latin-1 for short Vietnamese UTF-8 payloads without an ECI marker.

One frame goes through at most two stages, while its CPU-time budget lasts:

1. the whole frame, once, zxing at full resolution (most frames end here, in 1-5 ms); it also reports
   where it saw a symbol it could not decode;
2. regions: those symbols first (grown: zxing often marks only part of an undecoded code), then compact
   squarish blobs found by a cheap detector (Sobel energy strong in both directions on a 640-px-wide copy,
   at two thresholds, outer contours: QR codes have it, text lines and 1-D barcodes do not; a big blob, often
   the code with the text around it, is searched again inside at full resolution; at most four blobs).
   Each region gets one cheap look (enlarged 2x; in inverted polarity too when its rim is darker than its
   inside); symbols zxing sees there but cannot decode become tight regions, enlarged 3x, with
   every variant: plain, Wiener deconvolution for Gaussian blur at a few radii (a separable approximation),
   a 5x5 median (cracked screen protectors, speckle), smoothing plus zxing's multi-scale search, a
   global-histogram binarisation, and last Wiener deconvolution for a lens's disk defocus (FFT) at a few
   radii. Loose regions (blobs where zxing saw no symbol) get some of the deconvolutions only. Regions take
   turns (round robin): each one's first variant, tight regions first, then each one's second, and so on,
   so a symbol that is not the code cannot spend the budget before the code's blob is tried. Far-away,
   soft, cracked and inverted codes are found here.

`QrTracker` (the camera reader's decoder) adds memory across frames: the region where the last frames showed a
code, or a symbol zxing could not decode, is tried before stage 2's own regions, three variants per frame, the
next three in the next frame; after a read, the next frame starts with the variant that read it.

Payloads are checked before they are returned (`valid_payload`): no control characters, no U+FFFD; zxing's
own Reed-Solomon check already rejects misreads. A camera sees a code in many frames, so a missed frame
costs little and a slow one costs latency: the budget wins.
"""
from __future__ import annotations

import time
from pathlib import Path
from collections.abc import Callable, Iterable

import numpy as np
import zxingcpp

from drivers.opencv import cv2

DEFAULT_BUDGET_S = 0.030
_FORMATS = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode])
_QR_ONLY = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode])  # regions: MicroQR's weak EC is not risked
_DETECT_WIDTH = 640  # the candidate detector's working width
_MAX_REGIONS = 4
_SPLIT_ABOVE = 240  # loose regions larger than this (px a side) are searched for smaller candidates inside
_TIGHT_MARGIN = 0.6  # zxing often places an undecoded symbol on part of it (two finder patterns): grow it
_TRACKED_VARIANTS = 3  # a tracked region's share of each frame: this many variants, the next ones next frame
_REGION_SMALL = 160  # regions up to this many px a side are enlarged 3x, larger ones 2x ...
_REGION_MAX = 960  # ... but not beyond this
_LOOKS_SHARE = 0.4  # first looks at the blobs stop once this share of the budget is spent
_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {chr(c) for c in range(0x7F, 0xA0)}


def valid_payload(text: str) -> bool:
    """A payload worth reporting: non-empty text without control characters or replacement characters
    (what a mis-transcoded or corrupted read looks like)."""
    return bool(text) and len(text) <= 7089 and "\ufffd" not in text and not any(ch in _CONTROL for ch in text)


def _payload_text(result: zxingcpp.Barcode) -> str:
    """The payload as text. Byte-mode QR without an ECI marker is read as UTF-8 when its bytes are valid
    UTF-8 (how phones, ID cards and our printers write Vietnamese); otherwise zxing's own transcoding stands."""
    if not result.symbology_identifier.endswith(("2", "4", "6")):  # ]Q2/]Q4/]Q6: an ECI marker is present
        try:
            return bytes(result.bytes).decode("utf-8")
        except UnicodeDecodeError:
            pass
    return result.text


def _read(gray: np.ndarray, *, formats=_FORMATS, binarizer=zxingcpp.Binarizer.LocalAverage,
          downscale: bool = False, invert: bool = False, errors: bool = False):
    """(payloads, quads of symbols found but not decoded, quads of the payloads)."""
    results = zxingcpp.read_barcodes(gray, formats=formats, try_rotate=False, try_downscale=downscale,
                                     try_invert=invert, binarizer=binarizer, return_errors=errors)
    codes, failed, found = [], [], []
    for r in results:
        p = r.position
        quad = np.array([[q.x, q.y] for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                        dtype=np.float32)
        if r.valid and valid_payload(text := _payload_text(r)):
            codes.append(text)
            found.append(quad)
        elif errors and not r.valid:
            failed.append(quad)
    return codes, failed, found


def _candidate_boxes(gray: np.ndarray, limit: int) -> list[tuple[float, float, float, float]]:
    """Compact blobs of strong gradients in both directions (x, y, w, h in frame pixels), best first.

    Two thresholds (the top 10 % and the top 3 % of the energy): the looser one finds soft codes, the
    stricter one separates a code from the text printed next to it."""
    h, w = gray.shape
    f = min(1.0, _DETECT_WIDTH / w)
    small = _shrink(gray, f) if f < 1 else gray
    ax = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3))
    ay = cv2.convertScaleAbs(cv2.Sobel(small, cv2.CV_16S, 0, 1, ksize=3))
    energy = cv2.min(cv2.blur(ax, (9, 9)), cv2.blur(ay, (9, 9)))
    cumulative = cv2.calcHist([energy], [0], None, [256], [0, 256]).ravel().cumsum()
    found: list[tuple[float, tuple[float, float, float, float]]] = []
    for share in (0.90, 0.97):
        threshold = max(12, int(np.searchsorted(cumulative, cumulative[-1] * share)))
        _, mask = cv2.threshold(energy, threshold, 1, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        # outer contours, not connected components: the same blobs at a fifth of the cost
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        blobs = []
        for contour in contours:
            x, y, bw, bh = cv2.boundingRect(contour)
            if bw >= 12 and bh >= 12 and max(bw, bh) <= 2.5 * min(bw, bh):
                blobs.append((cv2.contourArea(contour), x, y, bw, bh, contour))
        blobs.sort(key=lambda blob: -blob[0])
        for area, x, y, bw, bh, contour in blobs[:3 * limit]:
            area = max(area, 1.0)
            aspect = max(bw, bh) / min(bw, bh)
            inside = np.zeros((bh, bw), np.uint8)
            cv2.drawContours(inside, [contour], 0, 1, -1, offset=(-x, -y))
            mean = cv2.mean(energy[y:y + bh, x:x + bw], inside)[0]
            # dense, squarish and large: a code beats a word or a glyph of the same sharpness
            found.append((mean * area / (bw * bh) / aspect * area ** 0.25, (x / f, y / f, bw / f, bh / f)))
    found.sort(key=lambda item: -item[0])
    boxes: list[tuple[float, float, float, float]] = []
    for _, box in found:
        if len(boxes) == limit:
            break
        if not any(_same_region(box, other) for other in boxes):
            boxes.append(box)
    return boxes


def _shrink(gray: np.ndarray, f: float) -> np.ndarray:
    """`gray` scaled by `f` < 1, area-averaged. An integer step k >= 3 that divides both sides (1920x1080 to
    640x360) is a k x k box filter sampled every k pixels: the same pixels as INTER_AREA at a third of its cost."""
    h, w = gray.shape
    k = round(1 / f)
    if k >= 3 and abs(1 / f - k) < 1e-6 and h % k == 0 and w % k == 0:
        return np.ascontiguousarray(cv2.blur(gray, (k, k))[k // 2::k, k // 2::k])
    return cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _same_region(a, b) -> bool:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) > 0.5


def _crop(gray: np.ndarray, box: tuple[float, float, float, float], margin: float = 0.18,
          origin: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The box grown by `margin` of its side, cut out of `gray`; and where that cut lies in the frame (`gray`
    itself lying at `origin` in the frame)."""
    x, y, w, h = box
    side = max(w, h)
    x0, y0 = int(max(0, x - margin * side)), int(max(0, y - margin * side))
    x1, y1 = int(min(gray.shape[1], x + w + margin * side)), int(min(gray.shape[0], y + h + margin * side))
    return np.ascontiguousarray(gray[y0:y1, x0:x1]), (origin[0] + x0, origin[1] + y0, x1 - x0, y1 - y0)


def _enlarge(region: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """`factor` x (3x for small regions; less for large ones so the copy stays under `_REGION_MAX` px a side)."""
    side = max(region.shape)
    factor = 3.0 if side <= _REGION_SMALL else min(factor, _REGION_MAX / side)
    if factor <= 1.05:
        return region
    return cv2.resize(region, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _wiener_kernel(sigma: float, nsr: float, size: int = 13) -> np.ndarray:
    """A small spatial kernel for Wiener deconvolution of a Gaussian defocus of `sigma` px with
    noise-to-signal ratio `nsr`: the filter's frequency response, brought back to space and cut to
    `size` x `size` (cheap to apply with filter2D, unlike an FFT per region). A lens's disk defocus needs the
    FFT (`_disk_wiener`): cut to a small kernel, its inverse loses what makes it work."""
    n = 64
    f = np.fft.fftfreq(n)
    otf = np.exp(-2 * np.pi ** 2 * sigma ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
    kernel = np.real(np.fft.fftshift(np.fft.ifft2(otf / (otf ** 2 + nsr))))
    half = size // 2
    kernel = kernel[n // 2 - half:n // 2 + half + 1, n // 2 - half:n // 2 + half + 1]
    return (kernel / kernel.sum()).astype(np.float32)


def _separable(kernel: np.ndarray, rank: int = 2) -> list[tuple[np.ndarray, np.ndarray]]:
    """The kernel as a sum of `rank` separable (column, row) pairs: sepFilter2D is far cheaper than filter2D."""
    u, s, vt = np.linalg.svd(kernel.astype(np.float64))
    return [((u[:, i] * s[i]).astype(np.float32), vt[i].astype(np.float32)) for i in range(rank)]


_DEBLUR: dict[tuple[float, float], list[tuple[np.ndarray, np.ndarray]]] = {}


def _wiener(region: np.ndarray, sigma: float, nsr: float) -> np.ndarray:
    """The region deconvolved for a Gaussian defocus of `sigma` px (see `_wiener_kernel`)."""
    terms = _DEBLUR.get((sigma, nsr))
    if terms is None:
        terms = _DEBLUR.setdefault((sigma, nsr), _separable(_wiener_kernel(sigma, nsr, 15)))
    src = region.astype(np.float32)
    out = None
    for column, row in terms:
        part = cv2.sepFilter2D(src, cv2.CV_32F, row, column, borderType=cv2.BORDER_REPLICATE)
        out = part if out is None else cv2.add(out, part)
    assert out is not None, "no filter terms"
    return np.clip(out, 0, 255).astype(np.uint8)


_DISK_FILTERS: dict[tuple[int, int, float, float], np.ndarray] = {}
_DISK_CACHE_BYTES = 16 << 20  # the filters kept (a 448 x 448 one is 0.8 MB); all dropped beyond this


def _disk_wiener(region: np.ndarray, radius: float, nsr: float = 0.01) -> np.ndarray:
    """The region deconvolved (Wiener, by FFT) for a lens's defocus: a disk of `radius` px. A disk's spectrum
    has rings of zeros where a 3-5 px module's frequencies lie (the blur there inverts contrast), which the
    separable Gaussian filters cannot undo. Regions are padded to a multiple of 64 px a side, so that the
    filters (one per padded size and radius) are made once and reused."""
    h, w = region.shape
    margin = int(np.ceil(radius)) + 1
    rows, cols = -(-(h + 2 * margin) // 64) * 64, -(-(w + 2 * margin) // 64) * 64
    key = (rows, cols, radius, nsr)
    wiener = _DISK_FILTERS.get(key)
    if wiener is None:
        size = 2 * margin + 1
        yy, xx = np.mgrid[0:size, 0:size] - margin
        disk = np.clip(radius + 0.5 - np.hypot(xx, yy), 0, 1)  # anti-aliased rim
        psf = np.zeros((rows, cols), np.float32)
        psf[:size, :size] = disk / disk.sum()
        psf = np.roll(psf, (-margin, -margin), (0, 1))
        otf = cv2.dft(psf, flags=cv2.DFT_COMPLEX_OUTPUT)[..., 0]  # real: the disk is symmetric about its centre
        kernel = cv2.idft(np.dstack([otf / (otf ** 2 + nsr), np.zeros_like(otf)]).astype(np.float32),
                          flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
        wiener = cv2.dft(kernel)  # packed (CCS), as mulSpectrums takes it with a packed image spectrum
        if sum(f.nbytes for f in _DISK_FILTERS.values()) > _DISK_CACHE_BYTES:
            _DISK_FILTERS.clear()
        _DISK_FILTERS[key] = wiener
    padded = cv2.copyMakeBorder(region, margin, rows - h - margin, margin, cols - w - margin,
                                cv2.BORDER_REPLICATE).astype(np.float32)
    spectrum = cv2.mulSpectrums(cv2.dft(padded), wiener, 0)
    out = cv2.idft(spectrum, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)[margin:margin + h, margin:margin + w]
    return np.clip(out, 0, 255).astype(np.uint8)


# Region variants after the first look (`_region_stage`); chosen, and ordered (`_TIGHT_ORDER`, `_LOOSE_ORDER`),
# on the tuning frames of tests/bench/qrframes.py. Each gets the region and the enlargement to use. Tight
# regions (where zxing saw a symbol it could not decode) get them all; loose ones (blobs of the cheap detector,
# usually text, a logo or nothing) only the deblurring ones that decode there (the others never did, and a
# frame without a code spent its budget on them). The disk deconvolutions (radii 3-4.5 px: defocus sigma
# 1.5-2.3) read most iris-blurred 4 px codes at sigma 2, which the Gaussian ones do not; they come after the
# others, in the budget those leave (placed earlier, with a smaller budget and fewer regions, they gained on
# the tuning set and lost on a held-out run: see the commit that moved qrframes.HELDOUT_SEED).
_GH = zxingcpp.Binarizer.GlobalHistogram
_REGION_VARIANTS: tuple[Callable[[np.ndarray, float], list[str]], ...] = (
    lambda r, k: _read(_enlarge(r, k), formats=_QR_ONLY, invert=True)[0],
    lambda r, k: _read(_enlarge(_wiener(r, 1.6, 0.02), k), formats=_QR_ONLY)[0],
    lambda r, k: _read(_enlarge(_wiener(r, 2.2, 0.005), k), formats=_QR_ONLY)[0],
    lambda r, k: _read(_enlarge(_wiener(r, 2.2, 0.02), k), formats=_QR_ONLY)[0],
    lambda r, k: _read(_enlarge(_wiener(r, 2.4, 0.05), k), formats=_QR_ONLY)[0],
    lambda r, k: _read(_enlarge(cv2.medianBlur(r, 5), k), formats=_QR_ONLY)[0],  # thin cracks, speckle
    lambda r, k: _read(_enlarge(_wiener(r, 2.0, 0.01), k), formats=_QR_ONLY, binarizer=_GH)[0],
    lambda r, k: _read(_enlarge(cv2.GaussianBlur(r, (0, 0), 1.0), k), formats=_QR_ONLY, downscale=True)[0],
    lambda r, k: _read(_enlarge(r, k), formats=_QR_ONLY, binarizer=_GH)[0],
    lambda r, k: _read(_enlarge(_disk_wiener(r, 3.0), k), formats=_QR_ONLY)[0],
    lambda r, k: _read(_enlarge(_disk_wiener(r, 4.0), k), formats=_QR_ONLY)[0],
    lambda r, k: _read(_enlarge(_disk_wiener(r, 3.5), k), formats=_QR_ONLY)[0],
    lambda r, k: _read(_enlarge(_disk_wiener(r, 4.5), k), formats=_QR_ONLY)[0],
)
_TIGHT_ORDER = tuple(range(13))
_LOOSE_ORDER = (1, 2, 4, 9, 10)
_TIGHT_VARIANTS = tuple(_REGION_VARIANTS[i] for i in _TIGHT_ORDER)
_LOOSE_VARIANTS = tuple(_REGION_VARIANTS[i] for i in _LOOSE_ORDER)


def _dark_rim(region: np.ndarray) -> bool:
    """Whether the region's rim is darker than its inside: a light-on-dark code (dark-mode apps) on its dark
    quiet zone, worth a look in inverted polarity too (zxing's inverted pass doubles the cost of a look)."""
    h, w = region.shape
    rim = max(2, min(h, w) // 10)
    inside = float(region[rim:h - rim, rim:w - rim].mean())
    edges = np.concatenate([region[:rim].ravel(), region[h - rim:].ravel(), region[:, :rim].ravel(),
                            region[:, w - rim:].ravel()])
    return float(edges.mean()) < inside


def _box_of(quad: np.ndarray) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


Box = tuple[float, float, float, float]  # x, y, w, h in frame pixels


def _region_stage(gray: np.ndarray, tight_boxes: list[Box], boxes: list[Box], out_of_time: Callable[[], bool],
                  looks_done: Callable[[], bool], tracked: Box | None = None,
                  first_variant: int = 0) -> tuple[list[str], Box | None, Callable | None]:
    """Regions: each candidate gets one cheap look (2x, both polarities) while `looks_done()` is false; symbols
    zxing finds there but cannot decode give tight regions (3x, every variant); the blobs are loose regions
    (2x, the deblurring variants); all of them take turns, a variant level at a time (see the module doc).
    A `tracked` region (where the last frames showed a code) goes before all of them, its variants starting at
    `first_variant` (so that a code held still meets a different variant in each frame).

    Returns (payloads, where they were found or, without payloads, the first symbol zxing saw, the variant
    that read them: None for a first look)."""
    tight = [(*_crop(gray, box, _TIGHT_MARGIN), 3.0, _TIGHT_VARIANTS) for box in tight_boxes]
    if tracked is not None:
        region, where = _crop(gray, tracked, 0.25)
        if min(region.shape) >= 21:
            turn = first_variant % len(_TIGHT_VARIANTS)
            variants = (_TIGHT_VARIANTS[turn:] + _TIGHT_VARIANTS[:turn])[:_TRACKED_VARIANTS]
            tight.insert(0, (region, where, 3.0, variants))
    loose: list[tuple[np.ndarray, Box, float, tuple]] = []
    boxes = list(boxes)
    for index, box in enumerate(boxes):
        region, where = _crop(gray, box)
        if min(region.shape) < 21:
            continue
        if out_of_time():
            break
        if looks_done():  # the rest of the budget goes to the variants; later blobs join them unseen
            loose.append((region, where, 2.0, _LOOSE_VARIANTS))
            continue
        enlarged = _enlarge(region)
        codes, failed, _ = _read(enlarged, formats=_QR_ONLY, invert=_dark_rim(region), errors=True)
        if codes:
            return codes, where, None
        scale = enlarged.shape[1] / region.shape[1]
        seen: list[Box] = []
        for quad in failed:
            inner = _box_of(quad / scale)
            if inner[2] >= 8 and inner[3] >= 8 and not any(_same_region(inner, b) for b in seen):
                seen.append(inner)
                tight.append((*_crop(region, inner, _TIGHT_MARGIN, where[:2]), 3.0, _TIGHT_VARIANTS))
        loose.append((region, where, 2.0, _LOOSE_VARIANTS))
        if index < _MAX_REGIONS and max(region.shape) > _SPLIT_ABOVE and not seen:
            # a big blob is often the code together with the text around it: look inside at full resolution
            boxes += [(where[0] + x, where[1] + y, w, h) for x, y, w, h in _candidate_boxes(region, 2)
                      if max(w, h) < 0.8 * max(region.shape)]
    fresh = tight[1:] if tracked is not None else tight  # what this frame saw, before what the tracker holds
    # where to look first in the next frame: a symbol zxing saw, else what the tracker holds (not the best blob:
    # held while the code is still on its way into view, it only delays the read; measured on slide-in sequences)
    focus = next((where for region, where, _, _ in fresh if min(region.shape) >= 21), tracked)
    # Round robin: every region's first variant, then every region's second, and so on. A symbol zxing saw but
    # could not decode is often not the code (a logo, a card's guilloche, part of the text) and, tried with
    # every variant before the blobs, it spent the budget the code needed (measured on the tuning frames:
    # the code was the first blob, read by its first deblurring, after 20-40 ms of tight regions).
    queue = [entry for entry in tight + loose if min(entry[0].shape) >= 21]
    for level in range(max((len(entry[3]) for entry in queue), default=0)):
        for region, where, factor, variants in queue:
            if level >= len(variants):
                continue
            if out_of_time():
                return [], focus, None
            codes = variants[level](region, factor)
            if codes:
                return codes, where, variants[level]
    return [], focus, None


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

    The region stage runs only while nothing was found, and stops once `budget_s` of this thread's CPU
    time has been spent: CPU time, not wall time, so that a frame decodes the same on a busy machine as on
    an idle one (results are reproducible; only latency varies with load).
    """
    return _decode(gray, budget_s)[0]


def _decode(frame: np.ndarray, budget_s: float, tracked: Box | None = None,
            first_variant: int = 0) -> tuple[list[str], Box | None, Callable | None]:
    """`decode_frame`, also saying where the payloads were (or a symbol was seen) and which region variant
    read them; see `_region_stage`."""
    started = time.thread_time()
    gray = to_gray(frame)
    if gray.ndim != 2 or min(gray.shape) < 21:
        return [], None, None
    codes, failed, found = _read(gray, errors=True)
    if codes:
        return list(dict.fromkeys(codes)), _box_of(np.concatenate(found)), None
    tight: list[Box] = []
    for quad in failed:
        box = _box_of(quad)
        if box[2] >= 8 and box[3] >= 8 and not any(_same_region(box, b) for b in tight):
            tight.append(box)
    if tracked is not None:
        # the held region, where this frame shows it (a code moves a little between frames)
        tracked = next((b for b in tight if _same_region(b, tracked)), tracked)
        tight = [b for b in tight if not _same_region(b, tracked)]
    spent = lambda: time.thread_time() - started  # noqa: E731
    out_of_time = lambda: spent() > budget_s  # noqa: E731
    if out_of_time():
        return [], tight[0] if tight else tracked, None
    boxes = [b for b in _candidate_boxes(gray, _MAX_REGIONS)
             if not any(_same_region(b, t) for t in tight + ([tracked] if tracked else []))]
    looks_done = lambda: spent() > _LOOKS_SHARE * budget_s  # noqa: E731
    codes, where, variant = _region_stage(gray, tight, boxes, out_of_time, looks_done, tracked, first_variant)
    return list(dict.fromkeys(codes)), where, variant


class QrTracker:
    """Decodes a camera's frames one after another, remembering where the code is: the region where the last
    frames showed a code, or a symbol zxing saw but could not decode, is tried first in the next frame, each
    time starting at the next variant (a code held still meets the whole cascade within a few frames while
    each frame keeps to its budget), or, after a read, at the variant that read it (so the second sighting the
    lock needs comes in the next frame). The region is forgotten after `keep_frames` frames without a sighting."""

    def __init__(self, keep_frames: int = 6) -> None:
        self.keep_frames = keep_frames
        self._box: Box | None = None
        self._misses = 0
        self._turn = 0

    def decode(self, frame: np.ndarray, budget_s: float = DEFAULT_BUDGET_S) -> list[str]:
        codes, where, variant = _decode(frame, budget_s, self._box, self._turn)
        if codes:  # the next frame starts with the variant that read this one (the code is likely still there)
            turn = _TIGHT_VARIANTS.index(variant) if variant in _TIGHT_VARIANTS else 0
            self._box, self._misses, self._turn = where, 0, turn
        else:
            self._misses += 1
            self._turn += _TRACKED_VARIANTS
            if where is not None and where != self._box:  # a fresh sighting replaces the held region
                self._box, self._misses, self._turn = where, 0, 0
            if self._misses > self.keep_frames:
                self._box, self._misses, self._turn = None, 0, 0
        return codes

    def reset(self) -> None:
        self._box, self._misses, self._turn = None, 0, 0


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
