"""Benchmark pages: 300 dpi grey A4 "scans" of a Vietnamese form whose text is known exactly.

Why not only drivers.page_images: the benchmark needs the ground-truth text (for OCR accuracy) and the
position of the photo (for SSIM), so this generator returns both with the pixels. What makes it a scan:
a paper tone with uneven lighting, ink that is dark grey not black, a red seal (mid grey once scanned in
grey) over the signature, a real photograph (scikit-image's bundled test photos) in a photo area, optical
blur, sensor noise and a slight skew. All text is invented; nothing personal.
"""
from __future__ import annotations

import dataclasses
import math
import random
import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SERIF = "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"
SERIF_BOLD = "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"
SANS_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

_SENTENCES = (
    "Kính gửi Ủy ban nhân dân xã Tân Lập, tỉnh Lào Cai.",
    "Họ, chữ đệm, tên người yêu cầu: Trần Thị Bích Ngọc.",
    "Nơi cư trú: thôn Hòa Bình, xã Quảng Phú, tỉnh Nghệ An.",
    "Giấy tờ tùy thân: căn cước do Bộ Công an cấp ngày mười lăm tháng tám.",
    "Quan hệ với người được khai sinh: mẹ đẻ.",
    "Đề nghị cơ quan đăng ký khai sinh cho người dưới đây.",
    "Họ, chữ đệm, tên: Nguyễn Hữu Phúc. Giới tính: Nam.",
    "Ngày, tháng, năm sinh: ngày mười hai tháng ba năm hai nghìn hai mươi sáu.",
    "Nơi sinh: Trạm y tế xã Mường Khương, tỉnh Lào Cai.",
    "Dân tộc: Kinh. Quốc tịch: Việt Nam. Quê quán: Thanh Hóa.",
    "Họ, chữ đệm, tên người mẹ: Trần Thị Bích Ngọc, dân tộc Tày.",
    "Họ, chữ đệm, tên người cha: Nguyễn Văn Dũng, dân tộc Kinh.",
    "Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật.",
    "Tôi chịu trách nhiệm trước pháp luật về cam đoan của mình.",
    "Đề nghị cấp bản sao trích lục khai sinh: có, số lượng hai bản.",
    "Hồ sơ được tiếp nhận tại bộ phận một cửa, thời hạn giải quyết trong ngày.",
    "Trường hợp nhận hồ sơ sau mười lăm giờ thì trả kết quả trong ngày làm việc tiếp theo.",
    "Người làm đơn ký, ghi rõ họ, chữ đệm, tên và đóng dấu xác nhận của cơ quan.",
    "Giấy chứng sinh do cơ sở y tế cấp, bản chính, kèm theo tờ khai này.",
    "Lệ phí đăng ký khai sinh đúng hạn được miễn theo quy định hiện hành.",
    "Ghi chú: các mục có dấu sao là bắt buộc, viết chữ in hoa có dấu.",
    "Số điện thoại liên hệ và địa chỉ thư điện tử không bắt buộc khai.",
)


@dataclasses.dataclass(frozen=True)
class BenchPage:
    image: Image.Image  # mode "L", info["dpi"] set
    text: str  # ground truth: the printed lines, NFC, joined with "\n"
    photo_box: tuple[int, int, int, int] | None  # x, y, width, height in pixels (before skew, centred rotation)
    dpi: int


def _photo(width: int, height: int, which: int) -> Image.Image:
    """A real photograph (scikit-image's bundled camera/astronaut/coffee pictures), in grey."""
    import skimage.data

    source = (skimage.data.camera, skimage.data.astronaut, skimage.data.coffee)[which % 3]()
    img = Image.fromarray(source).convert("L")
    return img.resize((width, height), Image.LANCZOS)


def _seal(draw: ImageDraw.ImageDraw, cx: int, cy: int, radius: int, grey: int, dpi: int) -> None:
    """A round commune seal: two rings, the agency's name around, a star in the middle."""
    w = max(2, round(dpi * 0.8 / 25.4))
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=grey, width=w)
    r2 = round(radius * 0.72)
    draw.ellipse((cx - r2, cy - r2, cx + r2, cy + r2), outline=grey, width=max(1, w // 2))
    font = ImageFont.truetype(SANS_BOLD, round(dpi * 3.2 / 25.4))
    label = "ỦY BAN NHÂN DÂN XÃ TÂN LẬP * TỈNH LÀO CAI *"
    for i, ch in enumerate(label):
        angle = -math.pi / 2 + 2 * math.pi * i / len(label)
        rr = (radius + r2) / 2
        glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
        ImageDraw.Draw(glyph).text((font.size, font.size), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.BICUBIC)
        x, y = cx + rr * math.cos(angle), cy + rr * math.sin(angle)
        draw.bitmap((round(x - font.size), round(y - font.size)), glyph, fill=grey)
    star = [(cx + (radius * (0.3 if k % 2 == 0 else 0.12)) * math.cos(-math.pi / 2 + k * math.pi / 5),
             cy + (radius * (0.3 if k % 2 == 0 else 0.12)) * math.sin(-math.pi / 2 + k * math.pi / 5))
            for k in range(10)]
    draw.polygon(star, fill=grey)


def make_page(index: int = 0, *, dpi: int = 300, size_mm: tuple[float, float] = (210.0, 297.0),
              lines: int | None = None, photo: bool = True, seal: bool = True, skew_deg: float | None = None,
              noise: float = 3.0, seed: int = 0) -> BenchPage:
    """One scanned page; the same arguments give the same pixels."""
    rng = random.Random(seed * 1000 + index)
    mm = dpi / 25.4
    width, height = round(size_mm[0] * mm), round(size_mm[1] * mm)
    paper, ink = 238, 36
    img = Image.new("L", (width, height), paper)
    draw = ImageDraw.Draw(img)
    body = ImageFont.truetype(SERIF, round(12 / 72 * dpi))
    bold = ImageFont.truetype(SERIF_BOLD, round(13 / 72 * dpi))
    text_lines: list[str] = []

    def put(y_mm: float, text: str, font: ImageFont.FreeTypeFont, x_mm: float = 20.0) -> None:
        text = unicodedata.normalize("NFC", text)
        draw.text((round(x_mm * mm), round(y_mm * mm)), text, font=font, fill=ink)
        text_lines.append(text)

    y = 15.0
    put(y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold, 45.0)
    put(y + 7, "Độc lập - Tự do - Hạnh phúc", bold, 70.0)
    put(y + 18, "TỜ KHAI ĐĂNG KÝ KHAI SINH", bold, 65.0)
    y += 32
    photo_box = None
    if photo and size_mm[1] >= 200:
        pw, ph = round(40 * mm), round(55 * mm)
        px, py = round((size_mm[0] - 20 - 40) * mm), round(y * mm)
        img.paste(_photo(pw, ph, index), (px, py))
        photo_box = (px, py, pw, ph)
    max_lines = lines if lines is not None else int((size_mm[1] - y - 60) / 8.0)
    order = list(_SENTENCES)
    rng.shuffle(order)
    text_width_mm = size_mm[0] - 40
    for i in range(max_lines):
        if y + 8 > size_mm[1] - 5:
            break
        sentence = order[i % len(order)]
        narrow = photo_box is not None and y < 32 + 15 + 58
        limit_mm = text_width_mm - (45 if narrow else 0)
        while body.getlength(sentence) > limit_mm * mm and " " in sentence:
            sentence = sentence.rsplit(" ", 1)[0]
        put(y, sentence, body)
        y += 8.0
    if seal and y + 45 < size_mm[1]:
        put(y + 4, "NGƯỜI YÊU CẦU", bold, size_mm[0] - 75)
        sx, sy = round((size_mm[0] - 55) * mm), round((y + 25) * mm)
        # a signature scribble, then the seal over it (red 196,40,44 scans as ~85 grey)
        points = [(sx - round(30 * mm) + k * round(3 * mm), sy + round(4 * mm * math.sin(k * 1.3))) for k in range(20)]
        draw.line(points, fill=ink, width=max(2, round(0.5 * mm)))
        _seal(draw, sx, sy, round(20 * mm), 96, dpi)

    arr = np.asarray(img, dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    arr = arr * (0.96 + 0.04 * (xx / width) + 0.02 * np.sin(yy / height * math.pi))  # uneven lamp
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))
    angle = skew_deg if skew_deg is not None else rng.uniform(-0.8, 0.8)
    if angle:
        img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=paper)
    np_rng = np.random.default_rng(seed * 1000 + index)
    arr = np.asarray(img, dtype=np.float32) + np_rng.normal(0.0, noise, (height, width)).astype(np.float32)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    out.info["dpi"] = (dpi, dpi)
    return BenchPage(image=out, text="\n".join(text_lines), photo_box=photo_box, dpi=dpi)


def blank_page(*, dpi: int = 150, size_mm: tuple[float, float] = (210.0, 297.0), seed: int = 0) -> Image.Image:
    """An empty sheet as a scanner sees it: paper tone, faint show-through, noise, a little dust."""
    mm = dpi / 25.4
    width, height = round(size_mm[0] * mm), round(size_mm[1] * mm)
    img = Image.new("L", (width, height), 236)
    draw = ImageDraw.Draw(img)
    faint = ImageFont.truetype(SERIF, round(12 / 72 * dpi))
    for k in range(20):  # text printed on the back, seen through the paper
        draw.text((round(20 * mm), round((20 + k * 10) * mm)), _SENTENCES[k % len(_SENTENCES)], font=faint, fill=222)
    rng = np.random.default_rng(seed)
    for _ in range(6):  # dust
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        draw.point((x, y), fill=60)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32)
    arr = arr + rng.normal(0.0, 3.0, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    out.info["dpi"] = (dpi, dpi)
    return out


def stamp_only_page(*, dpi: int = 150, seed: int = 0) -> Image.Image:
    """A sheet that carries nothing but a seal (e.g. the back of a certified copy): not blank."""
    mm = dpi / 25.4
    width, height = round(210 * mm), round(297 * mm)
    img = Image.new("L", (width, height), 236)
    _seal(ImageDraw.Draw(img), round(140 * mm), round(230 * mm), round(20 * mm), 110, dpi)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32)
    arr = arr + np.random.default_rng(seed).normal(0.0, 3.0, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    out.info["dpi"] = (dpi, dpi)
    return out
