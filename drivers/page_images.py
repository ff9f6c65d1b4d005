"""Synthetic scans of Vietnamese papers, for the fake scanner, the demo and the page-packing benchmark.

A test that only ever sees flat white rectangles tells us nothing about file sizes, OCR or previews, so
these pages imitate what a feeder scanner returns at a one-stop desk: an A4 civil-status form with the
national motto, dotted field lines, handwriting-like entries, a round seal, or a photocopy of a chip ID
card with a portrait area; the paper has a tone, the scan a slight skew, uneven lighting and noise.
Everything is drawn from `seed` and `index`, so the same arguments always give the same pixels.
All names and numbers on these pages are invented.
"""
from __future__ import annotations

import functools
import math
import random
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

__all__ = ["A4_MM", "KINDS", "MODES", "synth_page", "a4_size"]

A4_MM = (210.0, 297.0)
KINDS = ("form", "id_copy")
MODES = ("gray", "color", "lineart")

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/noto"))
# Official forms are set in a Times-like serif; the ID card uses a sans face. DejaVu comes first: Debian's
# Noto faces render about ten times slower, and a page must stay well under 0.3 s at 200 dpi.
_FONT_FILES = {
    "serif": ("DejaVuSerif.ttf", "NotoSerif-Regular.ttf"),
    "serif_bold": ("DejaVuSerif-Bold.ttf", "NotoSerif-Bold.ttf"),
    "serif_italic": ("DejaVuSerif-Italic.ttf", "NotoSerif-Italic.ttf"),
    "sans": ("DejaVuSans.ttf", "NotoSans-Regular.ttf"),
    "sans_bold": ("DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf"),
}

_INK = (38, 38, 46)
_BLUE_INK = (28, 48, 130)  # ballpoint entries
_SEAL_RED = (196, 40, 44)

_FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
_MIDDLE_NAMES = ("Văn", "Thị", "Đức", "Minh", "Ngọc", "Hữu", "Thanh", "Quốc")
_GIVEN_NAMES = ("An", "Bình", "Cường", "Dũng", "Hà", "Hương", "Lan", "Phúc", "Quỳnh", "Sơn", "Tú", "Yến")
_COMMUNES = ("Tân Lập", "Hòa Bình", "Quảng Phú", "Nghĩa Đàn", "Mường Khương", "Yên Thế", "Phú Lộc")
_PROVINCES = ("Hà Nội", "Lào Cai", "Nghệ An", "Thanh Hóa", "Đắk Lắk", "Cần Thơ", "Quảng Ninh")

_FORM_FIELDS = (
    ("Họ, chữ đệm, tên người yêu cầu", "name"),
    ("Nơi cư trú", "address"),
    ("Giấy tờ tùy thân", "id_paper"),
    ("Quan hệ với người được khai sinh", "relation"),
    ("Họ, chữ đệm, tên người được khai sinh", "child"),
    ("Ngày, tháng, năm sinh", "birth"),
    ("Giới tính", "sex"),
    ("Dân tộc", "ethnicity"),
    ("Quốc tịch", "nationality"),
    ("Nơi sinh", "birthplace"),
    ("Quê quán", "hometown"),
    ("Họ, chữ đệm, tên người mẹ", "mother"),
    ("Họ, chữ đệm, tên người cha", "father"),
)
_PARAGRAPHS = (
    "Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật, được sự thỏa thuận nhất trí "
    "của các bên liên quan theo quy định pháp luật.",
    "Tôi chịu hoàn toàn trách nhiệm trước pháp luật về nội dung cam đoan của mình.",
    "Đề nghị cấp bản sao trích lục khai sinh: Có, số lượng: ...... bản.",
    "Ghi chú: Trường hợp người đi đăng ký là ông, bà hoặc người thân thích khác thì ghi rõ quan hệ với "
    "người được khai sinh; giấy tờ tùy thân ghi rõ số, cơ quan cấp và ngày cấp.",
)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def a4_size(dpi: int) -> tuple[int, int]:
    """Pixel size of an A4 page at `dpi` (what a scanner set to A4 returns)."""
    return round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)


@functools.lru_cache(maxsize=8)
def _font_path(style: str) -> str:
    for name in _FONT_FILES[style]:
        for folder in _FONT_DIRS:  # each name is only in its own folder
            if (folder / name).exists():
                return str(folder / name)
    raise FileNotFoundError(f"no font with Vietnamese glyphs for {style!r}: install fonts-noto-core")


@functools.lru_cache(maxsize=64)
def _font(style: str, px: int) -> ImageFont.FreeTypeFont:
    # Basic layout: NFC Vietnamese needs no shaping, and Raqm makes every line several times slower.
    return ImageFont.truetype(_font_path(style), max(6, px), layout_engine=ImageFont.Layout.BASIC)


class _Canvas:
    """Draws in millimetres so a page looks the same at every resolution."""

    def __init__(self, dpi: int, color: bool) -> None:
        self.dpi = dpi
        self.color = color
        self.size = a4_size(dpi)
        self.image = Image.new("RGB" if color else "L", self.size, self.ink((255, 255, 255)))
        self.draw = ImageDraw.Draw(self.image)

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def ink(self, rgb: tuple[int, int, int]) -> tuple[int, int, int] | int:
        # Grey scanners see red seals as mid grey: use luminance, not a fixed black.
        return rgb if self.color else round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])

    def font(self, style: str, pt: float) -> ImageFont.FreeTypeFont:
        return _font(style, round(pt / 72 * self.dpi))

    def text(self, x_mm: float, y_mm: float, text: str, *, style: str = "serif", pt: float = 12,
             fill: tuple[int, int, int] = _INK, anchor: str = "la") -> float:
        """Draw one line; returns its right edge in mm (to continue a field line after a label)."""
        font = self.font(style, pt)
        xy = (self.px(x_mm), self.px(y_mm))
        self.draw.text(xy, _nfc(text), font=font, fill=self.ink(fill), anchor=anchor)
        width = font.getlength(_nfc(text))
        start = xy[0] - (width / 2 if anchor[0] == "m" else 0)
        return (start + width) / self.dpi * 25.4

    def wrapped(self, x_mm: float, y_mm: float, width_mm: float, text: str, *, pt: float = 12,
                style: str = "serif", leading: float = 1.45) -> float:
        """Draw a paragraph wrapped to `width_mm`; returns the y (mm) under it."""
        font = self.font(style, pt)
        limit = self.px(width_mm)
        line_mm = pt * 0.3528 * leading
        words, line = _nfc(text).split(), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if line and font.getlength(trial) > limit:
                self.text(x_mm, y_mm, line, style=style, pt=pt)
                y_mm += line_mm
                line = word
            else:
                line = trial
        if line:
            self.text(x_mm, y_mm, line, style=style, pt=pt)
            y_mm += line_mm
        return y_mm

    def dotted(self, x0_mm: float, x1_mm: float, y_mm: float) -> None:
        """The dotted leader of a blank to fill in."""
        step = max(2, self.px(1.1))
        y = self.px(y_mm)
        r = max(1, self.dpi // 160)
        for x in range(self.px(x0_mm), self.px(x1_mm), step):
            self.draw.rectangle((x, y, x + r - 1, y + r - 1), fill=self.ink(_INK))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FAMILY_NAMES)} {rng.choice(_MIDDLE_NAMES)} {rng.choice(_GIVEN_NAMES)}"


def _place(rng: random.Random) -> str:
    return f"xã {rng.choice(_COMMUNES)}, tỉnh {rng.choice(_PROVINCES)}"


def _entry(key: str, rng: random.Random) -> str:
    """A plausible handwritten answer for a form field (invented data)."""
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2024, 2026)
    return {
        "name": _person(rng),
        "address": f"thôn {rng.randint(1, 12)}, {_place(rng)}",
        "id_paper": f"Căn cước số 0{rng.randint(10, 96)}0{rng.randint(10**7, 10**8 - 1)}",
        "relation": rng.choice(("Cha", "Mẹ", "Ông nội", "Bà ngoại")),
        "child": _person(rng),
        "birth": f"{day:02d}/{month:02d}/{year}",
        "sex": rng.choice(("Nam", "Nữ")),
        "ethnicity": rng.choice(("Kinh", "Tày", "Thái", "Mường", "H'Mông", "Ê Đê")),
        "nationality": "Việt Nam",
        "birthplace": f"Trạm y tế {_place(rng)}",
        "hometown": _place(rng),
        "mother": _person(rng),
        "father": _person(rng),
    }[key]


def _seal(canvas: _Canvas, cx_mm: float, cy_mm: float, rng: random.Random) -> None:
    """A round red stamp: two rings, the agency's name around the edge, a star in the middle."""
    d = canvas.draw
    ink = canvas.ink(_SEAL_RED)
    cx, cy, r = canvas.px(cx_mm), canvas.px(cy_mm), canvas.px(18)
    width = max(2, canvas.px(0.8))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=width)
    inner = round(r * 0.68)
    d.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), outline=ink, width=max(1, width // 2))
    star = [
        (cx + (inner * 0.45 if k % 2 == 0 else inner * 0.18) * math.sin(k * math.pi / 5),
         cy - (inner * 0.45 if k % 2 == 0 else inner * 0.18) * math.cos(k * math.pi / 5))
        for k in range(10)
    ]
    d.polygon(star, fill=ink)
    ring_text = _nfc(f"ỦY BAN NHÂN DÂN XÃ {rng.choice(_COMMUNES).upper()} ★ ")
    font = canvas.font("sans_bold", 7)
    radius = (r + inner) / 2
    glyph_box = font.getbbox("Ư")
    box = int(max(glyph_box[2], glyph_box[3])) + 4
    for k, ch in enumerate(ring_text):
        angle = -math.pi / 2 + 2 * math.pi * k / len(ring_text)
        tile = Image.new("L", (box, box), 0)
        ImageDraw.Draw(tile).text((box / 2, box / 2), ch, font=font, fill=255, anchor="mm")
        tile = tile.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BILINEAR)
        x = round(cx + radius * math.cos(angle) - box / 2)
        y = round(cy + radius * math.sin(angle) - box / 2)
        canvas.image.paste(ink, (x, y), tile)


def _draw_form(canvas: _Canvas, index: int, title: str, rng: random.Random) -> None:
    left, right = 22.0, 192.0
    mid = (left + right) / 2
    canvas.text(mid, 16, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style="serif_bold", pt=12, anchor="ma")
    motto_right = canvas.text(mid, 22.5, "Độc lập - Tự do - Hạnh phúc", style="serif_bold", pt=12.5, anchor="ma")
    half = motto_right - mid
    canvas.draw.line((canvas.px(mid - half), canvas.px(29), canvas.px(mid + half), canvas.px(29)),
                     fill=canvas.ink(_INK), width=max(1, canvas.dpi // 150))
    canvas.text(mid, 38, title or "TỜ KHAI ĐĂNG KÝ KHAI SINH", style="serif_bold", pt=14, anchor="ma")
    canvas.text(mid, 47, f"Kính gửi: Ủy ban nhân dân xã {rng.choice(_COMMUNES)}", pt=12, anchor="ma")

    y = 58.0
    fields = _FORM_FIELDS if index % 2 == 0 else _FORM_FIELDS[3:] + _FORM_FIELDS[:3]
    for label, key in fields:
        end = canvas.text(left, y, f"{label}:", pt=12)
        canvas.dotted(end + 1.5, right, y + 5.2)
        if rng.random() < 0.85:  # most blanks are filled in by hand
            canvas.text(end + 4 + rng.uniform(0, 6), y - 0.8 + rng.uniform(-0.5, 0.5), _entry(key, rng),
                        style="serif_italic", pt=12.5, fill=_BLUE_INK)
        y += 9.2
    y += 3
    for paragraph in rng.sample(_PARAGRAPHS, k=3):
        y = canvas.wrapped(left, y, right - left, paragraph, pt=12) + 2.5

    sign_x = 140.0
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    canvas.text(sign_x, y + 6, f"Làm tại: xã {rng.choice(_COMMUNES)}, ngày {day} tháng {month} năm 2026",
                style="serif_italic", pt=11, anchor="ma")
    canvas.text(sign_x, y + 12, "Người yêu cầu", style="serif_bold", pt=12, anchor="ma")
    canvas.text(sign_x, y + 17.5, "(Ký, ghi rõ họ, chữ đệm, tên)", style="serif_italic", pt=10.5, anchor="ma")
    _signature(canvas, sign_x, y + 30, rng)
    canvas.text(sign_x, y + 40, _person(rng), style="serif_italic", pt=12, fill=_BLUE_INK, anchor="ma")
    _seal(canvas, sign_x - 22 + rng.uniform(-3, 3), y + 27 + rng.uniform(-3, 3), rng)
    canvas.text(mid, 285, f"Trang {index + 1}", pt=10, anchor="ma")


def _signature(canvas: _Canvas, cx_mm: float, cy_mm: float, rng: random.Random) -> None:
    """A looping ballpoint scribble."""
    points = []
    for k in range(40):
        t = k / 39
        points.append((canvas.px(cx_mm - 18 + 36 * t + 3 * math.sin(t * 19 + rng.random())),
                       canvas.px(cy_mm + 4 * math.sin(t * 11 + rng.uniform(0, 2)) - 3 * t)))
    canvas.draw.line(points, fill=canvas.ink(_BLUE_INK), width=max(1, canvas.dpi // 100), joint="curve")


def _portrait(w: int, h: int, rng: np.random.Generator) -> Image.Image:
    """A photocopied passport photo: grey background gradient, head and shoulders, grain."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = 150 + 60 * (yy / h) - 20 * (xx / w)
    head = ((xx - w * 0.5) / (w * 0.27)) ** 2 + ((yy - h * 0.38) / (h * 0.26)) ** 2
    img = np.where(head < 1, 95 + 40 * head, img)
    shoulders = ((xx - w * 0.5) / (w * 0.55)) ** 2 + ((yy - h * 1.05) / (h * 0.42)) ** 2
    img = np.where(shoulders < 1, 60 + 25 * shoulders, img)
    img += rng.normal(0, 9, size=img.shape).astype(np.float32)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "L")


def _card(canvas: _Canvas, x_mm: float, y_mm: float, back: bool, rng: random.Random,
          nrng: np.random.Generator) -> None:
    """One side of a chip ID card (85.6 x 54 mm) enlarged 1.5x, as copy shops do."""
    scale = 1.5
    w_mm, h_mm = 85.6 * scale, 54.0 * scale
    d = canvas.draw
    box = (canvas.px(x_mm), canvas.px(y_mm), canvas.px(x_mm + w_mm), canvas.px(y_mm + h_mm))
    d.rounded_rectangle(box, radius=canvas.px(4 * scale), fill=canvas.ink((214, 214, 210)),
                        outline=canvas.ink(_INK), width=max(1, canvas.dpi // 100))
    if not back:
        canvas.text(x_mm + w_mm / 2 + 10, y_mm + 4, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style="sans_bold",
                    pt=9, anchor="ma")
        canvas.text(x_mm + w_mm / 2 + 10, y_mm + 9, "Độc lập - Tự do - Hạnh phúc", style="sans_bold", pt=8.5,
                    anchor="ma")
        canvas.text(x_mm + w_mm / 2 + 10, y_mm + 16, "CĂN CƯỚC CÔNG DÂN", style="sans_bold", pt=13,
                    fill=(160, 30, 30), anchor="ma")
        photo = _portrait(canvas.px(26), canvas.px(34), nrng)
        canvas.image.paste(photo if not canvas.color else photo.convert("RGB"),
                           (canvas.px(x_mm + 6), canvas.px(y_mm + 24)))
        tx = x_mm + 37
        lines = (
            f"Số / No.: 0{rng.randint(10, 96)}0{rng.randint(10**7, 10**8 - 1)}",
            f"Họ và tên / Full name: {_person(rng).upper()}",
            f"Ngày sinh / Date of birth: {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2005)}",
            f"Giới tính / Sex: {rng.choice(('Nam', 'Nữ'))}    Quốc tịch / Nationality: Việt Nam",
            f"Quê quán / Place of origin: {_place(rng)}",
            "Nơi thường trú / Place of residence:",
            f"thôn {rng.randint(1, 9)}, {_place(rng)}",
        )
        for k, line in enumerate(lines):
            canvas.text(tx, y_mm + 22 + k * 6.8, line, style="sans", pt=8.5 if k else 10)
    else:
        canvas.text(x_mm + 8, y_mm + 8, "Đặc điểm nhân dạng / Personal identification:", style="sans", pt=8.5)
        canvas.text(x_mm + 8, y_mm + 14, "Nốt ruồi C: 1cm dưới sau đầu mày phải", style="sans", pt=8.5)
        for k, label in enumerate(("Ngón trỏ trái", "Ngón trỏ phải")):
            fx = x_mm + w_mm - 62 + k * 30
            d.rectangle((canvas.px(fx), canvas.px(y_mm + 22), canvas.px(fx + 24), canvas.px(y_mm + 52)),
                        outline=canvas.ink(_INK), width=1)
            for ring in range(1, 14):  # a fingerprint's ridges
                r = canvas.px(ring * 0.85)
                cx, cy = canvas.px(fx + 12), canvas.px(y_mm + 37)
                d.ellipse((cx - r, cy - round(r * 1.3), cx + r, cy + round(r * 1.3)),
                          outline=canvas.ink((90, 90, 90)), width=max(1, canvas.dpi // 150))
            canvas.text(fx + 12, y_mm + 54, label, style="sans", pt=7.5, anchor="ma")
        canvas.text(x_mm + 8, y_mm + 30, "CỤC TRƯỞNG CỤC CẢNH SÁT", style="sans_bold", pt=8)
        canvas.text(x_mm + 8, y_mm + 35, "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI", style="sans_bold", pt=8)
        _seal(canvas, x_mm + 30, y_mm + 52, rng)
        mrz = f"IDVNM{rng.randint(10**9, 10**10 - 1)}0{rng.randint(10**10, 10**11 - 1)}<<{rng.randint(0, 9)}"
        canvas.text(x_mm + 6, y_mm + h_mm - 10, mrz.ljust(30, "<"), style="sans", pt=11)


def _draw_id_copy(canvas: _Canvas, index: int, title: str, rng: random.Random,
                  nrng: np.random.Generator) -> None:
    left = (A4_MM[0] - 85.6 * 1.5) / 2
    _card(canvas, left, 25, False, rng, nrng)
    _card(canvas, left, 25 + 54 * 1.5 + 18, True, rng, nrng)
    note = title or "BẢN SAO Y BẢN CHÍNH"
    canvas.text(A4_MM[0] / 2, 232, note, style="serif_bold", pt=13, anchor="ma")
    canvas.text(A4_MM[0] / 2, 240, f"Số chứng thực: {rng.randint(100, 9999)}, quyển số 01/2026-SCT/BS",
                pt=11, anchor="ma")
    canvas.text(A4_MM[0] / 2, 285, f"Trang {index + 1}", pt=10, anchor="ma")


def _scan_artifacts(image: Image.Image, kind: str, nrng: np.random.Generator,
                    rng: random.Random) -> Image.Image:
    """Paper tone, uneven lamp, a slight skew (which also softens edges) and sensor noise."""
    paper = 244 if kind == "form" else 232  # photocopies come out greyer
    # Skew first: the paper lies crooked on the glass, the dark border of the lid is not rotated.
    angle = rng.uniform(0.25, 1.2) * rng.choice((-1, 1))
    fill = (255, 255, 255) if image.mode == "RGB" else 255
    # Bilinear resampling of the skew also softens edges about as much as a scanner's optics do, so
    # no separate blur pass (that would cost a third of a colour page's time).
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)

    # Done with Pillow's C operations, not numpy arithmetic: a colour page has 11 million samples.
    w, h = image.size
    # Ink stays dark, white becomes the paper tone, darker towards the lamp's ends (multiply = a*b/255).
    ramp = paper - 10 * np.abs(np.linspace(-1, 1, h, dtype=np.float32)) ** 3
    if image.mode == "RGB":  # recycled paper is a little yellow
        ramp = np.stack([ramp + 2, ramp, ramp - 6], axis=1)
    lamp = Image.fromarray(ramp.astype(np.uint8).reshape(h, 1, -1).squeeze(-1) if image.mode == "L"
                           else ramp.astype(np.uint8).reshape(h, 1, 3), image.mode)
    image = ImageChops.multiply(image, lamp.resize((w, h), Image.Resampling.NEAREST))
    if kind == "id_copy":  # photocopier toner specks
        count = int(w * h * 0.0006)
        xs, ys = nrng.integers(0, w, count), nrng.integers(0, h, count)
        ImageDraw.Draw(image).point(list(zip(xs.tolist(), ys.tolist(), strict=True)),
                                    fill=60 if image.mode == "L" else (60,) * 3)
    noise = Image.fromarray(nrng.integers(0, 15, size=(h, w), dtype=np.uint8), "L")
    if image.mode == "RGB":
        noise = Image.merge("RGB", (noise, noise, noise))
    return ImageChops.add(image, noise, scale=1.0, offset=-7)


def synth_page(index: int, *, dpi: int = 200, mode: str = "gray", seed: int = 0, title: str = "",
               kind: str = "form") -> Image.Image:
    """An A4 page at `dpi` that looks like a real scan of Vietnamese papers.

    `mode` is gray (L), color (RGB) or lineart (1-bit, as a scanner's black-and-white mode gives);
    `kind` is "form" (a civil-status declaration with a seal) or "id_copy" (a photocopy of both sides of
    a chip ID card); `title` replaces the heading (the form's name, or the copy's certification line).
    The result depends only on the arguments.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if not 30 <= dpi <= 1200:
        raise ValueError(f"dpi must be between 30 and 1200, not {dpi}")
    rng = random.Random(f"{seed}:{index}:{kind}")
    nrng = np.random.default_rng([seed & 0xFFFFFFFF, index & 0xFFFFFFFF, KINDS.index(kind)])
    canvas = _Canvas(dpi, color=(mode == "color"))
    if kind == "form":
        _draw_form(canvas, index, title, rng)
    else:
        _draw_id_copy(canvas, index, title, rng, nrng)
    page = _scan_artifacts(canvas.image, kind, nrng, rng)
    if mode == "lineart":
        page = page.point(lambda v: 255 if v > 150 else 0).convert("1", dither=Image.Dither.NONE)
    page.info["dpi"] = (dpi, dpi)
    return page
