"""The sandbox portal itself: its contract (OpenAPI, ErrorBody), storage, numbering, faults and command."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from kiosk.cli import main as kiosk_main
from kiosk.portal.models import ErrorBody
from kiosk.portal.client import PortalClient, PortalRejected
from kiosk.sandbox.faults import FaultConfig
from kiosk.sandbox.server import start_sandbox
from portal_fixtures import (  # noqa: F401  (fixtures)
    KIOSK_ID,
    client,
    closed_port,
    confirm,
    doc_ref,
    fake_pdf,
    otp_code,
    portal_dossiers,
    sandbox,
    sandbox_get,
    sandbox_server,
    submission,
)

REPO = Path(__file__).resolve().parent.parent


def _http(sandbox) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, timeout=5, verify=False)


def _login(http: httpx.Client, code: str = "VNEID-TEST-0001") -> dict[str, str]:
    token = http.post("/api/v1/auth/vneid", json={"login_code": code, "kiosk_id": KIOSK_ID}).json()["session_token"]
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------------------------------ contract
def test_published_openapi_is_what_the_server_serves(sandbox):
    served = sandbox_get(sandbox, "/openapi.json").json()
    published = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert published == served, \
        "docs/openapi.json is stale: run `.venv/bin/python -m kiosk.sandbox.app > docs/openapi.json`"
    assert not any(p.startswith("/api/v1/sandbox") for p in served["paths"]), "test-only routes are not the contract"


def test_every_refusal_is_an_error_body_with_a_stable_code(sandbox):
    with _http(sandbox) as http:
        auth = _login(http)
        answers = {
            "not_found": http.get("/api/v1/no-such-thing"),
            "method_not_allowed": http.delete("/api/v1/health"),
            "auth_required": http.post("/api/v1/otp", json={}),
            "session_unknown": http.post("/api/v1/otp", json={}, headers={"Authorization": "Bearer nonsense"}),
            "invalid_request": http.post("/api/v1/otp/verify", content=b"{not json", headers=auth),
            "dossier_unknown": http.get("/api/v1/dossiers/H38.01-261123-0042"),
        }
        sandbox.store.advance_clock(31 * 60)
        answers["session_expired"] = http.post("/api/v1/otp", json={}, headers=auth)
    for code, response in answers.items():
        assert 400 <= response.status_code < 500, code
        assert ErrorBody.model_validate_json(response.content).error == code


def test_login_code_is_accepted_as_a_usb_scanner_types_it(sandbox):
    with _http(sandbox) as http:
        response = http.post("/api/v1/auth/vneid", json={"login_code": " VNEID-TEST-0001\r\n", "kiosk_id": KIOSK_ID})
    assert response.status_code == 200 and response.json()["citizen"]["id_number"] == "001099012345"


def test_invalid_request_does_not_echo_personal_data(sandbox):
    with _http(sandbox) as http:
        response = http.post("/api/v1/auth/vneid", json={"login_code": "001099012345|Nguyễn Văn An", "kiosk_id": 7})
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    assert "kiosk_id" in response.json()["detail"]
    assert "001099012345" not in response.text and "Nguy" not in response.text


# ------------------------------------------------------------------------------------------ blobs
def test_blobs_are_verified_idempotent_and_kept_as_files_not_rows(sandbox):
    data = fake_pdf("giấy chứng sinh", 3)
    sha = hashlib.sha256(data).hexdigest()
    with _http(sandbox) as http:
        auth = _login(http) | {"Content-Type": "application/pdf"}
        wrong = http.put(f"/api/v1/blobs/{'0' * 64}", content=data, headers=auth)
        assert (wrong.status_code, wrong.json()["error"]) == (400, "hash_mismatch")
        assert http.head(f"/api/v1/blobs/{sha}", headers=auth).status_code == 404
        assert http.get(f"/api/v1/blobs/{sha}/state", headers=auth).json()["present"] is False
        first = http.put(f"/api/v1/blobs/{sha}", content=data, headers=auth)
        second = http.put(f"/api/v1/blobs/{sha}", content=data, headers=auth)
        assert first.status_code == second.status_code == 200 and first.json() == second.json()
        assert first.json() == {"sha256": sha, "present": True, "size": len(data)}
        assert http.head(f"/api/v1/blobs/{sha}", headers=auth).status_code == 200
    stored = [p for p in sandbox.store.blob_dir.rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [data]  # one file, the exact bytes, no half uploads left
    db_bytes = b"".join(p.read_bytes() for p in sandbox.store.db_path.parent.glob("portal.sqlite3*") if p.is_file())
    assert data not in db_bytes


def test_uploads_need_a_login(sandbox):
    with _http(sandbox) as http:
        response = http.put(f"/api/v1/blobs/{'a' * 64}", content=b"%PDF", headers={"Content-Type": "application/pdf"})
    assert (response.status_code, response.json()["error"]) == (401, "auth_required")


# ------------------------------------------------------------------------------------------ dossiers
def test_submission_needs_an_idempotency_key_and_a_key_names_one_dossier(client, sandbox):
    client.login("VNEID-TEST-0001")
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    sub = submission(confirm(client, sandbox), [doc_ref("to_khai", data, 1)])
    with _http(sandbox) as http:
        no_key = http.post("/api/v1/dossiers", content=sub.model_dump_json(),
                           headers=_login(http) | {"Content-Type": "application/json"})
    assert (no_key.status_code, no_key.json()["error"]) == (422, "invalid_request")
    assert "Idempotency-Key" in no_key.json()["detail"]
    client.submit(sub, "idem-key-one-dossier")
    other = sub.model_copy(update={"local_reference": "KIOSK-TEST-01-000002"})
    with pytest.raises(PortalRejected) as err:
        client.submit(other, "idem-key-one-dossier")
    assert err.value.code == "idempotency_conflict"
    assert len(portal_dossiers(sandbox)) == 1


def test_a_confirmation_is_spent_by_one_dossier(client, sandbox):
    client.login("VNEID-TEST-0001")
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    token = confirm(client, sandbox)
    client.submit(submission(token, [doc_ref("to_khai", data, 1)], "KIOSK-TEST-01-000001"), "idem-spent-0001")
    with pytest.raises(PortalRejected) as err:
        client.submit(submission(token, [doc_ref("to_khai", data, 1)], "KIOSK-TEST-01-000002"), "idem-spent-0002")
    assert err.value.code == "not_confirmed"


def test_concurrent_retries_of_one_dossier_store_it_once(client, sandbox):
    client.login("VNEID-TEST-0002")
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    sub = submission(confirm(client, sandbox), [doc_ref("to_khai", data, 1)])
    with ThreadPoolExecutor(max_workers=6) as pool:
        receipts = list(pool.map(lambda _: client.submit(sub, "idem-concurrent-1"), range(6)))
    assert len({r.dossier_code for r in receipts}) == 1
    assert sum(not r.duplicate for r in receipts) == 1
    assert len(portal_dossiers(sandbox)) == 1


def test_numbers_follow_the_vietnamese_day_and_names_come_from_the_catalogue(tmp_path):
    catalog = tmp_path / "procedures.json"
    catalog.write_text(json.dumps({"procedures": [{"code": "1.001193", "name": "Đăng ký khai sinh"}]},
                                  ensure_ascii=False), encoding="utf-8")
    late_evening = dt.datetime(2026, 11, 23, 16, 59, tzinfo=dt.UTC)  # 23:59 in Hà Nội
    with start_sandbox(tmp_path / "p.sqlite3", catalog_path=catalog, clock=lambda: late_evening) as portal, \
            PortalClient(portal.url, kiosk_id=KIOSK_ID) as client:
        assert client.catalog() == [{"code": "1.001193", "name": "Đăng ký khai sinh"}]
        client.login("VNEID-TEST-0001")
        data = fake_pdf("tờ khai")
        client.upload_blob(data)
        codes, tickets = [], []
        for i in range(3):
            if i == 2:
                portal.store.advance_clock(120)  # 00:01 the next day in Hà Nội, still 23 Nov in UTC
            sub = submission(confirm(client, portal), [doc_ref("to_khai", data, 1)], f"KIOSK-TEST-01-00000{i}")
            codes.append(client.submit(sub, f"idem-day-000{i}").dossier_code)
            tickets.append(client.queue_ticket("1.001193"))
        assert client.dossier(codes[0]).procedure_name == "Đăng ký khai sinh"
    assert codes == ["000.20.31.H38-261123-0001", "000.20.31.H38-261123-0002", "000.20.31.H38-261124-0001"]
    assert [t.number for t in tickets] == ["A001", "A002", "A001"]
    assert [t.waiting for t in tickets[:2]] == [0, 1]


def test_catalogue_is_empty_without_a_file(tmp_path):
    with start_sandbox(tmp_path / "p.sqlite3", catalog_path=tmp_path / "absent.json") as portal, \
            PortalClient(portal.url, kiosk_id=KIOSK_ID) as client:
        assert client.catalog() == []


def test_ratings_are_recorded(client, sandbox):
    client.rate(5, comment="Máy dễ dùng, cảm ơn!")
    client.rate(2)
    assert [(r["level"], r["comment"]) for r in sandbox.store.ratings()] == [(5, "Máy dễ dùng, cảm ơn!"), (2, "")]


def test_state_survives_a_restart(tmp_path):
    db = tmp_path / "portal.sqlite3"
    data = fake_pdf("tờ khai")
    with start_sandbox(db) as portal, PortalClient(portal.url, kiosk_id=KIOSK_ID) as client:
        client.login("VNEID-TEST-0001")
        client.upload_blob(data)
        code = client.submit(submission(confirm(client, portal), [doc_ref("to_khai", data, 1)]),
                             "idem-restart-01").dossier_code
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with start_sandbox(db) as portal, PortalClient(portal.url, kiosk_id=KIOSK_ID) as client:
        assert client.dossier(code).documents == 1
        client.login("VNEID-TEST-0002")
        assert client.blob_state(hashlib.sha256(data).hexdigest()).present


# ------------------------------------------------------------------------------------------ logs
def test_otp_is_logged_as_test_data_and_identity_never_is(client, sandbox, caplog):
    with caplog.at_level(logging.INFO, logger="kiosk.sandbox"):
        login = client.login("VNEID-TEST-0002")
        challenge = client.request_otp()
    text = caplog.text
    assert f"sandbox OTP for otp_id {challenge.otp_id}: {otp_code(sandbox, challenge.otp_id)}" in text
    for personal in (login.citizen.id_number, login.citizen.full_name, login.citizen.address.split(",")[0]):
        assert personal not in text


# ------------------------------------------------------------------------------------------ faults
def test_faults_spare_the_test_only_endpoints_and_the_contract(sandbox):
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=("500",)))
    with _http(sandbox) as http:
        assert http.get("/api/v1/health").status_code == 500
        assert http.get("/api/v1/sandbox/dossiers").status_code == 200
        assert http.get("/openapi.json").status_code == 200


def test_faults_can_target_paths_and_be_switched_over_http(sandbox):
    with _http(sandbox) as http:
        assert http.put("/api/v1/sandbox/faults", json={"modes": ["nonsense"]}).status_code == 422
        assert http.put("/api/v1/sandbox/faults",
                        json={"fail_rate": 1.0, "modes": ["429"], "paths": ["/api/v1/catalog"]}).status_code == 200
        assert http.get("/api/v1/health").status_code == 200
        limited = http.get("/api/v1/catalog")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"


def test_fail_rate_is_a_share_and_reproducible_with_a_seed(sandbox):
    outcomes = []
    for _ in range(2):
        sandbox.set_faults(FaultConfig(fail_rate=0.5, seed=7))
        with _http(sandbox) as http:
            outcomes.append([http.get("/api/v1/health").status_code for _ in range(30)])
    assert outcomes[0] == outcomes[1]
    assert 5 <= outcomes[0].count(500) <= 25 and outcomes[0].count(200) + outcomes[0].count(500) == 30


def test_latency_is_added_to_api_calls_only(sandbox):
    sandbox.set_faults(FaultConfig(latency_ms=250))
    with _http(sandbox) as http:
        start = time.perf_counter()
        http.get("/api/v1/health")
        assert time.perf_counter() - start >= 0.25
        start = time.perf_counter()
        http.get("/api/v1/sandbox/dossiers")
        assert time.perf_counter() - start < 0.25


# ------------------------------------------------------------------------------------------ command
def test_kiosk_sandbox_command_serves_with_faults(tmp_path):
    port = closed_port()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "sandbox", "--port", str(port), "--db",
                             str(tmp_path / "cli.sqlite3"), "--fail-rate", "1", "--fault", "500"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                dossiers = httpx.get(url + "/api/v1/sandbox/dossiers", timeout=1, verify=False)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "kiosk sandbox did not start"
                time.sleep(0.1)
        assert dossiers.json() == []
        assert httpx.get(url + "/api/v1/health", timeout=2, verify=False).status_code == 500
        assert (tmp_path / "cli.sqlite3").exists()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # reaps the process and closes its pipe


def test_kiosk_sandbox_refuses_an_unknown_fault(tmp_path, capsys):
    assert kiosk_main(["sandbox", "--db", str(tmp_path / "x.sqlite3"), "--fault", "explode"]) == 2
    assert "explode" in capsys.readouterr().err
