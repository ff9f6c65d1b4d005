"""Portal API models: every request and response the kiosk and the sandbox exchange (the contract).

Both `kiosk.portal.client` (the client) and `kiosk.sandbox` (the server) use these classes, so the OpenAPI
document the sandbox serves is generated from the same definitions the client validates against.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from kiosk.domain.codes import DOSSIER_CODE_PATTERN, LOOKUP_CODE_PATTERN, RECEIPT_SECRET_PATTERN

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
DossierCode = Annotated[str, StringConstraints(pattern=DOSSIER_CODE_PATTERN)]
#: The look-up secret printed beside the dossier code (kiosk.domain.codes.SECRET_ALPHABET).
LookupSecret = Annotated[str, StringConstraints(pattern=RECEIPT_SECRET_PATTERN)]

# Every string the kiosk receives from the portal is bounded: the kiosk draws and prints them, and one
# 600,000-character procedure name took 12.5 s and 2.9 GB to lay out. An answer over a limit is a bad answer.
MAX_CODE = 64          # machine codes: error codes, references, procedure codes, ids
MAX_SHORT = 120        # a name, a counter, a status word
MAX_NAME = 500         # a procedure's official name
MAX_TEXT = 2000        # a message or explanation
MAX_CATALOG_ENTRIES = 5000
Code = Annotated[str, StringConstraints(max_length=MAX_CODE)]
ShortText = Annotated[str, StringConstraints(max_length=MAX_SHORT)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ErrorBody(_Model):
    """Every non-2xx answer carries this body. `error` is a stable code the kiosk maps to a message."""

    error: Code
    detail: Text = ""
    remaining_attempts: int | None = None
    retry_after: float | None = None


# ------------------------------------------------------------------------------------------ login
class VneidLevel(int, Enum):
    LEVEL_1 = 1
    LEVEL_2 = 2


class CitizenProfile(_Model):
    id_number: Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
    full_name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    birth_date: dt.date
    sex: Annotated[str, StringConstraints(max_length=10)] = ""
    address: Annotated[str, StringConstraints(max_length=300)] = ""
    phone_masked: Annotated[str, StringConstraints(max_length=20)] = ""
    level: VneidLevel = VneidLevel.LEVEL_2


class LoginRequest(_Model):
    login_code: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    kiosk_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class LoginResponse(_Model):
    session_token: Annotated[str, StringConstraints(min_length=16, max_length=256)]
    expires_at: dt.datetime
    citizen: CitizenProfile


# ------------------------------------------------------------------------------------------ one-time code
class OtpRequest(_Model):
    purpose: Code = "submit"


class OtpChallenge(_Model):
    otp_id: Annotated[str, StringConstraints(min_length=8, max_length=64)]
    sent_to: Annotated[str, StringConstraints(max_length=32)] = ""
    expires_at: dt.datetime
    length: int = Field(6, ge=4, le=12)
    max_attempts: int = Field(3, ge=1, le=10)


class OtpVerifyRequest(_Model):
    otp_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")]  # ASCII digits only


class OtpVerifyResponse(_Model):
    confirmation_token: Annotated[str, StringConstraints(min_length=16, max_length=256)]


# ------------------------------------------------------------------------------------------ dossiers
class DocumentRef(_Model):
    """One document component as uploaded: a PDF blob named by its SHA-256."""

    component: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    name: Annotated[str, StringConstraints(max_length=300)] = ""
    sha256: Sha256
    size: int = Field(ge=1)
    pages: int = Field(ge=1, le=500)


class ResultDelivery(_Model):
    """How the citizen collects the result: at the centre, or delivered by the public postal service
    (issue 14), to `address`, for `postage_vnd` (the centre's postage, paid on delivery)."""

    method: Literal["office", "post"] = "office"
    address: Annotated[str, StringConstraints(max_length=300)] = ""
    postage_vnd: int = Field(0, ge=0, le=10_000_000)


class DossierSubmission(_Model):
    procedure_code: Annotated[str, StringConstraints(min_length=3, max_length=40)]
    form: dict[str, Any] = Field(default_factory=dict)
    documents: list[DocumentRef] = Field(default_factory=list)
    kiosk_id: Code
    local_reference: Annotated[str, StringConstraints(min_length=4, max_length=64)]
    confirmed_at: dt.datetime
    confirmation_token: Annotated[str, StringConstraints(max_length=256)]
    appointment_date: dt.date | None = None  # as the kiosk computed and showed it to the citizen
    # The look-up secret the kiosk printed (or will print) on the receipt: the portal keeps it for this dossier,
    # so a receipt printed offline works once the outbox delivers. Without one the portal issues its own.
    lookup_secret: LookupSecret | None = None
    result_delivery: ResultDelivery | None = None  # None: at the centre


class DossierStatus(str, Enum):
    """The national one-stop status list (TrangThaiHoSo), numbered as `NATIONAL_STATUS_CODE` says."""

    RECEIVED = "received"                        # 1 Mới đăng ký
    ACCEPTED = "accepted"                        # 2 Được tiếp nhận
    NOT_ACCEPTED = "not_accepted"                # 3 Không được tiếp nhận
    PROCESSING = "processing"                    # 4 Đang xử lý
    SUPPLEMENT_REQUIRED = "supplement_required"  # 5 Yêu cầu bổ sung
    PAYMENT_REQUIRED = "payment_required"        # 6 Yêu cầu nghĩa vụ tài chính
    WITHDRAWN = "withdrawn"                      # 7 Công dân rút hồ sơ
    STOPPED = "stopped"                          # 8 Dừng xử lý
    COMPLETED = "completed"                      # 9 Đã xử lý xong
    RETURNED = "returned"                        # 10 Đã trả kết quả


#: The national status number of each status (1-10).
NATIONAL_STATUS_CODE: dict[DossierStatus, int] = {s: i for i, s in enumerate(DossierStatus, start=1)}


class DossierReceipt(_Model):
    dossier_code: DossierCode
    local_reference: Code
    received_at: dt.datetime
    appointment_date: dt.date | None = None
    status: DossierStatus = DossierStatus.RECEIVED
    duplicate: bool = False  # True when the idempotency key had already been used
    # The secret the receipt prints beside the code: status look-up needs both (POST /dossiers/lookup).
    lookup_secret: Annotated[str, StringConstraints(pattern=RECEIPT_SECRET_PATTERN.replace("^", "^(?:", 1)
                                                    .replace("$", ")?$"))] = ""


class StatusLookupRequest(_Model):
    """POST /dossiers/lookup: a dossier's status by its code (or the kiosk's local reference) and the secret
    printed beside it. Wrong tries are counted per code and per kiosk (or web client)."""

    code: Annotated[str, StringConstraints(pattern=LOOKUP_CODE_PATTERN)]
    secret: Annotated[str, StringConstraints(max_length=32)] = ""
    kiosk_id: Annotated[str, StringConstraints(max_length=MAX_CODE)] = ""


class DossierView(_Model):
    """What status look-up shows anyone holding the receipt: status and appointment, never personal data."""

    dossier_code: DossierCode
    status: DossierStatus
    procedure_code: Code
    procedure_name: Annotated[str, StringConstraints(max_length=MAX_NAME)] = ""
    received_at: dt.datetime
    appointment_date: dt.date | None = None
    documents: int = Field(0, ge=0, le=1000)
    pages: int = Field(0, ge=0, le=100_000)
    status_code: int | None = Field(None, ge=1, le=10)  # the national status number (NATIONAL_STATUS_CODE)
    note: Text = ""  # what the centre asks of the citizen (status 5: what to bring), never personal data
    fee_amount: int | None = Field(None, ge=0)  # status 6: the amount due, in đồng
    payment_code: Code = ""  # status 6: the payment reference to quote
    result_at: ShortText = ""  # status 9: where to collect the result
    result_electronic: bool = False  # status 9/10: the result exists as an electronic copy
    result_printable: bool = False  # ... that the kiosk may print (POST /dossiers/lookup/result)
    result_by_post: bool = False  # the result goes out by post (no address here: that is personal)


class ElectronicResult(_Model):
    """POST /dossiers/lookup/result (code + secret): the electronic copy of a result, as lines the kiosk
    prints (a copy of a civil-status extract, say), with the code a clerk or anyone can verify it by."""

    dossier_code: DossierCode
    title: ShortText
    lines: list[Annotated[str, StringConstraints(max_length=300)]] = Field(default_factory=list, max_length=40)
    issued_on: dt.date | None = None
    issuer: ShortText = ""
    verify_code: Code = ""


class BlobState(_Model):
    sha256: Sha256
    present: bool
    size: int = 0


class BlobUpload(_Model):
    """How much of a document the portal holds, for resumable uploads (GET /blobs/{sha256}/upload and every
    PUT /blobs/{sha256}/parts/{offset}): `received` bytes so far; `present` once complete and verified."""

    sha256: Sha256
    present: bool
    size: int = Field(ge=0, default=0)
    received: int = Field(ge=0, default=0)


class ProcedureCatalog(_Model):
    """GET /catalog: the portal's procedure list; entries are passed through to kiosk.domain.catalog as they are."""

    procedures: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_CATALOG_ENTRIES)

    @field_validator("procedures")
    @classmethod
    def _bounded_text(cls, procedures: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Entries pass through as they are, but no string in them may exceed MAX_TEXT characters (names: MAX_NAME)."""
        for entry in procedures:
            name = entry.get("name")
            if isinstance(name, str) and len(name) > MAX_NAME:
                raise ValueError(f"a procedure name is longer than {MAX_NAME} characters")
            _check_strings(entry, depth=0)
        return procedures


# ------------------------------------------------------------------------------------------ queue, rating
class QueueTicketRequest(_Model):
    kiosk_id: Code
    procedure_code: Code | None = None
    dossier_code: Code | None = None


class QueueTicket(_Model):
    number: Annotated[str, StringConstraints(min_length=1, max_length=12)]
    counter: Annotated[str, StringConstraints(max_length=40)] = ""
    waiting: int = Field(ge=0, le=100_000, default=0)
    issued_at: dt.datetime


class RatingLevel(int, Enum):
    VERY_SATISFIED = 5
    SATISFIED = 4
    NEUTRAL = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1


class RatingRequest(_Model):
    kiosk_id: Code
    level: RatingLevel
    dossier_code: Code | None = None
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


class AssistanceRequest(BaseModel):
    """"Gọi cán bộ": a citizen at this kiosk asks for help. Only the kiosk and the step (the session's state
    name): never a name, number or answer of the citizen's, so nothing else is accepted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kiosk_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._\-]{1,64}$")]
    step: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]


class Health(_Model):
    status: ShortText
    time: dt.datetime
    version: Code = ""


def _check_strings(value: Any, depth: int) -> None:
    if depth > 8:
        raise ValueError("a catalogue entry is nested too deeply")
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"a catalogue text is longer than {MAX_TEXT} characters")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k, depth + 1)
            _check_strings(v, depth + 1)
    elif isinstance(value, list):
        if len(value) > 1000:
            raise ValueError("a catalogue list is too long")
        for v in value:
            _check_strings(v, depth + 1)
