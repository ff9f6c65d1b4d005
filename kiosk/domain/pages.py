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

import dataclasses
import hashlib
import io
import logging
import math
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image, TiffImagePlugin

from drivers.opencv import cv2

__all__ = ["MESSAGES", "PAGE_BUDGET_BYTES", "PackedDocument", "PageInfo", "PageReport", "PagesError",
           "analyse_page", "deskew", "pack_pages"]

log = logging.getLogger(__name__)

DEFAULT_DPI = 300
PAGE_BUDGET_BYTES = 60_000  # issue 3: at most 60 KB per page
PDF_OVERHEAD_BYTES = 1_400  # page object, content stream, xref: kept out of the images' share
MAX_PAGES = 500  # kiosk.portal.models.DocumentRef.pages
BACKGROUND_DPI = 100
PHOTO_DPI = 150  # photos are stored on the pixel grid a viewer draws at 150 dpi (issue 13 measures there)
BACKGROUND_QUALITY = 40
BACKGROUND_QUALITIES = (BACKGROUND_QUALITY, 30, 22, 15)  # 4:2:0 chroma below 40
PHOTO_SSIM_GOAL = 0.935  # each photo gets the lowest JPEG quality whose SSIM (at PHOTO_DPI) reaches this
PHOTO_SSIM_GOAL_TURNED = 0.965  # a deskewed page's photos already lost some SSIM to the rotation's resampling
PHOTO_SSIM_UPGRADES = (0.95, 0.965)  # ...higher goals while a level page stays in budget
PHOTO_SSIM_UPGRADES_TURNED = (0.975, 0.985)  # ...and a deskewed one (its photos denoised, see _encode_mrc)
# ...lower goals when the page is over budget:
PHOTO_SSIM_FALLBACKS = (0.96, 0.95, 0.94, 0.93, 0.92, 0.91, 0.90, 0.89, 0.88, 0.87, 0.86, 0.85, 0.80, 0.70, 0.0)
PHOTO_QUALITY_MIN, PHOTO_QUALITY_MAX = 20, 95
PHOTO_FLAT_STEP = 16  # quantiser step of the flat JPEG table at quality 50 (scaled like libjpeg's), see _PhotoTile
PHOTO_PAD_MM = 1.0  # photo tiles reach this far beyond the detected area
PHOTO_EDGE_DEPTH = 10  # grey levels from the surround (paper or tint) that count as "not surround"...
PHOTO_EDGE_SHARE = 0.3  # ...a photo grows over a row/column with at least this share of such pixels...
PHOTO_SOLID_SHARE = 0.9  # ...a photo joined to small print is where this share of pixels is unlike the surround
PHOTO_TINT_DEPTH = 0.25  # a tint (card background) is at most this share of (paper - ink) darker than the paper
PHOTO_DENOISE_WINDOW = 5  # pixels at PHOTO_DPI of the adaptive filter for a deskewed page's photos
PHOTO_GROW_MM = 40  # ...by at most this much on each side
PLACEMENT_INSET_PT = 0.01  # see _add_page
COLOURED_INK_CHROMA = 60  # max-min of R, G, B above which ink counts as coloured (seal red: ~150)
COLOURED_INK_TEXT_GAP_MM = 1.0  # coloured ink this close to black text stays in the background (see _encode_mrc)
COLOURED_INK_MIN_PIXELS = 400  # fewer coloured pixels than this (stray colour fringes) get no mask of their own
PHOTO_MIN_TONE_SPREAD = 25  # grey levels between the quartiles of a photo's mid-tones; a tint has ~5
PHOTO_MIN_DARKNESS = 0.4  # ...or a flat area this share of (paper - ink) darker than its surround is a photo
PHOTO_SOLID_DARK_SHARE = 0.6  # a block this dark (share of ink-dark pixels, 8 mm window) is no text: _solid_dark
PHOTO_BOTH_SHARE = 0.6  # ...or one that goes this share of the way on both
CARD_MM = (85.6, 54.0)  # an ID-1 card (the citizen's ID card), see _card_tiles...
CARD_SIZE_SLACK = 0.15  # ...found at this share of its size or closer (a photocopy, the tint's own edge)
CARD_TILE_BELOW_DPI = 250  # ...kept as one photo tile on scans below this resolution
CARD_TINT_MIN = 8  # ...when its tint is at least this many grey levels below the paper
CARD_TINT_TOLERANCE = 6  # ...and the tint is the pixels within this of the tint's grey (3x3 blur at 100 dpi)
CARD_CLOSE_MM = 2.3  # ...closed over the guilloche lines and the print
CARD_MARK_MM = 3.0  # marks on such a card this large on both sides (a QR code) stay in the text mask
EMPTY_BACKGROUND_SHARE = 0.0005  # a background with fewer non-white pixels is left out (a flat JPEG is ~4 KB)
ANALYSIS_DPI = 100
DESKEW_MIN_DEG = 0.2  # below this a rotation costs more sharpness than it gains
MAX_SKEW_DEG = 10.0
SKEW_REFINE_DPI = 200  # the skew of a page that is turned is measured again at up to this resolution
SKEW_REFINE_SPAN_DEG = 0.08  # ...within this much of the 100 dpi angle (see _estimate_skew)
SKEW_REFINE_POINTS = 30_000  # ...on at most this many ink pixels (a fixed stride over them)
SKEW_MIN_GAIN = 1.01  # how much sharper the ink's projection must get before a measured skew is believed
BLANK_INK_FRACTION = 0.0003  # share of the page (outside the margins) that must carry ink
BLANK_MARGIN_MM = 5.0
TEXT_INK_MIN_PIXELS = 50  # pixels at ANALYSIS_DPI darker than midway that make an ink level (see _text_ink)
TEXT_MASK_DPI = 300  # a scan at TEXT_MASK_FINE_BELOW_DPI or less has its text mask made at this resolution
TEXT_MASK_FINE_BELOW_DPI = 150  # (see _fine_mask)

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


def _grey_at(values: np.ndarray, *shares: float) -> list[int]:
    """The grey levels (uint8 `values`) below which each share of them lies, from one histogram."""
    hist = np.bincount(values.ravel(), minlength=256).cumsum()
    return [int(np.searchsorted(hist, hist[-1] * share)) for share in shares]


def _levels(gray: np.ndarray) -> tuple[float, float]:
    """(paper, ink) grey levels: the bright and dark ends of the page's histogram."""
    paper, ink = _grey_at(gray, 0.90, 0.005)
    return float(paper), float(min(ink, paper))


def _ink_mask_small(small: np.ndarray, paper: float) -> np.ndarray:
    """Pixels clearly darker than the paper at analysis resolution (show-through and noise stay out)."""
    return small < paper - 50


def _estimate_skew(ink: np.ndarray, around: float | None = None) -> float:
    """Angle whose horizontal projection of the ink is sharpest (text lines line up), in degrees; with
    `around`, only a fine search (to 0.0025°) within SKEW_REFINE_SPAN_DEG of that angle, for a refinement at
    higher resolution."""
    ys, xs = np.nonzero(ink)
    if ys.size < 200:
        return 0.0 if around is None else around
    cap = 40_000 if around is None else SKEW_REFINE_POINTS
    if ys.size > cap:  # a fixed stride keeps it deterministic and fast; lines stay well sampled
        ys, xs = ys[:: ys.size // cap + 1], xs[:: xs.size // cap + 1]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - ink.shape[1] / 2
    span = ink.shape[0] + ink.shape[1]

    def score(deg: float) -> float:
        rows = np.round(ys + xs * math.tan(math.radians(deg))).astype(np.int64) + span
        counts = np.bincount(rows, minlength=2 * span + ink.shape[0])
        return float(np.dot(counts, counts))

    if around is not None:
        # The refinement splits each ink pixel between the two rows it falls between (linear weights), where
        # the coarse search rounds it to one: rounding aliases, and at 150-200 dpi it pulled the angle 0.03-0.04°
        # off (a halftone's screen, an ID card's few lines), which cost a deskewed photo 0.02-0.05 of SSIM.
        # The window is ±SKEW_REFINE_SPAN_DEG: the 100 dpi angle was up to 0.07° off (issue 13, fourth round;
        # mean error over the tuning, seen and probe pages 0.016° -> 0.003°).
        size = 3 * span + ink.shape[0]

        def splatted(deg: float) -> float:
            rows = ys + xs * math.tan(math.radians(deg)) + span  # all positive: truncation is floor
            at = rows.astype(np.int64)
            upper = np.bincount(at, rows - at, minlength=size)  # each pixel's share in the row below it
            counts = np.bincount(at, minlength=size) - upper
            counts[1:] += upper[:-1]
            # not np.dot: on float64 it goes to OpenBLAS, whose threads then spin and cost ~5 ms of CPU a call
            return float(np.square(counts).sum())

        best = around
        for half, step in ((SKEW_REFINE_SPAN_DEG, 0.01), (0.01, 0.0025)):
            candidates = np.arange(best - half, best + half + 1e-9, step)
            best = float(max(candidates, key=splatted))
        return round(best, 4)
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


def _refine_skew(gray: np.ndarray, dpi: int, paper: float, coarse: float) -> float:
    """The skew measured again on the ink at up to 200 dpi (a 100 dpi row is 0.25 mm: an angle 0.04° off
    moves a photo 30 cm from the page's centre by half a pixel at 150 dpi, which costs it SSIM). Only thin
    ink counts: dense blocks (the dark parts of a photo, a QR code) have no lines to line up."""
    factor = max(1, math.ceil(dpi / SKEW_REFINE_DPI))
    finer = _resize_to(gray, 1 / factor) if factor > 1 else gray
    ink = (finer < paper - 50).astype(np.uint8)
    win = max(3, round(3 / 25.4 * dpi / factor) | 1)
    dense = cv2.blur(ink.astype(np.float32), (win, win)) > 0.45
    return _estimate_skew((ink > 0) & ~dense, around=coarse)


def _rotate(img: Image.Image, angle_deg: float, fill: float) -> Image.Image:
    arr = np.asarray(img)
    h, w = arr.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    border = (fill,) * (3 if arr.ndim == 3 else 1)
    out = cv2.warpAffine(arr, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
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
    """One image XObject of a page and where it goes, in pixels of the full-resolution page; without a stream,
    the box filled with `paint` (the paper, see _encode_mrc)."""

    stream: pikepdf.Stream | None
    box: tuple[float, float, float, float]  # x, y from the top, width, height, in PDF points
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
    assert isinstance(tiff, TiffImagePlugin.TiffImageFile) and tiff.tag_v2 is not None
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


def _photo_regions(small: np.ndarray, paper: float, ink: float) -> list[tuple[int, int, int, int]]:
    """Areas of continuous tone (portraits, photos, halftoned pictures), as (x, y, w, h) at analysis
    resolution; text, seals, QR codes and flat tints (an ID card's background) are not. Seeds are dense
    mid-tone areas (a photo inside a tint, the portrait on an ID card, is found by looking again inside the
    tint with the tint's own tones left out); each seed then grows to the photo's rectangle, over its dark,
    light or halftoned parts, until a row or column is (nearly) paper.
    `ink` is taken again without solid dark blocks (see _solid_dark), which are seeds too: a photo as dark as
    the text (brick, the moon, a dark halftone) otherwise set the page's ink level, and being "ink" itself had
    no mid-tones to be found by (issue 13, fifth round: a brick wall on a skewed 150 dpi grey form, SSIM 0.43)."""
    solid = _solid_dark(small, paper)
    ink = _ink_without(small, solid, ink)
    span = max(paper - ink, 40.0)
    mid = (small > ink + 0.12 * span) & (small < paper - 0.12 * span)
    seeds = _continuous_tone_regions(small, mid, depth=1, surround=paper, span=span)
    seeds += [box for box in _solid_dark_blocks(solid) if not any(_inside(box, seed) for seed in seeds)]
    boxes = []
    limit = round(PHOTO_GROW_MM / 25.4 * ANALYSIS_DPI)
    for box in seeds:
        # Growth reaches PHOTO_GROW_MM per call; a seed in one corner of a large photo (a dark, flat halftone
        # whose mid-tones are dense only there) that got that far grows again from where it stopped (issue 13,
        # fifth round: an 80 mm clipping at 150 dpi was found on 70 % of its width).
        for _ in range(3):
            x, y, w, h = box
            box = _grow(box, small, paper, span)
            if max(x - box[0], y - box[1], box[0] + box[2] - x - w, box[1] + box[3] - y - h) < limit:
                break
        boxes.append(box)
    merged: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes, key=lambda b: -b[2] * b[3]):  # a seed inside a grown photo is that photo
        if not any(_inside(box, other) for other in merged):
            merged.append(box)
    return merged


#: The 8 mm window of _solid_dark (and the rim _ink_without leaves out), at half ANALYSIS_DPI, odd.
_SOLID_WINDOW = max(3, round(8 / 25.4 * ANALYSIS_DPI / 2) | 1)


def _solid_dark(small: np.ndarray, paper: float) -> np.ndarray:
    """Where the page is solidly dark, at half ANALYSIS_DPI (enough for 8 mm windows, a quarter of the work):
    in the 8 mm window around, more than PHOTO_SOLID_DARK_SHARE of the pixels darker than the paper by 50 and
    under a tenth near the paper. A photo as dark as the text (a brick wall, the moon) is; text, rules and a
    QR code (half its modules paper-white) never are."""
    half = small[::2, ::2]
    win = _SOLID_WINDOW
    dark = cv2.blur((half < paper - 50).astype(np.float32), (win, win))
    light = cv2.blur((half > paper - 25).astype(np.float32), (win, win))
    return (dark > PHOTO_SOLID_DARK_SHARE) & (light < 0.1)


def _solid_dark_blocks(solid: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The blocks of `solid` (see _solid_dark) at least 12 mm a side and half full, in ANALYSIS_DPI pixels."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(solid.astype(np.uint8), connectivity=8)
    min_side = 12 / 25.4 * ANALYSIS_DPI / 2
    return [(2 * int(x), 2 * int(y), 2 * int(w), 2 * int(h)) for x, y, w, h, area in stats[1:]
            if w >= min_side and h >= min_side and area >= 0.5 * w * h]


def _ink_without(small: np.ndarray, solid: np.ndarray, ink: float) -> float:
    """The ink's grey (as _levels) over the page (every other pixel) without its solid dark blocks and their
    rim; `ink` when there are none or too little is left."""
    if not solid.any():
        return ink
    solid = cv2.dilate(solid.astype(np.uint8), np.ones((_SOLID_WINDOW, _SOLID_WINDOW), np.uint8)) > 0
    rest = small[::2, ::2][~solid]
    if rest.size < 1000:
        return ink
    return max(ink, _levels(rest)[1])


def _card_tiles(small: np.ndarray, regions: list[tuple[int, int, int, int]], paper: float, ink: float,
                dpi: int) -> tuple[list[tuple[int, int, int, int]], list[tuple[tuple[int, int, int, int],
                                                                              tuple[int, int, int, int]]]]:
    """`regions` with each portrait that sits on an ID card (a block of flat tint ID-1 sized, CARD_MM) widened
    to the whole card, on a scan below CARD_TILE_BELOW_DPI: the card's 7-8 pt print (x-height ~1.3 mm, 10 px
    at 200 dpi) on its guilloche then goes into the photo JPEG instead of the bilevel text mask, which
    tesseract read worse (issue 13, sixth round: probe id_front 200 dpi colour 97.9 -> 100, 150 dpi colour
    96.3 -> 99.5; at 300 dpi the mask reads it as well as the scan). The card is the tint around the portrait
    (its surround, PHOTO_TINT_DEPTH at most below the paper), grey levels within CARD_TINT_TOLERANCE of it,
    closed over the guilloche and the print."""
    if dpi >= CARD_TILE_BELOW_DPI or not regions:
        return regions, []
    cards = []
    span = max(paper - ink, 40.0)
    blurred: np.ndarray | None = None
    out: list[tuple[int, int, int, int]] = []
    mm = ANALYSIS_DPI / 25.4
    close = max(3, round(CARD_CLOSE_MM * mm) | 1)
    for box in regions:
        tint = _surround_tone(small, box)
        if not CARD_TINT_MIN <= paper - tint <= PHOTO_TINT_DEPTH * span:
            out.append(box)
            continue
        if blurred is None:
            blurred = cv2.blur(small, (3, 3)).astype(np.int16)
        near = (np.abs(blurred - int(tint)) <= CARD_TINT_TOLERANCE).astype(np.uint8)
        near = cv2.morphologyEx(near, cv2.MORPH_CLOSE, np.ones((close, close), np.uint8))
        x, y, w, h = box
        near[y:y + h, x:x + w] = 1
        _, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
        cx, cy, cw, ch, area = (int(v) for v in stats[labels[y + h // 2, x + w // 2]])
        long_mm, short_mm = max(cw, ch) / mm, min(cw, ch) / mm
        card_long, card_short = CARD_MM
        if (abs(long_mm - card_long) <= CARD_SIZE_SLACK * card_long
                and abs(short_mm - card_short) <= CARD_SIZE_SLACK * card_short and area >= 0.75 * cw * ch):
            card = (min(x, cx), min(y, cy), max(x + w, cx + cw) - min(x, cx), max(y + h, cy + ch) - min(y, cy))
            cards.append((card, box))
            box = card
        out.append(box)
    merged: list[tuple[int, int, int, int]] = []
    for box in sorted(out, key=lambda b: -b[2] * b[3]):  # two portraits on one card: one card tile
        if not any(_inside(box, other) for other in merged):
            merged.append(box)
    return merged, cards


def _card_marks(mask: np.ndarray, card: tuple[int, int, int, int], portrait: tuple[int, int, int, int],
                dpi: int) -> tuple[tuple[int, int], np.ndarray]:
    """The large marks of a card kept as one tile (see _card_tiles), outside its portrait: ink shapes at
    least CARD_MARK_MM on both sides (the QR code's modules, the card's outline), not the print, whose letters
    are smaller. They stay in the text mask, drawn sharp over the card's JPEG: a QR code in a 150 dpi JPEG
    tile is 3 px a module, which a phone checking the card decodes worse. ((x0, y0), marks) in scan pixels,
    marks the card box's shape."""
    f = dpi / ANALYSIS_DPI
    h, w = mask.shape
    x0, y0 = max(0, math.floor(card[0] * f)), max(0, math.floor(card[1] * f))
    x1, y1 = min(w, math.ceil((card[0] + card[2]) * f)), min(h, math.ceil((card[1] + card[3]) * f))
    sub = mask[y0:y1, x0:x1].copy()
    pad = PHOTO_PAD_MM / 25.4 * dpi
    px, py, pw, ph = portrait
    px0, py0 = max(0, math.floor(px * f - pad) - x0), max(0, math.floor(py * f - pad) - y0)
    px1, py1 = max(0, math.ceil((px + pw) * f + pad) - x0), max(0, math.ceil((py + ph) * f + pad) - y0)
    sub[py0:py1, px0:px1] = 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(sub, connectivity=8)
    side = CARD_MARK_MM / 25.4 * dpi
    big = np.zeros(n, bool)
    big[1:] = (stats[1:, cv2.CC_STAT_WIDTH] >= side) & (stats[1:, cv2.CC_STAT_HEIGHT] >= side)
    return (x0, y0), big[labels]


def _surround_tone(small: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The commonest grey in a ring 2 to 8 mm around the box: the paper, or the tint a portrait sits on."""
    x, y, w, h = box
    near, far = (round(v / 25.4 * ANALYSIS_DPI) for v in (2, 8))
    H, W = small.shape
    outer = small[max(0, y - far):min(H, y + h + far), max(0, x - far):min(W, x + w + far)]
    ring = np.ones(outer.shape, bool)
    iy, ix = y - max(0, y - far), x - max(0, x - far)
    ring[max(0, iy - near):iy + h + near, max(0, ix - near):ix + w + near] = False
    hist = np.bincount(outer[ring].ravel(), minlength=256).astype(np.float32)
    return float(np.argmax(np.convolve(hist, np.ones(5, np.float32), mode="same")))


def _grow(box: tuple[int, int, int, int], small: np.ndarray, paper: float,
          span: float) -> tuple[int, int, int, int]:
    """The box pushed out side by side while the next column or row along it still carries a photo's
    share of pixels unlike the surround (paper, or the card's tint): over a photo's dark, light or
    halftoned parts, but not over text beside it, which a gap of surround separates from the photo.
    A "surround" darker than any tint (more than PHOTO_TINT_DEPTH of `span` below the paper) is the photo
    itself around a box that covers only part of it (see _photo_regions): the photo then grows against the
    paper instead of stopping where it looks like itself."""
    x, y, w, h = box
    surround = _surround_tone(small, box)
    if paper - surround > PHOTO_TINT_DEPTH * span:
        surround = paper
    limit = round(PHOTO_GROW_MM / 25.4 * ANALYSIS_DPI)
    H, W = small.shape
    wx0, wy0, wx1, wy1 = max(0, x - limit), max(0, y - limit), min(W, x + w + limit), min(H, y + h + limit)
    window = small[wy0:wy1, wx0:wx1].astype(np.int16)
    differs = (np.abs(window - int(surround)) > PHOTO_EDGE_DEPTH).astype(np.uint8)
    unlike = cv2.morphologyEx(differs, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0  # no text strokes
    x0, y0, x1, y1 = x - wx0, y - wy0, x + w - wx0, y + h - wy0
    hh, ww = unlike.shape
    grown = True
    while grown:
        grown = False
        if x0 > 0 and unlike[y0:y1, x0 - 1].mean() >= PHOTO_EDGE_SHARE:
            x0, grown = x0 - 1, True
        if x1 < ww and unlike[y0:y1, x1].mean() >= PHOTO_EDGE_SHARE:
            x1, grown = x1 + 1, True
        if y0 > 0 and unlike[y0 - 1, x0:x1].mean() >= PHOTO_EDGE_SHARE:
            y0, grown = y0 - 1, True
        if y1 < hh and unlike[y1, x0:x1].mean() >= PHOTO_EDGE_SHARE:
            y1, grown = y1 + 1, True
    return x0 + wx0, y0 + wy0, x1 - x0, y1 - y0


def _inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Is most of box a within box b."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy >= 0.5 * a[2] * a[3]


def _continuous_tone_regions(small: np.ndarray, mid: np.ndarray, depth: int, surround: float,
                             span: float) -> list[tuple[int, int, int, int]]:
    """Boxes (at analysis resolution) where mid-tones are dense, at least 12 mm a side, and either spread
    over many grey levels or, flat as they are, far darker than what they sit on (`surround`: the paper,
    or the tint looked inside): a tint under text is light, or its text could not be read, whereas a
    low-contrast photo (a wall, gravel, a faded print) is a mid-grey block. `mid` marks the mid-tone pixels."""
    opened = cv2.morphologyEx(mid.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    win = max(3, round(8 / 25.4 * ANALYSIS_DPI) | 1)
    density = cv2.boxFilter(opened.astype(np.float32), -1, (win, win))
    dense = cv2.morphologyEx((density > 0.55).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((win, win), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
    min_side = 12 / 25.4 * ANALYSIS_DPI
    found = []
    for x, y, w, h, area in stats[1:]:
        if w < min_side or h < min_side:
            continue
        if area < 0.5 * w * h:  # a photo joined to the dense small print beside it (an ID card at 150 dpi)
            if depth > 0:
                found += [(x + sx, y + sy, sw, sh) for sx, sy, sw, sh in
                          _solid_blocks(small, (int(x), int(y), int(w), int(h)), span)]
            continue
        window, window_mid = small[y:y + h, x:x + w], opened[y:y + h, x:x + w] > 0
        tones = window[window_mid]
        low, high = np.percentile(tones, (25, 75)) if tones.size else (0.0, 0.0)
        darkness = (surround - float(np.median(tones))) / (PHOTO_MIN_DARKNESS * span) if tones.size else 0.0
        spread = (high - low) / PHOTO_MIN_TONE_SPREAD
        # either test alone, or both most of the way (a faded photo: squeezed tones, a mid-grey block; a tint's
        # spread is its noise, a third of the photo's)
        if spread >= 1 or darkness >= 1 or min(spread, darkness) >= PHOTO_BOTH_SHARE:
            found.append((int(x), int(y), int(w), int(h)))
        elif depth > 0:  # a flat tint: its text stays in the mask, but it may hold a portrait
            off_tint = window_mid & ((window < low - 15) | (window > high + 15))
            tint = float(np.median(tones))
            inside = _continuous_tone_regions(window, off_tint, depth - 1, tint, span)
            if not inside:
                # A portrait whose tones overlap the tint's (a light sky, a pale face on a card whose tint is
                # close to the paper) is too sparse off the tint for the test above; it is still a solid
                # block unlike both tint and paper (issue 13, fourth round: colour ID cards at 150-200 dpi).
                inside = _solid_blocks(small, (int(x), int(y), int(w), int(h)), span)
            found += [(x + sx, y + sy, sw, sh) for sx, sy, sw, sh in inside]
    return found


def _solid_blocks(small: np.ndarray, box: tuple[int, int, int, int], span: float) -> list[tuple[int, int, int, int]]:
    """Inside a ragged dense area, the blocks at least 12 mm a side where nearly every pixel differs both from
    the surround (paper) and from the commonest tone inside (a card's tint): a photo is solid, small print
    beside it has paper or tint between its lines.
    Boxes relative to `box`, each one also spread over many grey levels (the test photos pass)."""
    x, y, w, h = box
    window = small[y:y + h, x:x + w]
    signed = window.astype(np.int16)
    hist = np.convolve(np.bincount(window.ravel(), minlength=256).astype(np.float32), np.ones(5, np.float32), "same")
    inner = int(np.argmax(hist))  # the commonest tone inside: the card's tint, or the paper
    surround = int(_surround_tone(small, box))
    unlike = np.abs(signed - surround) > PHOTO_EDGE_DEPTH
    if surround - inner < PHOTO_TINT_DEPTH * span:
        # ...left out only when it is light like a tint: when the commonest tone is dark, it is the photo's
        # own (a halftone's merged dots at 150 dpi), and leaving it out tore the photo into scraps
        unlike &= np.abs(signed - inner) > PHOTO_EDGE_DEPTH
    opened = cv2.morphologyEx(unlike.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    win = max(3, round(4 / 25.4 * ANALYSIS_DPI) | 1)
    solid = (cv2.boxFilter(opened.astype(np.float32), -1, (win, win)) > PHOTO_SOLID_SHARE).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    min_side = 12 / 25.4 * ANALYSIS_DPI
    found = []
    for sx, sy, sw, sh, area in stats[1:]:
        if sw < min_side or sh < min_side or area < 0.7 * sw * sh:
            continue
        low, high = np.percentile(window[sy:sy + sh, sx:sx + sw], (25, 75))
        if high - low >= PHOTO_MIN_TONE_SPREAD:
            found.append((int(sx), int(sy), int(sw), int(sh)))
    return found


@dataclasses.dataclass(frozen=True)
class _Grid:
    """The page as a viewer draws it at PHOTO_DPI: `cols` x `rows` pixels, each the area average of the
    scan pixels under it (the page's own size, rounded, so a pixel of the scan's edge is never lost)."""

    width: int  # scan pixels
    height: int
    cols: int
    rows: int

    @classmethod
    def of(cls, width: int, height: int, dpi: int) -> _Grid:
        scale = min(1.0, PHOTO_DPI / dpi)
        return cls(width, height, max(1, round(width * scale)), max(1, round(height * scale)))

    def x_to_scan(self, col: float) -> float:
        return col * self.width / self.cols

    def y_to_scan(self, row: float) -> float:
        return row * self.height / self.rows


def _photo_pixels(arr: np.ndarray, grid: _Grid, cols: tuple[int, int], rows: tuple[int, int]) -> np.ndarray:
    """The photo tile at PHOTO_DPI: exactly the page-wide box reduction (PIL's BOX filter, the usual way to
    bring a scan to 150 dpi) restricted to the tile, so it lands on the very pixels a viewer at PHOTO_DPI
    draws; a scan at PHOTO_DPI or less is cropped as it is."""
    if grid.cols == grid.width and grid.rows == grid.height:
        return np.ascontiguousarray(arr[rows[0]:rows[1], cols[0]:cols[1]])
    source = (grid.x_to_scan(cols[0]), grid.y_to_scan(rows[0]), grid.x_to_scan(cols[1]), grid.y_to_scan(rows[1]))
    tile = Image.fromarray(arr).resize((cols[1] - cols[0], rows[1] - rows[0]), Image.Resampling.BOX, box=source)
    return np.asarray(tile)


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two grey images (scikit-image's defaults: 7x7 uniform window, sample covariance)."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    if min(a.shape) < 8:
        return 1.0 if np.array_equal(a, b) else 0.0
    win = (7, 7)
    norm = 49 / 48
    mean = lambda v: cv2.boxFilter(v, -1, win, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    ma, mb = mean(a), mean(b)
    va, vb, cab = (mean(a * a) - ma * ma) * norm, (mean(b * b) - mb * mb) * norm, (mean(a * b) - ma * mb) * norm
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    return float(s[3:-3, 3:-3].mean())


def _jpeg_flat(arr: np.ndarray, quality: int) -> bytes:
    """Baseline JPEG with one quantiser step for every frequency (PHOTO_FLAT_STEP at quality 50, scaled by
    quality as libjpeg scales its own tables). The standard tables quantise high frequencies coarsely, which
    suits a smooth photo; a halftone at PHOTO_DPI is mostly high frequencies (its dots, aliased), and a flat
    table keeps them at fewer bytes for the same SSIM: a 300 dpi clipping's tile at 33 KB scores 0.948 with
    a flat table, 0.894 with the standard one (issue 13, fifth round)."""
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    step = max(1, min(255, round((PHOTO_FLAT_STEP * scale + 50) / 100)))
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", qtables=[[step] * 64] * (1 if arr.ndim == 2 else 2),
                              optimize=True)
    return buf.getvalue()


class _PhotoTile:
    """One photo area: its PHOTO_DPI pixels, and JPEG encodings of them found on demand, by quality, with the
    standard quantisation tables or (`flat`, see _jpeg_flat) one step for all frequencies."""

    def __init__(self, pixels: np.ndarray, cols: tuple[int, int], rows: tuple[int, int]):
        self.pixels, self.cols, self.rows = pixels, cols, rows
        self.grey = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
        self.flat = False
        self._data: dict[tuple[bool, int], bytes] = {}
        self._scores: dict[tuple[bool, int], float] = {}

    def data(self, quality: int) -> bytes:
        """The JPEG at `quality`, in the tile's table family."""
        key = (self.flat, quality)
        if key not in self._data:
            self._data[key] = _jpeg_flat(self.pixels, quality) if self.flat else _jpeg(self.pixels, quality)
        return self._data[key]

    def encode(self, quality: int) -> tuple[bytes, float]:
        """(JPEG bytes, SSIM of the decoded tile against the tile) at `quality`, in the tile's table family."""
        key = (self.flat, quality)
        data = self.data(quality)
        if key not in self._scores:
            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            assert decoded is not None, "OpenCV cannot read back the JPEG it wrote"
            self._scores[key] = _ssim(self.grey, decoded)
        return data, self._scores[key]

    def highest_quality_within(self, size: int, hi: int) -> int:
        """The highest quality up to `hi` whose JPEG is at most `size` bytes (binary search; sizes grow with
        quality), PHOTO_QUALITY_MIN when none is."""
        lo = PHOTO_QUALITY_MIN
        while lo < hi:
            q = (lo + hi + 1) // 2
            if len(self.data(q)) <= size:
                lo = q
            else:
                hi = q - 1
        return lo

    def cheapest_for(self, goal: float) -> int:
        """The lowest quality reaching `goal` in whichever table family needs fewer bytes for it; the tile
        keeps that family. The flat family is searched only up to the standard family's quality: at the same
        quality its steps are finer than the standard tables' everywhere but at the DC, so when it does not
        reach the goal there it is not the cheaper one (and the large encodings near quality 95 are saved)."""
        self.flat = False
        q = self.lowest_quality_for(goal)
        data, score = self.encode(q)
        self.flat = True
        if self.encode(q)[1] < goal:
            self.flat = False
            return q
        flat_q = self.lowest_quality_for(goal, q)
        if score >= goal and len(self.encode(flat_q)[0]) >= len(data):
            self.flat = False
            return q
        return flat_q

    def lowest_quality_for(self, goal: float, hi: int = PHOTO_QUALITY_MAX) -> int:
        """The lowest JPEG quality up to `hi` whose SSIM reaches `goal` (binary search; SSIM grows with
        quality), or `hi` when none does."""
        lo = PHOTO_QUALITY_MIN
        if self.encode(hi)[1] < goal:
            return hi
        while lo < hi:
            q = (lo + hi) // 2
            if self.encode(q)[1] >= goal:
                hi = q
            else:
                lo = q + 1
        return hi


def _noise_variance(arr: np.ndarray, dpi: int) -> float:
    """The sensor noise's variance at PHOTO_DPI, per channel: the median local variance (7x7) over flat
    paper (local mean within 8 levels of the paper's, variance under 200), measured at the scan's own
    resolution on bands of rows across the page, then divided by the number of scan pixels a PHOTO_DPI pixel
    averages ((dpi / PHOTO_DPI)^2, as for independent noise). Measured on the page already reduced to
    PHOTO_DPI (until the fifth round) it came out 0.7x that at 200 dpi, whose 4:3 reduction leaves the noise
    correlated, and 1.35x at 300 dpi; the Wiener filter then left too much grain on 200 dpi photos (lossless
    SSIM against the level scan of skewed grey 200 dpi forms and faded photos +0.01-0.015, textures and
    halftones within 0.002). For colour, measured on the green channel (one channel's noise is what the
    filter removes from each). 0 when no flat paper is found."""
    plane = arr if arr.ndim == 2 else arr[..., 1]
    h = plane.shape[0]
    band = 32
    starts = range(0, max(1, h - band), max(band, h // 24))  # ~24 bands: a sample of the page, not all of it
    sample = np.concatenate([plane[r:r + band] for r in starts]).astype(np.float32)
    mean = cv2.boxFilter(sample, -1, (7, 7))
    var = cv2.boxFilter(sample * sample, -1, (7, 7)) - mean * mean
    paper = float(np.percentile(sample[::4, ::4], 90))
    flat = ((np.abs(mean - paper) < 8) & (var < 200))[3:-3:3, 3:-3:3]
    if np.count_nonzero(flat) < 200:
        return 0.0
    return float(np.median(var[3:-3:3, 3:-3:3][flat])) * min(1.0, PHOTO_DPI / dpi) ** 2


def _denoised(pixels: np.ndarray, noise_var: float) -> np.ndarray:
    """An adaptive (Wiener) filter, 5x5: each pixel pulled towards its local mean by the share of the local
    variance that is noise. Flat parts of a photo lose the sensor's grain; edges, texture and halftone dots,
    whose variance is far above the noise's, are left almost as they are."""
    k = (PHOTO_DENOISE_WINDOW, PHOTO_DENOISE_WINDOW)
    planes = [pixels] if pixels.ndim == 2 else list(cv2.split(pixels))
    out = []
    for plane in planes:
        v = plane.astype(np.float32)
        mean = cv2.boxFilter(v, -1, k, borderType=cv2.BORDER_REFLECT)
        var = cv2.boxFilter(v * v, -1, k, borderType=cv2.BORDER_REFLECT) - mean * mean
        gain = np.maximum(var - noise_var, 0) / np.maximum(var, noise_var)
        out.append(np.clip(mean + gain * (v - mean) + 0.5, 0, 255).astype(np.uint8))
    return out[0] if len(out) == 1 else cv2.merge(out)


def _photo_tiles(arr: np.ndarray, regions: list[tuple[int, int, int, int]], dpi: int,
                 grid: _Grid, noise_var: float = 0.0) -> list[_PhotoTile]:
    """Each photo region (analysis pixels), padded by PHOTO_PAD_MM and snapped outwards to the PHOTO_DPI
    grid, as a tile; with `noise_var` (a deskewed page, see _encode_mrc) denoised by _denoised."""
    to_cols = grid.cols / (arr.shape[1] * ANALYSIS_DPI / dpi)
    to_rows = grid.rows / (arr.shape[0] * ANALYSIS_DPI / dpi)
    pad = PHOTO_PAD_MM / 25.4 * ANALYSIS_DPI
    tiles = []
    for x, y, w, h in regions:
        c0, c1 = max(0, math.floor((x - pad) * to_cols)), min(grid.cols, math.ceil((x + w + pad) * to_cols))
        r0, r1 = max(0, math.floor((y - pad) * to_rows)), min(grid.rows, math.ceil((y + h + pad) * to_rows))
        if c1 - c0 >= 8 and r1 - r0 >= 8:
            pixels = _photo_pixels(arr, grid, (c0, c1), (r0, r1))
            if noise_var > 0:
                pixels = _denoised(pixels, noise_var)
            tiles.append(_PhotoTile(pixels, (c0, c1), (r0, r1)))
    return tiles


def _scan_box(tile: _PhotoTile, grid: _Grid) -> tuple[int, int, int, int]:
    """The scan pixels (x0, y0, x1, y1) a tile covers, rounded outwards."""
    return (math.floor(grid.x_to_scan(tile.cols[0])), math.floor(grid.y_to_scan(tile.rows[0])),
            min(grid.width, math.ceil(grid.x_to_scan(tile.cols[1]))),
            min(grid.height, math.ceil(grid.y_to_scan(tile.rows[1]))))


def _text_ink(small: np.ndarray, regions: list[tuple[int, int, int, int]], ink: float) -> float:
    """The ink's grey without the photos: a photo's shadows are darker than any toner, and an ink level taken
    from them puts the text threshold so low that the lighter half of every stroke falls out of the mask
    (into the background, blurred, at 40 KB on a 150 dpi page)."""
    if not regions:
        return ink
    keep = np.ones(small.shape, bool)
    for x, y, w, h in regions:
        keep[y:y + h, x:x + w] = False
    rest = small[keep]
    if rest.size < 1000:
        return ink
    paper, text_ink = _levels(rest)
    midway = (ink + paper) / 2
    if text_ink > midway:
        # so little ink outside the photos (a heading over an ID card found whole as a photo) that the level
        # fell on the paper's side: the threshold then took in a card's tint round the tile, as text, and
        # the mask was painted in that tint, the heading pale (issue 13, eighth round). The ink that is there:
        dark = rest[rest <= midway]
        if dark.size < TEXT_INK_MIN_PIXELS:
            return ink
        text_ink = float(np.median(dark))
    return max(ink, text_ink)


def _text_mask(gray: np.ndarray, paper: float, ink: float, dpi: int = DEFAULT_DPI) -> np.ndarray:
    """Ink at full resolution (uint8, 255 = ink); a light blur first so edges, and the G4 stream, are not
    ragged with sensor noise (5x5 at 250 dpi and more, 3x3 below: a 5x5 blur at 150 dpi spans 0.85 mm and
    washes thin strokes out of the mask into the background). Lines, seals and signatures darker than mid-way
    between ink and paper count."""
    threshold = ink + 0.55 * max(paper - ink, 40.0)
    size = 5 if dpi >= 250 else 3
    _, mask = cv2.threshold(cv2.GaussianBlur(gray, (size, size), 0), threshold, 255, cv2.THRESH_BINARY_INV)
    return mask


def _fine_mask(gray: np.ndarray, mask: np.ndarray, dpi: int, paper: float, ink: float) -> np.ndarray:
    """The text mask as stored: at the scan's resolution from 250 dpi up; below, thresholded again on the scan
    enlarged (cubic) to TEXT_MASK_DPI, so a 150 dpi page's letters keep the shape their grey edges give them
    instead of 150 dpi staircases (OCR: a 150 dpi form 94.6 -> 97 %, close to the grey scan's 97.5 %). Where the
    scan-resolution mask is clear (photos, coloured ink) the fine one is too."""
    if dpi > TEXT_MASK_FINE_BELOW_DPI:
        return mask > 0
    factor = TEXT_MASK_DPI / dpi
    h, w = gray.shape
    size = (round(w * factor), round(h * factor))
    fine = _text_mask(cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC), paper, ink, dpi)
    allowed = cv2.resize(cv2.dilate(mask, np.ones((3, 3), np.uint8)), size, interpolation=cv2.INTER_NEAREST)
    return (fine > 0) & (allowed > 0)


def _chroma(arr: np.ndarray) -> np.ndarray:
    """max - min of R, G, B per pixel (0 for grey), with OpenCV (numpy's reductions over the last axis of a
    large image are slow)."""
    r, g, b = cv2.split(arr)
    return cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))


def _colour_inks(arr: np.ndarray, coloured: np.ndarray) -> list[tuple[np.ndarray, bytes]]:
    """Coloured ink outside the photos (a red seal, a violet one, blue ballpoint) as full-resolution bilevel
    masks, one per run of hues present (16 hue bins of 22.5°; an empty bin separates two inks), each painted
    with the PDF colour operator of its median colour: sharp at a few KB, where the 100 dpi background JPEG
    spent 10-20 KB on two seals and still blurred them. Hue groups with fewer than COLOURED_INK_MIN_PIXELS
    pixels stay out."""
    if np.count_nonzero(coloured) < COLOURED_INK_MIN_PIXELS:
        return []
    ys, xs = np.nonzero(coloured)
    pixels = arr[ys, xs]  # only the coloured pixels: a few per cent of the page
    hue = np.asarray(cv2.cvtColor(pixels[:, None, :], cv2.COLOR_RGB2HSV_FULL)[:, 0, 0], np.uint8)  # 0-255 round
    bins = np.bincount(np.right_shift(hue, 4), minlength=16)  # 16 bins of 22.5 degrees
    present = bins >= max(COLOURED_INK_MIN_PIXELS, 0.02 * bins.sum())
    if not present.any():
        return []
    # groups: runs of present bins around the circle; a bin that is absent ends a group
    start = int(np.argmin(present)) if not present.all() else 0
    groups: list[list[int]] = []
    for step in range(16):
        b = (start + step) % 16
        if present[b]:
            if groups and (groups[-1][-1] + 1) % 16 == b:
                groups[-1].append(b)
            else:
                groups.append([b])
    centres = [float(np.average(np.array(g) + 0.5, weights=bins[g])) for g in groups]
    # every coloured pixel to the nearest group's centre (circular distance in bins)
    if len(groups) == 1:
        which = np.zeros(hue.shape, np.intp)
    else:
        hb = hue.astype(np.float32) / 16
        which = np.argmin(np.stack([np.abs((hb - c + 8) % 16 - 8) for c in centres]), axis=0)
    out = []
    for n in range(len(groups)):
        mine = which == n
        if np.count_nonzero(mine) < COLOURED_INK_MIN_PIXELS:
            continue
        ink_mask = np.zeros(coloured.shape, bool)
        ink_mask[ys[mine], xs[mine]] = True
        red, green, blue = (float(np.median(pixels[mine, c])) / 255 for c in range(3))
        out.append((ink_mask, f"{red:.3f} {green:.3f} {blue:.3f} rg".encode()))
    return out


def _background(arr: np.ndarray, mask: np.ndarray, boxes: list[tuple[int, int, int, int]], paper: float,
                scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The page without its text (and without the photos, drawn on top) at low resolution, and the paper's
    colour (one value per channel); the paper is made that one flat colour so the JPEG spends nothing on paper
    grain. Text is removed block by block at the low resolution (a block touching ink, or next to one, becomes
    paper): the mask covers it at full resolution. `boxes` are (x0, y0, x1, y1) in scan pixels."""
    small = _resize_to(arr, scale)
    inked = _resize_to(mask, scale)[: small.shape[0], : small.shape[1]] > 0
    inked = cv2.dilate(inked.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    # Blocks under the text take the mean of the clean blocks around them (normalised convolution), so
    # text on a tint does not get a white halo; with no clean block near, paper (white, then the paper's tone).
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
    darkest = small if small.ndim == 2 else cv2.min(cv2.min(small[..., 0], small[..., 1]), small[..., 2])
    near_paper = darkest > paper - 25
    # the paper's own tone, not white: a photo tile keeps the tones of the scan, and on a page made white a
    # light tint in it (an ID card's) stood twice as far below the page's white as on the scan, so tesseract's
    # global threshold fell between paper and tint and the whole card read black (issue 13, eighth round)
    sample, paper_sample = small[::2, ::2], near_paper[::2, ::2]  # every fourth pixel is plenty for a median
    planes = [sample] if sample.ndim == 2 else [sample[..., c] for c in range(3)]
    tone = np.array([_grey_at(plane[paper_sample], 0.5)[0] if paper_sample.any() else 255 for plane in planes],
                    np.uint8)
    tone = tone[0] if small.ndim == 2 else tone
    small[near_paper] = tone  # all channels at once, so a light red stays red
    for x0, y0, x1, y1 in boxes:
        small[math.floor(y0 * scale):math.ceil(y1 * scale), math.floor(x0 * scale):math.ceil(x1 * scale)] = tone
    return small, tone


def _encode_mrc(pdf: pikepdf.Pdf, img: Image.Image, small: np.ndarray, dpi: int,
                budget: int = PAGE_BUDGET_BYTES - PDF_OVERHEAD_BYTES, turned: bool = False) -> list[_Layer]:
    """The layers of one page: background JPEG, photo JPEGs (each at the lowest quality that keeps it at
    PHOTO_SSIM_GOAL, lower only when the page would not fit `budget`), then the text mask in the ink's tone."""
    arr = np.asarray(img)
    colour = arr.ndim == 3
    gray = _gray_array(img)
    h, w = gray.shape
    k = 72.0 / dpi
    paper, ink = _levels(small)
    grid = _Grid.of(w, h, dpi)
    photos = _photo_regions(small, paper, ink)
    regions, cards = _card_tiles(small, photos, paper, ink, dpi)
    # On a deskewed page the rotation has resampled the scanner's noise: what is left of it no longer matches
    # the grain of the page as scanned level, it only blurs the picture's structure, and JPEG pays for it.
    # Its photos are denoised (adaptive Wiener, the noise measured on the page's paper): SSIM of a lossless
    # deskew against the level scan 0.87-0.88 -> 0.91-0.92 on 200-300 dpi form and faded photos, +0.00-0.01
    # on halftones and textures (issue 13, fourth round, tuning and probe pages). A level page's tile is the
    # scan itself and is left alone.
    tiles = _photo_tiles(arr, regions, dpi, grid, _noise_variance(arr, dpi) if turned and regions else 0.0)
    boxes = [_scan_box(tile, grid) for tile in tiles]
    # the ink's level without the photos proper, not the cards widened around them (see _card_tiles): a card
    # tile can hold most of a page's ink, and the text outside it (a heading) is lighter than its print
    text_ink = _text_ink(small, photos, ink)
    mask = _text_mask(gray, paper, text_ink, dpi)
    coloured = None
    if colour:  # a red seal or blue ballpoint keeps its colour: its own masks, painted in its colours
        coloured = _chroma(arr) > COLOURED_INK_CHROMA
        mask[coloured] = 0
    kept = [_card_marks(mask, card, portrait, dpi) for card, portrait in cards]
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = 0
        if coloured is not None:
            coloured[y0:y1, x0:x1] = False
    for (x0, y0), marks in kept:
        mask[y0:y0 + marks.shape[0], x0:x0 + marks.shape[1]][marks] = 255
    removed = mask
    inks: list[tuple[np.ndarray, bytes]] = []
    if coloured is not None:
        # Coloured ink across typed lines stays in the soft background, as before: a sharp seal stroke through
        # a letter makes tesseract misread it, a blurred one does not (OCR of a seal over text 89.6 -> 97 %).
        reach = max(3, round(COLOURED_INK_TEXT_GAP_MM / 25.4 * dpi) | 1)
        apart = coloured & (cv2.dilate(mask, np.ones((reach, reach), np.uint8)) == 0)
        inks = _colour_inks(arr, apart)
        removed = np.where(apart, np.uint8(255), mask) if inks else mask

    layers: list[_Layer] = []
    colour_layers = []
    for ink_mask, paint in inks:
        stream = _mask_stream(pdf, ink_mask)
        colour_layers.append(_Layer(stream, (0.0, 0.0, w * k, h * k), len(stream.read_raw_bytes()), paint))
    mask_layer = None
    inked = mask[::4, ::4] > 0
    if inked.any():
        sample = arr[::4, ::4][inked]
        if colour:
            r, g, b = (float(np.median(sample[:, c])) / 255 for c in range(3))
            paint = f"{r:.3f} {g:.3f} {b:.3f} rg".encode()
        else:
            paint = f"{float(np.median(sample)) / 255:.3f} g".encode()
        stream = _mask_stream(pdf, _fine_mask(gray, mask, dpi, paper, text_ink))
        mask_layer = _Layer(stream, (0.0, 0.0, w * k, h * k), len(stream.read_raw_bytes()), paint)
    def room() -> int:
        return (budget - sum(layer.size for layer in layers) - sum(layer.size for layer in colour_layers)
                - (mask_layer.size if mask_layer else 0))

    goal = PHOTO_SSIM_GOAL_TURNED if turned else PHOTO_SSIM_GOAL
    qualities = [tile.lowest_quality_for(goal) for tile in tiles]

    def photo_bytes(qs: list[int]) -> int:
        return sum(len(tile.data(q)) for tile, q in zip(tiles, qs, strict=True))

    if mask_layer and dpi <= TEXT_MASK_FINE_BELOW_DPI and photo_bytes(qualities) > room():
        # the fine mask would push the photos below their goal: the scan-resolution one leaves them room
        stream = _mask_stream(pdf, mask > 0)
        mask_layer = dataclasses.replace(mask_layer, stream=stream, size=len(stream.read_raw_bytes()))
    bg, tone = _background(arr, removed, boxes, paper, BACKGROUND_DPI / dpi)
    # the paper first, one fill of its colour over the whole page (a few bytes): under a background JPEG that
    # ends a pixel short of the page's edge, and alone where the background is nothing but paper
    fill = " ".join(f"{v / 255:.3f}" for v in np.atleast_1d(tone)) + (" rg" if colour else " g")
    layers.append(_Layer(None, (0.0, 0.0, w * k, h * k), 0, fill.encode()))
    unlike_paper = np.any(bg != tone, axis=-1) if colour else bg != tone
    if np.count_nonzero(unlike_paper) > EMPTY_BACKGROUND_SHARE * unlike_paper.size:  # else no image at all
        for quality in BACKGROUND_QUALITIES:  # lower only when it, the masks and the photos would not fit
            data = _jpeg(bg, quality, full_chroma=colour and quality >= BACKGROUND_QUALITY)
            if len(data) + photo_bytes(qualities) <= room():
                break
        factor = dpi / BACKGROUND_DPI  # the reduction may have cropped a pixel or two at the right and bottom
        covered = (0.0, 0.0, min(w, round(bg.shape[1] * factor)) * k, min(h, round(bg.shape[0] * factor)) * k)
        layers.append(_Layer(_jpeg_stream(pdf, data, bg.shape[1], bg.shape[0], colour, smooth=True), covered,
                             len(data)))
    left = room()

    # Budget to spare: the photos climb to higher goals while the page still fits. On a deskewed page only
    # since its photos are denoised (fourth round): before, a higher quality only reproduced the resampled
    # noise more faithfully and SSIM against the level page fell; now it reproduces the denoised picture.
    if photo_bytes(qualities) <= left:
        for upper in PHOTO_SSIM_UPGRADES_TURNED if turned else PHOTO_SSIM_UPGRADES:
            if upper <= goal:
                continue
            better = [max(q, tile.lowest_quality_for(upper)) for tile, q in zip(tiles, qualities, strict=True)]
            if photo_bytes(better) > left:
                break
            qualities = better
    if photo_bytes(qualities) > left:
        # Over budget: each tile takes the cheaper of the two quantisation table families for its goal (a
        # halftone the flat one, see _jpeg_flat), then the photos give up SSIM, never the text. Only here: on a
        # page that fits, the standard tables are kept (and the second search's CPU saved).
        qualities = [tile.cheapest_for(goal) for tile in tiles]
        if len(tiles) == 1:
            # one photo (the usual page): the highest quality that fits, found on sizes alone (no SSIM to
            # compute: a third of the CPU of stepping down the goals, and the budget used to the last KB)
            qualities = [tiles[0].highest_quality_within(left, qualities[0])]
        else:
            for lower in PHOTO_SSIM_FALLBACKS:  # several photos step down together, each to its share of SSIM
                if photo_bytes(qualities) <= left:
                    break
                if lower < goal:  # in the family chosen at the goal (a second search per step cost ~40 ms)
                    qualities = [tile.lowest_quality_for(lower) for tile in tiles]
    pk = 72.0 / PHOTO_DPI if dpi > PHOTO_DPI else k
    for tile, q in zip(tiles, qualities, strict=True):
        data = tile.data(q)
        box = (tile.cols[0] * pk, tile.rows[0] * pk, (tile.cols[1] - tile.cols[0]) * pk,
               (tile.rows[1] - tile.rows[0]) * pk)
        layers.append(_Layer(_jpeg_stream(pdf, data, tile.pixels.shape[1], tile.pixels.shape[0], colour,
                                          smooth=True), box, len(data)))
    layers += colour_layers  # over the photos (a seal stamped across a portrait's corner), under the text
    if mask_layer:
        layers.append(mask_layer)
    return layers


def _original_jpeg(img: Image.Image) -> bytes | None:
    """The compressed bytes a JPEG page came from, when they can still be read."""
    if img.format != "JPEG" or img.mode not in ("L", "RGB"):
        return None
    try:
        filename, fp = getattr(img, "filename", ""), getattr(img, "fp", None)
        if filename:
            data = Path(filename).read_bytes()
        elif fp is not None and hasattr(fp, "getvalue"):
            data = fp.getvalue()
        else:
            return None
    except (OSError, ValueError):
        return None
    return data if data[:2] == b"\xff\xd8" else None


def _add_page(pdf: pikepdf.Pdf, layers: list[_Layer], w_px: int, h_px: int, dpi: int) -> None:
    """One PDF page of the scan's size with the layers drawn in order. Each image is placed PLACEMENT_INSET_PT
    inside its box: poppler (Splash) gives an image whose edge falls exactly on a pixel boundary one extra
    pixel, i.e. rescales it by one pixel, which shifts a photo tile and blurs it (SSIM 0.89 instead of 0.998
    for a lossless tile); the inset keeps edges just inside, and the image lands 1:1 on its pixels."""
    k = 72.0 / dpi
    page_w, page_h = w_px * k, h_px * k
    e = PLACEMENT_INSET_PT
    xobjects = pikepdf.Dictionary()
    ops = []
    for n, layer in enumerate(layers):
        x, y, bw, bh = layer.box
        if layer.stream is None:
            ops.append(b"q %s %.4f %.4f %.4f %.4f re f Q" % (layer.paint, x, page_h - (y + bh), bw, bh))
            continue
        name = f"/Im{n}"
        xobjects[name] = layer.stream
        ops.append(b"q %s %.4f 0 0 %.4f %.4f %.4f cm %s Do Q" % (
            layer.paint, bw - 2 * e, bh - 2 * e, x + e, page_h - (y + bh) + e, name.encode()))
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
    for index, (source, dpi) in enumerate(zip(images, dpis, strict=True), start=1):
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
                             (0.0, 0.0, img.width * 72.0 / dpi, img.height * 72.0 / dpi), len(original))]
            method = "jpeg-passthrough"
        else:
            if deskewed:
                img = _rotate(img, -_refine_skew(gray, dpi, paper, info.skew_deg), paper)
                small = _resize_to(_gray_array(img), ANALYSIS_DPI / dpi)
            layers = _encode_mrc(pdf, img, small, dpi, turned=deskewed)
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
