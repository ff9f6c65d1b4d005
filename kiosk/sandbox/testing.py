"""The sandbox portal's test-only endpoints (`/api/v1/sandbox/...`), in one small client: what stands in for
the citizen's phone (the one-time code in the text message), the faults a demo or test switches, and the
dossiers the sandbox holds. Used by the tests, `kiosk simulate` and the demo's "Mô phỏng" buttons; a real
portal has none of these endpoints, so every call fails there with `SandboxUnavailable`."""
from __future__ import annotations

from typing import Any

import httpx

from kiosk.errors import KioskError

PREFIX = "/api/v1/sandbox"


class SandboxUnavailable(KioskError):
    """Not a sandbox portal, or it did not answer."""

    code = "sandbox_unavailable"


class SandboxTestClient:
    """`SandboxTestClient("http://127.0.0.1:8765").otp_code(otp_id)`; explicit timeouts, loopback only."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # plain HTTP (the loopback sandbox) needs no TLS context: httpx builds one from certifi's bundle for every
        # call otherwise (~20 ms of CPU each, and the tests poll for codes and dossiers)
        self._verify = not self.base_url.startswith("http://")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = httpx.request(method, f"{self.base_url}{PREFIX}{path}", timeout=self.timeout,
                                     verify=self._verify, **kwargs)
            response.raise_for_status()
            return response.json() if response.content else None
        except (httpx.HTTPError, ValueError) as e:
            raise SandboxUnavailable(f"{method} {PREFIX}{path}: {type(e).__name__}") from None

    def otp_code(self, otp_id: str) -> str:
        """The code 'sent to the citizen's phone'."""
        return str(self._call("GET", f"/otp/{otp_id}")["code"])

    def approve_login(self, user_code: str, login_code: str = "VNEID-TEST-0001") -> None:
        """The citizen's VNeID app scans the kiosk's login QR (`user_code`) and approves it."""
        self._call("POST", "/oidc/approve", json={"user_code": user_code[:32], "login_code": login_code[:64]})

    def deny_login(self, user_code: str) -> None:
        """... or declines it on the phone."""
        self._call("POST", "/oidc/deny", json={"user_code": user_code[:32], "login_code": ""})

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Switch the sandbox's injected faults (see kiosk.sandbox.faults), e.g. {"fail_rate": 1, "modes": ["500"]}."""
        self._call("PUT", "/faults", json=faults)

    def dossiers(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/dossiers"))
