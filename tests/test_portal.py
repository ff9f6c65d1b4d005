"""The portal client against the sandbox portal over real HTTP on loopback, plus its failure mapping."""
from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk.cli import main as kiosk_main
from pydantic import BaseModel

from kiosk.portal.models import DossierStatus, RatingLevel, VneidLevel
from kiosk.messages import for_exception
from kiosk.portal.client import (
    OtpCodeInvalid,
    PortalBadResponse,
    PortalClient,
    PortalError,
    PortalRateLimited,
    PortalRejected,
    PortalServerError,
    PortalTimeout,
    PortalUnreachable,
    RetryPolicy,
    parse_receipt_qr,
)
from kiosk.sandbox.faults import FaultConfig
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
    sandbox_server,
    submission,
)

DOSSIER_CODE = re.compile(r"^000\.20\.31\.H38-\d{6}-\d{4}$")  # Circular 01/2018/TT-VPCP shape


class CountingTransport(httpx.HTTPTransport):
    """A real transport that remembers which requests went out."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return super().handle_request(request)


# ------------------------------------------------------------------------------------------ happy path
def test_whole_session_reaches_the_portal_exactly_as_confirmed(sandbox):
    transport = CountingTransport()
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, transport=transport) as client:
        assert client.health().status == "ok"
        login = client.login("VNEID-TEST-0001\r\n")  # a USB scanner appends CR/LF
        assert login.citizen.full_name == unicodedata.normalize("NFC", "Nguyễn Văn An")
        assert login.citizen.level is VneidLevel.LEVEL_2
        challenge = client.request_otp()
        code = otp_code(sandbox, challenge.otp_id)
        assert re.fullmatch(r"\d{6}", code) and challenge.length == 6 and challenge.max_attempts == 3
        token = client.verify_otp(challenge.otp_id, code).confirmation_token

        birth, tokhai = fake_pdf("giấy chứng sinh", 2), fake_pdf("tờ khai", 1)
        for data in (birth, tokhai, birth):  # the third is already there: no second upload
            state = client.upload_blob(data)
            assert state.present and state.size == len(data)
        assert sum(1 for method, _ in transport.sent if method == "PUT") == 2

        docs = [doc_ref("giay_chung_sinh", birth, 2), doc_ref("to_khai", tokhai, 1)]
        receipt = client.submit(submission(token, docs), idempotency_key="idem-0001-abcdef")
        assert DOSSIER_CODE.match(receipt.dossier_code)
        assert receipt.status is DossierStatus.RECEIVED and not receipt.duplicate

        view = client.dossier(receipt.dossier_code)
        assert (view.documents, view.pages, view.procedure_code) == (2, 3, "1.001193")
        assert client.dossier_by_reference("KIOSK-TEST-01-000001").dossier_code == receipt.dossier_code

    [stored] = portal_dossiers(sandbox)
    assert stored["dossier_code"] == receipt.dossier_code
    assert [(d["sha256"], d["size"], d["pages"]) for d in stored["documents"]] == [
        (hashlib.sha256(birth).hexdigest(), len(birth), 2), (hashlib.sha256(tokhai).hexdigest(), len(tokhai), 1)]


def test_resubmitting_with_the_same_key_returns_the_same_code_and_stores_once(client, sandbox):
    client.login("VNEID-TEST-0002")
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    sub = submission(confirm(client, sandbox), [doc_ref("to_khai", data, 1)])
    first = client.submit(sub, "idem-same-key-01")
    again = client.submit(sub, "idem-same-key-01")
    assert again.dossier_code == first.dossier_code and again.duplicate and not first.duplicate
    assert len(portal_dossiers(sandbox)) == 1


def test_a_lost_answer_is_recovered_by_retrying_with_the_same_key(client, sandbox):
    client.login("VNEID-TEST-0001")
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    sub = submission(confirm(client, sandbox), [doc_ref("to_khai", data, 1)])
    sandbox.set_faults(FaultConfig(fail_first=1, modes=("lose_response",), paths=("/api/v1/dossiers",)))
    with pytest.raises(PortalUnreachable):
        client.submit(sub, "idem-lost-answer")
    committed = portal_dossiers(sandbox)
    assert len(committed) == 1  # the portal did store it before the connection dropped
    retry = client.submit(sub, "idem-lost-answer")
    assert retry.duplicate and retry.dossier_code == committed[0]["dossier_code"]
    assert len(portal_dossiers(sandbox)) == 1


def test_a_lost_otp_confirmation_can_be_verified_again(client, sandbox):
    client.login("VNEID-TEST-0001")
    challenge = client.request_otp()
    code = otp_code(sandbox, challenge.otp_id)
    sandbox.set_faults(FaultConfig(fail_first=1, modes=("lose_response",), paths=("/api/v1/otp/verify",)))
    with pytest.raises(PortalUnreachable):
        client.verify_otp(challenge.otp_id, code)
    assert client.verify_otp(challenge.otp_id, code).confirmation_token  # not counted as a wrong attempt


def test_outbox_delivers_after_the_citizen_left_under_their_confirmation(client, sandbox):
    client.login("VNEID-TEST-0001")
    token = confirm(client, sandbox)
    client.logout()
    sandbox.store.advance_clock(31 * 60)  # the login session itself has expired by now
    data = fake_pdf("tờ khai", 2)
    sha = hashlib.sha256(data).hexdigest()
    sub = submission(token, [doc_ref("to_khai", data, 2)])
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID) as outbox_client:  # never logged in
        with pytest.raises(PortalRejected) as err:
            outbox_client.upload_blob(data)
        assert err.value.code == "auth_required"
        with pytest.raises(PortalRejected) as err:
            outbox_client.upload_blob(data, confirmation_token="forged-confirmation-token")
        assert err.value.code == "not_confirmed"
        assert not outbox_client.blob_state(sha, confirmation_token=token).present
        outbox_client.upload_blob(data, confirmation_token=token)
        receipt = outbox_client.submit(sub, "idem-outbox-0001")
        replay = outbox_client.submit(sub, "idem-outbox-0001")  # the token is spent; the replay still answers
        assert replay.duplicate and replay.dossier_code == receipt.dossier_code
        assert outbox_client.blob_state(sha, confirmation_token=token).present
        sandbox.store.advance_clock(8 * 24 * 3600)  # a week later a confirmation no longer opens the door
        with pytest.raises(PortalRejected) as err:
            outbox_client.blob_state(sha, confirmation_token=token)
        assert err.value.code == "not_confirmed"
    [stored] = portal_dossiers(sandbox)
    assert (stored["dossier_code"], stored["documents"][0]["sha256"]) == (receipt.dossier_code, sha)


# ------------------------------------------------------------------------------------------ refusals
def test_missing_document_is_refused_and_named_then_accepted_once_uploaded(client, sandbox):
    client.login("VNEID-TEST-0001")
    present, absent = fake_pdf("có"), fake_pdf("chưa gửi")
    client.upload_blob(present)
    sub = submission(confirm(client, sandbox), [doc_ref("a", present, 1), doc_ref("b", absent, 1)])
    with pytest.raises(PortalRejected) as err:
        client.submit(sub, "idem-missing-01")
    assert err.value.code == "blob_missing" and err.value.status == 409
    assert hashlib.sha256(absent).hexdigest() in err.value.detail
    assert hashlib.sha256(present).hexdigest() not in err.value.detail
    assert portal_dossiers(sandbox) == []
    client.upload_blob(absent)
    assert DOSSIER_CODE.match(client.submit(sub, "idem-missing-01").dossier_code)


def test_three_wrong_codes_lock_the_challenge_even_for_the_right_code(client, sandbox):
    client.login("VNEID-TEST-0001")
    challenge = client.request_otp()
    right = otp_code(sandbox, challenge.otp_id)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    seen = []
    for _ in range(3):
        with pytest.raises(PortalRejected) as err:
            client.verify_otp(challenge.otp_id, wrong)
        seen.append((err.value.code, err.value.remaining_attempts))
    assert seen == [("otp_wrong", 2), ("otp_wrong", 1), ("otp_locked", 0)]
    with pytest.raises(PortalRejected) as err:
        client.verify_otp(challenge.otp_id, right)
    assert err.value.code == "otp_locked"
    fresh = client.request_otp()  # what the kiosk does next: ask for a new code
    assert client.verify_otp(fresh.otp_id, otp_code(sandbox, fresh.otp_id)).confirmation_token


def test_code_older_than_five_minutes_is_expired(client, sandbox):
    client.login("VNEID-TEST-0001")
    challenge = client.request_otp()
    sandbox.store.advance_clock(5 * 60 + 1)
    with pytest.raises(PortalRejected) as err:
        client.verify_otp(challenge.otp_id, otp_code(sandbox, challenge.otp_id))
    assert err.value.code == "otp_expired"


@pytest.mark.parametrize("code, expected", [("VNEID-TEST-EXPIRED", "login_code_expired"),
                                            ("VNEID-TEST-9999", "login_code_unknown"),
                                            ("   \r\n", "login_code_unknown")])
def test_bad_login_codes_are_refused_with_a_vietnamese_next_step(client, code, expected):
    with pytest.raises(PortalRejected) as err:
        client.login(code)
    assert err.value.code == expected and not client.logged_in
    msg = for_exception(err.value)
    message = f"{msg.title} {msg.text} {msg.next_step}"
    assert "VNeID" in message and message == unicodedata.normalize("NFC", message)


def test_level_one_account_logs_in_but_cannot_submit(client, sandbox):
    login = client.login("VNEID-TEST-0003")
    assert login.citizen.level is VneidLevel.LEVEL_1
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    with pytest.raises(PortalRejected) as err:
        client.submit(submission(confirm(client, sandbox), [doc_ref("to_khai", data, 1)]), "idem-level-one")
    assert err.value.code == "level_insufficient" and err.value.status == 403
    assert "mức 2" in for_exception(err.value).text
    assert portal_dossiers(sandbox) == []


def test_confirmation_from_another_session_is_not_accepted(client, sandbox):
    client.login("VNEID-TEST-0001")
    someone_elses = confirm(client, sandbox)
    client.logout()
    client.login("VNEID-TEST-0002")
    data = fake_pdf("tờ khai")
    client.upload_blob(data)
    with pytest.raises(PortalRejected) as err:
        client.submit(submission(someone_elses, [doc_ref("to_khai", data, 1)]), "idem-other-sess")
    assert err.value.code == "not_confirmed"


def test_calls_after_logout_need_a_new_login(client):
    client.login("VNEID-TEST-0001")
    client.logout()
    with pytest.raises(PortalRejected) as err:
        client.request_otp()
    assert err.value.code == "auth_required" and err.value.status == 401


# ------------------------------------------------------------------------------------------ transport faults
def test_closed_port_is_unreachable():
    with PortalClient(f"http://127.0.0.1:{closed_port()}", kiosk_id=KIOSK_ID, connect_timeout=1) as c:
        with pytest.raises(PortalUnreachable) as err:
            c.health()
    assert err.value.code == "unreachable" and err.value.retryable


def test_hung_portal_times_out(sandbox):
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=("timeout",), hang_seconds=3))
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, read_timeout=0.3) as c:
        with pytest.raises(PortalTimeout):
            c.health()


def test_dripping_portal_hits_the_total_deadline(sandbox):
    # Each chunk comes well within the read timeout; only the whole-answer deadline catches it.
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=("drip",), drip_delay=0.15, drip_chunk=4))
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.2, read_timeout=0.6) as c:
        with pytest.raises(PortalTimeout):
            c.health()


@pytest.mark.parametrize("mode, error", [("500", PortalServerError), ("badjson", PortalBadResponse),
                                         ("reset", PortalUnreachable), ("429", PortalRateLimited)])
def test_faulty_portal_maps_to_one_error_each(client, sandbox, mode, error):
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=(mode,), retry_after=7))
    with pytest.raises(error) as err:
        client.health()
    assert err.value.retryable
    if mode == "429":
        assert err.value.retry_after == 7
    sandbox.set_faults(None)
    assert client.health().status == "ok"


# ------------------------------------------------------------------------------------------ any answer at all
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: (st.lists(inner, max_size=4)
                                    | st.dictionaries(st.text(max_size=12), inner, max_size=5)),
                     max_leaves=12)
_plausible = st.fixed_dictionaries({}, optional={
    "error": st.text(max_size=20), "remaining_attempts": st.integers(-5, 5) | st.text(max_size=3),
    "retry_after": st.floats(allow_nan=False) | st.text(max_size=5), "status": st.sampled_from(["ok", "received", 3]),
    "session_token": st.text(max_size=40), "sha256": st.text("0123456789abcdef", min_size=63, max_size=65),
    "present": st.booleans(), "dossier_code": st.text("ABH0123.-", max_size=20), "procedures": _json})
_bodies = st.one_of(_json.map(lambda v: json.dumps(v).encode()), _plausible.map(lambda v: json.dumps(v).encode()),
                    st.binary(max_size=64))
_calls = {
    "health": lambda c: c.health(),
    "login": lambda c: c.login("VNEID-TEST-0001"),
    "otp": lambda c: c.request_otp(),
    "verify": lambda c: c.verify_otp("otp_12345678", "123456"),
    "blob_state": lambda c: c.blob_state("a" * 64),
    "upload": lambda c: c.upload_blob(b"%PDF-1.7"),
    "dossier": lambda c: c.dossier("H38.01-261123-0001"),
    "ticket": lambda c: c.queue_ticket("1.001193"),
    "rate": lambda c: c.rate(RatingLevel.SATISFIED),
    "catalog": lambda c: c.catalog(),
}


_answer: dict = {}
_fuzz_client = PortalClient("http://portal.invalid", kiosk_id=KIOSK_ID, allow_insecure_http=True,
                            transport=httpx.MockTransport(lambda request: httpx.Response(
                                _answer["status"], content=_answer["body"], headers=_answer["headers"])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=(st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503])
               | st.integers(200, 599)),
       body=_bodies, retry_after=st.none() | st.text(max_size=30), call=st.sampled_from(sorted(_calls)))
def test_any_answer_becomes_a_model_or_a_portal_error(status, body, retry_after, call):
    headers = {"content-type": "application/json"} | ({"retry-after": retry_after} if retry_after else {})
    _answer.update(status=status, body=body,
                   headers={k: v for k, v in headers.items() if v.isascii() and v.isprintable()})
    try:
        result = _calls[call](_fuzz_client)
    except PortalError as e:
        assert isinstance(e.code, str) and e.code
        return
    assert result is None if call == "rate" else isinstance(result, (BaseModel, list))


# ------------------------------------------------------------------------------------------ receipt QR, messages
@pytest.mark.parametrize("text, expected", [
    ("DVCK1|H38.01-261123-0001", "H38.01-261123-0001"),
    ("DVCK1|H38.01-261123-0001\r\n", "H38.01-261123-0001"),
    ("  DVCK1|KIOSK-DEMO-01-000042 ", "KIOSK-DEMO-01-000042"),
    ("DVCK2|H38.01-261123-0001", None),
    ("H38.01-261123-0001", None),
    ("DVCK1|", None),
    ("DVCK1|../../etc/passwd", None),
    ("DVCK1|H38.01 261123", None),
    ("DVCK1|" + "A" * 200, None),
    ("001099012345|123456789|Nguyễn Văn An|01011990|Nam|Hà Nội|15082021", None),
])
def test_receipt_qr_yields_only_a_dossier_code_or_reference(text, expected):
    assert parse_receipt_qr(text) == expected


def test_the_qr_printed_on_receipts_is_read_back():
    from kiosk.domain.receipt import receipt_qr_payload

    for value in ("H38.01-261123-0001", "DEMO-01-261123-A1B2C3"):
        assert parse_receipt_qr(receipt_qr_payload(value) + "\r\n") == value


def test_every_portal_failure_has_a_vietnamese_message_with_a_next_step():
    from kiosk.messages import _PORTAL, for_portal_code

    for code in _PORTAL:
        msg = for_portal_code(code)
        for part in (msg.title, msg.text, msg.next_step):
            assert part and part == unicodedata.normalize("NFC", part), code
    assert "còn 2 lần" in for_exception(PortalRejected(code="otp_wrong", remaining_attempts=2)).text


# ------------------------------------------------------------------------------------------ kiosk status
def _submitted(client, sandbox) -> str:
    client.login("VNEID-TEST-0001")
    data = fake_pdf("tờ khai", 3)
    client.upload_blob(data)
    return client.submit(submission(confirm(client, sandbox), [doc_ref("to_khai", data, 3)]),
                         "idem-status-01").dossier_code


def test_kiosk_status_shows_a_table_and_json(client, sandbox, capsys):
    code = _submitted(client, sandbox)
    assert kiosk_main(["status", code, "--portal", sandbox.url]) == 0
    table = capsys.readouterr().out
    assert code in table and "received — Mới đăng ký" in table and "1.001193" in table
    assert kiosk_main(["status", f"DVCK1|{code}\r\n", "--portal", sandbox.url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["dossier_code"], data["status"], data["pages"], data["documents"]) == (code, "received", 3, 1)
    assert kiosk_main(["status", "DVCK1|KIOSK-TEST-01-000001", "--portal", sandbox.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dossier_code"] == code
    # portal staff take it up: the status follows
    httpx.post(f"{sandbox.url}/api/v1/sandbox/dossiers/{code}/status", json={"status": "processing"}, verify=False)
    assert kiosk_main(["status", code, "--portal", sandbox.url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["status_label"]) == ("processing", "Đang xử lý")


def test_kiosk_status_exit_codes_for_unknown_and_unreachable(sandbox, capsys):
    assert kiosk_main(["status", "H38.01-261123-9999", "--portal", sandbox.url]) == 1
    assert kiosk_main(["status", "DVCK9|nonsense", "--portal", sandbox.url, "--json"]) == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["error"] == "dossier_unknown"
    assert kiosk_main(["status", "H38.01-261123-0001", "--portal", f"http://127.0.0.1:{closed_port()}"]) == 2
    assert "unreachable" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ issue 9: deadlines
def test_dripping_headers_hit_the_total_deadline(sandbox):
    # The status line and headers arrive a few bytes every 0.2 s: every read is quick, so only a deadline that
    # covers the headers stops it. The budget is connect + read timeout = 1.5 s.
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=("drip_headers",), drip_delay=0.2, drip_chunk=8))
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.5, read_timeout=1.0) as c:
        started = time.monotonic()
        with pytest.raises(PortalTimeout):
            c.health()
        elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 1.5 + 0.3, elapsed
    # The sandbox does answer in the end, to a client that waits.
    started = time.monotonic()
    assert httpx.get(sandbox.url + "/api/v1/health", timeout=30).status_code == 200
    assert time.monotonic() - started > 2.0


def test_the_deadline_covers_the_whole_call_with_its_retries(sandbox):
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=("drip_headers",), drip_delay=0.2, drip_chunk=8))
    policy = RetryPolicy(attempts=10, base=0.05, cap=0.1, deadline=2.5)
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.5, read_timeout=1.0, retry=policy) as c:
        started = time.monotonic()
        with pytest.raises(PortalTimeout):
            c.queue_ticket()
        assert time.monotonic() - started < 2.5 + 0.3


# ------------------------------------------------------------------------------------------ issue 9: retries
class ScriptedTransport(httpx.BaseTransport):
    """Answers from a script (one per request; the last repeats) and keeps the requests."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        return httpx.Response(status, json=body, headers=headers)


_TICKET = (200, {"number": "A001", "counter": "Quầy 1", "waiting": 0, "issued_at": "2026-11-23T08:00:00Z"}, {})
_FAST = RetryPolicy(attempts=4, base=0.01, cap=0.02, deadline=5.0)


def _scripted(*answers, policy=_FAST, on_retry=None):
    transport = ScriptedTransport(*answers)
    return PortalClient("http://127.0.0.1:9", kiosk_id=KIOSK_ID, transport=transport, retry=policy,
                        on_retry=on_retry), transport


@pytest.mark.parametrize("fault", [
    (500, {"error": "server_error"}, {}), (503, {"error": "server_error"}, {}), (408, {"error": "timeout"}, {}),
    (429, {"error": "rate_limited"}, {"retry-after": "0"}), httpx.ConnectError("refused"),
    httpx.ReadError("reset"), (200, {"number": 7}, {})])
def test_a_transient_fault_is_retried_under_one_idempotency_key_and_reported(fault):
    seen = []
    c, transport = _scripted(fault, _TICKET, on_retry=lambda attempt, delay, error: seen.append((attempt, error.code)))
    assert c.queue_ticket().number == "A001"
    assert len(transport.requests) == 2 and c.retries == 1 and len(seen) == 1 and seen[0][0] == 1
    keys = {r.headers.get("idempotency-key") for r in transport.requests}
    assert len(keys) == 1 and None not in keys  # the retry is the same call: the portal answers it once


@pytest.mark.parametrize("status, code", [(400, "otp_wrong"), (401, "auth_required"), (403, "level_insufficient"),
                                          (404, "dossier_unknown"), (409, "idempotency_conflict"),
                                          (422, "invalid_request")])
def test_a_refusal_is_not_retried(status, code):
    c, transport = _scripted((status, {"error": code, "remaining_attempts": 2}, {}), _TICKET)
    with pytest.raises(PortalRejected) as err:
        c.queue_ticket()
    assert err.value.code == code and len(transport.requests) == 1 and c.retries == 0


def test_retries_are_bounded_and_back_off_with_jitter():
    waits = []
    policy = RetryPolicy(attempts=4, base=0.05, cap=0.12, deadline=10.0)
    c, transport = _scripted((500, {"error": "server_error"}, {}), policy=policy,
                             on_retry=lambda attempt, delay, error: waits.append(delay))
    with pytest.raises(PortalServerError):
        c.rate(RatingLevel.SATISFIED)
    assert len(transport.requests) == 4 and len(waits) == 3
    assert 0.025 <= waits[0] < 0.075 and 0.05 <= waits[1] < 0.15 and 0.06 <= waits[2] < 0.18  # base*2^n, capped


def test_retry_after_is_honoured_within_the_deadline_and_never_waited_past_it():
    waits = []
    c, transport = _scripted((429, {"error": "rate_limited"}, {"retry-after": "1"}), _TICKET,
                             policy=RetryPolicy(attempts=3, base=0.01, cap=0.01, deadline=5.0),
                             on_retry=lambda attempt, delay, error: waits.append(delay))
    started = time.monotonic()
    assert c.queue_ticket().number == "A001"
    assert waits == [1.0] and time.monotonic() - started >= 1.0
    # A Retry-After beyond what is left of the deadline: give up at once, the citizen is told now.
    c, transport = _scripted((429, {"error": "rate_limited"}, {"retry-after": "30"}), _TICKET,
                             policy=RetryPolicy(attempts=3, base=0.01, cap=0.01, deadline=5.0))
    started = time.monotonic()
    with pytest.raises(PortalRateLimited) as err:
        c.queue_ticket()
    assert err.value.retry_after == 30 and len(transport.requests) == 1 and time.monotonic() - started < 0.5


def test_only_interactive_calls_retry_and_only_with_a_policy():
    c, transport = _scripted((500, {"error": "server_error"}, {}), (200, {"sha256": "a" * 64, "present": False}, {}))
    with pytest.raises(PortalServerError):
        c.blob_state("a" * 64)  # the outbox's calls: the outbox has its own backoff
    assert len(transport.requests) == 1
    c, transport = _scripted((500, {"error": "server_error"}, {}), _TICKET, policy=None)
    with pytest.raises(PortalServerError):
        c.queue_ticket()  # PortalClient(...) without retry= does not retry
    assert len(transport.requests) == 1


def test_from_settings_retries_as_configured():
    from kiosk.appliance import config

    settings = config.load(portal={"url": "http://127.0.0.1:9", "retry_attempts": 6, "retry_base": 0.1,
                                   "retry_cap": 1.0, "call_deadline": 9.0})
    with PortalClient.from_settings(settings) as c:
        assert c.retry == RetryPolicy(attempts=6, base=0.1, cap=1.0, deadline=9.0)


def test_a_login_survives_a_500_and_a_lost_answer_on_the_real_sandbox(sandbox):
    sandbox.set_faults(FaultConfig(fail_first=2, modes=("500", "lose_response"), seed=1,
                                   paths=("/api/v1/auth/vneid", "/api/v1/otp")))
    seen = []
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.5, read_timeout=1.0, retry=_FAST,
                      on_retry=lambda attempt, delay, error: seen.append(error.code)) as c:
        assert c.login("VNEID-TEST-0001").citizen.full_name == "Nguyễn Văn An"
        assert len(seen) == 2


def test_a_retried_one_time_code_request_sends_one_text_message(client, sandbox):
    client.login("VNEID-TEST-0001")
    sandbox.set_faults(FaultConfig(fail_first=1, modes=("lose_response",), paths=("/api/v1/otp",)))
    client.retry = _FAST
    challenge = client.request_otp()  # the portal sent the text, then the answer was lost; the retry replays it
    assert client.retries == 1
    with sandbox.store._lock:
        assert sandbox.store._db.execute("SELECT COUNT(*) FROM otps").fetchone()[0] == 1
    assert client.verify_otp(challenge.otp_id, otp_code(sandbox, challenge.otp_id)).confirmation_token


def test_a_500_on_login_reads_as_one_message_whose_body_does_not_repeat_its_title():
    from kiosk.messages import _PORTAL, for_portal_code

    msg = for_exception(PortalServerError("HTTP 500", status=500))
    assert msg.title == "Cổng dịch vụ công đang gặp sự cố"
    assert msg.title.casefold() not in msg.text.casefold()
    for code in _PORTAL:
        m = for_portal_code(code)
        assert m.title.casefold().rstrip(".") not in m.text.casefold(), code
        assert not m.text.casefold().startswith(m.title.casefold()[:20]), code


def test_reconnecting_text_is_there_for_the_session():
    from kiosk.messages import RECONNECTING

    assert RECONNECTING == "Đang kết nối lại…"


# ------------------------------------------------------------------------------------------ issue 9: one-time codes
@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "۱۲۳۴۵۶", "１２３４５６", "12345６", "12 34", "12a456", "", "1" * 13])
def test_a_one_time_code_of_anything_but_ascii_digits_never_leaves_the_kiosk(code):
    c, transport = _scripted((200, {"confirmation_token": "t" * 32}, {}))
    with pytest.raises(OtpCodeInvalid) as err:
        c.verify_otp("otp_12345678", code)
    assert err.value.code == "otp_invalid" and isinstance(err.value, PortalRejected)
    assert transport.requests == []
    assert for_exception(err.value).kind == "otp_invalid"


def test_the_sandbox_answers_non_ascii_digits_with_422_never_500(client, sandbox):
    client.login("VNEID-TEST-0001")
    challenge = client.request_otp()
    token = client._token
    for code in ("١٢٣٤٥٦", "１２３４５６"):
        r = httpx.post(sandbox.url + "/api/v1/otp/verify", json={"otp_id": challenge.otp_id, "code": code},
                       headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text
    # and the wrong-shaped tries did not use up the citizen's attempts
    assert client.verify_otp(challenge.otp_id, otp_code(sandbox, challenge.otp_id)).confirmation_token


# ------------------------------------------------------------------------------------------ issue 9: length limits
_VIEW = {"dossier_code": "H38.01-261123-0001", "status": "received", "procedure_code": "1.001193",
         "received_at": "2026-11-23T08:00:00Z"}


@pytest.mark.parametrize("call, body", [
    (lambda c: c.dossier("H38.01-261123-0001"), _VIEW | {"procedure_name": "Đăng ký khai sinh " * 35_000}),
    (lambda c: c.catalog(), {"procedures": [{"code": "1.001193", "name": "Đ" * 600_000}]}),
    (lambda c: c.catalog(), {"procedures": [{"code": "1.001193", "name": "x", "explain": "y" * 5000}]}),
    (lambda c: c.queue_ticket(), dict(_TICKET[1], counter="Quầy " * 100)),
    (lambda c: c.request_otp(), {"otp_id": "otp_12345678", "sent_to": "0" * 1000,
                                 "expires_at": "2026-11-23T08:05:00Z"}),
    (lambda c: c.health(), {"status": "ok" * 1000, "time": "2026-11-23T08:00:00Z"}),
])
def test_every_string_from_the_portal_has_a_length_limit(call, body):
    c, _ = _scripted((200, body, {}), policy=None)
    started = time.monotonic()
    with pytest.raises(PortalBadResponse):
        call(c)
    assert time.monotonic() - started < 1.0


def test_a_refusal_with_a_huge_detail_is_a_bad_answer_not_a_screenful():
    c, _ = _scripted((400, {"error": "otp_wrong", "detail": "x" * 100_000}, {}), policy=None)
    with pytest.raises(PortalBadResponse):
        c.verify_otp("otp_12345678", "123456")


def test_the_shipped_catalogue_is_within_the_limits():
    from kiosk.portal.models import ProcedureCatalog
    from kiosk.sandbox.app import DEFAULT_CATALOG, load_catalog

    assert ProcedureCatalog(procedures=load_catalog(DEFAULT_CATALOG)).procedures
