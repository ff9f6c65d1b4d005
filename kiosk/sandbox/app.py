"""The sandbox portal's web layer: FastAPI routes over `SandboxStore`, speaking the kiosk.portal.models contract.

Every error answers `ErrorBody` with a stable `error` code (validation errors included: `invalid_request`,
whose detail names the fields but never echoes their values, which may be personal data). Test-only routes
live under /api/v1/sandbox/ and are left out of the OpenAPI document: a real portal does not have them.

`python -m kiosk.sandbox.app > docs/openapi.json` regenerates the published contract.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path as PathParam, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk import __version__
from kiosk import resources
from kiosk.portal.models import (
    BlobState,
    DossierReceipt,
    DossierStatus,
    DossierSubmission,
    DossierView,
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
    RatingRequest,
)
from kiosk.portal.models import AssistanceRequest, BlobUpload, ProcedureCatalog
from kiosk.portal.client import Heartbeat, HeartbeatAck, KioskConfig, KioskCredentials, KioskRegistration
from kiosk.portal.client import SealCertificate, SealCertificateRequest
from kiosk.sandbox import seals
from kiosk.sandbox.faults import FaultConfig, FaultInjector, FaultMiddleware
from kiosk.sandbox.idempotency import IdempotencyMiddleware
from kiosk.sandbox.store import HEARTBEAT_SECONDS, SandboxError, SandboxStore, Session

DEFAULT_CATALOG = resources.resource_path("config/procedures.json")
SHA256_PATH = PathParam(pattern=r"^[0-9a-f]{64}$", description="lower-case hex SHA-256 of the PDF")
MAX_PART_BYTES = 8 * 1024 * 1024  # one part of a resumable upload


class OtpPeek(BaseModel):
    code: str


class StatusChange(BaseModel):
    status: DossierStatus


_bearer = HTTPBearer(auto_error=False, description="the session_token from POST /api/v1/auth/vneid")


def current_store(request: Request) -> SandboxStore:
    """The app's store, looked up per request so a running sandbox can be reset to an empty one."""
    return request.app.state.store


Store = Annotated[SandboxStore, Depends(current_store)]


def current_session(store: Store,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Session:
    """The login session behind the bearer token (401 auth_required / session_unknown / session_expired)."""
    return store.session(credentials.credentials if credentials else None)


Auth = Annotated[Session, Depends(current_session)]


def session_if_live(store: Store,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Session | None:
    """The live session, or None (no bearer, or one that expired): the dossier's confirmation then speaks."""
    try:
        return store.session(credentials.credentials if credentials else None)
    except SandboxError:
        return None


def document_access(store: Store,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                    confirmation: Annotated[str | None, Header(
                        alias="X-Confirmation-Token", max_length=256,
                        description="instead of a session: the confirmation token of the dossier being delivered",
                    )] = None) -> Session:
    """Documents may be sent in the citizen's session or, after they left, under their confirmation."""
    if credentials is not None:
        try:
            return store.session(credentials.credentials)
        except SandboxError:
            if not confirmation:
                raise
    if confirmation:
        return store.confirmed_session(confirmation)
    return store.session(None)  # raises auth_required


LiveSession = Annotated[Session | None, Depends(session_if_live)]
DocumentAccess = Annotated[Session, Depends(document_access)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


def _error_response(status: int, code: str, detail: str = "", *, remaining_attempts: int | None = None,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=code, detail=detail, remaining_attempts=remaining_attempts)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _replay_key(idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=8, max_length=128,
        description="optional: a repeat with the same key (and body) gets the first answer back, "
                    "without the request being handled again")] = None) -> None:
    """Declares the header in the contract; kiosk.sandbox.idempotency does the work."""


Replay = Depends(_replay_key)

_HTTP_CODES = {401: "auth_required", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
               415: "unsupported_media_type"}


def load_catalog(path: Path) -> list[dict[str, Any]]:
    """The procedures in config/procedures.json (a list, or an object with "procedures"); [] when absent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    procedures = data.get("procedures", []) if isinstance(data, dict) else data
    return [p for p in procedures if isinstance(p, dict)] if isinstance(procedures, list) else []


def _procedure_name(catalog_path: Path, code: str) -> str:
    for p in load_catalog(catalog_path):
        if p.get("code") == code:
            name = p.get("name", "")
            return name if isinstance(name, str) else ""
    return ""


def create_app(store: SandboxStore, *, faults: FaultInjector | None = None,
               catalog_path: Path | None = None) -> FastAPI:
    """The sandbox portal as an ASGI app. `faults` (shared with the caller) can be switched at run time."""
    catalog_file = catalog_path or DEFAULT_CATALOG
    injector = faults or FaultInjector()

    app = FastAPI(title="DVC Kiosk portal API", version=__version__,
                  description="The contract between DVC kiosks and the public-service portal "
                              "(served by the sandbox portal, `kiosk sandbox`). Every error answers ErrorBody.")
    app.state.store = store
    app.state.faults = injector

    @app.exception_handler(SandboxError)
    async def _sandbox_error(_: Request, exc: SandboxError) -> JSONResponse:
        return _error_response(exc.status, exc.code, exc.detail, remaining_attempts=exc.remaining_attempts)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = sorted({".".join(str(p) for p in e.get("loc", ())) + ": " + str(e.get("msg", ""))
                         for e in exc.errors()})
        return _error_response(422, "invalid_request", "; ".join(fields)[:1000])

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        return _error_response(500, "server_error", "the sandbox failed; see its log")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"),
                               str(exc.detail), headers=getattr(exc, "headers", None))

    api = APIRouter(prefix="/api/v1", responses=_errors(422))

    @api.get("/health", response_model=Health, tags=["system"])
    def health(store: Store) -> Health:
        return Health(status="ok", time=store.now(), version=__version__)

    @api.post("/auth/vneid", response_model=LoginResponse, tags=["login"], responses=_errors(401),
              dependencies=[Replay])
    def login(body: LoginRequest, store: Store) -> LoginResponse:
        """Exchange the code the citizen shows in the VNeID app for a session and their profile."""
        return store.login(body.login_code, body.kiosk_id)

    @api.post("/otp", response_model=OtpChallenge, tags=["login"], responses=_errors(401), dependencies=[Replay])
    def request_otp(_body: OtpRequest, who: Auth, store: Store) -> OtpChallenge:
        """Send a one-time code to the citizen's phone (6 digits, 5 minutes, 3 attempts)."""
        return store.request_otp(who)

    @api.post("/otp/verify", response_model=OtpVerifyResponse, tags=["login"], responses=_errors(400, 401, 404),
              dependencies=[Replay])
    def verify_otp(body: OtpVerifyRequest, who: Auth, store: Store) -> OtpVerifyResponse:
        """Check a one-time code. Errors: otp_wrong (with remaining_attempts), otp_locked, otp_expired."""
        return store.verify_otp(who, body.otp_id, body.code)

    @api.put("/blobs/{sha256}", response_model=BlobState, tags=["documents"],
             responses=_errors(400, 401, 403, 413),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    async def put_blob(request: Request, sha256: Annotated[str, SHA256_PATH], who: DocumentAccess,
                       store: Store) -> BlobState:
        """Upload one document PDF, named by its SHA-256. Idempotent; the hash is verified."""
        state = await run_in_threadpool(store.blob_state, sha256)
        if state.present:
            async for _ in request.stream():  # drain, keep nothing: content-addressed
                pass
            return state
        writer = await run_in_threadpool(store.open_blob_writer)
        try:
            async for chunk in request.stream():
                writer.write(chunk)
        except BaseException:
            writer.discard()
            raise
        return await run_in_threadpool(writer.commit, sha256)

    @api.get("/blobs/{sha256}/upload", response_model=BlobUpload, tags=["documents"], responses=_errors(401))
    def upload_state(sha256: Annotated[str, SHA256_PATH], who: DocumentAccess, store: Store) -> BlobUpload:
        """How many bytes of a resumable upload the portal holds (`received`): the kiosk resumes from there."""
        state, received = store.upload_state(sha256)
        return BlobUpload(sha256=sha256, present=state.present, size=state.size, received=received)

    @api.put("/blobs/{sha256}/parts/{offset}", response_model=BlobUpload, tags=["documents"],
             responses=_errors(400, 401, 403, 409, 413),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def put_part(request: Request, sha256: Annotated[str, SHA256_PATH],
                       offset: Annotated[int, PathParam(ge=0, description="where this part starts")],
                       upload_length: Annotated[int, Header(alias="Upload-Length", ge=1,
                                                            description="the whole document's size")],
                       who: DocumentAccess, store: Store) -> BlobUpload:
        """One part of a resumable upload, at the offset the portal holds (409 offset_mismatch otherwise,
        detail = bytes held). The part that completes the document has its SHA-256 verified (400
        hash_mismatch, and the parts are dropped). Parts up to 8 MB."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PART_BYTES:
                raise SandboxError(413, "part_too_large", f"a part may not exceed {MAX_PART_BYTES} bytes")
        state, received = await run_in_threadpool(store.append_part, sha256, offset, bytes(body), upload_length)
        return BlobUpload(sha256=sha256, present=state.present, size=state.size, received=received)

    @api.get("/blobs/{sha256}/state", response_model=BlobState, tags=["documents"], responses=_errors(401),
             operation_id="blob_state")
    @api.head("/blobs/{sha256}/state", response_model=BlobState, tags=["documents"], responses=_errors(401),
              operation_id="blob_state_head")
    def blob_state(sha256: Annotated[str, SHA256_PATH], who: DocumentAccess, store: Store) -> BlobState:
        """Whether the portal already holds a document (so the kiosk can skip the upload)."""
        return store.blob_state(sha256)

    @api.head("/blobs/{sha256}", tags=["documents"], responses={200: {"description": "present"},
                                                               404: {"description": "absent"}})
    def blob_head(sha256: Annotated[str, SHA256_PATH], who: DocumentAccess, store: Store) -> Response:
        state = store.blob_state(sha256)
        return Response(status_code=200 if state.present else 404,
                        headers={"content-length": str(state.size)} if state.present else None)

    @api.post("/dossiers", response_model=DossierReceipt, status_code=201, tags=["dossiers"],
              responses={200: {"model": DossierReceipt, "description": "replay of an Idempotency-Key"},
                         **_errors(401, 403, 409, 422)})
    def submit(body: DossierSubmission, who: LiveSession, response: Response,
               idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=128)],
               store: Store,
               ) -> DossierReceipt:
        """Submit a confirmed dossier, in the citizen's session or (outbox, later) under its confirmation_token
        alone. Replaying the same Idempotency-Key returns the first receipt (200, duplicate=true).
        Errors: level_insufficient, not_confirmed, blob_missing (detail: the missing hashes), seal_invalid (422:
        a document's kiosk seal does not verify against the portal's CA, or a certified kiosk sent one unsealed)."""
        checks = seals.check_submission(store, body)
        receipt = store.submit(who, body, idempotency_key, _procedure_name(catalog_file, body.procedure_code))
        if not receipt.duplicate:
            seals.record(store, receipt.dossier_code, checks)
        if receipt.duplicate:
            response.status_code = 200
        return receipt

    @api.get("/dossiers/by-reference/{local_reference}", response_model=DossierView, tags=["dossiers"],
             responses=_errors(404))
    def dossier_by_reference(local_reference: str, store: Store) -> DossierView:
        """A dossier by the kiosk's own reference (when the receipt was printed before the portal answered)."""
        return store.dossier(local_reference=local_reference)

    @api.get("/dossiers/{code}", response_model=DossierView, tags=["dossiers"], responses=_errors(404))
    def dossier(code: str, store: Store) -> DossierView:
        """Status of one dossier; no login needed, no personal data returned."""
        return store.dossier(code)

    @api.post("/queue/tickets", response_model=QueueTicket, tags=["queue"], dependencies=[Replay])
    def queue_ticket(body: QueueTicketRequest, store: Store) -> QueueTicket:
        return store.issue_ticket(body)

    @api.post("/ratings", status_code=204, tags=["queue"], response_class=Response, dependencies=[Replay])
    def rate(body: RatingRequest, store: Store) -> Response:
        store.rate(body)
        return Response(status_code=204)

    @api.post("/assistance", status_code=204, tags=["queue"], response_class=Response, dependencies=[Replay])
    def call_staff(body: AssistanceRequest, store: Store) -> Response:
        """"Gọi cán bộ": the centre's staff are told which kiosk needs help and at which step. No personal data."""
        store.call_staff(body)
        return Response(status_code=204)

    @api.get("/catalog", response_model=ProcedureCatalog, tags=["catalog"])
    def catalog() -> ProcedureCatalog:
        return ProcedureCatalog(procedures=load_catalog(catalog_file))

    @api.post("/kiosks/register", response_model=KioskCredentials, tags=["fleet"], responses=_errors(401, 409))
    def register_kiosk(body: KioskRegistration, store: Store) -> KioskCredentials:
        """Provisioning: exchange a one-time enrolment code for the kiosk's token (sent as X-Kiosk-Token).
        Errors: enrolment_code_unknown, enrolment_code_expired, enrolment_code_used (by another kiosk)."""
        token, issued_at = store.register_kiosk(body.enrolment_code, body.kiosk_id, body.app_version)
        return KioskCredentials(kiosk_id=body.kiosk_id, kiosk_token=token, issued_at=issued_at,
                                heartbeat_seconds=HEARTBEAT_SECONDS)

    @api.post("/kiosks/{kiosk_id}/certificate", response_model=SealCertificate, tags=["fleet"],
              responses=_errors(401, 422))
    def seal_certificate(kiosk_id: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._\-]{1,64}$")],
                         body: SealCertificateRequest, store: Store,
                         kiosk_token: Annotated[str | None, Header(alias="X-Kiosk-Token", max_length=256)] = None,
                         ) -> SealCertificate:
        """Enrolment: the portal's CA certifies the kiosk's seal key (a PEM certificate signing request, EC P-256).
        The answer is a PEM chain: the kiosk's certificate (subject CN = the kiosk id, O = "DVC Kiosk seal",
        signing only), then the CA's. Every dossier PDF the kiosk sends afterwards must carry its PAdES seal.
        Errors: kiosk_auth_required, kiosk_unknown, csr_invalid."""
        store._check_kiosk(kiosk_id, kiosk_token)  # noqa: SLF001 - the same check as heartbeats
        chain = seals.ca_for(store).issue(body.csr_pem, kiosk_id)
        return SealCertificate(kiosk_id=kiosk_id, certificate_pem=chain, issued_at=store.now())

    @api.post("/kiosks/{kiosk_id}/heartbeat", response_model=HeartbeatAck, tags=["fleet"], responses=_errors(401))
    def heartbeat(kiosk_id: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._\-]{1,64}$")], body: Heartbeat,
                  store: Store,
                  kiosk_token: Annotated[str | None, Header(alias="X-Kiosk-Token", max_length=256)] = None,
                  ) -> HeartbeatAck:
        """A kiosk's health, once a minute: devices, outbox depth, version, last error kind (no personal data).
        Errors: kiosk_auth_required, kiosk_unknown."""
        received = store.record_heartbeat(kiosk_id, kiosk_token, body.model_dump(mode="json"))
        version = store.config_version_and_settings(kiosk_id)[0]
        return HeartbeatAck(received_at=received, next_heartbeat_seconds=HEARTBEAT_SECONDS, config_version=version)

    @api.get("/kiosks/{kiosk_id}/config", response_model=KioskConfig, tags=["fleet"], responses=_errors(401))
    def kiosk_config(kiosk_id: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._\-]{1,64}$")], store: Store,
                     kiosk_token: Annotated[str | None, Header(alias="X-Kiosk-Token", max_length=256)] = None,
                     ) -> KioskConfig:
        """Settings set centrally for this kiosk (a subset of kiosk.toml), so units never need a keyboard to be
        reconfigured. Errors: kiosk_auth_required, kiosk_unknown."""
        version, settings = store.kiosk_config(kiosk_id, kiosk_token)
        return KioskConfig(version=version, settings=settings)

    # ------------------------------------------------------------------ test-only (never faulted)
    test = APIRouter(prefix="/api/v1/sandbox", include_in_schema=False)

    @test.get("/otp/{otp_id}", response_model=OtpPeek)
    def peek_otp(otp_id: str, store: Store) -> OtpPeek:
        return OtpPeek(code=store.peek_otp(otp_id))

    @test.get("/dossiers")
    def all_dossiers(store: Store) -> list[dict[str, Any]]:
        dossiers, states = store.all_dossiers(), seals.seal_states(store)
        for d in dossiers:
            for doc in d["documents"]:
                doc["seal"] = states.get((d["dossier_code"], doc["sha256"]), "")
        return dossiers

    @test.post("/dossiers/{code}/status", response_model=DossierView)
    def set_status(code: str, body: StatusChange, store: Store) -> DossierView:
        return store.set_status(code, body.status)

    @test.post("/clock/advance")
    def advance_clock(seconds: float, store: Store) -> dict[str, str]:
        store.advance_clock(seconds)
        return {"now": store.now().isoformat()}

    @test.put("/kiosks/{kiosk_id}/config")
    def set_kiosk_config(kiosk_id: str, settings: dict[str, dict[str, Any]], store: Store) -> dict[str, int]:
        return {"version": store.set_kiosk_config(kiosk_id, settings)}

    @test.get("/assistance")
    def assistance_requests(store: Store) -> list[dict[str, Any]]:
        return store.assistance_requests()

    @test.get("/kiosks/{kiosk_id}/heartbeats")
    def kiosk_heartbeats(kiosk_id: str, store: Store) -> list[dict[str, Any]]:
        return store.heartbeats(kiosk_id)

    @test.put("/faults")
    def set_faults(body: dict[str, Any]) -> dict[str, Any]:
        try:
            values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in body.items()}
            cfg = FaultConfig(**values)
        except (TypeError, ValueError) as e:
            raise SandboxError(422, "invalid_request", str(e)) from None
        injector.configure(cfg)
        return {"configured": True}

    app.include_router(api)
    app.include_router(test)
    from kiosk.sandbox import oidc  # the identity provider and identity routes (issue 11)

    oidc.mount(app)
    app.add_middleware(IdempotencyMiddleware)  # inside the faults: a lost answer is replayed to the retry
    app.add_middleware(FaultMiddleware, injector=injector)
    return app


def openapi_document() -> dict[str, Any]:
    """The published contract (built on a throw-away store: the schema does not depend on state)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = SandboxStore(Path(tmp) / "openapi.sqlite3")
        try:
            return create_app(store).openapi()
        finally:
            store.close()


def render_openapi() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_openapi())
