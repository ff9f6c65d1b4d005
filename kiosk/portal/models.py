"""Portal API models: every request and response the kiosk and the sandbox exchange (the contract).

Both `kiosk.portal.client` (the client) and `kiosk.sandbox` (the server) use these classes, so the OpenAPI
document the sandbox serves is generated from the same definitions the client validates against.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiosk.domain.codes import DOSSIER_CODE_PATTERN

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
DossierCode = Annotated[str, StringConstraints(pattern=DOSSIER_CODE_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ErrorBody(_Model):
    """Every non-2xx answer carries this body. `error` is a stable code the kiosk maps to a message."""

    error: str
    detail: str = ""
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
    purpose: str = "submit"


class OtpChallenge(_Model):
    otp_id: Annotated[str, StringConstraints(min_length=8, max_length=64)]
    sent_to: str = ""
    expires_at: dt.datetime
    length: int = 6
    max_attempts: int = 3


class OtpVerifyRequest(_Model):
    otp_id: str
    code: Annotated[str, StringConstraints(min_length=1, max_length=12)]


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


class DossierSubmission(_Model):
    procedure_code: Annotated[str, StringConstraints(min_length=3, max_length=40)]
    form: dict[str, Any] = Field(default_factory=dict)
    documents: list[DocumentRef] = Field(default_factory=list)
    kiosk_id: str
    local_reference: Annotated[str, StringConstraints(min_length=4, max_length=64)]
    confirmed_at: dt.datetime
    confirmation_token: str
    appointment_date: dt.date | None = None  # as the kiosk computed and showed it to the citizen


class DossierStatus(str, Enum):
    RECEIVED = "received"
    PROCESSING = "processing"
    SUPPLEMENT_REQUIRED = "supplement_required"
    COMPLETED = "completed"
    RETURNED = "returned"


class DossierReceipt(_Model):
    dossier_code: DossierCode
    local_reference: str
    received_at: dt.datetime
    appointment_date: dt.date | None = None
    status: DossierStatus = DossierStatus.RECEIVED
    duplicate: bool = False  # True when the idempotency key had already been used


class DossierView(_Model):
    dossier_code: DossierCode
    status: DossierStatus
    procedure_code: str
    procedure_name: str = ""
    received_at: dt.datetime
    appointment_date: dt.date | None = None
    documents: int = 0
    pages: int = 0


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

    procedures: list[dict[str, Any]] = Field(default_factory=list)


# ------------------------------------------------------------------------------------------ queue, rating
class QueueTicketRequest(_Model):
    kiosk_id: str
    procedure_code: str | None = None
    dossier_code: str | None = None


class QueueTicket(_Model):
    number: Annotated[str, StringConstraints(min_length=1, max_length=12)]
    counter: Annotated[str, StringConstraints(max_length=40)] = ""
    waiting: int = Field(ge=0, default=0)
    issued_at: dt.datetime


class RatingLevel(int, Enum):
    VERY_SATISFIED = 5
    SATISFIED = 4
    NEUTRAL = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1


class RatingRequest(_Model):
    kiosk_id: str
    level: RatingLevel
    dossier_code: str | None = None
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


class Health(_Model):
    status: str
    time: dt.datetime
    version: str = ""
