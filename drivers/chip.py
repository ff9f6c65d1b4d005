"""The chip ID card (CCCD gắn chip / thẻ căn cước) reader interface, its data and its typed errors.

What was found about Vietnamese CCCD chips (public sources, via code search; reference only, nothing copied):

* The MRZ is TD1 (3 x 30). Line 1 is ``IDVNM`` + the LAST 9 digits of the 12-digit ID number as the document
  number + its check digit, then the full 12-digit ID in the optional data, followed by a check digit of those
  12 digits in position 30. Seen in a public Android eKYC sample (an MRZ string
  ``IDVNM<9 digits><check><12 digits><<<check>`` whose 12 digits end in the 9-digit document number; both
  check digits verify) and in Vietnamese reader SDK docs (VNPT ICNFC sample: "idNumber ... 12 ký tự",
  birth and expiry as YYMMDD), and a Dart MRZ parser with a 9-digit ``shortID`` and a 12-digit ``id``.
  So the BAC document number is the last 9 digits of the ID number (``BacKeys.from_id_number``).
* DG13 (tag 0x6D) holds SEQUENCE { INTEGER n, value } fields: 1 ID number (PrintableString), 2 full name,
  3 birth date (dd/mm/yyyy), 4 sex, 5 nationality, 6 ethnicity, 7 religion, 8 home town, 9 residence,
  10 identifying marks, 11 issue date, 12 expiry date, 13 parents { father, mother }, 14 spouse (optional),
  15 old 9-digit ID (one Swift reader) — a TypeScript profile says 16 instead; we take whichever of 15/16 looks
  like a 9- or 12-digit number. Sources: an iOS Swift DataGroup13 parser, a TypeScript "VN-CCCD-2024" profile,
  a Python ExtractCCCD service (all on GitHub, found with the search tool).
* Access is by BAC. PACE is NOT implemented here (see drivers/icao/reader.py).

Card validity (``card_expiry``) — Luật Căn cước 26/2023/QH15, Điều 21:
  khoản 1: "Công dân Việt Nam đã được cấp thẻ căn cước phải thực hiện thủ tục cấp đổi thẻ căn cước khi đủ
  14 tuổi, 25 tuổi, 40 tuổi và 60 tuổi."
  khoản 2: "Thẻ căn cước đã được cấp, cấp đổi, cấp lại trong thời hạn 02 năm trước độ tuổi cấp đổi thẻ căn
  cước quy định tại khoản 1 Điều này có giá trị sử dụng đến tuổi cấp đổi thẻ căn cước tiếp theo."
  (text as quoted by thuvienphapluat.vn / cafef.vn / ngoisao.vn articles on the 2023 law; the 2014 Citizen ID
  Law had the same rule without the 14 milestone.) A card issued at 60 or later, or within 2 years before 60,
  has no further milestone: valid for life. The expiry printed on real cards is the birthday of the milestone
  age (a public sample: born 05/01/1993, MRZ expiry 330105 = the 40th birthday). What a lifetime card puts in
  the MRZ expiry field was NOT found; ``LIFETIME_MRZ_EXPIRY`` is an assumption — prefer MRZ keys for them.

Privacy: nothing here logs names, numbers or dates; errors carry codes and technical words only.
"""
from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import hashlib
import logging
import time
import unicodedata
from typing import ClassVar
from collections.abc import Callable

from drivers.base import Device, DeviceError, DeviceGone, DeviceStatus, DeviceTimeout
from drivers.icao import lds, pa
from drivers.icao.apdu import ApduError, Transmit
from drivers.icao.crypto import mrz_check_digit
from drivers.icao.pa import CscaStore, PassiveAuthResult
from drivers.icao.reader import FID_COM, FID_DG, FID_SOD, BacError, IcaoReader, deadline_checker
from drivers.icao.sm import SecureMessagingError

log = logging.getLogger(__name__)

__all__ = [
    "BacKeys", "CardAccessDenied", "CardExpired", "CardNotTrusted", "CardRemoved", "ChipError", "ChipIdentity",
    "ChipReader", "CscaStore", "DeviceGone", "DeviceTimeout", "LIFETIME_MRZ_EXPIRY", "NoCard",
    "PassiveAuthResult", "card_expiry", "read_identity",
]

LIFETIME_MRZ_EXPIRY = "991231"  # assumption, see the module docstring
MILESTONE_AGES = (14, 25, 40, 60)


# --------------------------------------------------------------------------------------------- errors
class ChipError(DeviceError):
    kind = "chip_error"


class CardRemoved(ChipError):
    """The card left the reader's field before the read finished (or was never there long enough)."""

    kind = "card_removed"


class NoCard(ChipError):
    """No card was put on the reader within the timeout."""

    kind = "no_card"


class CardAccessDenied(ChipError):
    """BAC failed: the keys (document number / birth date / expiry) do not open this chip."""

    kind = "card_access_denied"


class CardNotTrusted(ChipError):
    """Passive authentication failed: a data group hash, the SOD signature or the CSCA chain is wrong."""

    kind = "card_not_trusted"

    def __init__(self, detail: str = "", *, device: str = "", result: PassiveAuthResult | None = None) -> None:
        super().__init__(detail, device=device)
        self.result = result


class CardExpired(ChipError):
    """The chip is genuine but the card is past its expiry date. `identity` holds what was read."""

    kind = "card_expired"

    def __init__(self, detail: str = "", *, device: str = "", identity: ChipIdentity | None = None) -> None:
        super().__init__(detail, device=device)
        self.identity = identity


class CardUnreadable(ChipError):
    """The chip answered but not like a CCCD (no LDS applet, malformed files, secure messaging broken)."""

    kind = "card_unreadable"


# --------------------------------------------------------------------------------------------- keys
def _yymmdd(d: dt.date) -> str:
    return d.strftime("%y%m%d")


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def card_expiry(birth_date: dt.date, issue_date: dt.date) -> dt.date | None:
    """Expiry of a card issued on `issue_date` to someone born on `birth_date`; None = valid for life.

    Luật Căn cước 2023 Điều 21 (quoted in the module docstring): the card must be renewed at 14, 25, 40 and 60;
    a card issued within 2 years before one of those ages stays valid until the next one; from 60 (or issued
    within 2 years before 60) it has no expiry.
    """
    for age in MILESTONE_AGES:
        milestone = _add_years(birth_date, age)
        if issue_date >= milestone:
            continue  # already past this age
        if issue_date >= _add_years(milestone, -2):
            continue  # issued within 2 years before it: runs to the next milestone
        return milestone
    return None


@dataclasses.dataclass(frozen=True)
class BacKeys:
    """The three MRZ fields BAC needs. Dates are YYMMDD; the document number as in the MRZ (9 characters
    for CCCD: the last 9 digits of the 12-digit ID)."""

    document_number: str
    birth_date: str
    expiry_date: str

    def __post_init__(self) -> None:
        for d in (self.birth_date, self.expiry_date):
            if len(d) != 6 or not d.isdigit():
                raise ValueError("BAC dates must be YYMMDD")
        if not self.document_number or len(self.document_number) > 9:
            raise ValueError("BAC document number must be 1-9 characters")

    def __repr__(self) -> str:  # never print key material (it is personal data)
        return "BacKeys(<redacted>)"

    @classmethod
    def from_id_number(cls, id_number: str, birth_date: dt.date, expiry_date: dt.date | None) -> BacKeys:
        digits = id_number.strip()
        if len(digits) != 12 or not digits.isdigit():
            raise ValueError("a CCCD number has 12 digits")
        exp = _yymmdd(expiry_date) if expiry_date else LIFETIME_MRZ_EXPIRY
        return cls(digits[-9:], _yymmdd(birth_date), exp)

    @classmethod
    def from_qr(cls, id_number: str, birth_date: dt.date, issue_date: dt.date) -> BacKeys:
        """Keys from the card's front QR: 12-digit ID, birth date and issue date (fields 1, 4, 7); the expiry
        is computed with `card_expiry` (the QR does not carry it)."""
        return cls.from_id_number(id_number, birth_date, card_expiry(birth_date, issue_date))

    @classmethod
    def from_qr_text(cls, text: str) -> BacKeys:
        """Parse a raw CCCD QR payload `ID|old ID|name|ddmmyyyy|sex|address|ddmmyyyy[|...]`."""
        parts = unicodedata.normalize("NFC", text.strip()).split("|")
        if len(parts) < 6:
            raise ValueError("not a CCCD QR payload")
        if len(parts) == 6:  # no old-ID field
            parts.insert(1, "")
        parse = lambda s: dt.datetime.strptime(s.strip(), "%d%m%Y").date()  # noqa: E731
        return cls.from_qr(parts[0].strip(), parse(parts[3]), parse(parts[6]))

    @classmethod
    def from_mrz(cls, mrz_text: str) -> BacKeys:
        """Keys from the printed MRZ (back side, OCR) or DG1. Check digits are verified."""
        m = lds.parse_mrz(mrz_text.strip().upper())
        raw = m.raw
        if mrz_check_digit(raw[5:14]) != raw[14] or mrz_check_digit(m.birth_date) != raw[36] \
                or mrz_check_digit(m.expiry_date) != raw[44]:
            raise ValueError("MRZ check digit mismatch")
        return cls(m.document_number, m.birth_date, m.expiry_date)


# --------------------------------------------------------------------------------------------- identity
def _date(s: str) -> dt.date | None:
    s = s.strip()
    for fmt in ("%d/%m/%Y", "%d%m%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    return None


def _mrz_date(s: str, *, past: bool) -> dt.date | None:
    try:
        d = dt.datetime.strptime(s, "%y%m%d").date()
    except ValueError:
        return None
    today = dt.date.today()
    if past and d > today:
        d = d.replace(year=d.year - 100)
    return d


@dataclasses.dataclass(frozen=True)
class ChipIdentity:
    """What the chip says, after passive authentication. Strings are NFC. `repr` hides personal data."""

    id_number: str
    full_name: str
    birth_date: dt.date | None
    sex: str
    nationality: str
    ethnicity: str
    religion: str
    home_town: str
    residence: str
    identifying_marks: str
    issue_date: dt.date | None
    expiry_date: dt.date | None  # None: valid for life ("Không thời hạn")
    father_name: str
    mother_name: str
    spouse_name: str
    old_id_number: str
    mrz: lds.Mrz | None
    photo: bytes  # DG2 face image (JPEG or JPEG 2000); b"" when not read
    photo_mime: str
    passive_auth: PassiveAuthResult
    data_groups: tuple[int, ...] = ()  # DGs read (and verified)
    sod_sha256: str = ""  # SHA-256 of EF.SOD as read: names the signed security object to the portal (issue 11)

    def __repr__(self) -> str:
        return (f"ChipIdentity(<redacted>, dgs={self.data_groups}, photo={len(self.photo)}B, "
                f"passive_auth_ok={self.passive_auth.ok})")

    __str__ = __repr__

    @property
    def expired(self) -> bool:
        return self.expiry_date is not None and self.expiry_date < dt.date.today()


def identity_from_files(dg1: bytes | None, dg13: bytes, dg2: bytes | None,
                        result: PassiveAuthResult) -> ChipIdentity:
    f = lds.parse_dg13(dg13)
    first = lambda n: (f.get(n) or [""])[0]  # noqa: E731
    parents = f.get(13, [])
    spouse = f.get(14, [])
    old = ""
    for n in (15, 16):
        v = first(n)
        if v.isdigit() and len(v) in (9, 12):
            old = v
            break
    mrz = lds.parse_dg1(dg1) if dg1 else None
    expiry_text = first(12)
    expiry = _date(expiry_text)
    if expiry is None and mrz is not None and not expiry_text:
        expiry = _mrz_date(mrz.expiry_date, past=False)
    birth = _date(first(3)) or (mrz and _mrz_date(mrz.birth_date, past=True)) or None
    photo, mime = b"", ""
    if dg2:
        img = lds.parse_dg2(dg2)
        photo, mime = img.data, img.mime
    dgs = tuple(n for n, d in ((1, dg1), (2, dg2), (13, dg13)) if d)
    return ChipIdentity(
        id_number=first(1), full_name=first(2), birth_date=birth, sex=first(4), nationality=first(5),
        ethnicity=first(6), religion=first(7), home_town=first(8), residence=first(9),
        identifying_marks=first(10), issue_date=_date(first(11)), expiry_date=expiry,
        father_name=parents[0] if parents else "", mother_name=parents[1] if len(parents) > 1 else "",
        spouse_name=spouse[0] if spouse else "", old_id_number=old, mrz=mrz, photo=photo, photo_mime=mime,
        passive_auth=result, data_groups=dgs,
    )


def read_identity(
    transmit: Transmit,
    keys: BacKeys,
    *,
    csca: CscaStore | None,
    include_photo: bool = True,
    deadline: float,
    device: str = "",
    require_passive_auth: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> ChipIdentity:
    """The whole read over any transport: applet, BAC, EF.COM, DG1, DG13, [DG2], EF.SOD, passive auth, expiry.

    `deadline` is a time.monotonic() value; `transmit` failures must already be DeviceError subclasses
    (CardRemoved, DeviceGone, DeviceTimeout). Raises CardAccessDenied / CardNotTrusted / CardExpired /
    CardUnreadable / DeviceTimeout.
    """
    def late() -> DeviceTimeout:
        return DeviceTimeout("chip read took longer than its timeout", device=device)

    r = IcaoReader(transmit, check_deadline=deadline_checker(deadline, late))
    step = "select"
    t0 = time.monotonic()
    try:
        r.select_applet()
        step = "bac"
        try:
            r.bac(keys.document_number, keys.birth_date, keys.expiry_date)
        except (BacError, ApduError) as exc:
            log.info("chip: BAC refused (%s)", type(exc).__name__)
            raise CardAccessDenied("BAC refused by the chip (wrong keys or PACE-only chip)", device=device) from exc
        step = "com"
        files: dict[int, bytes] = {}
        com = lds.parse_com(r.read_file(FID_COM))
        wanted = [1, 13] + ([2] if include_photo else [])
        for n in wanted:
            if n not in com.data_groups and n != 13:
                continue
            step = f"dg{n}"
            if on_progress:
                on_progress(step)
            files[n] = r.read_file(FID_DG[n])
        step = "sod"
        sod = r.read_file(FID_SOD)
    except SecureMessagingError as exc:
        log.warning("chip: secure messaging failed at step=%s", step)
        raise CardUnreadable(f"secure messaging failed at {step}", device=device) from exc
    except ApduError as exc:
        log.warning("chip: card refused step=%s sw=%04X", step, exc.sw)
        raise CardUnreadable(f"card refused {step} (SW={exc.sw:04X})", device=device) from exc
    except (lds.LdsError, ValueError) as exc:
        log.warning("chip: malformed file at step=%s (%s)", step, type(exc).__name__)
        raise CardUnreadable(f"malformed data at {step}", device=device) from exc
    result = pa.verify(sod, files, csca)
    log.info("chip: read %d APDUs in %.2fs, dgs=%s, passive_auth=%s", r.apdu_count, time.monotonic() - t0,
             sorted(files), result.failure or "ok")
    if not result.ok and (require_passive_auth or result.failure != pa.NO_CSCA):
        raise CardNotTrusted(f"passive authentication failed: {result.failure}", device=device, result=result)
    try:
        identity = identity_from_files(files.get(1), files[13], files.get(2), result)
    except (lds.LdsError, ValueError) as exc:
        raise CardUnreadable("malformed DG13/DG1/DG2", device=device) from exc
    identity = dataclasses.replace(identity, sod_sha256=hashlib.sha256(sod).hexdigest())
    if identity.expired:
        log.info("chip: card expired")
        raise CardExpired("the card is past its expiry date", device=device, identity=identity)
    return identity


# --------------------------------------------------------------------------------------------- interface
class ChipReader(Device):
    """A contactless reader for the chip ID card.

    Typical use by the session (on a worker thread, never the UI thread):
        reader.wait_for_card(timeout=30)             # NoCard when nobody puts a card down
        identity = reader.read(keys, timeout=10)     # CardAccessDenied / CardNotTrusted / CardExpired / ...
    """

    kind: ClassVar[str] = "chip_reader"

    @abc.abstractmethod
    def wait_for_card(self, timeout: float) -> bool:
        """Block until a card is present; True when one is, False on timeout (no exception for "nobody came").
        Raises DeviceGone / DeviceTimeout for reader or pcscd trouble."""

    @abc.abstractmethod
    def card_present(self, timeout: float = 2.0) -> bool:
        """Is a card on the reader now?"""

    @abc.abstractmethod
    def read(self, keys: BacKeys, *, include_photo: bool = True, timeout: float = 15.0) -> ChipIdentity:
        """Read and verify the card on the reader. Raises NoCard when there is none."""

    @abc.abstractmethod
    def status(self) -> DeviceStatus:
        """For `kiosk doctor`: pcscd reachable, reader present, card present (health only, no personal data)."""
