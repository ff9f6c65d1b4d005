"""Door 1 (VNeID app scans the kiosk's QR): the device grant against the sandbox's identity provider, and the
refusals: expired and replayed QR, a token with a wrong signature, issuer, audience or nonce, the phone denying."""
from __future__ import annotations

import httpx
import pytest

from kiosk.portal.oidc import IdentityRejected, VneidQrLogin, issuer_for, login_with_id_token
from portal_fixtures import client, sandbox, sandbox_server  # noqa: F401

LEVEL2 = "VNEID-TEST-0001"


def phone(sandbox, action: str, user_code: str, login_code: str = LEVEL2) -> httpx.Response:
    return httpx.post(f"{sandbox.url}/api/v1/sandbox/oidc/{action}",
                      json={"user_code": user_code, "login_code": login_code}, timeout=5)


def set_token_fault(sandbox, fault: str) -> None:
    httpx.put(f"{sandbox.url}/api/v1/sandbox/oidc/fault", json={"id_token": fault}, timeout=5).raise_for_status()


@pytest.fixture
def idp(sandbox):  # noqa: F811
    set_token_fault(sandbox, "")
    q = VneidQrLogin(issuer_for(sandbox.url))
    yield q
    q.close()
    set_token_fault(sandbox, "")


def test_discovery_and_jwks(idp, sandbox):  # noqa: F811
    meta = idp.metadata()
    assert meta["issuer"] == issuer_for(sandbox.url)
    assert "urn:ietf:params:oauth:grant-type:device_code" in meta["grant_types_supported"]
    assert len(idp.keys().keys) == 1


def test_approved_qr_logs_in_at_the_portal(idp, sandbox, client):  # noqa: F811
    qr = idp.start()
    assert qr.qr_text.startswith(issuer_for(sandbox.url)) and qr.user_code in qr.qr_text
    assert idp.poll(qr) is None  # waiting
    assert phone(sandbox, "approve", qr.user_code).status_code == 200
    approved = idp.poll(qr)
    assert approved.claims["sub"] == LEVEL2 and approved.claims["nonce"] == qr.nonce
    login = login_with_id_token(client, approved.id_token)
    assert login.citizen.id_number == "001099012345"


def test_replayed_qr_is_refused(idp, sandbox):  # noqa: F811
    qr = idp.start()
    phone(sandbox, "approve", qr.user_code)
    assert idp.poll(qr) is not None
    with pytest.raises(IdentityRejected) as e:
        idp.poll(qr)
    assert e.value.code == "oidc_replayed"


def test_phone_denies(idp, sandbox):  # noqa: F811
    qr = idp.start()
    phone(sandbox, "deny", qr.user_code)
    with pytest.raises(IdentityRejected) as e:
        idp.poll(qr)
    assert e.value.code == "oidc_denied"


def test_expired_qr(idp, sandbox):  # noqa: F811
    qr = idp.start()
    sandbox.store.advance_clock(61)
    assert phone(sandbox, "approve", qr.user_code).status_code == 409  # too late to approve
    with pytest.raises(IdentityRejected) as e:
        idp.poll(qr)
    assert e.value.code == "oidc_expired"


@pytest.mark.parametrize("fault, code", [("wrong_signature", "id_token_signature"),
                                         ("wrong_issuer", "id_token_issuer"),
                                         ("wrong_audience", "id_token_audience"),
                                         ("wrong_nonce", "id_token_nonce"),
                                         ("expired", "id_token_expired")])
def test_bad_id_token_is_refused(idp, sandbox, client, fault, code):  # noqa: F811
    qr = idp.start()
    phone(sandbox, "approve", qr.user_code)
    set_token_fault(sandbox, fault)
    with pytest.raises(IdentityRejected) as e:
        idp.poll(qr)
    assert e.value.code == code


def test_portal_refuses_a_forged_token(client):  # noqa: F811
    from kiosk.portal.client import PortalRejected
    with pytest.raises(PortalRejected) as e:
        login_with_id_token(client, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJWTkVJRC1URVNULTAwMDEifQ.")
    assert e.value.code == "id_token_invalid"
