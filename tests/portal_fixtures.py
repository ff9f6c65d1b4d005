"""Shared fixtures for the portal client and sandbox tests: a real sandbox on a loopback port, a client
pointed at it, and helpers that walk a citizen through login and one-time-code confirmation."""
from __future__ import annotations

import datetime as dt
import hashlib
import socket
from pathlib import Path
from collections.abc import Iterator

import httpx
import pytest

from kiosk.sandbox.testing import SandboxTestClient
from kiosk.portal.models import DocumentRef, DossierSubmission
from kiosk.portal.client import PortalClient
from kiosk.sandbox.server import SandboxHandle, start_sandbox

KIOSK_ID = "KIOSK-TEST-01"


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """One running sandbox per test module (starting one costs more than most tests)."""
    with start_sandbox(tmp_path_factory.mktemp("sandbox") / "portal.sqlite3") as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, tmp_path: Path) -> SandboxHandle:
    """The module's sandbox, emptied for this test: a fresh database and no faults."""
    sandbox_server.reset(tmp_path / "portal.sqlite3")
    return sandbox_server


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[PortalClient]:
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=1, read_timeout=2, upload_timeout=5) as c:
        yield c


def sandbox_get(sandbox: SandboxHandle, path: str) -> httpx.Response:
    """GET from the sandbox with a plain client (no TLS context: it is loopback HTTP)."""
    return httpx.get(sandbox.url + path, timeout=5, verify=False)


def otp_code(sandbox: SandboxHandle, otp_id: str) -> str:
    """The code 'sent to the citizen's phone', read over the sandbox's test-only endpoint."""
    return SandboxTestClient(sandbox.url).otp_code(otp_id)


def confirm(client: PortalClient, sandbox: SandboxHandle) -> str:
    """Request and verify a one-time code as the citizen would; returns the confirmation token."""
    challenge = client.request_otp()
    return client.verify_otp(challenge.otp_id, otp_code(sandbox, challenge.otp_id)).confirmation_token


def portal_dossiers(sandbox: SandboxHandle) -> list[dict]:
    return SandboxTestClient(sandbox.url).dossiers()


def fake_pdf(label: str, pages: int = 1) -> bytes:
    """Distinct small PDF-shaped bytes (the portal checks hash and size, not PDF structure)."""
    body = "".join(f"%page {i + 1} of {label}\n" for i in range(pages))
    return f"%PDF-1.7\n{body}%%EOF\n".encode()


def doc_ref(component: str, data: bytes, pages: int) -> DocumentRef:
    return DocumentRef(component=component, name=f"{component}.pdf", sha256=hashlib.sha256(data).hexdigest(),
                       size=len(data), pages=pages)


def submission(token: str, documents: list[DocumentRef], local_reference: str = "KIOSK-TEST-01-000001",
               procedure_code: str = "1.001193") -> DossierSubmission:
    return DossierSubmission(
        procedure_code=procedure_code, form={"ho_ten_tre": "Nguyễn Thị Mai", "noi_sinh": "Hà Nội"},
        documents=documents, kiosk_id=KIOSK_ID, local_reference=local_reference,
        confirmed_at=dt.datetime.now(dt.UTC), confirmation_token=token,
        appointment_date=dt.date(2026, 11, 24))


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
