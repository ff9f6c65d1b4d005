"""Receipt (biên nhận), queue ticket and self-test slip layouts, drawn with Pillow at the head width.

Text is rendered here as 1-bit pixels (NFC Vietnamese, a font with stacked marks) rather than sent as
printer text, because receipt printers' Vietnamese code pages are unreliable. Long procedure names and
addresses wrap; headings are large and bold for readers with poor eyesight. The receipt's QR carries
`DVCK1|<dossier code or local reference>`: the kiosk's status look-up reads exactly that.

The layouts return `PrintJob`s; `render_preview` shows a job on screen as it will come out of the printer.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import qrcode
from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel, ConfigDict, Field, field_validator

from drivers.base import Block, FeedBlock, ImageBlock, PrintJob, QrBlock

from kiosk import resources
from kiosk.domain.clock import centre_now, to_centre
from kiosk.domain.codes import encode_receipt_qr

FONT_DIR = resources.resource_path("assets/fonts")
_FONT_FILES = {
    False: (FONT_DIR / "NotoSans-Regular.ttf", Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
            Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
    True: (FONT_DIR / "NotoSans-Bold.ttf", Path("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
           Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")),
}
THRESHOLD = 128
REFERENCE_WIDTH = 576  # sizes below are for an 80 mm head and scale with the width

# --------------------------------------------------------------------------------------------- data
def _nfc(value: object) -> object:
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else value


class _Printable(BaseModel):
    model_config = ConfigDict(frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _normalise(cls, v: object) -> object:
        if isinstance(v, list):
            return [tuple(_nfc(x) for x in item) if isinstance(item, (tuple, list)) else _nfc(item) for item in v]
        return _nfc(v)


class ReceiptData(_Printable):
    """What a receipt shows. `dossier_code` is None while the dossier waits in the outbox (offline)."""

    centre_name: str
    kiosk_id: str
    dossier_code: str | None = None
    local_reference: str
    procedure_code: str
    procedure_name: str
    citizen_name: str
    received_at: dt.datetime
    appointment_date: dt.date | None = None
    documents: list[tuple[str, int]] = Field(default_factory=list)
    fee_text: str = "Không thu phí"
    status_url_hint: str = ""
    offline: bool = False
    payment_qr: str | None = None
    assisted_note: str = ""  # submitted with a clerk's help: to be checked at the verification counter (issue 11)

    @property
    def lookup_code(self) -> str:
        """The code the citizen quotes and the QR carries: the portal's code, else the local reference."""
        return self.dossier_code or self.local_reference


class TicketData(_Printable):
    """A queue ticket. `waiting` is the number of people ahead."""

    centre_name: str
    number: str
    counter: str | None = ""
    waiting: int = Field(0, ge=0)
    issued_at: dt.datetime
    service_name: str = ""

    @field_validator("number", mode="before")
    @classmethod
    def _number_as_text(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v


def receipt_qr_payload(code: str, secret: str = "") -> str:
    """The status look-up contract (kiosk.domain.codes.encode_receipt_qr)."""
    return encode_receipt_qr(code, secret)


def format_datetime(moment: dt.datetime) -> str:
    """dd/mm/yyyy HH:MM in Vietnam's time (aware datetimes are converted; naive ones are taken as local)."""
    return to_centre(moment).strftime("%d/%m/%Y %H:%M")


def format_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


# --------------------------------------------------------------------------------------------- fonts
@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The receipt font (Noto Sans from assets/fonts, else Debian's Noto or DejaVu): covers Vietnamese
    with stacked marks (Ấ, Ệ, Ữ)."""
    for path in _FONT_FILES[bold]:
        if path.exists():
            # BASIC layout: NFC Vietnamese is all precomposed glyphs, and it is ~10x faster than raqm here.
            return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)
    raise FileNotFoundError("no Vietnamese font found: install fonts-noto-core or restore assets/fonts")


# --------------------------------------------------------------------------------------------- layout
Align = Literal["left", "center"]
Run = tuple[str, ImageFont.FreeTypeFont]


@dataclass
class _Word:
    text: str
    font: ImageFont.FreeTypeFont
    width: float


@lru_cache(maxsize=4096)
def _length(text: str, f: ImageFont.FreeTypeFont) -> float:
    """Advance width of `text` (cached: the same words and spaces recur on every receipt)."""
    return f.getlength(text)


@lru_cache(maxsize=64)
def _extent(f: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """Room above and below the baseline. Capitals with stacked marks (Ấ, Ể, Ỗ) can rise above a
    fallback font's declared ascent, so the real ink of the tallest ones counts too."""
    ascent, descent = f.getmetrics()
    top = f.getbbox("ẤỀỂỄỖỮ", anchor="ls")[1]
    bottom = f.getbbox("gjpqyỵỹỴ", anchor="ls")[3]
    return max(ascent, -int(top)), max(descent, int(bottom))


def _split_long(word: str, f: ImageFont.FreeTypeFont, limit: float) -> list[str]:
    """Break a word wider than the line (a URL, a long code) into pieces that fit."""
    if _length(word, f) <= limit:
        return [word]
    pieces, current = [], ""
    for ch in word:
        if current and f.getlength(current + ch) > limit:
            pieces.append(current)
            current = ""
        current += ch
    return pieces + [current] if current else pieces


def _wrap(runs: list[Run], width: float, hang: float) -> list[list[tuple[float, _Word]]]:
    """Greedy word wrap over runs of mixed fonts; continuation lines start `hang` dots in."""
    words: list[_Word] = []
    for text, f in runs:
        for token in text.split():
            for piece in _split_long(token, f, width - hang):
                words.append(_Word(piece, f, _length(piece, f)))
    lines: list[list[tuple[float, _Word]]] = [[]]
    x = 0.0
    for word in words:
        space = _length(" ", word.font) if lines[-1] else 0.0
        if lines[-1] and x + space + word.width > width:
            lines.append([])
            x, space = hang, 0.0
        lines[-1].append((x + space, word))
        x += space + word.width
    return [line for line in lines if line]


def _font_groups(line: list[tuple[float, _Word]]) -> list[tuple[float, str, ImageFont.FreeTypeFont]]:
    """Consecutive words in one font drawn as one string: one render call per run instead of per word."""
    groups: list[tuple[float, str, ImageFont.FreeTypeFont]] = []
    for x, word in line:
        if groups and groups[-1][2] is word.font:
            start, text, f = groups[-1]
            groups[-1] = (start, text + " " + word.text, f)
        else:
            groups.append((x, word.text, word.font))
    return groups


class _Sheet:
    """Strips of the head width stacked top to bottom; everything is drawn black on white."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.scale = width / REFERENCE_WIDTH
        self.margin = max(8, round(width * 0.035))
        self.strips: list[Image.Image] = []

    def px(self, size: float, minimum: int = 0) -> int:
        return max(minimum, round(size * self.scale))

    def text(self, runs: list[Run], *, align: Align = "left", hang: int = 0, leading: int = 4) -> None:
        usable = self.width - 2 * self.margin
        for line in _wrap(runs, usable, hang):
            groups = _font_groups(line)
            ascent = max(_extent(f)[0] for _, _, f in groups)
            descent = max(_extent(f)[1] for _, _, f in groups)
            strip = Image.new("L", (self.width, ascent + descent + leading), 255)
            draw = ImageDraw.Draw(strip)
            line_width = line[-1][0] + line[-1][1].width - line[0][0]
            offset = self.margin + ((usable - line_width) / 2 - line[0][0] if align == "center" else 0)
            for x, text, f in groups:
                draw.text((offset + x, ascent), text, font=f, fill=0, anchor="ls")
            self.strips.append(strip)

    def gap(self, dots: int) -> None:
        self.strips.append(Image.new("L", (self.width, dots), 255))

    def rule(self, thickness: int = 2, pad: int = 8) -> None:
        strip = Image.new("L", (self.width, thickness + 2 * pad), 255)
        ImageDraw.Draw(strip).rectangle((self.margin, pad, self.width - self.margin - 1, pad + thickness - 1), fill=0)
        self.strips.append(strip)

    def boxed(self, runs: list[Run], *, align: Align = "center") -> None:
        """Text inside a frame: the offline notice must not be missed."""
        inner = _Sheet(self.width - 2 * self.margin)
        inner.margin = max(6, round(self.margin * 0.8))
        inner.gap(6)
        inner.text(runs, align=align)
        inner.gap(4)
        body = inner.image()
        strip = Image.new("L", (self.width, body.height + 6), 255)
        strip.paste(body.convert("L"), (self.margin, 3))
        ImageDraw.Draw(strip).rectangle((self.margin, 0, self.width - self.margin - 1, body.height + 5), outline=0,
                                        width=3)
        self.strips.append(strip)

    def take(self) -> ImageBlock | None:
        """The strips so far as one 1-bit image block (then start afresh)."""
        if not self.strips:
            return None
        block = ImageBlock(self.image())
        self.strips = []
        return block

    def image(self) -> Image.Image:
        sheet = Image.new("L", (self.width, sum(s.height for s in self.strips)), 255)
        y = 0
        for s in self.strips:
            sheet.paste(s, (0, y))
            y += s.height
        return _one_bit(sheet)


def _one_bit(image: Image.Image) -> Image.Image:
    """Threshold (no dithering) so what the screen previews is exactly what the head prints."""
    return image.convert("L").point(lambda v: 255 if v >= THRESHOLD else 0).convert("1", dither=Image.Dither.NONE)


def _qr_image(payload: str, size_dots: int, width: int) -> Image.Image:
    """A QR code centred on a strip of the head width, 4-module quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    modules = code.modules_count
    code.box_size = max(1, min(width // (modules + 8), max(2, size_dots // modules)))
    symbol = code.make_image().get_image().convert("1")
    strip = Image.new("1", (width, symbol.height), 255)
    strip.paste(symbol, ((width - symbol.width) // 2, 0))
    return strip


def _qr_block(payload: str, size_dots: int, width: int, native_qr: bool) -> Block:
    return QrBlock(payload, size_dots) if native_qr else ImageBlock(_qr_image(payload, size_dots, width))


def _labelled(sheet: _Sheet, label: str, value: str, *, size: int = 24, value_bold: bool = False) -> None:
    body = sheet.px(size, 20)
    sheet.text([(label, font(body, True)), (value, font(body, value_bold))], hang=0)


def receipt_job(r: ReceiptData, width_dots: int, native_qr: bool) -> PrintJob:
    """The receipt: who, what, when, which papers, the appointment date and the QR to look it up."""
    s = _Sheet(width_dots)
    body, small = s.px(24, 20), s.px(21, 18)
    s.text([(r.centre_name, font(s.px(26, 20), True))], align="center")
    s.gap(s.px(10))
    s.text([("BIÊN NHẬN HỒ SƠ", font(s.px(44, 28), True))], align="center")
    s.rule(3)
    code_label = "Mã hồ sơ:" if r.dossier_code else "Mã tham chiếu:"
    s.text([(code_label, font(body, True))])
    s.text([(r.lookup_code, font(s.px(34, 24), True))], align="center")
    s.gap(s.px(6))
    _labelled(s, "Thủ tục:", f"{r.procedure_name} ({r.procedure_code})")
    _labelled(s, "Người nộp:", r.citizen_name)
    _labelled(s, "Thời gian nhận:", format_datetime(r.received_at))
    appointment = format_date(r.appointment_date) if r.appointment_date else "cán bộ sẽ thông báo sau"
    _labelled(s, "Ngày hẹn trả kết quả:", appointment, value_bold=r.appointment_date is not None)
    if r.documents:
        s.text([("Giấy tờ đã nhận:", font(body, True))])
        indent = round(font(body).getlength("9. "))
        for i, (name, pages) in enumerate(r.documents, 1):
            s.text([(f"{i}. {name} ({pages} trang)", font(body))], hang=indent)
    _labelled(s, "Lệ phí:", r.fee_text or "cán bộ sẽ thông báo tại quầy")
    s.rule()
    if r.assisted_note:
        s.boxed([(r.assisted_note, font(body, True))])
        s.gap(s.px(8))
    if r.offline:
        s.boxed([("Hồ sơ đã được lưu và sẽ được gửi tự động khi có kết nối mạng. Mã hồ sơ chính thức sẽ được "
                  "gửi sau; bạn có thể tra cứu bằng mã tham chiếu ở trên.", font(body, True))])
        s.gap(s.px(8))
    s.text([("Quét mã dưới đây tại ki-ốt để tra cứu tình trạng hồ sơ", font(small))], align="center")
    blocks: list[Block] = [s.take()]  # type: ignore[list-item]
    blocks.append(_qr_block(receipt_qr_payload(r.lookup_code), s.px(220, 160), width_dots, native_qr))
    if r.status_url_hint:
        s.text([("hoặc tra cứu tại:", font(small)), (r.status_url_hint, font(small, True))], align="center")
    if r.payment_qr:
        s.rule()
        s.text([("Quét mã VietQR bằng ứng dụng ngân hàng để nộp lệ phí", font(small, True))], align="center")
        blocks.append(s.take())  # type: ignore[arg-type]
        blocks.append(_qr_block(r.payment_qr, s.px(240, 180), width_dots, native_qr))
    s.rule(1)
    s.text([("Vui lòng giữ biên nhận này để nhận kết quả.", font(small))], align="center")
    footer = f"Ki-ốt {r.kiosk_id}" + (f" · Tham chiếu {r.local_reference}" if r.dossier_code else "")
    s.text([(footer, font(s.px(19, 16)))], align="center")
    blocks.append(s.take())  # type: ignore[arg-type]
    return PrintJob(name="receipt", blocks=[b for b in blocks if b is not None])


def _fit_font(text: str, width: int, start: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    """The largest font (from `start` down) in which `text` fits on one line of `width` dots."""
    size = start
    while size > 12 and font(size, bold).getlength(text) > width:
        size -= 4
    return font(size, bold)


def ticket_job(t: TicketData, width_dots: int) -> PrintJob:
    """The queue ticket: the number, huge, then where to go and how many are ahead."""
    s = _Sheet(width_dots)
    usable = width_dots - 2 * s.margin
    s.text([(t.centre_name, font(s.px(26, 20), True))], align="center")
    s.rule(2)
    s.text([("SỐ THỨ TỰ", font(s.px(40, 28), True))], align="center")
    s.text([(t.number, _fit_font(t.number, usable, s.px(190, 120)))], align="center", leading=0)
    if t.counter:
        s.text([(t.counter, font(s.px(40, 28), True))], align="center")
    if t.service_name:
        s.text([(t.service_name, font(s.px(24, 20)))], align="center")
    s.gap(s.px(8))
    waiting = (f"Có {t.waiting} người đang chờ trước bạn" if t.waiting
               else "Bạn là người tiếp theo")
    s.text([(waiting, font(s.px(28, 22), True))], align="center")
    s.text([("Vui lòng chú ý màn hình và loa gọi số.", font(s.px(22, 18)))], align="center")
    s.gap(s.px(6))
    s.text([(format_datetime(t.issued_at), font(s.px(24, 20)))], align="center")
    return PrintJob(name="ticket", blocks=[s.take()])  # type: ignore[list-item]


def test_slip_job(kiosk_id: str, width_dots: int, *, now: dt.datetime | None = None) -> PrintJob:
    """The technician's self-test: a full-width ruler (is the width right?), Vietnamese with stacked
    marks (is the font right?) and a QR code (does the printer's QR path work?)."""
    s = _Sheet(width_dots)
    body = s.px(24, 20)
    s.text([("IN THỬ MÁY IN", font(s.px(40, 28), True))], align="center")
    s.text([(f"Ki-ốt {kiosk_id}", font(body, True)), (format_datetime(now or centre_now()), font(body))],
           align="center")
    ruler = Image.new("L", (width_dots, 24), 255)
    draw = ImageDraw.Draw(ruler)
    draw.rectangle((0, 0, width_dots - 1, 7), fill=0)
    for x in range(0, width_dots, 8 * 10):  # a tick every 10 mm at 8 dots/mm
        draw.rectangle((x, 8, x + 1, 23), fill=0)
    draw.rectangle((width_dots - 2, 8, width_dots - 1, 23), fill=0)
    s.strips.append(ruler)
    s.text([(f"Khổ in: {width_dots} điểm", font(body))], align="center")
    s.text([("Tiếng Việt: ẤẦẨẪẬ ẾỀỂỄỆ ỐỒỔỖỘ ỚỜỞỠỢ ỨỪỬỮỰ Đ — Nguyễn Thị Hồng Ngọc, Huỳnh Quốc Việt, "
             "Thừa Thiên Huế", font(body))])
    blocks: list[Block] = [s.take(), QrBlock(receipt_qr_payload(f"TEST-{kiosk_id}"), s.px(200, 150))]  # type: ignore[list-item]
    s.text([("Nếu đọc rõ chữ và quét được mã QR, máy in hoạt động tốt.", font(s.px(21, 18)))], align="center")
    blocks.append(s.take())  # type: ignore[arg-type]
    return PrintJob(name="test_slip", blocks=blocks)


def render_preview(job: PrintJob, width_dots: int | None = None) -> Image.Image:
    """The job as it will come out of the printer (QR codes drawn as raster), for the screen."""
    width = width_dots or max((b.image.width for b in job.blocks if isinstance(b, ImageBlock)), default=576)
    parts: list[Image.Image] = []
    for block in job.blocks:
        if isinstance(block, ImageBlock):
            parts.append(_one_bit(block.image))
        elif isinstance(block, QrBlock):
            parts.append(_qr_image(block.payload, block.size_dots, width))
        elif isinstance(block, FeedBlock):
            parts.append(Image.new("1", (width, 30 * block.lines), 255))
    sheet = Image.new("1", (width, sum(p.height for p in parts)), 255)
    y = 0
    for p in parts:
        sheet.paste(p, ((width - p.width) // 2, y))
        y += p.height
    return sheet


test_slip_job.__test__ = False  # type: ignore[attr-defined]  # a layout, not a pytest test
