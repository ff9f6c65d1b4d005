"""Procedure forms: prefilled from what the kiosk already knows, checked with messages a citizen understands.

Each procedure's form becomes a pydantic model (built once with `create_model`); every field parser raises
a typed error kind, and `MESSAGES` turns each kind into a Vietnamese sentence shown next to the field,
saying what is wrong and how to write it instead.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any
from collections.abc import Callable, Mapping

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model
from pydantic_core import PydanticCustomError

from kiosk.domain import patterns
from kiosk.domain.catalog import FormField, Procedure
from kiosk.domain.text import fold, nfc

if TYPE_CHECKING:  # the contract type only: the domain does not depend on the portal layer
    from kiosk.portal.models import CitizenProfile

__all__ = ["FormResult", "MESSAGES", "display_value", "prefill", "validate"]

OLDEST_YEAR = 1900
DATE_FORMAT = "%d/%m/%Y"  # how dates are shown and typed on the kiosk

# Error kind -> message shown under the field. `{label}` is the field's label in lower case.
MESSAGES: dict[str, str] = {
    "required": "Vui lòng nhập {label}.",
    "required_choice": "Vui lòng chọn {label}.",
    "required_question": "Vui lòng trả lời câu hỏi này.",
    "too_long": "Nội dung quá dài: tối đa {max} ký tự. Vui lòng viết ngắn lại.",
    "too_short": "Nội dung quá ngắn: cần ít nhất {min} ký tự.",
    "pattern": "Thông tin chưa đúng dạng. Vui lòng xem hướng dẫn và nhập lại.",
    "name_chars": "Họ tên chỉ gồm chữ cái, dấu cách, dấu nháy (') và gạch nối (-). Vui lòng nhập lại.",
    "date_format": "Ngày không hợp lệ, hãy nhập theo dạng ngày/tháng/năm.",
    "date_invalid": "Ngày này không có trên lịch. Vui lòng kiểm tra lại ngày và tháng.",
    "date_future": "Ngày này chưa đến. Vui lòng kiểm tra lại ngày, tháng, năm.",
    "date_past": "Ngày này đã qua. Vui lòng chọn một ngày từ hôm nay trở đi.",
    "date_too_old": "Năm phải từ 1900 trở đi. Vui lòng kiểm tra lại năm.",
    "number_format": "Vui lòng chỉ nhập chữ số, ví dụ: 2.",
    "number_range": "Vui lòng nhập số từ {min} đến {max}.",
    "choice_unknown": "Vui lòng chọn một trong các mục trên màn hình.",
    "yesno": "Vui lòng chọn Có hoặc Không.",
    "phone": "Số điện thoại chưa đúng. Hãy nhập 10 chữ số, bắt đầu bằng số 0.",
    "invalid": "Thông tin chưa đúng. Vui lòng nhập lại hoặc hỏi cán bộ tại quầy.",
}

_YES = frozenset({"co", "yes", "true", "1", "dung", "phai"})
_NO = frozenset({"khong", "no", "false", "0", "sai"})
_DATE_DMY = re.compile(r"^(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4})$")
_DATE_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")  # ddmmyyyy, as on the ID-card QR
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_PHONE_NOISE = re.compile(r"[\s.\-()]")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"})


class FormResult(BaseModel):
    """Typed, normalised values (NFC text, `date`, `int`, `bool`) and one message per field in error."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    values: dict[str, Any] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def json_values(self) -> dict[str, Any]:
        """The values as the portal takes them: dates ISO, the rest as they are."""
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in self.values.items()}


def display_value(value: Any) -> str:
    """How a typed form value is shown back to the citizen (review screen, receipt)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    return str(value)


# ------------------------------------------------------------------------------------------ prefill
def _as_date_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    text = str(value).strip()
    compact = _DATE_COMPACT.match(text)
    if compact:
        return f"{compact[1]}/{compact[2]}/{compact[3]}"
    iso = _DATE_ISO.match(text)
    if iso:
        return f"{iso[3]}/{iso[2]}/{iso[1]}"
    return text


def _known_facts(citizen: CitizenProfile | None, id_card: Mapping[str, Any] | None) -> dict[str, str]:
    """What the kiosk knows about the citizen: the portal profile first, the ID card's QR filling gaps."""
    facts: dict[str, str] = {}
    card = dict(id_card or {})
    for key in ("full_name", "birth_date", "id_number", "sex", "address"):
        value = getattr(citizen, key, None) if citizen is not None else None
        if value in (None, ""):
            value = card.get(key)
        if value in (None, ""):
            continue
        facts[key] = _as_date_text(value) if key == "birth_date" else nfc(str(value).strip())
    phone = (citizen.phone_masked if citizen is not None else "") or str(card.get("phone") or "")
    if phone and "*" not in phone:  # a masked number cannot be typed back; the citizen enters it
        facts["phone"] = phone.strip()
    return facts


def prefill(procedure: Procedure, citizen: CitizenProfile | None,
            id_card: dict | None = None) -> dict[str, str]:
    """Initial text for each field the kiosk can fill, so nothing it already knows is typed twice."""
    facts = _known_facts(citizen, id_card)
    filled: dict[str, str] = {}
    for field in procedure.form:
        if field.prefill is None:
            continue
        value = facts.get(field.prefill.removeprefix("citizen."))
        if not value:
            continue
        if field.type == "choice":
            value = next((c for c in field.choices if fold(c) == fold(value)), "")
            if not value:
                continue
        filled[field.id] = value
    return filled


# ------------------------------------------------------------------------------------------ validation
def _fail(kind: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, MESSAGES.get(kind, MESSAGES["invalid"]), ctx)


def _clean_text(raw: Any) -> str:
    text = "" if raw is None else str(raw)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return nfc(_SPACES.sub(" ", text).strip())


def _number_text(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def _parse_date(text: str, field: FormField, today: dt.date) -> dt.date:
    parts = _DATE_DMY.match(text) or _DATE_COMPACT.match(text)
    if parts:
        day, month, year = (int(p) for p in parts.groups())
    elif iso := _DATE_ISO.match(text):
        year, month, day = (int(p) for p in iso.groups())
    else:
        raise _fail("date_format")
    try:
        value = dt.date(year, month, day)
    except ValueError:
        raise _fail("date_invalid") from None
    if year < OLDEST_YEAR:
        raise _fail("date_too_old")
    if field.when == "past" and value > today:
        raise _fail("date_future")
    if field.when == "future" and value < today:
        raise _fail("date_past")
    return value


def _parse_phone(text: str) -> str:
    digits = _PHONE_NOISE.sub("", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0[0-9]{9}", digits):
        raise _fail("phone")
    return digits


def _parse_number(text: str, field: FormField) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise _fail("number_format")
    value = int(text)
    low = field.min if field.min is not None else 0
    high = field.max if field.max is not None else 999_999_999
    if not low <= value <= high:
        raise _fail("number_range", min=_number_text(low), max=_number_text(high))
    return value


def _check_text(text: str, field: FormField) -> str:
    if field.max is not None and len(text) > field.max:
        raise _fail("too_long", max=_number_text(field.max))
    if field.min is not None and len(text) < field.min:
        raise _fail("too_short", min=_number_text(field.min))
    if field.pattern is not None and not patterns.fullmatch(field.pattern, text):
        raise _fail("pattern")
    if field.id.endswith("full_name"):
        # ethnic-minority names: H'Hen Niê, Y-Moan Ênuôl (a typographic apostrophe is the same letter mark)
        text = text.translate(_APOSTROPHES)
        if not all(c.isalpha() or c in " '-" for c in text):
            raise _fail("name_chars")
    return text


def _label_for_message(label: str) -> str:
    return label[:1].lower() + label[1:]


def _parser(field: FormField, today: dt.date) -> Callable[[Any], Any]:
    """The before-validator for one field: raw text in, typed value out, or a typed error kind."""

    def parse(raw: Any) -> Any:
        text = _clean_text(raw)
        if not text:
            if not field.required:
                return None
            if field.label.endswith("?"):
                raise _fail("required_question")
            kind = "required_choice" if field.type in ("choice", "yesno") else "required"
            raise _fail(kind, label=_label_for_message(field.label))
        if field.type in ("date", "number", "phone"):
            text = unicodedata.normalize("NFKC", text)  # full-width digits from some keyboards → 0-9
        if field.type == "date":
            return _parse_date(text, field, today)
        if field.type == "number":
            return _parse_number(text, field)
        if field.type == "phone":
            return _parse_phone(text)
        if field.type == "yesno":
            folded = fold(text)
            if folded in _YES:
                return True
            if folded in _NO:
                return False
            raise _fail("yesno")
        if field.type == "choice":
            chosen = next((c for c in field.choices if fold(c) == fold(text)), None)
            if chosen is None:
                raise _fail("choice_unknown")
            return chosen
        return _check_text(text, field)

    return parse


def _internal_name(position: int) -> str:
    return f"field_{position}"


@lru_cache(maxsize=256)
def _form_model(form_json: str, today: dt.date) -> type[BaseModel]:
    fields = [FormField.model_validate_json(f) for f in form_json.split("\n") if f]
    # Internal names, with the field ids as aliases: an id such as "json" or "model_x" cannot clash with pydantic.
    definitions: dict[str, Any] = {
        _internal_name(n): (Annotated[Any, BeforeValidator(_parser(f, today))], Field(default=None, alias=f.id))
        for n, f in enumerate(fields)
    }
    return create_model(
        "ProcedureForm", __config__=ConfigDict(extra="ignore", validate_default=True), **definitions)


def validate(procedure: Procedure, values: dict[str, str], today: dt.date | None = None) -> FormResult:
    """Check what the citizen typed; never raises. `today` is the kiosk's local date (for tests: fixed)."""
    today = today or dt.date.today()
    form_json = "\n".join(f.model_dump_json() for f in procedure.form)
    model = _form_model(form_json, today)
    raw = {k: v for k, v in (values or {}).items() if isinstance(k, str)}
    try:
        parsed = model.model_validate(raw)
    except ValidationError as e:
        # A missing answer is reported under the internal name, a given one under its alias (the field id).
        ids = {_internal_name(n): f.id for n, f in enumerate(procedure.form)}
        errors: dict[str, str] = {}
        for err in e.errors(include_url=False):
            field_id = ids.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else ""
            if field_id and field_id not in errors:
                errors[field_id] = err["msg"] if err["type"] in MESSAGES else MESSAGES["invalid"]
        good: dict[str, Any] = {}
        for f in procedure.form:
            if f.id in errors:
                continue
            try:
                value = _parser(f, today)(raw.get(f.id))
            except PydanticCustomError:
                continue
            if value is not None:
                good[f.id] = value
        return FormResult(values=good, errors=errors)
    typed = {k: v for k, v in parsed.model_dump(by_alias=True).items() if v is not None}
    return FormResult(values=typed, errors={})
