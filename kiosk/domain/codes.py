"""Classify and parse whatever a code reader saw: a VNeID login code, a chip ID card QR, a receipt QR.

A scanned payload is hostile input: anyone can hold any QR code up to the kiosk. `parse_code` never raises;
it returns one of the typed results below, and anything it cannot trust becomes `Rejected` with a
Vietnamese message that tells the citizen what to do next. Nothing here logs or prints personal data:
`IdCardQr` and `VneidLogin` hide their contents in `repr`, and `Rejected.reason` is technical and free of
the payload's text.

ID card payload (CCCD with chip, 2021): `ID(12)|old CMND(9 or empty)|full name|ddmmyyyy|Nam/Nữ|address|
issue ddmmyyyy`; a 6-field variant omits the old number; the 2024 card adds fields after the seventh,
which are kept in `extra`. The 12-digit number is checked against TT 59/2021/TT-BCA: province code,
sex/century digit and the last two digits of the birth year.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

MAX_PAYLOAD_BYTES = 2048
MAX_NAME_CHARS = 100
MAX_ADDRESS_CHARS = 400
MAX_EXTRA_FIELD_CHARS = 400
#: The receipt QR (status look-up contract): `DVCK1|<lookup code>|<secret>` (`DVCK1|<lookup code>` on old receipts).
RECEIPT_PREFIX = "DVCK1|"
MAX_RECEIPT_QR_CHARS = 160
#: A kiosk's id as the site configuration allows it (kiosk.appliance.config uses this pattern).
KIOSK_ID_PATTERN = r"^[A-Za-z0-9._\-]{1,64}$"
#: A dossier code the portal assigns (kiosk.portal.models.DossierCode uses this pattern).
DOSSIER_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9.\-]{3,40}$"
#: What a citizen can look a dossier up by: the portal's dossier code or the kiosk's local reference
#: (`<KIOSK ID>-yymmdd-XXXXXX`, see `new_local_reference`), so every kiosk id the config allows fits.
LOOKUP_CODE_PATTERN = r"^[A-Za-z0-9._\-]{4,96}$"
#: The short look-up secret printed beside the code (issue 14: dossier codes are sequential, so anyone could
#: type a neighbour's; look-up needs the code and this secret). Capitals and digits that cannot be mistaken for
#: one another on a thermal print or when read aloud: no 0/O/Q/D-lookalikes of 0, no 1/I/L, 2/Z, 5/S, 6/G, 8/B.
SECRET_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
SECRET_LENGTH = 6  # 22**6 ≈ 1.1e8 possibilities; the portal allows a handful of wrong tries per code
RECEIPT_SECRET_PATTERN = rf"^[{SECRET_ALPHABET}]{{4,6}}$"

# Province codes of the 12-digit ID number (TT 07/2016/TT-BCA annex, kept by TT 59/2021/TT-BCA): the 63
# provinces before the 2025 merger. Cards already issued keep these codes.
PROVINCE_CODES: frozenset[str] = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 "
    "038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 "
    "080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)

_DIGITS12 = re.compile(r"\d{12}")
_OLD_ID = re.compile(r"(?:\d{9})?")
_DATE8 = re.compile(r"\d{8}")
# Opaque login tokens: URL-safe printable ASCII (the sandbox uses `VNEID-TEST-0001`; the real app's
# payload is unpublished, possibly a URL), 6..512 characters like the portal's login_code.
_LOGIN_TOKEN = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%\-]{6,512}")
_DOSSIER_CODE = re.compile(DOSSIER_CODE_PATTERN)
_LOOKUP_CODE = re.compile(LOOKUP_CODE_PATTERN)
_RECEIPT_SECRET = re.compile(RECEIPT_SECRET_PATTERN)
_NAME_PUNCTUATION = frozenset(" '-.")
_SEX_WORDS = {"nam": "Nam", "nữ": "Nữ"}


# --------------------------------------------------------------------------------------------- results
@dataclasses.dataclass(frozen=True, repr=False)
class VneidLogin:
    """A login code shown by the VNeID app; opaque, the portal exchanges it for the citizen's profile."""

    token: str

    def __repr__(self) -> str:  # the token is a credential
        return f"VneidLogin(<token hidden, {len(self.token)} chars>)"


@dataclasses.dataclass(frozen=True, repr=False)
class IdCardQr:
    """The QR of a chip ID card. Personal data: never log it, never put it in a repr."""

    id_number: str
    old_id_number: str  # 9 digits, or "" when the card carries none
    full_name: str
    birth_date: dt.date
    sex: str  # "Nam" | "Nữ"
    address: str
    issue_date: dt.date
    extra: tuple[str, ...] = ()  # fields after the seventh (2024 cards), kept as read

    def to_prefill(self) -> dict:
        """The values the form screen prefills (keys agreed with the form layer)."""
        return {
            "full_name": self.full_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "id_number": self.id_number,
            "address": self.address,
        }

    def __repr__(self) -> str:
        return f"IdCardQr(<personal data hidden>, extra_fields={len(self.extra)})"

    __str__ = __repr__


@dataclasses.dataclass(frozen=True)
class ReceiptQr:
    """The QR the kiosk prints on a receipt, scanned to look up a dossier's status (see `encode_receipt_qr`)."""

    code: str  # a dossier code or a local reference (LOOKUP_CODE_PATTERN)
    secret: str = ""  # the look-up secret printed beside the code, when the receipt carries one

    def __repr__(self) -> str:
        return f"ReceiptQr(code={self.code!r}, secret={'<hidden>' if self.secret else ''!r})"


@dataclasses.dataclass(frozen=True)
class Rejected:
    """A payload the kiosk will not use. `reason` is technical and safe to log (no payload text)."""

    reason: str
    reason_vi: str


ParsedCode = VneidLogin | IdCardQr | ReceiptQr | Rejected

_SCAN_AGAIN = "Vui lòng đưa mã lại gần camera, giữ yên và thử lại; nếu vẫn không được, hãy báo cán bộ tại quầy."
REJECT_MESSAGES: dict[str, str] = {
    "empty": "Không đọc được nội dung mã. " + _SCAN_AGAIN,
    "too_long": "Mã này quá dài, không phải mã đăng nhập VNeID hay mã trên căn cước. "
                "Vui lòng mở ứng dụng VNeID và đưa mã đăng nhập, hoặc đưa mặt có mã QR của thẻ căn cước.",
    "control_chars": "Mã chứa ký tự lạ nên máy không dùng được. " + _SCAN_AGAIN,
    "payment_qr": "Đây là mã thanh toán ngân hàng, không dùng để đăng nhập. "
                  "Vui lòng đưa mã đăng nhập trong ứng dụng VNeID hoặc mã QR trên thẻ căn cước.",
    "unknown_format": "Máy không nhận ra loại mã này. "
                      "Vui lòng đưa mã đăng nhập trong ứng dụng VNeID, mã QR trên thẻ căn cước hoặc mã trên biên nhận.",
    "receipt": "Mã trên biên nhận không đúng định dạng. "
               "Vui lòng nhập mã hồ sơ in trên biên nhận hoặc hỏi cán bộ tại quầy.",
    "id_card": "Không đọc đúng được mã QR trên thẻ căn cước. "
               "Vui lòng lau sạch mặt thẻ, đặt thẻ phẳng và giữ yên trước camera rồi thử lại; "
               "nếu vẫn không được, hãy đăng nhập bằng ứng dụng VNeID hoặc báo cán bộ tại quầy.",
}


def _reject(kind: str, detail: str) -> Rejected:
    """`kind` picks the citizen's message; `detail` names the failed check (never payload text)."""
    return Rejected(reason=f"{kind}.{detail}" if detail else kind, reason_vi=REJECT_MESSAGES[kind])


# --------------------------------------------------------------------------------------------- parsing
def parse_code(text: str) -> ParsedCode:
    """Classify a scanned payload and parse it. Never raises, whatever `text` is."""
    try:
        return _parse(text)
    except Exception:  # noqa: BLE001 - last line of defence: hostile input must not crash a session
        return _reject("unknown_format", "internal")


def _parse(text: str) -> ParsedCode:
    if not isinstance(text, str) or not text:
        return _reject("empty", "")
    # Size first, before any work proportional to the input.
    if len(text) > MAX_PAYLOAD_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
        return _reject("too_long", "")
    # USB scanners end a code with CR/LF (or Tab); stray spaces around a code carry no meaning.
    text = text.rstrip("\r\n\t").strip(" ")
    if not text:
        return _reject("empty", "")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in text):
        return _reject("control_chars", "")
    text = unicodedata.normalize("NFC", text)

    if text.startswith(RECEIPT_PREFIX):
        return decode_receipt_qr(text) or _reject("receipt", "bad_lookup_code")
    if "|" in text:
        return _parse_id_card(text)
    if text.startswith("000201") and "A000000727" in text:
        return _reject("payment_qr", "vietqr")
    if _LOGIN_TOKEN.fullmatch(text):
        return VneidLogin(token=text)
    return _reject("unknown_format", "")


# --------------------------------------------------------------------------------------------- receipt QR
def encode_receipt_qr(code: str, secret: str = "") -> str:
    """The receipt QR's text. The one definition: receipt, portal client, status look-up and CLI all use it."""
    if not _LOOKUP_CODE.fullmatch(code):
        raise ValueError("not a dossier code or local reference")
    if secret and not _RECEIPT_SECRET.fullmatch(secret):
        raise ValueError("a receipt secret is 4-6 characters of SECRET_ALPHABET")
    return RECEIPT_PREFIX + code + (f"|{secret}" if secret else "")


def decode_receipt_qr(text: object) -> ReceiptQr | None:
    """The look-up code (and secret) in a receipt QR's text, or None for anything else. Never raises.
    Scanners append CR/LF; surrounding whitespace is ignored; long input is refused before any parsing."""
    if not isinstance(text, str) or len(text) > MAX_RECEIPT_QR_CHARS:
        return None
    text = text.strip()
    if not text.startswith(RECEIPT_PREFIX):
        return None
    code, _, secret = text[len(RECEIPT_PREFIX):].partition("|")
    if not _LOOKUP_CODE.fullmatch(code) or (secret and not _RECEIPT_SECRET.fullmatch(secret)):
        return None
    return ReceiptQr(code=code, secret=secret)


def new_lookup_secret() -> str:
    """A fresh look-up secret (the kiosk makes one for every dossier; the portal keeps it or issues its own)."""
    import secrets

    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def normalize_secret(text: object) -> str:
    """What a citizen typed as the secret, as the portal compares it: capitals, no spaces or dashes.
    Anything that cannot be a secret becomes "" (never raises)."""
    if not isinstance(text, str) or len(text) > 32:
        return ""
    value = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch not in " -.\t")
    return value if _RECEIPT_SECRET.fullmatch(value) else ""


def is_lookup_secret(text: object) -> bool:
    return isinstance(text, str) and _RECEIPT_SECRET.fullmatch(text) is not None


def is_dossier_code(text: str) -> bool:
    return isinstance(text, str) and _DOSSIER_CODE.fullmatch(text) is not None


def is_lookup_code(text: str) -> bool:
    return isinstance(text, str) and _LOOKUP_CODE.fullmatch(text) is not None


def new_local_reference(kiosk_id: str, now: dt.datetime) -> str:
    """A reference the kiosk gives a dossier before the portal assigns its code (printed when offline)."""
    import uuid

    return f"{kiosk_id.upper()}-{now:%y%m%d}-{uuid.uuid4().hex[:6].upper()}"


def _parse_id_card(text: str) -> IdCardQr | Rejected:
    fields = text.split("|")
    extra: tuple[str, ...] = ()
    if len(fields) == 6:
        id_number, name, birth, sex, address, issue = fields
        old_id = ""
    elif len(fields) >= 7:
        id_number, old_id, name, birth, sex, address, issue = fields[:7]
        extra = tuple(fields[7:])
    else:
        return _reject("id_card", "field_count")
    id_number, old_id, birth, issue = (f.strip() for f in (id_number, old_id, birth, issue))
    name, address, sex = (" ".join(f.split()) for f in (name, address, sex))

    if not _DIGITS12.fullmatch(id_number):
        return _reject("id_card", "id_number_digits")
    if not _OLD_ID.fullmatch(old_id):
        return _reject("id_card", "old_id_digits")
    if not _valid_name(name):
        return _reject("id_card", "full_name")
    sex_word = _SEX_WORDS.get(sex.lower())
    if sex_word is None:
        return _reject("id_card", "sex")
    birth_date, issue_date = _parse_date(birth), _parse_date(issue)
    if birth_date is None:
        return _reject("id_card", "birth_date")
    if issue_date is None:
        return _reject("id_card", "issue_date")
    today = dt.date.today()
    if birth_date > today:
        return _reject("id_card", "birth_date_future")
    # One day of slack: a card issued "today" in Vietnam (UTC+7) can be tomorrow for a clock on UTC.
    if issue_date < birth_date or issue_date > today + dt.timedelta(days=1):
        return _reject("id_card", "issue_date_range")
    if not address or len(address) > MAX_ADDRESS_CHARS:
        return _reject("id_card", "address")
    if any(len(f) > MAX_EXTRA_FIELD_CHARS for f in extra):
        return _reject("id_card", "extra_field")
    problem = id_number_problem(id_number, birth_date, sex_word)
    if problem:
        return _reject("id_card", problem)
    return IdCardQr(
        id_number=id_number, old_id_number=old_id, full_name=name, birth_date=birth_date, sex=sex_word,
        address=address, issue_date=issue_date, extra=extra,
    )


def id_number_problem(id_number: str, birth_date: dt.date, sex: str) -> str:
    """Why a 12-digit ID number does not fit its holder ("" when it does), per TT 59/2021/TT-BCA:
    3-digit province code, then a digit for sex and century (0/1 = male/female born 1900-1999, 2/3 for
    2000-2099, and so on), then the last two digits of the birth year."""
    if not _DIGITS12.fullmatch(id_number):
        return "id_number_digits"
    if id_number[:3] not in PROVINCE_CODES:
        return "province_code"
    sex_century = int(id_number[3])
    if 1900 + (sex_century // 2) * 100 != birth_date.year // 100 * 100:
        return "century_digit"
    if (sex_century % 2 == 0) != (sex == "Nam"):
        return "sex_digit"
    if id_number[4:6] != f"{birth_date.year % 100:02d}":
        return "birth_year_digits"
    return ""


def _parse_date(ddmmyyyy: str) -> dt.date | None:
    if not _DATE8.fullmatch(ddmmyyyy):
        return None
    try:
        date = dt.date(int(ddmmyyyy[4:]), int(ddmmyyyy[2:4]), int(ddmmyyyy[:2]))
    except ValueError:
        return None
    return date if date.year >= 1900 else None


def _valid_name(name: str) -> bool:
    """Letters (with Vietnamese marks), spaces and the odd apostrophe/hyphen/dot; at least one letter."""
    if not name or len(name) > MAX_NAME_CHARS:
        return False
    if not any(ch.isalpha() for ch in name):
        return False
    return all(ch.isalpha() or unicodedata.category(ch).startswith("M") or ch in _NAME_PUNCTUATION for ch in name)

