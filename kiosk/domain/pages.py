"""Scanned pages → the one PDF the kiosk uploads for a document component.

Why mixed raster content (MRC): a 300 dpi grey A4 scan is 8.7 Mpx. As one JPEG it is either large or its text
gets blurry enough to hurt the staff's reading (and OCR). MRC splits each page into
  * a full-resolution bilevel *mask* for text and lines (CCITT G4, painted in the ink's grey as a PDF
    /ImageMask), which keeps letters and Vietnamese diacritics sharp at a few tens of KB;
  * a low-resolution JPEG *background* (paper, seal, shading) from which the text has been removed;
  * 200 dpi JPEG *photo* crops (ID-card portraits, photos) where a threshold would destroy the picture.
A JPEG page that already fits the budget and needs no deskew is embedded as-is (no second generation loss).

Blank pages are reported, never dropped: the screen asks the citizen. Skew is measured and corrected here.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import logging
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pikepdf
from PIL import Image, UnidentifiedImageError

__all__ = ["MESSAGES", "PAGE_BUDGET_BYTES", "PackedDocument", "PageInfo", "PageReport", "PagesError",
           "analyse_page", "deskew", "pack_command", "pack_pages"]

log = logging.getLogger(__name__)

DEFAULT_DPI = 300
PAGE_BUDGET_BYTES = 60_000  # issue 3: at most 60 KB per page
PDF_OVERHEAD_BYTES = 1_400  # page object, content stream, xref: kept out of the images' share
MAX_PAGES = 500  # kiosk.portal.models.DocumentRef.pages
BACKGROUND_DPI = 100
PHOTO_DPI = 200  # 150 dpi photos lose to a 200 dpi q50 JPEG in SSIM at any quality that fits the budget
BACKGROUND_QUALITY = 40
PHOTO_QUALITY = 60
COLOURED_INK_CHROMA = 60  # max-min of R, G, B above which ink counts as coloured (seal red: ~150)
PHOTO_MIN_TONE_SPREAD = 25  # grey levels between the quartiles of a photo's mid-tones; a tint has ~5
PHOTO_GRID_DPI = 50  # photo crops are aligned to this grid (0.5 mm)
EMPTY_BACKGROUND_SHARE = 0.0005  # a background with fewer non-white pixels is left out (a flat JPEG is ~4 KB)
ANALYSIS_DPI = 100
DESKEW_MIN_DEG = 0.2  # below this a rotation costs more sharpness than it gains
MAX_SKEW_DEG = 10.0
SKEW_MIN_GAIN = 1.01  # how much sharper the ink's projection must get before a measured skew is believed
BLANK_INK_FRACTION = 0.0003  # share of the page (outside the margins) that must carry ink
BLANK_MARGIN_MM = 5.0

# Vietnamese messages for failures a citizen can meet (kind -> what happened and what to do next).
MESSAGES: dict[str, str] = {
    "no_pages": "Chưa có trang nào được quét. Vui lòng đặt giấy tờ vào khay và quét lại.",
    "unreadable_page": "Không đọc được một trang đã quét. Vui lòng quét lại trang đó; "
                       "nếu vẫn lỗi, vui lòng báo cán bộ tại quầy.",
    "too_many_pages": "Thành phần hồ sơ này có quá nhiều trang (tối đa 500 trang). "
                      "Vui lòng tách thành nhiều lần quét hoặc báo cán bộ tại quầy.",
    "bad_resolution": "Độ phân giải của trang quét không hợp lệ. Vui lòng báo cán bộ kỹ thuật.",
}


class PagesError(Exception):
    """A page or a document could not be packed; `kind` selects the citizen's message in MESSAGES."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail or kind

    @property
    def message(self) -> str:
        return MESSAGES[self.kind]


@dataclasses.dataclass(frozen=True)
class PageInfo:
    blank: bool
    skew_deg: float  # angle of the text lines, counter-clockwise positive, as seen on the page


@dataclasses.dataclass(frozen=True)
class PageReport:
    index: int  # 1-based, as the citizen counts
    size_bytes: int  # image data of this page in the PDF
    blank: bool
    skew_deg: float  # measured before correction
    deskewed: bool
    method: str  # "mrc" or "jpeg-passthrough"
    width_mm: float
    height_mm: float


@dataclasses.dataclass(frozen=True)
class PackedDocument:
    pdf: bytes
    pages: int
    sha256: str
    page_sizes: list[int]
    report: list[PageReport]


# ------------------------------------------------------------------------------------------ analysis
def _normalise(img: Image.Image) -> Image.Image:
    """Grey or RGB, 8 bits: what scanners give and what the encoders take."""
    if img.mode in ("L", "RGB"):
        return img
    if img.mode in ("1", "I;16", "I;16B", "I", "F", "LA", "La"):
        if img.mode.startswith("I") or img.mode == "F":
            arr = np.asarray(img, dtype=np.float64)
            top = float(arr.max()) or 1.0
            return Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8))
        return img.convert("L")
    return img.convert("RGB")


def _gray_array(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img)
    if arr.ndim == 3:
        return cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
    return arr


def _resize_to(gray: np.ndarray, scale: float) -> np.ndarray:
    """Area-averaged reduction. When 1/scale is a whole number the edges are cropped to a multiple of it
    (at most a pixel or two): OpenCV's integer-factor path is several times faster than the general one."""
    h, w = gray.shape[:2]
    factor = round(1 / scale)
    if factor > 1 and abs(1 / scale - factor) < 1e-6 and h >= factor and w >= factor:
        gray = gray[:h - h % factor, :w - w % factor]
        return cv2.resize(gray, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def _levels(gray: np.ndarray) -> tuple[float, float]:
    """(paper, ink) grey levels: the bright and dark ends of the page's histogram."""
    hist = np.bincount(gray.ravel(), minlength=256).cumsum()
    total = hist[-1]
    paper = float(np.searchsorted(hist, total * 0.90))
    ink = float(np.searchsorted(hist, total * 0.005))
    return paper, min(ink, paper)


def _ink_mask_small(small: np.ndarray, paper: float) -> np.ndarray:
    """Pixels clearly darker than the paper at analysis resolution (show-through and noise stay out)."""
    return small < paper - 50


def _estimate_skew(ink: np.ndarray) -> float:
    """Angle whose horizontal projection of the ink is sharpest (text lines line up), in degrees."""
    ys, xs = np.nonzero(ink)
    if ys.size < 200:
        return 0.0
    if ys.size > 40_000:  # a fixed stride keeps it deterministic and fast; lines stay well sampled
        ys, xs = ys[:: ys.size // 40_000 + 1], xs[:: xs.size // 40_000 + 1]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - ink.shape[1] / 2
    span = ink.shape[0] + ink.shape[1]

    def score(deg: float) -> float:
        rows = np.round(ys + xs * math.tan(math.radians(deg))).astype(np.int64) + span
        counts = np.bincount(rows, minlength=2 * span + ink.shape[0])
        return float(np.dot(counts, counts))

    best = 0.0
    for span_deg, step in ((MAX_SKEW_DEG, 0.5), (0.5, 0.1), (0.1, 0.02)):  # coarse to fine
        candidates = np.arange(best - span_deg, best + span_deg + 1e-9, step)
        best = float(max(candidates, key=score))
    # No lines to line up (a seal, a photo): turning would not sharpen anything, so the page is left as is.
    # Text skewed by 0.2° already sharpens the projection by about 2 %; a lone seal by 0.3 %.
    if score(best) < SKEW_MIN_GAIN * score(0.0):
        return 0.0
    return round(best, 2)


def _analyse_gray(gray: np.ndarray, dpi: int) -> tuple[PageInfo, float]:
    return _analyse_small(_resize_to(gray, ANALYSIS_DPI / dpi))


def _analyse_small(small: np.ndarray) -> tuple[PageInfo, float]:
    """Blankness, skew and the paper's grey, from the page at ANALYSIS_DPI."""
    paper, _ = _levels(small)
    ink = _ink_mask_small(small, paper)
    margin = max(1, round(BLANK_MARGIN_MM / 25.4 * ANALYSIS_DPI))
    inner = ink[margin:-margin, margin:-margin]
    count, _, stats, _ = cv2.connectedComponentsWithStats(inner.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    ink_area = int(areas[areas >= 3].sum())
    blank = ink_area < BLANK_INK_FRACTION * inner.size
    skew = 0.0 if blank else _estimate_skew(ink)
    return PageInfo(blank=blank, skew_deg=skew), paper


def analyse_page(img: Image.Image, dpi: int = DEFAULT_DPI) -> PageInfo:
    """Is the page blank (so the screen can ask), and how skewed is it."""
    img = _normalise(img)
    return _analyse_gray(_gray_array(img), _dpi_of(img, dpi))[0]


def _rotate(img: Image.Image, angle_deg: float, fill: float) -> Image.Image:
    arr = np.asarray(img)
    h, w = arr.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    border = (fill,) * (3 if arr.ndim == 3 else 1)
    out = cv2.warpAffine(arr, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=border)
    result = Image.fromarray(out)
    result.info["dpi"] = img.info.get("dpi", (DEFAULT_DPI, DEFAULT_DPI))
    return result


def deskew(img: Image.Image, dpi: int = DEFAULT_DPI) -> Image.Image:
    """The page turned so its text lines are level; same size, corners filled with the paper's grey."""
    img = _normalise(img)
    info, paper = _analyse_gray(_gray_array(img), _dpi_of(img, dpi))
    if info.blank or abs(info.skew_deg) < DESKEW_MIN_DEG:
        return img
    return _rotate(img, -info.skew_deg, paper)


def _dpi_of(img: Image.Image, fallback: int) -> int:
    dpi = img.info.get("dpi")
    if dpi and dpi[0] and 50 <= round(float(dpi[0])) <= 1200:
        return round(float(dpi[0]))
    return fallback or DEFAULT_DPI


# ------------------------------------------------------------------------------------------ encoding
@dataclasses.dataclass
class _Layer:
    """One image XObject of a page and where it goes, in pixels of the full-resolution page."""

    stream: pikepdf.Stream
    box: tuple[int, int, int, int]  # x, y, width, height
    size: int
    paint: bytes = b""  # colour operator for image masks


def _jpeg(arr: np.ndarray, quality: int, full_chroma: bool = False) -> bytes:
    """Baseline JPEG; `full_chroma` (4:4:4) keeps thin red seal strokes red instead of a pink smear."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
    if full_chroma:
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buf = cv2.imencode(".jpg", arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise PagesError("unreadable_page", "JPEG encoder failed")
    return buf.tobytes()


def _jpeg_stream(pdf: pikepdf.Pdf, data: bytes, width: int, height: int, colour: bool,
                 smooth: bool = False) -> pikepdf.Stream:
    """A JPEG image XObject; `smooth` asks viewers to interpolate when they enlarge it (photos and the
    low-resolution background, not a page that is already at full resolution)."""
    stream = pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width,
                            Height=height, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode,
                            ColorSpace=pikepdf.Name.DeviceRGB if colour else pikepdf.Name.DeviceGray)
    if smooth:
        stream.Interpolate = True
    return stream


def _g4(mask: np.ndarray) -> bytes:
    """CCITT Group 4 data of a bilevel mask (True = ink), from libtiff through Pillow, as one strip."""
    h, w = mask.shape
    img = Image.frombytes("1", (w, h), np.packbits(~mask, axis=1).tobytes())  # PIL "1": 0 is black
    buf = io.BytesIO()
    img.save(buf, format="TIFF", compression="group4", strip_size=1 << 30)
    tiff = Image.open(io.BytesIO(buf.getvalue()))
    offsets, counts = tiff.tag_v2[273], tiff.tag_v2[279]
    if len(offsets) != 1:
        raise PagesError("unreadable_page", "G4 mask was split into strips")
    raw = buf.getvalue()
    return raw[offsets[0]:offsets[0] + counts[0]]


def _mask_stream(pdf: pikepdf.Pdf, mask: np.ndarray) -> pikepdf.Stream:
    h, w = mask.shape
    parms = pikepdf.Dictionary(K=-1, Columns=w, Rows=h, BlackIs1=False)
    return pikepdf.Stream(pdf, _g4(mask), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=w,
                          Height=h, ImageMask=True, BitsPerComponent=1, Filter=pikepdf.Name.CCITTFaxDecode,
                          DecodeParms=parms, Decode=[1, 0])


def _photo_boxes(small: np.ndarray, paper: float, ink: float, dpi: int) -> list[tuple[int, int, int, int]]:
    """Areas of continuous tone (portraits, photos) in full-resolution pixels; text, seals and flat tints
    (an ID card's background) are not. A photo inside a tint (the portrait on an ID card) is found by
    looking again inside the tint with the tint's own tones left out."""
    scale = ANALYSIS_DPI / dpi
    step = dpi // math.gcd(dpi, PHOTO_GRID_DPI)
    step = step if step <= 24 else 1
    span = max(paper - ink, 40.0)
    mid = (small > ink + 0.12 * span) & (small < paper - 0.12 * span)
    found = _continuous_tone_regions(small, mid, depth=1)
    pad = 0.5 / 25.4 * ANALYSIS_DPI
    full_w, full_h = round(small.shape[1] / scale), round(small.shape[0] / scale)
    boxes = []
    for x, y, w, h in found:
        x0, y0 = max(0.0, x - pad), max(0.0, y - pad)
        x1, y1 = min(small.shape[1], x + w + pad), min(small.shape[0], y + h + pad)
        bx, by, bw, bh = _aligned((x0 / scale, y0 / scale, x1 / scale, y1 / scale), step)
        boxes.append((bx, by, min(bw, full_w - bx), min(bh, full_h - by)))
    return boxes


def _continuous_tone_regions(small: np.ndarray, mid: np.ndarray, depth: int) -> list[tuple[int, int, int, int]]:
    """Boxes (at analysis resolution) where mid-tones are dense, at least 12 mm a side, and spread over
    many grey levels; `mid` marks the mid-tone pixels."""
    opened = cv2.morphologyEx(mid.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    win = max(3, round(8 / 25.4 * ANALYSIS_DPI) | 1)
    density = cv2.boxFilter(opened.astype(np.float32), -1, (win, win))
    dense = cv2.morphologyEx((density > 0.55).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((win, win), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
    min_side = 12 / 25.4 * ANALYSIS_DPI
    found = []
    for x, y, w, h, area in stats[1:]:
        if w < min_side or h < min_side or area < 0.5 * w * h:
            continue
        window, window_mid = small[y:y + h, x:x + w], opened[y:y + h, x:x + w] > 0
        tones = window[window_mid]
        low, high = np.percentile(tones, (25, 75)) if tones.size else (0.0, 0.0)
        if high - low >= PHOTO_MIN_TONE_SPREAD:
            found.append((int(x), int(y), int(w), int(h)))
        elif depth > 0:  # a flat tint: its text stays in the mask, but it may hold a portrait
            off_tint = window_mid & ((window < low - 15) | (window > high + 15))
            found += [(x + sx, y + sy, sw, sh)
                      for sx, sy, sw, sh in _continuous_tone_regions(window, off_tint, depth - 1)]
    return found


def _aligned(box: tuple[float, float, float, float], step: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) grown to multiples of `step`, as (x, y, width, height): a photo crop then starts on
    a whole pixel at every resolution that is a multiple of PHOTO_GRID_DPI (its own, screens, printers), so
    it is not drawn half a pixel off and blurred by the resampling."""
    x0, y0 = (math.floor(v / step) * step for v in box[:2])
    x1, y1 = (math.ceil(v / step) * step for v in box[2:])
    return x0, y0, x1 - x0, y1 - y0


def _text_mask(gray: np.ndarray, paper: float, ink: float) -> np.ndarray:
    """Ink at full resolution (uint8, 255 = ink); a light blur first so edges, and the G4 stream, are not
    ragged with sensor noise. Lines, seals and signatures darker than mid-way between ink and paper count."""
    threshold = ink + 0.55 * max(paper - ink, 40.0)
    _, mask = cv2.threshold(cv2.GaussianBlur(gray, (5, 5), 0), threshold, 255, cv2.THRESH_BINARY_INV)
    return mask


def _background(arr: np.ndarray, mask: np.ndarray, boxes: list[tuple[int, int, int, int]], paper: float,
                scale: float) -> np.ndarray:
    """The page without its text (and without the photos, drawn on top) at low resolution; the paper is
    pushed to white so the JPEG spends nothing on paper grain. Text is removed block by block at the low
    resolution (a block touching ink, or next to one, becomes paper): the mask covers it at full resolution."""
    small = _resize_to(arr, scale)
    inked = _resize_to(mask, scale)[: small.shape[0], : small.shape[1]] > 0
    inked = cv2.dilate(inked.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    # Blocks under the text take the mean of the clean blocks around them (normalised convolution), so
    # text on a tint does not get a white halo; with no clean block near, paper white.
    keep = (~inked).astype(np.float32)
    around = cv2.boxFilter(keep, -1, (9, 9), normalize=False)
    values = small.astype(np.float32)
    if values.ndim == 3:
        filled = np.dstack([cv2.boxFilter(values[..., c] * keep, -1, (9, 9), normalize=False) for c in range(3)])
        around = around[..., None]
    else:
        filled = cv2.boxFilter(values * keep, -1, (9, 9), normalize=False)
    filled = np.where(around > 0.5, filled / np.maximum(around, 1e-6), 255.0)
    small[inked] = np.clip(filled, 0, 255).astype(np.uint8)[inked]
    near_paper = (small if small.ndim == 2 else small.min(axis=2)) > paper - 25
    small[near_paper] = 255  # all channels at once, so a light red stays red
    for x, y, bw, bh in boxes:
        small[round(y * scale):round((y + bh) * scale), round(x * scale):round((x + bw) * scale)] = 255
    return small


def _encode_mrc(pdf: pikepdf.Pdf, img: Image.Image, small: np.ndarray, dpi: int,
                quality_shift: int = 0) -> list[_Layer]:
    """The layers of one page: background JPEG, photo JPEGs, then the text mask painted in the ink's tone."""
    arr = np.asarray(img)
    colour = arr.ndim == 3
    gray = _gray_array(img)
    h, w = gray.shape
    paper, ink = _levels(small)
    boxes = _photo_boxes(small, paper, ink, dpi)
    mask = _text_mask(gray, paper, ink)
    if colour:  # a red seal or blue ballpoint keeps its colour: it goes to the background, not the black mask
        chroma = cv2.subtract(arr.max(axis=2), arr.min(axis=2))
        mask[chroma > COLOURED_INK_CHROMA] = 0
    for x, y, bw, bh in boxes:
        mask[y:y + bh, x:x + bw] = 0

    layers: list[_Layer] = []
    bg = _background(arr, mask, boxes, paper, BACKGROUND_DPI / dpi)
    if np.count_nonzero(bg < 255) > EMPTY_BACKGROUND_SHARE * bg.size:  # else white paper: no image at all
        data = _jpeg(bg, max(10, BACKGROUND_QUALITY - quality_shift), full_chroma=colour)
        factor = dpi / BACKGROUND_DPI  # the reduction may have cropped a pixel or two at the right and bottom
        covered = (0, 0, min(w, round(bg.shape[1] * factor)), min(h, round(bg.shape[0] * factor)))
        layers.append(_Layer(_jpeg_stream(pdf, data, bg.shape[1], bg.shape[0], colour, smooth=True), covered,
                             len(data)))
    for x, y, bw, bh in boxes:
        crop = arr[y:y + bh, x:x + bw]
        if dpi > PHOTO_DPI:  # Lanczos: keeps the detail a box filter would blur away
            scale = PHOTO_DPI / dpi
            crop = cv2.resize(crop, (round(bw * scale), round(bh * scale)), interpolation=cv2.INTER_LANCZOS4)
        data = _jpeg(np.ascontiguousarray(crop), max(10, PHOTO_QUALITY - quality_shift))
        layers.append(_Layer(_jpeg_stream(pdf, data, crop.shape[1], crop.shape[0], colour, smooth=True), (x, y, bw, bh),
                             len(data)))
    inked = mask[::4, ::4] > 0
    if inked.any():
        sample = arr[::4, ::4][inked]
        if colour:
            r, g, b = (float(np.median(sample[:, c])) / 255 for c in range(3))
            paint = f"{r:.3f} {g:.3f} {b:.3f} rg".encode()
        else:
            paint = f"{float(np.median(sample)) / 255:.3f} g".encode()
        stream = _mask_stream(pdf, mask > 0)
        layers.append(_Layer(stream, (0, 0, w, h), len(stream.read_raw_bytes()), paint))
    return layers


def _original_jpeg(img: Image.Image) -> bytes | None:
    """The compressed bytes a JPEG page came from, when they can still be read."""
    if img.format != "JPEG" or img.mode not in ("L", "RGB"):
        return None
    try:
        if getattr(img, "filename", ""):
            data = Path(img.filename).read_bytes()
        elif getattr(img, "fp", None) is not None and hasattr(img.fp, "getvalue"):
            data = img.fp.getvalue()
        else:
            return None
    except (OSError, ValueError):
        return None
    return data if data[:2] == b"\xff\xd8" else None


def _add_page(pdf: pikepdf.Pdf, layers: list[_Layer], w_px: int, h_px: int, dpi: int) -> None:
    k = 72.0 / dpi
    page_w, page_h = w_px * k, h_px * k
    xobjects = pikepdf.Dictionary()
    ops = []
    for n, layer in enumerate(layers):
        name = f"/Im{n}"
        xobjects[name] = layer.stream
        x, y, bw, bh = layer.box
        ops.append(b"q %s %.4f 0 0 %.4f %.4f %.4f cm %s Do Q" % (
            layer.paint, bw * k, bh * k, x * k, page_h - (y + bh) * k, name.encode()))
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, round(page_w, 4), round(page_h, 4)],
        Resources=pikepdf.Dictionary(XObject=xobjects),
        Contents=pikepdf.Stream(pdf, b"\n".join(ops)),
    )
    pdf.pages.append(pikepdf.Page(page))


def _pack(images: list[Image.Image], dpis: list[int]) -> PackedDocument:
    if not images:
        raise PagesError("no_pages")
    if len(images) > MAX_PAGES:
        raise PagesError("too_many_pages", f"{len(images)} pages")
    pdf = pikepdf.new()
    reports: list[PageReport] = []
    for index, (source, dpi) in enumerate(zip(images, dpis), start=1):
        if not 50 <= dpi <= 1200:
            raise PagesError("bad_resolution", f"{dpi} dpi")
        try:
            img = _normalise(source)
            gray = _gray_array(img)
        except (OSError, ValueError) as e:
            raise PagesError("unreadable_page", f"page {index}: {type(e).__name__}") from e
        small = _resize_to(gray, ANALYSIS_DPI / dpi)
        info, paper = _analyse_small(small)
        deskewed = not info.blank and abs(info.skew_deg) >= DESKEW_MIN_DEG
        original = None if deskewed else _original_jpeg(source)
        if original is not None and len(original) <= PAGE_BUDGET_BYTES:
            layers = [_Layer(_jpeg_stream(pdf, original, img.width, img.height, img.mode == "RGB"),
                             (0, 0, img.width, img.height), len(original))]
            method = "jpeg-passthrough"
        else:
            if deskewed:
                img = _rotate(img, -info.skew_deg, paper)
                small = _resize_to(_gray_array(img), ANALYSIS_DPI / dpi)
            layers = _encode_mrc(pdf, img, small, dpi)
            for shift in (5, 10, 20, 30):  # over budget: give up JPEG quality step by step, never text
                if sum(layer.size for layer in layers) <= PAGE_BUDGET_BYTES - PDF_OVERHEAD_BYTES:
                    break
                layers = _encode_mrc(pdf, img, small, dpi, quality_shift=shift)
            method = "mrc"
        _add_page(pdf, layers, img.width, img.height, dpi)
        size = sum(layer.size for layer in layers)
        reports.append(PageReport(index=index, size_bytes=size, blank=info.blank, skew_deg=info.skew_deg,
                                  deskewed=deskewed, method=method, width_mm=round(img.width / dpi * 25.4, 1),
                                  height_mm=round(img.height / dpi * 25.4, 1)))
        log.debug("page %d: %s, %d bytes, skew %.2f°, blank=%s", index, method, size, info.skew_deg, info.blank)
    out = io.BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
             deterministic_id=True)
    data = out.getvalue()
    return PackedDocument(pdf=data, pages=len(images), sha256=hashlib.sha256(data).hexdigest(),
                          page_sizes=[r.size_bytes for r in reports], report=reports)


def pack_pages(images: list[Image.Image], dpi: int) -> PackedDocument:
    """One PDF for one document component: each page deskewed and MRC-compressed, blank pages kept and flagged."""
    return _pack(images, [dpi] * len(images))


# ------------------------------------------------------------------------------------------ CLI
def pack_command(args: argparse.Namespace) -> int:
    """`kiosk pages pack -o OUT.pdf PAGE... [--dpi N]`: what the kiosk does, with a per-page report on stderr."""
    images, dpis = [], []
    for path in args.pages:
        try:
            img = Image.open(path)
            img.load()
        except (OSError, UnidentifiedImageError) as e:
            print(f"kiosk pages: {path}: {MESSAGES['unreadable_page']} ({type(e).__name__})", file=sys.stderr)
            return 1
        if img.format not in ("PNG", "JPEG", "TIFF"):
            print(f"kiosk pages: {path}: expected a PNG or JPEG page, got {img.format}", file=sys.stderr)
            return 1
        images.append(img)
        dpis.append(_dpi_of(img, args.dpi or DEFAULT_DPI))
    try:
        doc = _pack(images, dpis)
    except PagesError as e:
        print(f"kiosk pages: {e.message} ({e.detail})", file=sys.stderr)
        return 1
    args.output.write_bytes(doc.pdf)
    print(f"{'page':>4} {'KB':>7} {'blank':>5} {'skew°':>6} {'method':<16} size mm", file=sys.stderr)
    for r, path in zip(doc.report, args.pages):
        print(f"{r.index:>4} {r.size_bytes / 1000:>7.1f} {'yes' if r.blank else 'no':>5} {r.skew_deg:>6.2f} "
              f"{r.method:<16} {r.width_mm:.0f}x{r.height_mm:.0f}  {path.name}"
              + ("  (trang trắng? hỏi người dân trước khi bỏ)" if r.blank else ""), file=sys.stderr)
    print(f"{args.output}: {doc.pages} pages, {len(doc.pdf) / 1000:.1f} KB, sha256 {doc.sha256}", file=sys.stderr)
    return 0
