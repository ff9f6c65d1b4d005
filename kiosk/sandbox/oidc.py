"""The sandbox's identity provider (stand-in for VNeID's OpenID Connect) and the identity routes of the portal.

Identity provider (under /oidc, like a real IdP, outside the portal's /api/v1):
  GET  /.well-known/openid-configuration   discovery
  GET  /oidc/jwks                          the signing key (RSA 2048, generated at first use)
  GET  /oidc/authorize                     authorization-code endpoint (advertised; the kiosk does not use it: 400)
  POST /oidc/device_authorization          RFC 8628 §3.1: device_code, user_code, verification_uri(_complete)
  POST /oidc/token                         RFC 8628 §3.4 device_code grant: authorization_pending,
                                           access_denied, expired_token, invalid_grant (used or unknown)
  GET  /oidc/userinfo                      the citizen's claims (bearer access token)
Portal identity routes (kiosk.portal.identity has the contract): /api/v1/auth/oidc, /api/v1/staff/login,
/api/v1/staff/login/vneid, /api/v1/auth/assisted, /api/v1/staff/dossiers/{code}.
Test-only (not in the OpenAPI document): /api/v1/sandbox/oidc/{approve,deny,fault} stand in for the phone
approving or denying, and make the provider sign a bad token (wrong key, issuer, audience, nonce; expired).

The citizens are the sandbox's test citizens (kiosk.sandbox.store.TEST_CITIZENS); `sub` is their test login
code. Staff accounts are below (invented people). Nothing here logs personal data.
"""

import dataclasses
import datetime as dt
import logging
import secrets
import threading
import time
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from pydantic import BaseModel

from kiosk.portal.identity import (
    VERIFICATION_COUNTER,
    AssistedLoginRequest,
    DossierStaffView,
    IdentitySource,
    OidcLoginRequest,
    StaffLoginRequest,
    StaffLoginResponse,
    StaffMember,
    StaffVneidLoginRequest,
)
from kiosk.portal.models import CitizenProfile, LoginResponse, VneidLevel
from kiosk.sandbox.store import SESSION_LIFETIME, TEST_CITIZENS, SandboxError, SandboxStore

log = logging.getLogger(__name__)

CLIENT_ID = "dvc-kiosk"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
QR_LIFETIME_SECONDS = 60  # a VNeID verification QR lives about 60 s (shared/domain.md)
POLL_INTERVAL = 1
STAFF_SESSION = dt.timedelta(hours=8)
#: Staff accounts the centre issued (invented people; PINs are test data, documented in docs/sandbox.md).
STAFF_ACCOUNTS: dict[str, tuple[str, StaffMember]] = {
    "CB-0001": ("246810", StaffMember(staff_id="CB-0001", display_name="Trần Thị Hoa", phone_masked="09******11")),
    "TNV-0002": ("135790", StaffMember(staff_id="TNV-0002", display_name="Đỗ Minh Quân", phone_masked="08******22")),
}
#: Staff whose own VNeID account the centre registered (test login codes the clerk's VNeID app shows).
STAFF_VNEID: dict[str, str] = {"VNEID-STAFF-0001": "CB-0001"}
TOKEN_FAULTS = ("", "wrong_signature", "wrong_issuer", "wrong_audience", "wrong_nonce", "expired")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_sessions (token TEXT PRIMARY KEY, staff_id TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identity_marks (
    session_token TEXT PRIMARY KEY, identity_source TEXT NOT NULL, assisted_by TEXT NOT NULL,
    check_required INTEGER NOT NULL, sod_sha256 TEXT);
"""


class Approval(BaseModel):
    """What the phone does (test-only): approve as one of the test citizens, or deny."""

    user_code: str
    login_code: str = "VNEID-TEST-0001"


@dataclasses.dataclass
class DeviceGrant:
    device_code: str
    user_code: str
    nonce: str
    expires_at: float
    state: str = "pending"  # pending | approved | denied | used
    sub: str = ""


class Provider:
    """The IdP's state: one signing key, device grants (in memory: they live 60 s), access tokens."""

    def __init__(self, store_ref) -> None:
        self._kid = secrets.token_hex(8)
        self._keys: tuple[RSAKey, RSAKey] | None = None
        self._keys_lock = threading.Lock()
        self.grants: dict[str, DeviceGrant] = {}
        self.access: dict[str, str] = {}
        self.fault = ""
        self._store = store_ref

    def _key_pair(self) -> tuple[RSAKey, RSAKey]:
        """The signing key and a stranger with the same kid (the wrong_signature fault), made at first use: two
        RSA 2048 keys cost ~80 ms, and most sandbox runs never log in through the IdP."""
        with self._keys_lock:
            if self._keys is None:
                self._keys = (RSAKey.generate_key(2048, parameters={"kid": self._kid, "use": "sig", "alg": "RS256"}),
                              RSAKey.generate_key(2048, parameters={"kid": self._kid, "alg": "RS256"}))
            return self._keys

    @property
    def key(self) -> RSAKey:
        return self._key_pair()[0]

    @property
    def other_key(self) -> RSAKey:
        return self._key_pair()[1]

    def now(self) -> float:
        return self._store().now().timestamp()

    def id_token(self, issuer: str, sub: str, nonce: str) -> str:
        now = int(self.now())
        claims = {"iss": issuer, "sub": sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce,
                  "acr": "vneid-level-2" if TEST_CITIZENS[sub].level >= VneidLevel.LEVEL_2 else "vneid-level-1"}
        key = self.key
        if self.fault == "wrong_signature":
            key = self.other_key
        elif self.fault == "wrong_issuer":
            claims["iss"] = "https://idp.example.invalid/oidc"
        elif self.fault == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.fault == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif self.fault == "expired":
            claims["iat"], claims["exp"] = now - 900, now - 600
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)

    def verify(self, token: str, issuer: str) -> dict[str, Any]:
        """The portal's own check of an ID token the kiosk hands over (no nonce: that is the kiosk's)."""
        try:
            decoded = jwt.decode(token, KeySet([self.key]), algorithms=["RS256"])
            jwt.JWTClaimsRegistry(now=int(self.now()), leeway=5, iss={"essential": True, "value": issuer},
                                  aud={"essential": True, "value": CLIENT_ID},
                                  sub={"essential": True}, exp={"essential": True}).validate(decoded.claims)
        except Exception as e:  # noqa: BLE001 - any failure is the same refusal
            raise SandboxError(401, "id_token_invalid", f"the ID token was refused ({type(e).__name__})") from None
        if decoded.claims["sub"] not in TEST_CITIZENS:
            raise SandboxError(401, "id_token_invalid", "unknown subject")
        return decoded.claims


def _issuer(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/oidc"


def _oauth_error(code: str, description: str = "", status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


_bearer = HTTPBearer(auto_error=False)


def mount(app: FastAPI) -> None:
    """Add the identity provider and the identity routes to the sandbox app (kiosk.sandbox.app)."""
    provider = Provider(lambda: app.state.store)
    app.state.oidc = provider

    def store_of(request: Request) -> SandboxStore:
        store = request.app.state.store
        if not getattr(store, "_identity_schema", False):
            with store._lock:  # executescript commits by itself: not inside store._tx
                store._db.executescript(_SCHEMA)
            store._identity_schema = True
        return store

    Store = Annotated[SandboxStore, Depends(store_of)]

    def staff_of(store: Store,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> StaffMember:
        token = credentials.credentials if credentials else ""
        with store._lock:
            row = store._db.execute("SELECT * FROM staff_sessions WHERE token = ?", (token,)).fetchone()
        if row is None or dt.datetime.fromisoformat(row["expires_at"]) <= store.now():
            raise SandboxError(401, "staff_auth_required", "a staff sign-in is needed")
        return STAFF_ACCOUNTS[row["staff_id"]][1]

    Staff = Annotated[StaffMember, Depends(staff_of)]

    def open_session(store: SandboxStore, login_code: str, kiosk_id: str, source: IdentitySource,
                     helper: str = "", sod: str | None = None) -> LoginResponse:
        token = secrets.token_urlsafe(32)
        expires_at = store.now() + SESSION_LIFETIME
        with store._tx() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                       (token, login_code, kiosk_id, expires_at.isoformat()))
            db.execute("INSERT INTO identity_marks VALUES (?, ?, ?, ?, ?)",
                       (token, source.value, helper, int(source is not IdentitySource.VNEID or bool(helper)), sod))
        return LoginResponse(session_token=token, expires_at=expires_at, citizen=TEST_CITIZENS[login_code])

    # ------------------------------------------------------------------ identity provider
    idp = APIRouter(tags=["identity provider"])

    @idp.get("/.well-known/openid-configuration")
    def discovery(request: Request) -> dict[str, Any]:
        iss = _issuer(request)
        return {"issuer": iss, "authorization_endpoint": f"{iss}/authorize", "token_endpoint": f"{iss}/token",
                "device_authorization_endpoint": f"{iss}/device_authorization", "userinfo_endpoint": f"{iss}/userinfo",
                "jwks_uri": f"{iss}/jwks", "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", DEVICE_GRANT], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "profile"],
                "code_challenge_methods_supported": ["S256"], "token_endpoint_auth_methods_supported": ["none"]}

    @idp.get("/oidc/jwks")
    def jwks() -> dict[str, Any]:
        return cast(dict[str, Any], KeySet([provider.key]).as_dict(private=False))

    @idp.get("/oidc/authorize")
    def authorize() -> JSONResponse:
        return _oauth_error("unsupported_response_type", "kiosks use the device grant (RFC 8628)")

    @idp.post("/oidc/device_authorization")
    def device_authorization(request: Request, client_id: Annotated[str, Form()], scope: Annotated[str, Form()] = "",
                             nonce: Annotated[str, Form(max_length=128)] = "") -> JSONResponse:
        if client_id != CLIENT_ID:
            return _oauth_error("invalid_client", "unknown client", 401)
        grant = DeviceGrant(device_code=secrets.token_urlsafe(32),
                            user_code="".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8)),
                            nonce=nonce, expires_at=provider.now() + QR_LIFETIME_SECONDS)
        provider.grants[grant.device_code] = grant
        for code in [c for c, g in provider.grants.items() if g.expires_at < provider.now() - 600]:
            provider.grants.pop(code, None)
        verify = _issuer(request) + "/device"
        return JSONResponse({"device_code": grant.device_code, "user_code": grant.user_code,
                             "verification_uri": verify,
                             "verification_uri_complete": f"{verify}?user_code={grant.user_code}",
                             "expires_in": QR_LIFETIME_SECONDS, "interval": POLL_INTERVAL})

    @idp.post("/oidc/token")
    def token(request: Request, grant_type: Annotated[str, Form()], client_id: Annotated[str, Form()] = "",
              device_code: Annotated[str, Form()] = "") -> JSONResponse:
        if grant_type != DEVICE_GRANT:
            return _oauth_error("unsupported_grant_type")
        if client_id != CLIENT_ID:
            return _oauth_error("invalid_client", "unknown client", 401)
        grant = provider.grants.get(device_code)
        if grant is None or grant.state == "used":
            return _oauth_error("invalid_grant", "unknown or already used device code")
        if grant.state == "denied":
            return _oauth_error("access_denied", "the citizen declined on the phone")
        if provider.now() >= grant.expires_at:
            return _oauth_error("expired_token", "the QR expired; show a new one")
        if grant.state == "pending":
            return _oauth_error("authorization_pending")
        grant.state = "used"
        access = secrets.token_urlsafe(32)
        provider.access[access] = grant.sub
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 300,
                             "scope": "openid profile",
                             "id_token": provider.id_token(_issuer(request), grant.sub, grant.nonce)},
                            headers={"Cache-Control": "no-store"})

    @idp.get("/oidc/userinfo")
    def userinfo(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> dict[str, Any]:
        sub = provider.access.get(credentials.credentials if credentials else "")
        if sub is None:
            raise SandboxError(401, "invalid_token", "unknown access token")
        c = TEST_CITIZENS[sub]
        return {"sub": sub, "name": c.full_name, "birthdate": c.birth_date.isoformat(), "id_number": c.id_number}

    # ------------------------------------------------------------------ portal identity routes
    api = APIRouter(prefix="/api/v1", tags=["login"])

    @api.post("/auth/oidc", response_model=LoginResponse)
    def login_oidc(body: OidcLoginRequest, request: Request, store: Store) -> LoginResponse:
        """Open a session from a VNeID ID token (device grant). Errors: id_token_invalid."""
        claims = provider.verify(body.id_token, _issuer(request))
        log.info("sandbox OIDC login (level %d) on kiosk %s", TEST_CITIZENS[claims["sub"]].level.value, body.kiosk_id)
        return open_session(store, claims["sub"], body.kiosk_id, IdentitySource.VNEID)

    @api.post("/staff/login", response_model=StaffLoginResponse, tags=["assisted"])
    def staff_login(body: StaffLoginRequest, store: Store) -> StaffLoginResponse:
        """A clerk or volunteer signs in with the PIN the centre issued. Errors: staff_pin_wrong."""
        account = STAFF_ACCOUNTS.get(body.staff_id)
        if account is None or not secrets.compare_digest(account[0], body.pin):
            raise SandboxError(401, "staff_pin_wrong", "staff id or PIN not recognised")
        token, expires_at = secrets.token_urlsafe(32), store.now() + STAFF_SESSION
        with store._tx() as db:
            db.execute("INSERT INTO staff_sessions VALUES (?, ?, ?)", (token, body.staff_id, expires_at.isoformat()))
        return StaffLoginResponse(staff_token=token, expires_at=expires_at, staff=account[1])

    @api.post("/staff/login/vneid", response_model=StaffLoginResponse, tags=["assisted"])
    def staff_login_vneid(body: StaffVneidLoginRequest, store: Store) -> StaffLoginResponse:
        """A clerk or volunteer signs in with their own VNeID (the code their app shows). Errors:
        staff_not_registered (a VNeID account the centre has not registered as staff)."""
        staff_id = STAFF_VNEID.get(body.login_code.strip())
        if staff_id is None:
            raise SandboxError(403, "staff_not_registered", "this VNeID account is not registered as staff")
        token, expires_at = secrets.token_urlsafe(32), store.now() + STAFF_SESSION
        with store._tx() as db:
            db.execute("INSERT INTO staff_sessions VALUES (?, ?, ?)", (token, staff_id, expires_at.isoformat()))
        log.info("sandbox staff sign-in by VNeID: %s on kiosk %s", staff_id, body.kiosk_id)
        return StaffLoginResponse(staff_token=token, expires_at=expires_at, staff=STAFF_ACCOUNTS[staff_id][1])

    @api.post("/auth/assisted", response_model=LoginResponse, tags=["assisted"])
    def login_assisted(body: AssistedLoginRequest, staff: Staff, store: Store) -> LoginResponse:
        """A session on a citizen's behalf (staff bearer): identity from the chip (chip_pa, with the SOD hash) or
        the ID card's QR (qr_only). The one-time code goes to the clerk's phone; dossiers are marked assisted
        and flagged for an identity check at the counter. Errors: staff_auth_required, sod_required."""
        if body.identity_source is IdentitySource.VNEID:
            raise SandboxError(422, "invalid_request", "identity_source: vneid logins use /auth/oidc")
        if body.identity_source is IdentitySource.CHIP_PA and not body.sod_sha256:
            raise SandboxError(422, "sod_required", "a chip identity carries the SOD's SHA-256")
        code = "ASSISTED-" + secrets.token_hex(8)
        TEST_CITIZENS[code] = CitizenProfile(
            id_number=body.id_number, full_name=body.full_name, birth_date=body.birth_date, sex=body.sex,
            address=body.address, phone_masked=staff.phone_masked, level=VneidLevel.LEVEL_2)
        log.info("sandbox assisted session (%s) by staff %s on kiosk %s", body.identity_source.value,
                 staff.staff_id, body.kiosk_id)
        return open_session(store, code, body.kiosk_id, body.identity_source,
                            f"{staff.display_name} ({staff.staff_id})", body.sod_sha256)

    @api.get("/staff/dossiers/{code}", response_model=DossierStaffView, tags=["assisted"])
    def staff_dossier(code: str, staff: Staff, store: Store) -> DossierStaffView:
        """A dossier as staff see it: how the citizen was identified, who helped, whether to check identity."""
        view = store.dossier(code)
        with store._lock:
            row = store._db.execute("SELECT m.* FROM dossiers d JOIN identity_marks m "
                                    "ON m.session_token = d.session_token WHERE d.code = ?", (code,)).fetchone()
        extra: dict[str, Any] = {}
        if row is not None:
            extra = {"identity_source": row["identity_source"], "assisted_by": row["assisted_by"],
                     "identity_check_required": bool(row["check_required"]), "sod_sha256": row["sod_sha256"],
                     "verification_counter": VERIFICATION_COUNTER if row["check_required"] else ""}
        return DossierStaffView(**view.model_dump(), **extra)

    # ------------------------------------------------------------------ test-only: the phone
    test = APIRouter(prefix="/api/v1/sandbox/oidc", include_in_schema=False)

    def _grant(user_code: str) -> DeviceGrant:
        for g in provider.grants.values():
            if g.user_code == user_code:
                return g
        raise SandboxError(404, "user_code_unknown", "no such QR")

    @test.post("/approve")
    def approve(body: Approval) -> dict[str, str]:
        grant = _grant(body.user_code)
        if body.login_code not in TEST_CITIZENS:
            raise SandboxError(404, "citizen_unknown", "no such test citizen")
        if grant.state != "pending" or provider.now() >= grant.expires_at:
            raise SandboxError(409, "qr_not_pending", grant.state)
        grant.state, grant.sub = "approved", body.login_code
        return {"state": grant.state}

    @test.post("/deny")
    def deny(body: Approval) -> dict[str, str]:
        grant = _grant(body.user_code)
        grant.state = "denied"
        return {"state": grant.state}

    @test.put("/fault")
    def fault(body: dict[str, str]) -> dict[str, str]:
        value = body.get("id_token", "")
        if value not in TOKEN_FAULTS:
            raise SandboxError(422, "invalid_request", f"id_token fault: one of {TOKEN_FAULTS}")
        provider.fault = value
        return {"id_token": value}

    app.include_router(idp)
    app.include_router(api)
    app.include_router(test)


__all__ = ["CLIENT_ID", "DEVICE_GRANT", "STAFF_ACCOUNTS", "STAFF_VNEID", "mount", "time"]
