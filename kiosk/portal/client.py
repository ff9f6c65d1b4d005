"""The portal client: the kiosk's only way to talk to the public-service portal (sync httpx, worker threads).

Every call has explicit timeouts and a total deadline (a portal that drips its answer byte by byte cannot
hold a kiosk thread), every answer is parsed through kiosk.portal.models, and every failure surfaces as one
`PortalError` subclass with a stable `.code`; no httpx or pydantic exception escapes. `kiosk.messages` turns
those codes into Vietnamese text with a next step.

    PortalError                 .code, .detail, .status, .retryable
    ├── PortalUnreachable       'unreachable'  no connection, or it dropped before a full answer (the
    │                                          request may or may not have been handled: retry idempotently)
    ├── PortalTimeout           'timeout'      no (complete) answer in time
    ├── PortalBadResponse       'bad_response' malformed JSON, wrong schema, unexpected status
    ├── PortalServerError       'server_error' 5xx
    ├── PortalRateLimited       'rate_limited' 429; .retry_after seconds (or None)
    └── PortalRejected          the portal's ErrorBody code (4xx); .remaining_attempts for one-time codes
        ├── OtpCodeInvalid      'otp_invalid'  a one-time code that is not 1-12 ASCII digits (refused before sending)
        └── LookupRefused       'lookup_secret_required' | 'lookup_mismatch' | 'lookup_locked': status look-up
                                               without the receipt's secret, a wrong pair (.remaining_attempts),
                                               or too many wrong tries (.retry_after seconds); never retried

Deadlines: every HTTP exchange has a wall-clock deadline (connect + read timeout, or connect + upload
timeout) that covers everything, response headers included: the sockets under httpx clamp each read and
write to the time left (`_DeadlineBackend`), so a portal dripping its headers byte by byte cannot hold a
thread past it.

Retries: the interactive calls (login, one-time code request and check, status look-up, queue ticket,
rating) are retried on transient failures (no connection, timeout, 5xx, 408, 429, a malformed answer) with
exponential backoff and jitter, inside one deadline per call (`RetryPolicy`); a 429's Retry-After is waited
for when the deadline leaves room, otherwise the call gives up at once. Other 4xx are never retried. Calls
whose repeat could duplicate something (a second text message, queue number or rating) carry an
`Idempotency-Key` header, the same for every try of one call: the portal answers a repeated key with its
first answer. `on_retry(attempt, delay, error)` is called (on the calling thread) before each wait: the
session shows "Đang kết nối lại…". `PortalClient(...)` retries only when given a `retry=` policy;
`PortalClient.from_settings` takes it from `[portal]` (`retry_attempts`, `retry_base`, `retry_cap`,
`call_deadline`).

Also here: `parse_receipt_qr()` for the receipt's QR (`DVCK1|<dossier code or local reference>|<secret>`) and
`lookup_dossier()` behind the status screen and `kiosk status` (kiosk.cli.status): both need the code and the
secret printed beside it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import hashlib
import logging
import random
import re
import ssl
import threading
import time
import unicodedata
import uuid
from typing import Annotated, Any, Literal, TypeVar
from collections.abc import Callable, Mapping
from urllib.parse import quote

import httpcore
import httpx
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from kiosk import __version__
from kiosk.errors import KioskError
from kiosk.domain.codes import decode_receipt_qr, is_lookup_code, normalize_secret
from kiosk.portal.urls import LOOPBACK_HOSTS, insecure_url_refused, is_loopback_url  # noqa: F401 - re-exported
from kiosk.portal.models import (
    AssistanceRequest,
    BlobState,
    BlobUpload,
    ProcedureCatalog,
    DossierReceipt,
    DossierStatus,
    DossierSubmission,
    DossierView,
    ElectronicResult,
    ErrorBody,
    Health,
    LoginRequest,
    LoginResponse,
    OtpChallenge,
    OtpRequest,
    OtpVerifyRequest,
    OtpVerifyResponse,
    QueueTicket,
    QueueTicketRequest,
    RatingLevel,
    RatingRequest,
    StatusLookupRequest,
)

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # JSON answers are small; a huge one is a broken or hostile portal
_SHA256 = re.compile(r"[0-9a-f]{64}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{8,128}")

M = TypeVar("M", bound=BaseModel)


# ---------------------------------------------------------------------------------------------- fleet
# The kiosk's own identity towards the portal (not a citizen's): enrolment at provisioning, then heartbeats.
KioskId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._\-]{1,64}$")]


class KioskRegistration(BaseModel):
    """POST /kiosks/register: a one-time enrolment code (issued by the province's portal admin) for a kiosk id."""

    enrolment_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=64)]
    kiosk_id: KioskId
    app_version: str = ""


class KioskCredentials(BaseModel):
    """The kiosk's portal credentials, kept in a 0600 file readable by the kiosk user only."""

    kiosk_id: KioskId
    kiosk_token: Annotated[str, StringConstraints(min_length=16, max_length=256)]
    issued_at: dt.datetime
    heartbeat_seconds: int = Field(60, ge=10, le=3600)


class SealCertificateRequest(BaseModel):
    """POST /kiosks/{kiosk_id}/certificate: the certificate signing request (PEM) for the kiosk's seal key, made at
    enrolment; the portal's CA answers a certificate naming the kiosk (issue 14)."""

    csr_pem: Annotated[str, StringConstraints(min_length=64, max_length=8192)]


class SealCertificate(BaseModel):
    """The kiosk's seal certificate and the issuing CA's, as one PEM chain (the kiosk's first)."""

    kiosk_id: KioskId
    certificate_pem: Annotated[str, StringConstraints(min_length=64, max_length=32768)]
    issued_at: dt.datetime


class DeviceHealthReport(BaseModel):
    """One device in a heartbeat: its kind, driver and health, never its technical detail (no serials, no paths)."""

    kind: Annotated[str, StringConstraints(max_length=32)]
    driver: Annotated[str, StringConstraints(max_length=32)] = ""
    health: Literal["ok", "warning", "failed"]
    error_kind: Annotated[str, StringConstraints(max_length=64)] = ""


class SettingsReport(BaseModel):
    """The settings part of a heartbeat: which pushed version runs, and a pushed version the kiosk could not
    start with and rolled back from (to its last known good settings) until a newer push replaces it."""

    version: int = Field(0, ge=0)  # the pushed settings version in use; 0: the site file's settings alone
    rolled_back_from: int | None = Field(None, ge=0)  # a pushed version that failed to start, None when none did
    reason: Annotated[str, StringConstraints(max_length=64)] = ""  # the failure's kind (an exception type or code)


class Heartbeat(BaseModel):
    """POST /kiosks/{kiosk_id}/heartbeat, every minute. Holds no personal data by construction: counts, kinds,
    versions and ages only."""

    sent_at: dt.datetime
    app_version: Annotated[str, StringConstraints(max_length=32)]
    uptime_seconds: float = Field(ge=0)
    in_service: bool = True
    devices: list[DeviceHealthReport] = Field(default_factory=list, max_length=16)
    outbox_depth: int = Field(0, ge=0)
    outbox_oldest_seconds: float | None = Field(None, ge=0)
    sessions_total: int = Field(0, ge=0)
    dossiers_submitted_total: int = Field(0, ge=0)
    last_error_kind: Annotated[str, StringConstraints(max_length=64)] = ""
    settings: SettingsReport = Field(default_factory=SettingsReport)


class HeartbeatAck(BaseModel):
    received_at: dt.datetime
    next_heartbeat_seconds: int = Field(60, ge=10, le=3600)
    config_version: int = Field(0, ge=0)  # newer than the kiosk's: fetch GET /kiosks/{id}/config


class KioskConfig(BaseModel):
    """Settings the portal's administrators set for one kiosk (sections and keys of kiosk.toml), versioned."""

    version: int = Field(ge=0)
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- errors
class PortalError(KioskError):
    """Base of every portal failure. `code` is stable (logs, outbox state, citizen messages)."""

    code: str = "portal_error"
    retryable: bool = False  # True when the same request may succeed later unchanged

    def __init__(self, detail: str = "", *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(detail, code=code)
        self.status = status


class PortalUnreachable(PortalError):
    code, retryable = "unreachable", True


class PortalTimeout(PortalError):
    code, retryable = "timeout", True


class PortalBadResponse(PortalError):
    code, retryable = "bad_response", True


class PortalServerError(PortalError):
    code, retryable = "server_error", True


class PortalRateLimited(PortalError):
    code, retryable = "rate_limited", True

    def __init__(self, detail: str = "", *, retry_after: float | None = None, status: int | None = 429) -> None:
        super().__init__(detail, status=status)
        self.retry_after = retry_after


class PortalRejected(PortalError):
    """The portal understood and refused (4xx with an ErrorBody). Not retryable as it stands."""

    code = "rejected"

    def __init__(self, detail: str = "", *, code: str, status: int | None = None,
                 remaining_attempts: int | None = None) -> None:
        super().__init__(detail, code=code, status=status)
        self.remaining_attempts = remaining_attempts


class OtpCodeInvalid(PortalRejected):
    """A one-time code with anything but ASCII digits (Arabic-Indic, fullwidth, letters): never sent."""

    code = "otp_invalid"

    def __init__(self, detail: str = "a one-time code is 1-12 ASCII digits") -> None:
        super().__init__(detail, code="otp_invalid")


class LookupRefused(PortalRejected):
    """Status look-up refused: no secret, a code and secret that do not match (the portal does not say which),
    or too many wrong tries for this code or this kiosk (`retry_after`: seconds until it may be tried again)."""

    def __init__(self, detail: str = "", *, code: str, status: int | None = None,
                 remaining_attempts: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail, code=code, status=status, remaining_attempts=remaining_attempts)
        self.retry_after = retry_after


LOOKUP_ERRORS = frozenset({"lookup_secret_required", "lookup_mismatch", "lookup_locked"})


STATUS_LABELS: dict[DossierStatus, str] = {  # the national one-stop list's own words (TrangThaiHoSo 1-10)
    DossierStatus.RECEIVED: "Mới đăng ký",
    DossierStatus.ACCEPTED: "Được tiếp nhận",
    DossierStatus.NOT_ACCEPTED: "Không được tiếp nhận",
    DossierStatus.PROCESSING: "Đang xử lý",
    DossierStatus.SUPPLEMENT_REQUIRED: "Yêu cầu bổ sung",
    DossierStatus.PAYMENT_REQUIRED: "Yêu cầu nghĩa vụ tài chính",
    DossierStatus.WITHDRAWN: "Công dân rút hồ sơ",
    DossierStatus.STOPPED: "Dừng xử lý",
    DossierStatus.COMPLETED: "Đã xử lý xong",
    DossierStatus.RETURNED: "Đã trả kết quả",
}


# ---------------------------------------------------------------------------------------------- deadlines, retries
_OTP_CODE = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() also accepts "١٢٣" and "１２３"
@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of interactive calls: at most `attempts` tries, waits of `min(cap, base * 2**n)` scaled by a
    random factor in [0.5, 1.5), all inside `deadline` seconds per call (the tries' own timeouts included)."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 4.0
    deadline: float = 20.0

    def delay(self, retry: int, rng: random.Random) -> float:
        return min(self.cap, self.base * 2 ** min(retry - 1, 16)) * rng.uniform(0.5, 1.5)


NO_RETRY = RetryPolicy(attempts=1)

_deadline = threading.local()  # .at: monotonic time the current thread's exchange must end by


def _clamp(timeout: float | None, exc: type[Exception]) -> float | None:
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise exc("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the calling thread's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _clamp(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _clamp(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _deadline_transport(verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    """httpx's own transport, its connection pool on sockets that honour the per-call deadline."""
    transport = httpx.HTTPTransport(verify=verify)
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):  # httpcore >= 1.0
        pool._network_backend = _DeadlineBackend(pool._network_backend)
    else:  # pragma: no cover - another httpcore: the deadline is still checked between body chunks
        log.warning("portal client: cannot install the deadline on sockets; header time is bounded by timeouts only")
    return transport


def _transient(error: PortalError) -> bool:
    if isinstance(error, PortalRejected):
        return error.status == 408
    return error.retryable


# ---------------------------------------------------------------------------------------------- receipt QR
def parse_receipt_qr(text: str) -> str | None:
    """The dossier code or local reference in a receipt QR, or None for anything else (kiosk.domain.codes)."""
    parsed = decode_receipt_qr(text)
    return parsed.code if parsed else None


# ---------------------------------------------------------------------------------------------- client
class PortalClient:
    """Synchronous portal client; safe to share between worker threads. Holds the login session token."""

    @classmethod
    def from_settings(cls, settings: Any) -> PortalClient:
        """A client for the configured portal (URL, CA, timeouts): each user of the portal builds its own, so the
        outbox and the fleet never send as whichever citizen is logged in."""
        p = settings.portal
        retry = RetryPolicy(attempts=p.retry_attempts, base=p.retry_base, cap=p.retry_cap, deadline=p.call_deadline)
        return cls(p.url, kiosk_id=settings.kiosk.id, connect_timeout=p.connect_timeout, read_timeout=p.read_timeout,
                   upload_timeout=p.upload_timeout, ca_file=p.ca_file or None, retry=retry,
                   allow_insecure_http=p.allow_insecure_http)

    def __init__(self, base_url: str, *, kiosk_id: str, connect_timeout: float = 3, read_timeout: float = 15,
                 upload_timeout: float = 120, ca_file: str | None = None,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
                 on_retry: Callable[[int, float, PortalError], None] | None = None,
                 allow_insecure_http: bool = False, rng: random.Random | None = None) -> None:
        refused = insecure_url_refused(base_url, allow_insecure_http) if isinstance(base_url, str) else None
        if refused:
            raise PortalError(refused, code="config")
        self.kiosk_id = kiosk_id
        self.retry = retry or NO_RETRY
        self.on_retry = on_retry  # (attempt just failed, seconds before the next, its error): "Đang kết nối lại…"
        self.retries = 0  # how many retries this client made (figures for tests and the technician screen)
        self._rng = rng or random.Random()
        self._sleep = time.sleep
        self._token: str | None = None
        self._connect_timeout, self._read_timeout, self._upload_timeout = connect_timeout, read_timeout, upload_timeout
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout,
                                      pool=connect_timeout)
        self._upload = httpx.Timeout(connect=connect_timeout, read=upload_timeout, write=upload_timeout,
                                     pool=connect_timeout)
        verify: ssl.SSLContext | bool = True
        if base_url.startswith("http://"):
            verify = False  # plain HTTP (loopback sandbox): no TLS to verify, skip building a TLS context
        elif ca_file:
            try:
                verify = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as e:
                raise PortalError(f"cannot load the portal CA file {ca_file}: {e}", code="config") from None
        try:
            if transport is None:
                transport = _deadline_transport(verify)
            self._http = httpx.Client(
                base_url=base_url.rstrip("/"), timeout=self._timeout, verify=verify, transport=transport,
                follow_redirects=False,
                headers={"User-Agent": f"dvc-kiosk/{__version__}", "X-Kiosk-Id": kiosk_id,
                         "Accept": "application/json"})
        except (httpx.InvalidURL, ValueError, TypeError) as e:
            raise PortalError(f"invalid portal URL {base_url!r}: {e}", code="config") from None

    # ------------------------------------------------------------------ session
    @property
    def logged_in(self) -> bool:
        return self._token is not None

    def logout(self) -> None:
        """Forget the session token (the citizen is done or the session was wiped)."""
        self._token = None

    def close(self) -> None:
        self._token = None
        self._http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ API
    def health(self) -> Health:
        return self._call("GET", "/health", Health, auth=False)

    def login(self, code: str, *, adopt: bool = True) -> LoginResponse:
        """Exchange a VNeID login code (as scanned: CR/LF and spaces are ignored) for a session.
        With `adopt=False` the client does not start using the session: the caller does, with `adopt_session`,
        once it knows the answer still belongs to the citizen in front of the kiosk."""
        text = unicodedata.normalize("NFC", code).strip() if isinstance(code, str) else ""
        if not text or len(text) > 512:
            raise PortalRejected("the scanned text cannot be a login code", code="login_code_unknown")
        body = LoginRequest(login_code=text, kiosk_id=self.kiosk_id)
        response = self._call("POST", "/auth/vneid", LoginResponse, body=body, auth=False, interactive=True)
        if adopt:
            self._token = response.session_token
        return response

    def adopt_session(self, session_token: str) -> None:
        """Use this login session for the calls that follow (see `login(adopt=False)`)."""
        self._token = session_token

    def request_otp(self, purpose: str = "submit") -> OtpChallenge:
        """Have the portal text a one-time code to the citizen. Retried under one idempotency key: a lost answer
        never sends a second text message."""
        return self._call("POST", "/otp", OtpChallenge, body=OtpRequest(purpose=purpose), interactive=True)

    def verify_otp(self, otp_id: str, code: str) -> OtpVerifyResponse:
        """Check a one-time code. Only ASCII digits are sent: anything else raises `OtpCodeInvalid` (the kiosk's
        keypad gives digits; a pasted or scanned "١٢٣٤٥٦" must not reach the portal)."""
        text = code.strip() if isinstance(code, str) else ""
        if not _OTP_CODE.fullmatch(text):
            raise OtpCodeInvalid()
        body = _build(OtpVerifyRequest, otp_id=otp_id, code=text)
        return self._call("POST", "/otp/verify", OtpVerifyResponse, body=body, interactive=True)

    def blob_state(self, sha256: str, *, confirmation_token: str | None = None) -> BlobState:
        """Whether the portal holds a document. In a session the session authorises the call; without one
        (the outbox delivering after the citizen left) pass the dossier's `confirmation_token`."""
        _check_sha256(sha256)
        state = self._call("GET", f"/blobs/{sha256}/state", BlobState, headers=_confirmation(confirmation_token))
        if state.sha256 != sha256:
            raise PortalBadResponse("the portal answered about another document")
        return state

    def upload_blob(self, data: bytes, *, confirmation_token: str | None = None) -> BlobState:
        """Make sure the portal holds this PDF; uploads only when it does not already have it.
        `confirmation_token` as for `blob_state`."""
        if not data:
            raise PortalError("an empty document cannot be uploaded", code="invalid_request")
        sha256 = hashlib.sha256(data).hexdigest()
        state = self.blob_state(sha256, confirmation_token=confirmation_token)
        if state.present and state.size == len(data):
            return state
        state = self._call("PUT", f"/blobs/{sha256}", BlobState, content=bytes(data), upload=True,
                           headers={"Content-Type": "application/pdf"} | _confirmation(confirmation_token))
        if state.sha256 != sha256 or not state.present:
            raise PortalBadResponse("the portal did not confirm it holds the document")
        return state

    def upload_state(self, sha256: str, *, confirmation_token: str | None = None) -> BlobUpload:
        """How many bytes of a resumable upload of this document the portal holds."""
        _check_sha256(sha256)
        state = self._call("GET", f"/blobs/{sha256}/upload", BlobUpload, headers=_confirmation(confirmation_token))
        if state.sha256 != sha256:
            raise PortalBadResponse("the portal answered about another document")
        return state

    def upload_blob_resumable(self, data: bytes, *, confirmation_token: str | None = None,
                              part_size: int = 1 << 20) -> BlobState:
        """Upload a large PDF in parts, starting where the portal's copy ends: after a dropped connection
        (or a kiosk restart) only what the portal lacks is sent again. Same result as `upload_blob`."""
        if not data:
            raise PortalError("an empty document cannot be uploaded", code="invalid_request")
        if part_size < 1:
            raise PortalError("part_size must be positive", code="invalid_request")
        sha256, total = hashlib.sha256(data).hexdigest(), len(data)
        state = self.upload_state(sha256, confirmation_token=confirmation_token)
        headers = {"Content-Type": "application/octet-stream", "Upload-Length": str(total)}
        headers |= _confirmation(confirmation_token)
        stalls = 0
        while not state.present:
            received = state.received
            if received > total:
                raise PortalBadResponse("the portal claims more bytes than the document has")
            try:
                state = self._call("PUT", f"/blobs/{sha256}/parts/{received}", BlobUpload,
                                   content=bytes(data[received:received + part_size]), headers=headers, upload=True)
            except PortalRejected as e:
                if e.code != "offset_mismatch":
                    raise
                state = self.upload_state(sha256, confirmation_token=confirmation_token)  # resume where it is
            if state.sha256 != sha256:
                raise PortalBadResponse("the portal answered about another document")
            stalls = 0 if state.present or state.received > received else stalls + 1
            if stalls >= 3:
                raise PortalBadResponse("the portal does not take the document's parts")
        if state.size != total:
            raise PortalBadResponse("the portal holds a different size for this document")
        return BlobState(sha256=sha256, present=True, size=state.size)

    def submit(self, submission: DossierSubmission, idempotency_key: str) -> DossierReceipt:
        """Submit a confirmed dossier. Retrying with the same key is safe: the portal answers the first
        receipt again (duplicate=True) and stores nothing twice. Works without a login too: the
        submission's confirmation token authorises it (so the outbox should use a client of its own,
        never one logged in as the next citizen)."""
        if not isinstance(idempotency_key, str) or not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise PortalError("the idempotency key must be 8-128 printable ASCII characters", code="invalid_request")
        receipt = self._call("POST", "/dossiers", DossierReceipt, body=submission,
                             headers={"Idempotency-Key": idempotency_key})
        if receipt.local_reference != submission.local_reference:
            raise PortalBadResponse("the receipt is for another dossier")
        return receipt

    def queue_ticket(self, procedure_code: str | None = None, dossier_code: str | None = None) -> QueueTicket:
        body = _build(QueueTicketRequest, kiosk_id=self.kiosk_id, procedure_code=procedure_code,
                      dossier_code=dossier_code)
        return self._call("POST", "/queue/tickets", QueueTicket, body=body, auth=False, interactive=True)

    def rate(self, level: RatingLevel | int, dossier_code: str | None = None, comment: str = "") -> None:
        body = _build(RatingRequest, kiosk_id=self.kiosk_id, level=level, dossier_code=dossier_code,
                      comment=unicodedata.normalize("NFC", comment))
        self._call("POST", "/ratings", None, body=body, auth=False, interactive=True)

    def call_staff(self, step: str) -> None:
        """"Gọi cán bộ": tell the centre's staff this kiosk needs help at `step` (a state name, nothing else)."""
        body = _build(AssistanceRequest, kiosk_id=self.kiosk_id, step=step)
        self._call("POST", "/assistance", None, body=body, auth=False, interactive=True)

    def dossier(self, code: str, secret: str) -> DossierView:
        """A dossier's public view (status, appointment) by its code or the kiosk's local reference, and the
        secret printed beside it. Refusals are `LookupRefused`."""
        body = _build(StatusLookupRequest, code=code, secret=secret, kiosk_id=self.kiosk_id)
        return self._call("POST", "/dossiers/lookup", DossierView, body=body, auth=False, interactive=True)

    def dossier_by_reference(self, local_reference: str, secret: str) -> DossierView:
        return self.dossier(local_reference, secret)

    def electronic_result(self, code: str, secret: str) -> ElectronicResult:
        """The printable electronic copy of a completed dossier's result (same code + secret rule)."""
        body = _build(StatusLookupRequest, code=code, secret=secret, kiosk_id=self.kiosk_id)
        return self._call("POST", "/dossiers/lookup/result", ElectronicResult, body=body, auth=False,
                          interactive=True)

    def catalog(self) -> list[dict[str, Any]]:
        return self._call("GET", "/catalog", ProcedureCatalog, auth=False).procedures

    def register_kiosk(self, enrolment_code: str) -> KioskCredentials:
        """Exchange a one-time enrolment code for this kiosk's credentials (provisioning)."""
        body = _build(KioskRegistration, enrolment_code=enrolment_code, kiosk_id=self.kiosk_id,
                      app_version=__version__)
        credentials = self._call("POST", "/kiosks/register", KioskCredentials, body=body, auth=False)
        if credentials.kiosk_id != self.kiosk_id:
            raise PortalBadResponse("the portal issued credentials for another kiosk")
        return credentials

    def heartbeat(self, beat: Heartbeat, *, kiosk_token: str) -> HeartbeatAck:
        """Report this kiosk's health (kiosk.appliance.fleet sends one a minute), authenticated by the kiosk token."""
        if not isinstance(kiosk_token, str) or not kiosk_token.isascii() or not kiosk_token.isprintable():
            raise PortalError("the kiosk token is not printable ASCII", code="invalid_request")
        return self._call("POST", f"/kiosks/{_segment(self.kiosk_id)}/heartbeat", HeartbeatAck, body=beat,
                          auth=False, headers={"X-Kiosk-Token": kiosk_token})

    def seal_certificate(self, csr_pem: str, *, kiosk_token: str) -> SealCertificate:
        """Have the portal's CA certify this kiosk's seal key (enrolment, `kiosk provision`)."""
        if not isinstance(kiosk_token, str) or not kiosk_token.isascii() or not kiosk_token.isprintable():
            raise PortalError("the kiosk token is not printable ASCII", code="invalid_request")
        answer = self._call("POST", f"/kiosks/{_segment(self.kiosk_id)}/certificate", SealCertificate,
                            body=_build(SealCertificateRequest, csr_pem=csr_pem), auth=False,
                            headers={"X-Kiosk-Token": kiosk_token})
        if answer.kiosk_id != self.kiosk_id:
            raise PortalBadResponse("the portal certified another kiosk")
        return answer

    def kiosk_config(self, *, kiosk_token: str) -> KioskConfig:
        """The settings the portal holds for this kiosk (pulled when a heartbeat says there is a newer version)."""
        return self._call("GET", f"/kiosks/{_segment(self.kiosk_id)}/config", KioskConfig, auth=False,
                          headers={"X-Kiosk-Token": kiosk_token})

    # ------------------------------------------------------------------ plumbing
    def _call(self, method: str, path: str, model: type[M] | None, *, body: BaseModel | None = None,
              content: bytes | None = None, headers: Mapping[str, str] | None = None, auth: bool = True,
              upload: bool = False, interactive: bool = False) -> Any:
        sent_headers = dict(headers or {})
        if body is not None:
            content = body.model_dump_json(exclude_none=False).encode("utf-8")
            sent_headers.setdefault("Content-Type", "application/json")
        if auth and self._token:
            sent_headers["Authorization"] = f"Bearer {self._token}"
        policy = self.retry if interactive else NO_RETRY
        if interactive and method == "POST":
            sent_headers.setdefault("Idempotency-Key", uuid.uuid4().hex)  # one key for every try of this call
        budget = self._connect_timeout + (self._upload_timeout if upload else self._read_timeout)
        start = time.monotonic()
        call_deadline = start + (policy.deadline if policy.attempts > 1 else budget)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(method, path, model, content, sent_headers, upload,
                                  min(call_deadline, time.monotonic() + budget))
            except PortalError as e:
                if attempt >= policy.attempts or not _transient(e):
                    raise
                delay = policy.delay(attempt, self._rng)
                retry_after = getattr(e, "retry_after", None)
                if retry_after is not None:
                    delay = max(delay, float(retry_after))  # the portal said when: never sooner
                # A try needs time to be worth it: give up now rather than wait past the deadline.
                if time.monotonic() + delay + min(budget, 0.5) > call_deadline:
                    raise
                self.retries += 1
                log.info("%s %s: %s, try %d of %d in %.2f s", method, path.split("/")[1] if "/" in path else path,
                         e.code, attempt + 1, policy.attempts, delay)
                if self.on_retry is not None:
                    try:
                        self.on_retry(attempt, delay, e)
                    except Exception:  # noqa: BLE001 - a display hook cannot fail the call
                        log.exception("portal on_retry hook failed")
                self._sleep(delay)

    def _once(self, method: str, path: str, model: type[M] | None, content: bytes | None,
              headers: dict[str, str], upload: bool, deadline: float) -> Any:
        status, response_headers, raw = self._exchange(method, API + path, content, headers, upload, deadline)
        if 200 <= status < 300:
            if model is None:
                return None
            try:
                return model.model_validate_json(raw)
            except ValidationError as e:
                raise PortalBadResponse(f"{method} {path}: answer does not match {model.__name__} "
                                        f"({e.error_count()} problems)", status=status) from None
        raise _error_from(status, response_headers, raw)

    def _exchange(self, method: str, url: str, content: bytes | None, headers: dict[str, str],
                  upload: bool, deadline: float) -> tuple[int, httpx.Headers, bytes]:
        started = time.monotonic()
        budget = deadline - started
        _deadline.at = deadline  # read by _DeadlineStream: every socket read and write ends by then
        try:
            with self._http.stream(method, url, content=content, headers=headers,
                                   timeout=self._upload if upload else self._timeout) as response:
                raw = bytearray()
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_RESPONSE_BYTES:
                        raise PortalBadResponse("the answer is too large", status=response.status_code)
                    if time.monotonic() > deadline:
                        raise PortalTimeout(f"no complete answer within {budget:.1f} s")
                # Paths carry only hashes, dossier codes and references: nothing personal.
                log.debug("%s %s -> %d (%d bytes, %.0f ms)", method, url, response.status_code, len(raw),
                          (time.monotonic() - started) * 1000)
                return response.status_code, response.headers, bytes(raw)
        except PortalError:
            raise
        except httpx.TimeoutException as e:
            if time.monotonic() >= deadline - 0.001:
                raise PortalTimeout(f"{method} {url}: no complete answer within {budget:.1f} s") from None
            if isinstance(e, httpx.ConnectTimeout):
                raise PortalUnreachable(f"{method} {url}: could not connect in time") from None
            raise PortalTimeout(f"{method} {url}: {type(e).__name__}") from None
        except httpx.DecodingError as e:
            raise PortalBadResponse(f"{method} {url}: undecodable body ({e})") from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as e:
            raise PortalUnreachable(f"{method} {url}: {type(e).__name__}: {e}") from None
        finally:
            _deadline.at = None


def _error_from(status: int, headers: httpx.Headers, raw: bytes) -> PortalError:
    try:
        body: ErrorBody | None = ErrorBody.model_validate_json(raw)
    except ValidationError:
        body = None
    detail = body.detail if body and body.detail else (body.error if body else f"HTTP {status}")
    if body is not None and body.error in LOOKUP_ERRORS:  # before 429: a lock-out is not a busy portal
        return LookupRefused(body.detail, code=body.error, status=status, remaining_attempts=body.remaining_attempts,
                             retry_after=_retry_after(headers.get("retry-after")) or body.retry_after)
    if status == 429:
        retry_after = _retry_after(headers.get("retry-after"))
        if retry_after is None and body is not None:
            retry_after = body.retry_after
        return PortalRateLimited(detail, retry_after=retry_after)
    if status >= 500:
        return PortalServerError(detail, status=status)
    if 400 <= status < 500 and body is not None:
        return PortalRejected(body.detail, code=body.error, status=status, remaining_attempts=body.remaining_attempts)
    return PortalBadResponse(f"unexpected HTTP {status}", status=status)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return max(0.0, min(seconds, 3600.0)) if seconds == seconds else None  # NaN guard


def _build(model: type[M], **fields: Any) -> M:
    try:
        return model(**fields)
    except ValidationError as e:
        raise PortalError(f"{model.__name__}: {e.error_count()} invalid fields", code="invalid_request") from None


def _confirmation(token: str | None) -> dict[str, str]:
    if token is None:
        return {}
    if not isinstance(token, str) or not token.isascii() or not token.isprintable() or not 0 < len(token) <= 256:
        raise PortalError("a confirmation token is 1-256 printable ASCII characters", code="invalid_request")
    return {"X-Confirmation-Token": token}


def _check_sha256(sha256: str) -> None:
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise PortalError("a document hash is 64 lower-case hex digits", code="invalid_request")


def _segment(value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 128:
        raise PortalRejected("not a dossier code", code="dossier_unknown")
    return quote(value, safe="")


# ---------------------------------------------------------------------------------------------- kiosk status
def lookup_request(text: str, secret: str = "") -> tuple[str, str]:
    """(code, secret) from what a person typed or scanned: a receipt QR's text (which carries the secret), or
    a dossier code / local reference with the secret typed apart. Raises PortalRejected / LookupRefused
    before anything is sent when the code is not one, or no secret was given."""
    parsed = decode_receipt_qr(text)
    code = parsed.code if parsed else str(text or "").strip().upper()
    if not is_lookup_code(code):
        raise PortalRejected("not a dossier code or receipt QR", code="dossier_unknown")
    typed = (parsed.secret if parsed and parsed.secret else "") or normalize_secret(secret)
    if not typed:
        if str(secret or "").strip():  # typed, but not a secret's shape: the portal would refuse it anyway
            raise LookupRefused("the secret is 4-6 characters of the receipt's alphabet", code="lookup_mismatch")
        raise LookupRefused("status look-up needs the secret printed on the receipt", code="lookup_secret_required")
    return code, typed


def lookup_dossier(client: PortalClient, text: str, secret: str = "") -> DossierView:
    """A dossier by what a person typed or scanned (see `lookup_request`): status and appointment only."""
    code, typed = lookup_request(text, secret)
    return client.dossier(code, typed)


__all__ = [
    "PortalClient", "PortalError", "PortalUnreachable", "PortalTimeout", "PortalBadResponse", "PortalServerError",
    "PortalRateLimited", "PortalRejected", "OtpCodeInvalid", "RetryPolicy", "NO_RETRY", "is_loopback_url",
    "insecure_url_refused", "STATUS_LABELS", "parse_receipt_qr",
    "lookup_dossier", "lookup_request", "LookupRefused", "LOOKUP_ERRORS", "ProcedureCatalog", "BlobUpload",
    "KioskRegistration", "KioskCredentials",
    "DeviceHealthReport", "Heartbeat", "HeartbeatAck", "SettingsReport", "SealCertificateRequest", "SealCertificate",
]
