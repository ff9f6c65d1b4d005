"""The official declaration form (tờ khai), filled from the citizen's confirmed form data.

A procedure names its template in the catalogue (`declaration`); templates are small declarative layouts in
config/declarations/<id>.json (title, legal-basis line, one line per field at a position in millimetres on an
A4 page; sources in config/SOURCES.md). One layout plan (`layout`) feeds two renderers, so what the review
screen shows is what is sent:

- `declaration_pdf(plan)`: a PDF/A-2b with Noto Sans embedded (fpdf2), the dossier's FIRST document;
- `render_page(plan, dpi)`: page 1 as a PIL image (review screen), and `print_image(plan, width)` for a paper
  copy on the receipt printer (a rendered page, 1-bit).

The kiosk fills the form; the citizen confirmed its data with a one-time code. Nothing here draws or fakes a
signature: the signature box is left empty with the signer's printed name, and the foot of the page says the
file is sealed by the kiosk (kiosk.outbox.prepare adds that seal before delivery).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import unicodedata
from functools import lru_cache
from typing import Any
from collections.abc import Iterable, Mapping

from PIL import Image, ImageDraw, ImageFont

from kiosk import resources

A4_MM = (210.0, 297.0)
LABEL_X = 20.0
VALUE_X = 85.0
RIGHT_X = 190.0
LINE_MM = 5.5
BODY_PT = 11.0
MAX_VALUE_CHARS = 400
_FONTS = {False: "assets/fonts/NotoSans-Regular.ttf", True: "assets/fonts/NotoSans-Bold.ttf"}


@dataclasses.dataclass(frozen=True)
class Run:
    """One line of text: `x` is its left edge (or centre, for align='center'; right edge for 'right'),
    `y` its top, both in mm from the page's top-left corner."""

    x: float
    y: float
    text: str
    size: float = BODY_PT
    bold: bool = False
    align: str = "left"
    field: str = ""  # the field's source path for values ("form.child_full_name"), else ""


@dataclasses.dataclass(frozen=True)
class Plan:
    template: str
    title: str
    runs: tuple[Run, ...]

    def values(self) -> dict[str, str]:
        """Each field's value as laid out (lines joined by a space)."""
        out: dict[str, list[str]] = {}
        for r in self.runs:
            if r.field:
                out.setdefault(r.field, []).append(r.text)
        return {k: " ".join(v) for k, v in out.items()}


class DeclarationError(ValueError):
    pass


@lru_cache(maxsize=16)
def load_template(template_id: str) -> dict[str, Any]:
    if not template_id.replace("_", "").isalnum():
        raise DeclarationError("a template id is letters, digits and _")
    try:
        data = json.loads(resources.read_text(f"config/declarations/{template_id}.json"))
    except (OSError, ValueError) as e:
        raise DeclarationError(f"no declaration template {template_id!r}") from e
    if not isinstance(data, dict) or not data.get("title") or not isinstance(data.get("fields"), list):
        raise DeclarationError(f"declaration template {template_id!r} is malformed")
    return data


def _nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text)).strip()


def format_value(value: Any) -> str:
    """A form value as the paper form writes it: dates dd/mm/yyyy, yes/no as Có/Không."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            pass
    return _nfc(value)[:MAX_VALUE_CHARS]


def _lookup(path: str, form: Mapping[str, Any], citizen: Any, meta: Mapping[str, Any]) -> tuple[bool, str]:
    """(known, text) for a value path: form.<id>, citizen.<attribute> or meta.<key>."""
    kind, _, key = path.partition(".")
    if kind == "form":
        return key in form, format_value(form.get(key))
    if kind == "citizen":
        if citizen is None:
            return True, ""
        value = citizen.get(key) if isinstance(citizen, Mapping) else getattr(citizen, key, None)
        return True, format_value(value)
    if kind == "meta":
        return True, format_value(meta.get(key))
    return False, ""


@lru_cache(maxsize=8)
def _pil_font(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(resources.resource_path(_FONTS[bold])), px, layout_engine=ImageFont.Layout.BASIC)


def _width_mm(text: str, size_pt: float, bold: bool) -> float:
    # measured at 100 px per em, scaled: 1 pt = 25.4/72 mm
    return _pil_font(bold, 100).getlength(text) / 100.0 * size_pt * 25.4 / 72.0


def _wrap(text: str, width_mm: float, size_pt: float, bold: bool = False) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and _width_mm(candidate, size_pt, bold) > width_mm:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line or not lines:
        lines.append(line)
    return lines


def layout(template_id: str, form: Mapping[str, Any], *, citizen: Any = None, agency: str = "",
           place: str = "", day: dt.date | None = None, kiosk_id: str = "",
           form_fields: Iterable[str] | None = None) -> Plan:
    """Fill a template. A field whose form question the procedure does not ask (not in `form_fields`, or
    absent from `form` when `form_fields` is None) is left out: one template (CT01) serves several procedures."""
    tpl = load_template(template_id)
    asked = set(form_fields) if form_fields is not None else None
    meta = {"agency": agency, "place": place, "kiosk_id": kiosk_id}
    runs: list[Run] = [
        Run(105, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, True, "center"),
        Run(105, 18, "Độc lập - Tự do - Hạnh phúc", 12, True, "center"),
        Run(105, 30, _nfc(tpl["title"]), 14, True, "center"),
    ]
    y = 38.0
    for line in _wrap(_nfc(tpl.get("basis", "")), 170, 9):
        runs.append(Run(105, y, line, 9, False, "center"))
        y += 4.2
    addressee = _nfc(tpl.get("addressee", "Kính gửi: {agency}")).replace("{agency}", _nfc(agency) or "…")
    runs.append(Run(105, max(y + 3, 50), addressee, BODY_PT, True, "center"))
    shift = 0.0
    for f in tpl["fields"]:
        top = float(f["y"]) + shift
        if "section" in f:
            runs.append(Run(LABEL_X, top, _nfc(f["section"]), BODY_PT, True))
            continue
        path = str(f["value"])
        known, text = _lookup(path, form, citizen, meta)
        if path.startswith("form.") and (path[5:] not in asked if asked is not None else not known):
            continue
        label_lines = _wrap(_nfc(f["label"]), VALUE_X - LABEL_X - 2, BODY_PT)
        value_lines = _wrap(text, RIGHT_X - VALUE_X, BODY_PT) if text else []
        for i, line in enumerate(label_lines):
            runs.append(Run(LABEL_X, top + i * LINE_MM, line))
        for i, line in enumerate(value_lines):
            runs.append(Run(VALUE_X, top + i * LINE_MM, line, field=path))
        if not value_lines:
            runs.append(Run(VALUE_X, top, "…" * 3))
        shift += (max(len(label_lines), len(value_lines), 1) - 1) * LINE_MM
    y = float(tpl.get("pledge_y", 170)) + shift
    for line in _wrap(_nfc(tpl.get("pledge", "")), RIGHT_X - LABEL_X, BODY_PT):
        runs.append(Run(LABEL_X, y, line))
        y += LINE_MM
    day = day or dt.date.today()
    where = f"{_nfc(place)}, ngày" if place else "Ngày"
    runs.append(Run(RIGHT_X, y + 6, f"{where} {day.day:02d} tháng {day.month:02d} năm {day.year}", BODY_PT,
                    False, "right"))
    runs.append(Run(150, y + 14, _nfc(tpl.get("signer", "Người yêu cầu")), BODY_PT, True, "center"))
    runs.append(Run(150, y + 20, "(đã xác nhận bằng mã OTP tại kiosk)", 9, False, "center"))
    known, name = _lookup(str(tpl.get("signer_name", "form.declarant_full_name")), form, citizen, meta)
    if name:
        runs.append(Run(150, y + 40, name, BODY_PT, True, "center", field="signer_name"))
    foot = ("Tờ khai do kiosk tự phục vụ" + (f" {kiosk_id}" if kiosk_id else "") + " lập từ thông tin người yêu "
            "cầu đã khai và xác nhận. Tệp được niêm phong điện tử bằng dấu của kiosk (không phải chữ ký của "
            "người yêu cầu).")
    fy = 276.0
    for line in _wrap(foot, 170, 8):
        runs.append(Run(105, fy, line, 8, False, "center"))
        fy += 3.8
    return Plan(template=template_id, title=_nfc(tpl["title"]), runs=tuple(runs))


# --------------------------------------------------------------------------------------------- PDF
def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def declaration_pdf(plan: Plan, *, created: dt.datetime | None = None) -> bytes:
    """The filled form as PDF/A-2b (fpdf2 enforces the profile; Noto Sans embedded and subset)."""
    from fpdf import FPDF
    from fpdf.enums import DocumentCompliance, OutputIntentSubType
    from fpdf.output import PDFICCProfile

    pdf = FPDF(unit="mm", format="A4", enforce_compliance=DocumentCompliance.PDFA_2B)
    pdf.set_creation_date(created or dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    pdf.set_title(plan.title)
    pdf.set_creator("DVC Kiosk")
    pdf.set_lang("vi-VN")
    pdf.add_output_intent(OutputIntentSubType.PDFA, "sRGB IEC61966-2.1", "sRGB", "http://www.color.org",
                          PDFICCProfile(_srgb_profile(), 3, "RGB"), "sRGB")
    pdf.add_font("Noto", "", str(resources.resource_path(_FONTS[False])))
    pdf.add_font("Noto", "B", str(resources.resource_path(_FONTS[True])))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    for r in plan.runs:
        pdf.set_font("Noto", "B" if r.bold else "", r.size)
        width = pdf.get_string_width(r.text)
        x = r.x - width / 2 if r.align == "center" else r.x - width if r.align == "right" else r.x
        baseline = r.y + r.size * 25.4 / 72.0 * 0.8
        pdf.text(x, baseline, r.text)
    return bytes(pdf.output())


def declaration_sha256(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


# --------------------------------------------------------------------------------------------- images
def render_page(plan: Plan, dpi: int = 100) -> Image.Image:
    """Page 1 as the review screen shows it (grey, A4 at `dpi`), drawn from the same plan as the PDF."""
    px_mm = dpi / 25.4
    img = Image.new("L", (round(A4_MM[0] * px_mm), round(A4_MM[1] * px_mm)), 255)
    draw = ImageDraw.Draw(img)
    for r in plan.runs:
        px = max(6, round(r.size * dpi / 72.0))
        f = _pil_font(r.bold, px)
        w = f.getlength(r.text)
        x = r.x * px_mm - (w / 2 if r.align == "center" else w if r.align == "right" else 0)
        baseline = (r.y + r.size * 25.4 / 72.0 * 0.8) * px_mm
        draw.text((x, baseline), r.text, font=f, fill=0, anchor="ls")
    return img


def print_image(plan: Plan, width_dots: int = 576) -> Image.Image:
    """A paper copy for the receipt printer: the page scaled to the head width, 1-bit."""
    page = render_page(plan, dpi=200)
    height = round(page.height * width_dots / page.width)
    return page.resize((width_dots, height), Image.Resampling.LANCZOS).point(lambda v: 0 if v < 160 else 255, "1")


__all__ = ["Run", "Plan", "DeclarationError", "load_template", "layout", "declaration_pdf", "render_page",
           "print_image", "format_value", "declaration_sha256"]
