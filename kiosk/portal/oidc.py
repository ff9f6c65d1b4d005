"""VNeID login by a QR the kiosk shows (OpenID Connect), and the assisted-identity calls, on the kiosk side.

Grant: **OAuth 2.0 Device Authorization Grant (RFC 8628)**, not authorization code + PKCE. Why:
* the kiosk has no browser and no redirect URI a phone could come back to; the code flow needs a user agent
  that follows the redirect to the kiosk (a local web server on a kiosk reachable from citizens' phones is
  exactly what we do not want), while RFC 8628 is made for "input-constrained devices": the kiosk asks for a
  device_code + user_code, shows ``verification_uri_complete`` as a QR, and polls the token endpoint;
* the phone (VNeID app) does all the user interaction: approve or deny; the kiosk only ever receives tokens over
  its own back channel, so nothing travels through the citizen's phone back to the kiosk;
* the QR's ~60 s life (Ministry guidance) is the device code's ``expires_in``: the kiosk renews the QR a few
  seconds before it expires, and states waiting / approved / denied / expired straight from RFC 8628's
  ``authorization_pending`` / success / ``access_denied`` / ``expired_token``.
Device-grant responses carry no ``nonce`` by the RFC; the kiosk sends one with the device authorization request
(an OpenID extension the sandbox honours) and refuses an ID token that does not echo it, so a token minted for
another QR (replay) is never accepted.

HTTP to the identity provider goes through Authlib's httpx OAuth2 client; the ID token is checked with joserfc
(Authlib's JOSE library): signature against the provider's JWKS (RS256 only), ``iss``, ``aud`` (our client id),
``nonce``, ``exp``/``iat``. Anything else is refused with `IdentityRejected` (a stable code the messages map).
No token, claim or personal datum is logged.
"""
from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from typing import Any
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from authlib.integrations.base_client.errors import OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kiosk.portal.client import PortalClient, PortalError, PortalTimeout, PortalUnreachable
from kiosk.portal.identity import (
    AssistedLoginRequest,
    DossierStaffView,
    IdentitySource,
    OidcLoginRequest,
    StaffLoginRequest,
    StaffLoginResponse,
    StaffVneidLoginRequest,
)
from kiosk.portal.models import LoginResponse

log = logging.getLogger(__name__)

CLIENT_ID = "dvc-kiosk"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RENEW_BEFORE_SECONDS = 5.0  # a new QR this long before the old one expires
LEEWAY_SECONDS = 5


class IdentityRejected(PortalError):
    """The identity provider or the token was refused. `code`: oidc_denied, oidc_expired, oidc_replayed,
    id_token_signature, id_token_issuer, id_token_audience, id_token_nonce, id_token_expired, id_token_invalid,
    oidc_unavailable."""


@dataclasses.dataclass(frozen=True)
class QrLogin:
    """One QR on screen: what the phone scans (`qr_text`) and what the kiosk polls with."""

    device_code: str
    user_code: str
    qr_text: str
    nonce: str
    expires_at: float  # monotonic
    interval: float

    def __repr__(self) -> str:
        return f"QrLogin(<redacted>, expires_at={self.expires_at:.0f})"

    def renew_due(self, now: float) -> bool:
        return now >= self.expires_at - RENEW_BEFORE_SECONDS


@dataclasses.dataclass(frozen=True)
class Approved:
    id_token: str
    claims: dict[str, Any]

    def __repr__(self) -> str:
        return "Approved(<redacted>)"


def issuer_for(portal_url: str) -> str:
    """The sandbox (and, by our contract, the portal) serves its IdP at <origin>/oidc."""
    parts = urlsplit(portal_url)
    return f"{parts.scheme}://{parts.netloc}/oidc"


class VneidQrLogin:
    """The kiosk side of the device grant. Thread-safe enough for one session's jobs (one call at a time)."""

    def __init__(self, issuer: str, *, client_id: str = CLIENT_ID, timeout: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 verify: bool | str = True) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.clock, self.wall = clock, wall
        self._http = OAuth2Client(client_id=client_id, token_endpoint_auth_method="none", timeout=timeout,
                                  verify=verify if not self.issuer.startswith("http://") else False)
        self._meta: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ discovery
    def _get(self, url: str) -> dict[str, Any]:
        try:
            r = self._http.request("GET", url, withhold_token=True)
        except httpx.TimeoutException:
            raise PortalTimeout("identity provider timed out", code="timeout") from None
        except httpx.HTTPError:
            raise PortalUnreachable("identity provider unreachable", code="unreachable") from None
        if r.status_code != 200:
            raise IdentityRejected("identity provider answered an error", code="oidc_unavailable", status=r.status_code)
        return r.json()

    def metadata(self) -> dict[str, Any]:
        if self._meta is None:
            meta = self._get(self.issuer + "/.well-known/openid-configuration"
                             if not self.issuer.endswith("/oidc") else
                             self.issuer.rsplit("/oidc", 1)[0] + "/.well-known/openid-configuration")
            if meta.get("issuer") != self.issuer:
                raise IdentityRejected("discovery issuer mismatch", code="id_token_issuer")
            self._meta = meta
        return self._meta

    def keys(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            jwks: Any = self._get(self.metadata()["jwks_uri"])  # JSON from the provider; joserfc checks its shape
            self._keys = KeySet.import_key_set(jwks)
        return self._keys

    # ------------------------------------------------------------------ the grant
    def start(self) -> QrLogin:
        """A new device code and the QR to show."""
        nonce = secrets.token_urlsafe(16)
        try:
            r = self._http.request("POST", self.metadata()["device_authorization_endpoint"],
                                data={"client_id": self.client_id, "scope": "openid profile", "nonce": nonce},
                                withhold_token=True)
        except httpx.TimeoutException:
            raise PortalTimeout("identity provider timed out", code="timeout") from None
        except httpx.HTTPError:
            raise PortalUnreachable("identity provider unreachable", code="unreachable") from None
        if r.status_code != 200:
            raise IdentityRejected("device authorization refused", code="oidc_unavailable", status=r.status_code)
        body = r.json()
        now = self.clock()
        return QrLogin(device_code=body["device_code"], user_code=body["user_code"],
                       qr_text=body.get("verification_uri_complete") or body["verification_uri"], nonce=nonce,
                       expires_at=now + float(body.get("expires_in", 60)), interval=float(body.get("interval", 5)))

    def poll(self, qr: QrLogin) -> Approved | None:
        """One token request: None while the citizen has not answered; `Approved` with verified claims; or
        IdentityRejected (denied, expired, replayed, bad token)."""
        try:
            token = self._http.fetch_token(self.metadata()["token_endpoint"], grant_type=DEVICE_GRANT,
                                           device_code=qr.device_code, client_id=self.client_id)
        except OAuthError as e:
            if e.error in ("authorization_pending", "slow_down"):
                return None
            code = {"access_denied": "oidc_denied", "expired_token": "oidc_expired",
                    "invalid_grant": "oidc_replayed"}.get(e.error, "oidc_unavailable")
            raise IdentityRejected("token request refused", code=code) from None
        except httpx.TimeoutException:
            raise PortalTimeout("identity provider timed out", code="timeout") from None
        except httpx.HTTPError:
            raise PortalUnreachable("identity provider unreachable", code="unreachable") from None
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise IdentityRejected("no ID token", code="id_token_invalid")
        return Approved(id_token=id_token, claims=self.verify_id_token(id_token, qr.nonce))

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """Signature (JWKS, RS256), issuer, audience, nonce, expiry: each failure has its own code."""
        try:
            try:
                decoded = jwt.decode(id_token, self.keys(), algorithms=["RS256"])
            except JoseError:
                decoded = jwt.decode(id_token, self.keys(refresh=True), algorithms=["RS256"])  # key rotation
        except (JoseError, ValueError):
            raise IdentityRejected("ID token signature invalid", code="id_token_signature") from None
        claims = decoded.claims
        checks: list[tuple[str, str, jwt.ClaimsOption]] = [
                  ("exp", "id_token_expired", {"essential": True}),  # first: the registry checks exp every time
                  ("iss", "id_token_issuer", {"essential": True, "value": self.issuer}),
                  ("aud", "id_token_audience", {"essential": True, "value": self.client_id}),
                  ("nonce", "id_token_nonce", {"essential": True, "value": nonce}),
                  ("sub", "id_token_invalid", {"essential": True})]
        for claim, code, rule in checks:
            try:
                jwt.JWTClaimsRegistry(now=int(self.wall()), leeway=LEEWAY_SECONDS, **{claim: rule}).validate(claims)
            except JoseError:
                raise IdentityRejected(f"ID token {claim} refused", code=code) from None
        if claims.get("iat", 0) > self.wall() + LEEWAY_SECONDS:
            raise IdentityRejected("ID token issued in the future", code="id_token_expired")
        return claims


# ------------------------------------------------------------------ portal identity calls
def login_with_id_token(portal: PortalClient, id_token: str) -> LoginResponse:
    """Open the portal session from a verified ID token (POST /api/v1/auth/oidc). The caller adopts it."""
    body = OidcLoginRequest(id_token=id_token, kiosk_id=portal.kiosk_id)
    return portal._call("POST", "/auth/oidc", LoginResponse, body=body, auth=False, interactive=True)


def staff_login(portal: PortalClient, staff_id: str, pin: str) -> StaffLoginResponse:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8) or not 1 <= len(staff_id) <= 40:
        raise IdentityRejected("staff id or PIN malformed", code="staff_pin_wrong")
    body = StaffLoginRequest(staff_id=staff_id.strip().upper(), pin=pin, kiosk_id=portal.kiosk_id)
    return portal._call("POST", "/staff/login", StaffLoginResponse, body=body, auth=False, interactive=True)


def staff_login_vneid(portal: PortalClient, login_code: str) -> StaffLoginResponse:
    """A clerk signs in with their own VNeID: the login code their app shows (POST /api/v1/staff/login/vneid)."""
    body = StaffVneidLoginRequest(login_code=login_code[:512], kiosk_id=portal.kiosk_id)
    return portal._call("POST", "/staff/login/vneid", StaffLoginResponse, body=body, auth=False, interactive=True)


def assisted_login(portal: PortalClient, staff_token: str, *, source: IdentitySource, id_number: str,
                   full_name: str, birth_date, sex: str = "", address: str = "",
                   sod_sha256: str | None = None) -> LoginResponse:
    """A session on the citizen's behalf, opened by the signed-in clerk (POST /api/v1/auth/assisted)."""
    body = AssistedLoginRequest(identity_source=source, id_number=id_number, full_name=full_name,
                                birth_date=birth_date, sex=sex, address=address[:300], sod_sha256=sod_sha256,
                                kiosk_id=portal.kiosk_id)
    return portal._call("POST", "/auth/assisted", LoginResponse, body=body, auth=False, interactive=True,
                        headers={"Authorization": f"Bearer {staff_token}"})


def staff_dossier(portal: PortalClient, staff_token: str, code: str) -> DossierStaffView:
    return portal._call("GET", f"/staff/dossiers/{code}", DossierStaffView, auth=False,
                        headers={"Authorization": f"Bearer {staff_token}"})
