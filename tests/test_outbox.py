"""The outbox keeps every confirmed dossier until the portal has it, delivers it once, and then forgets the
citizen: encryption at rest, clean-up after acknowledgement, retries (backoff, Retry-After), the Sender
thread, crash leftovers, refusals kept for a technician, and `kiosk outbox list|retry|purge-delivered`."""
from __future__ import annotations

import json
import os
import random
import re
import stat
import threading
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from kiosk.outbox.store import DELIVERED, MESSAGES, PENDING, REJECTED, Outbox, OutboxError, Sender
from kiosk.portal.client import PortalClient, PortalRejected
from kiosk.sandbox.faults import FAULT_MODES, FaultConfig
from portal_fixtures import (  # noqa: F401  (fixtures)
    KIOSK_ID,
    client,
    confirm,
    doc_ref,
    portal_dossiers,
    sandbox,
    sandbox_server,
    submission,
)

CITIZEN_NAME = "Nguyễn Văn An"  # the sandbox's VNEID-TEST-0001 (synthetic, docs/sandbox.md)
CITIZEN_ID = "001099012345"
FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]+=*")


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def scan_pdf(label: str) -> bytes:
    """A 'scanned' document that carries the citizen's identity, as a real ID-card scan would."""
    return f"%PDF-1.7\n% CCCD {CITIZEN_ID} {CITIZEN_NAME} {label}\n%%EOF\n".encode()


def confirmed_dossier(client: PortalClient, sandbox, ref: str, *, login_code: str = "VNEID-TEST-0001",
                      labels: tuple[str, ...] = ("to-khai", "giay-chung-sinh"),
                      documents: dict[str, bytes] | None = None):
    """Log in, confirm with a one-time code, and build the dossier the session would enqueue. Each document is
    `documents[label]` when given, else a scan unique to this dossier."""
    if not client.logged_in:
        client.login(login_code)
    token = confirm(client, sandbox)
    blobs = {label: (documents or {}).get(label) or scan_pdf(f"{ref} {label}") for label in labels}
    docs = [doc_ref(label, data, 1) for label, data in blobs.items()]
    sub = submission(token, docs, local_reference=ref)
    sub.form["_citizen"] = {"id_number": CITIZEN_ID, "full_name": CITIZEN_NAME}
    return sub, {d.sha256: blobs[d.component] for d in docs}


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """The kiosk's data folder (tmp_path itself also holds the sandbox portal's files)."""
    return tmp_path / "kiosk-data"


@pytest.fixture
def sender_portal(sandbox):
    """The outbox's own client: never logged in as a citizen, short timeouts."""
    with PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.5, read_timeout=0.6,
                      upload_timeout=2) as portal:
        yield portal


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def decryptable_secrets(folder: Path, personal: list[bytes]) -> list[str]:
    """Every encrypted token anywhere in the folder (database, WAL, shm, blobs, key files) that decrypts to
    something containing personal data, with every key a thief holding the whole disk could get: the key
    files (the master key included) and every key those unwrap, transitively."""
    tokens = [(p.name, t) for p in sorted(folder.rglob("*")) if p.is_file()
              for t in FERNET_TOKEN.findall(p.read_bytes())]
    keys = {p.read_bytes().strip() for p in folder.rglob("*.key") if p.is_file()}
    opened: dict[bytes, bytes] = {}
    while True:
        fresh = set()
        for _, token in tokens:
            for key in keys:
                try:
                    plain = Fernet(key).decrypt(token)
                except (InvalidToken, ValueError):
                    continue
                opened[token] = plain
                try:
                    Fernet(plain)
                    fresh.add(plain)
                except ValueError:
                    pass
        if fresh <= keys:
            break
        keys |= fresh
    return [f"{name}: {p[:12]!r}" for name, token in tokens if token in opened
            for p in personal if p in opened[token]]


# ---------------------------------------------------------------------------------------------- at rest
def test_saved_dossier_is_encrypted_private_and_survives_a_restart(data_dir, client, sandbox):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000101")
    outbox = Outbox(data_dir)
    outbox.enqueue(sub, blobs)
    outbox.close()  # the process ends; the next one must find it all

    raw = all_bytes(data_dir)
    for secret in (CITIZEN_NAME.encode(), CITIZEN_ID.encode(), *blobs.values()):
        assert secret not in raw
    assert stat.S_IMODE((data_dir / "outbox.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700

    with Outbox(data_dir) as reopened:
        assert reopened.has(sub.local_reference) and reopened.depth() == 1
        assert reopened.submission(sub.local_reference) == sub
        assert {sha: reopened.blob(sha) for sha in blobs} == blobs


def test_enqueue_twice_keeps_one_dossier(data_dir, client, sandbox):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000102")
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
        outbox.enqueue(sub, blobs)
        assert [it.ref for it in outbox.items()] == [sub.local_reference]


def test_a_dossier_without_its_document_data_is_not_saved(data_dir, client, sandbox):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000103")
    with Outbox(data_dir) as outbox:
        with pytest.raises(ValueError):
            outbox.enqueue(sub, dict(list(blobs.items())[:1]))
        assert outbox.depth() == 0


def test_a_full_disk_is_a_clear_outbox_error(data_dir, client, sandbox, monkeypatch):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000104")
    with Outbox(data_dir) as outbox:
        def no_space(*_a, **_k):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("kiosk.outbox.store._write_durably", no_space)
        with pytest.raises(OutboxError) as caught:
            outbox.enqueue(sub, blobs)
        assert caught.value.code == "disk_full" and not outbox.has(sub.local_reference)
        assert "cán bộ" in caught.value.message


def test_acknowledged_dossier_leaves_no_personal_data_on_disk(data_dir, client, sandbox, sender_portal):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000105")
    personal = [CITIZEN_NAME.encode(), CITIZEN_ID.encode(), *blobs.values()]
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
        # The scan below does find the citizen while the dossier waits (so it can fail)...
        assert len(decryptable_secrets(data_dir, personal)) >= len(personal)
        receipt = outbox.deliver(sub.local_reference, sender_portal)
        assert receipt is not None and not receipt.duplicate
        # ...and finds nothing once the portal has acknowledged it: payload, WAL copies and scans are gone.
        assert decryptable_secrets(data_dir, personal) == []
        assert list((data_dir / "outbox-blobs").iterdir()) == []
        item = outbox.get(sub.local_reference)
        assert item.state == DELIVERED and item.dossier_code == receipt.dossier_code
        assert outbox.reference_for(receipt.dossier_code) == sub.local_reference
        with pytest.raises(KeyError):
            outbox.submission(sub.local_reference)
    assert not any(s in all_bytes(data_dir) for s in personal)


def test_a_document_shared_with_a_waiting_dossier_is_kept_until_that_one_is_delivered(data_dir, client, sandbox,
                                                                                      sender_portal):
    cccd = scan_pdf("the same ID card, scanned for both dossiers")
    first, first_blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000106", labels=("cccd", "a"),
                                           documents={"cccd": cccd})
    second, second_blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000107", labels=("cccd", "b"),
                                             documents={"cccd": cccd})
    with Outbox(data_dir) as outbox:
        outbox.enqueue(first, first_blobs)
        outbox.enqueue(second, second_blobs)
        assert outbox.deliver(first.local_reference, sender_portal) is not None
        assert outbox.blob(doc_ref("cccd", cccd, 1).sha256) == cccd  # still needed by the second
        assert outbox.deliver(second.local_reference, sender_portal) is not None
        assert list((data_dir / "outbox-blobs").iterdir()) == []
    stored = {d["local_reference"]: [x["sha256"] for x in d["documents"]] for d in portal_dossiers(sandbox)}
    assert stored == {s.local_reference: [d.sha256 for d in s.documents] for s in (first, second)}


# ---------------------------------------------------------------------------------------------- crashes
def test_leftovers_of_a_crash_are_tidied_by_the_owner_only(data_dir, client, sandbox):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000108")
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
    blob_dir = data_dir / "outbox-blobs"
    orphan = blob_dir / ("ab" * 32 + ".enc")  # written before a crash stopped its row's commit
    half = blob_dir / ("cd" * 32 + ".enc.tmp")  # a crash inside the write
    orphan.write_bytes(b"x")
    half.write_bytes(b"y")
    kiosk = Outbox(data_dir)  # the kiosk process: owns the folder, tidies it
    try:
        assert kiosk.owner and not orphan.exists() and not half.exists()
        assert {sha: kiosk.blob(sha) for sha in blobs} == blobs
        half.write_bytes(b"y")  # the kiosk is writing a document right now...
        with Outbox(data_dir) as technician:  # ...while `kiosk outbox list` opens the same folder
            assert not technician.owner and half.exists()
            assert technician.has(sub.local_reference)
    finally:
        kiosk.close()


def test_a_key_file_open_to_others_is_restricted(data_dir):
    Outbox(data_dir).close()
    os.chmod(data_dir / "outbox.key", 0o644)
    Outbox(data_dir).close()
    assert stat.S_IMODE((data_dir / "outbox.key").stat().st_mode) == 0o600


def test_a_broken_key_is_a_clear_error_not_a_crash(data_dir):
    Outbox(data_dir).close()
    (data_dir / "outbox.key").write_bytes(b"not a key")
    with pytest.raises(OutboxError) as caught:
        Outbox(data_dir)
    assert caught.value.code == "key_unreadable" and "kỹ thuật" in caught.value.message


# ---------------------------------------------------------------------------------------------- delivery
def test_lost_answer_after_the_portal_committed_is_delivered_once(data_dir, client, sandbox, sender_portal):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000109")
    sandbox.set_faults(FaultConfig(fail_first=1, modes=("lose_response",), paths=("/api/v1/dossiers",)))
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
        assert outbox.deliver(sub.local_reference, sender_portal) is None  # the portal has it; we do not know
        assert outbox.get(sub.local_reference).state == PENDING
        assert len(portal_dossiers(sandbox)) == 1
        receipt = outbox.deliver(sub.local_reference, sender_portal)
    dossiers = portal_dossiers(sandbox)
    assert receipt.duplicate and [d["dossier_code"] for d in dossiers] == [receipt.dossier_code]


def test_rate_limit_waits_at_least_retry_after(data_dir, client, sandbox, sender_portal):
    clock = FakeClock()
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000110")
    sandbox.set_faults(FaultConfig(fail_first=1, modes=("429",), retry_after=120))
    with Outbox(data_dir, clock=clock, backoff_base=2.0) as outbox:
        outbox.enqueue(sub, blobs)
        assert outbox.deliver(sub.local_reference, sender_portal) is None
        item = outbox.get(sub.local_reference)
        assert item.last_error == "rate_limited" and item.next_attempt_at >= clock.now + 120
        clock.now += 119
        assert outbox.deliver_due(sender_portal) == 0 and portal_dossiers(sandbox) == []
        clock.now += 2
        assert outbox.deliver_due(sender_portal) == 1
    assert len(portal_dossiers(sandbox)) == 1


def test_retry_times_are_clamped_when_the_clock_jumps_ahead_and_back(data_dir, client, sandbox, sender_portal):
    # The kiosk's clock jumped a year ahead (a bad NTP answer, a dead RTC battery) while a dossier waited, then
    # was corrected: its next attempt must not lie a year away.
    year = 365 * 24 * 3600.0
    clock = FakeClock()
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000140")
    sandbox.set_faults(FaultConfig(fail_first=1, modes=("500",)))
    with Outbox(data_dir, clock=clock, backoff_base=2.0, backoff_cap=60.0) as outbox:
        outbox.enqueue(sub, blobs)
        clock.now += year
        assert outbox.deliver(sub.local_reference, sender_portal) is None  # scheduled on the wrong clock
        assert outbox.get(sub.local_reference).next_attempt_at <= clock.now + 90
        clock.now -= year  # corrected
        due_in = outbox.next_due_in()
        assert due_in is not None and due_in <= 60 * 1.5
        assert outbox.get(sub.local_reference).next_attempt_at <= clock.now + 90
        clock.now += 91
        assert outbox.deliver_due(sender_portal) == 1


def test_a_retry_after_beyond_the_longest_backoff_is_bounded_by_it(data_dir, client, sandbox, sender_portal):
    clock = FakeClock()
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000141")
    sandbox.set_faults(FaultConfig(fail_first=1, modes=("429",), retry_after=3600))
    with Outbox(data_dir, clock=clock, backoff_base=2.0, backoff_cap=60.0) as outbox:
        outbox.enqueue(sub, blobs)
        assert outbox.deliver(sub.local_reference, sender_portal) is None
        item = outbox.get(sub.local_reference)
        assert item.last_error == "rate_limited" and clock.now < item.next_attempt_at <= clock.now + 90


def test_backoff_grows_exponentially_is_capped_and_jittered(data_dir):
    with Outbox(data_dir, backoff_base=2.0, backoff_cap=300.0, rng=random.Random(7)) as outbox:
        for attempts in range(1, 15):
            nominal = min(300.0, 2.0 ** attempts)
            draws = [outbox.backoff(attempts) for _ in range(20)]
            assert all(0.5 * nominal <= d <= 1.5 * nominal for d in draws)
            assert len(set(draws)) > 1  # kiosks coming back together do not retry in lock-step


def test_refusal_is_kept_for_a_technician_and_can_be_retried(data_dir, client, sandbox, sender_portal):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000111", login_code="VNEID-TEST-0003")
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
        with pytest.raises(PortalRejected):
            outbox.deliver(sub.local_reference, sender_portal)
        item = outbox.get(sub.local_reference)
        assert item.state == REJECTED and item.last_error == "level_insufficient"
        assert outbox.depth() == 1 and outbox.oldest_pending_age() is not None
        assert outbox.submission(sub.local_reference) == sub  # nothing thrown away
        assert outbox.deliver_due(sender_portal) == 0  # refused ones wait for a human
        assert outbox.retry_now() == 1 and outbox.get(sub.local_reference).state == PENDING


def test_every_portal_fault_then_recovery_delivers_everything_once(data_dir, client, sandbox):
    dossiers = [confirmed_dossier(client, sandbox, f"KIOSK-TEST-01-0002{i:02d}") for i in range(6)]
    sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=FAULT_MODES, hang_seconds=0.8, drip_delay=0.02,
                                   retry_after=0, seed=3))
    outbox = Outbox(data_dir, backoff_base=1.5, backoff_cap=0.2)
    portal = PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.5, read_timeout=0.4, upload_timeout=1)
    sender = Sender(outbox, lambda: portal, interval=0.1, min_sleep=0.02)
    try:
        sender.start()
        for sub, blobs in dossiers:
            outbox.enqueue(sub, blobs)  # citizens keep being served while the portal misbehaves
            sender.wake()
        time.sleep(1.5)
        assert sender.running and outbox.items()  # nothing lost, the sender is alive
        injected = dict(sandbox.faults.injected)
        sandbox.set_faults(None)
        sender.wake()
        deadline = time.monotonic() + 15
        while outbox.depth() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert outbox.depth() == 0, [(it.ref, it.state, it.last_error) for it in outbox.items()]
    finally:
        sender.stop()
        portal.close()
        outbox.close()
    assert len(injected) >= 4, injected  # several kinds of failure really happened
    stored = portal_dossiers(sandbox)
    assert sorted(d["local_reference"] for d in stored) == sorted(s.local_reference for s, _ in dossiers)
    by_ref = {d["local_reference"]: d for d in stored}
    for sub, _ in dossiers:
        assert [x["sha256"] for x in by_ref[sub.local_reference]["documents"]] == [d.sha256 for d in sub.documents]


def test_session_and_sender_racing_for_one_dossier_send_it_once(data_dir, client, sandbox, sender_portal):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000112")
    sandbox.set_faults(FaultConfig(latency_ms=150, paths=("/api/v1/dossiers",)))
    calls = []
    real_submit = sender_portal.submit

    def counting_submit(*a, **k):
        calls.append(1)
        return real_submit(*a, **k)

    sender_portal.submit = counting_submit
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
        results = []
        threads = [threading.Thread(target=lambda: results.append(outbox.deliver(sub.local_reference, sender_portal))),
                   threading.Thread(target=lambda: results.append(outbox.deliver_due(sender_portal)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(calls) == 1 and len(portal_dossiers(sandbox)) == 1


# ---------------------------------------------------------------------------------------------- resumable uploads
def count_appended_bytes(sandbox) -> list[int]:
    """Record the size of every part the portal actually stored (not the ones refused or lost on the way in)."""
    appended: list[int] = []
    real = sandbox.store.append_part

    def append_part(sha256, offset, data, total):
        result = real(sha256, offset, data, total)
        appended.append(len(data))
        return result

    sandbox.store.append_part = append_part
    return appended


def test_a_large_document_over_a_bad_link_is_sent_once_in_resumable_parts(data_dir, client, sandbox, sender_portal):
    big = scan_pdf("large") + random.Random(5).randbytes(400_000)
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000501", labels=("so-ho-khau",),
                                   documents={"so-ho-khau": big})
    appended = count_appended_bytes(sandbox)
    sandbox.set_faults(FaultConfig(fail_rate=0.6, modes=("reset", "lose_response"), paths=("/api/v1/blobs/",),
                                   methods=("PUT",), seed=11))
    with Outbox(data_dir, part_size=64 * 1024) as outbox:
        outbox.enqueue(sub, blobs)
        receipt, attempts = None, 0
        while receipt is None and attempts < 80:
            receipt, attempts = outbox.deliver(sub.local_reference, sender_portal), attempts + 1
    assert receipt is not None
    # The link really failed, and parts reached the portal whose answer the kiosk never saw.
    assert sum(sandbox.faults.injected.values()) >= 2 and "lose_response" in sandbox.faults.injected
    assert sum(appended) == len(big)  # every byte sent once: a dropped part is resumed, never restarted
    assert len(appended) == -(-len(big) // (64 * 1024))
    assert sandbox.store.blob_path(sub.documents[0].sha256).read_bytes() == big


def test_a_resumed_upload_starts_where_the_portal_copy_ends(client, sandbox, sender_portal):
    client.login("VNEID-TEST-0001")
    token = confirm(client, sandbox)
    data = random.Random(9).randbytes(10_000)
    sha = doc_ref("x", data, 1).sha256
    sandbox.store.append_part(sha, 0, data[:3_000], len(data))  # a kiosk life that ended mid-upload
    appended = count_appended_bytes(sandbox)
    state = sender_portal.upload_blob_resumable(data, confirmation_token=token, part_size=4_000)
    assert state.present and state.size == len(data) and appended == [4_000, 3_000]
    assert sandbox.store.blob_path(sha).read_bytes() == data


def test_parts_that_do_not_add_up_to_the_hash_are_refused_and_dropped(client, sandbox, sender_portal):
    client.login("VNEID-TEST-0001")
    token = confirm(client, sandbox)
    data = random.Random(10).randbytes(5_000)
    sha = doc_ref("x", data, 1).sha256
    sandbox.store.append_part(sha, 0, b"\0" * 3_000, len(data))  # corrupt bytes held from an earlier try
    with pytest.raises(PortalRejected) as caught:
        sender_portal.upload_blob_resumable(data, confirmation_token=token, part_size=4_000)
    assert caught.value.code == "hash_mismatch"
    assert sender_portal.upload_state(sha, confirmation_token=token).received == 0  # the next try starts clean
    assert sender_portal.upload_blob_resumable(data, confirmation_token=token, part_size=4_000).present


# ---------------------------------------------------------------------------------------------- sender
class BrokenPortal:
    def __getattr__(self, name):
        raise RuntimeError("a bug in the portal client")


def test_sender_survives_a_failing_factory_and_a_broken_client(data_dir, client, sandbox, sender_portal):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000113")
    made = []

    def factory():
        made.append(1)
        if len(made) == 1:
            raise OSError("no network configuration yet")
        return BrokenPortal() if len(made) == 2 else sender_portal

    with Outbox(data_dir, backoff_base=1.0, backoff_cap=0.0) as outbox:
        outbox.enqueue(sub, blobs)
        sender = Sender(outbox, factory, interval=0.05, min_sleep=0.01)
        sender.start()
        try:
            deadline = time.monotonic() + 10
            while outbox.depth() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert sender.running and outbox.depth() == 0 and len(made) >= 3
        finally:
            sender.stop()


def test_stop_flushes_what_is_due(data_dir, client, sandbox, sender_portal):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000114")
    with Outbox(data_dir) as outbox:
        sender = Sender(outbox, lambda: sender_portal, interval=60)
        sender.start()
        time.sleep(0.1)  # asleep for a minute: nothing was waiting
        outbox.enqueue(sub, blobs)  # no wake(): only the flush on stop can send it
        started = time.monotonic()
        sender.stop()
        assert time.monotonic() - started < 5
        assert outbox.get(sub.local_reference).state == DELIVERED
    assert len(portal_dossiers(sandbox)) == 1


# ---------------------------------------------------------------------------------------------- CLI
@pytest.fixture
def kiosk_env(tmp_path, monkeypatch, sandbox):
    data = tmp_path / "kiosk-data"
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(data))
    monkeypatch.setenv("KIOSK_PORTAL__URL", sandbox.url)
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    return data


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    from kiosk.cli import main

    code = main(["outbox", *argv])
    return code, capsys.readouterr().out


def test_outbox_cli_lists_retries_and_purges(kiosk_env, client, sandbox, capsys):
    subs = [confirmed_dossier(client, sandbox, f"KIOSK-TEST-01-0003{i:02d}") for i in range(2)]
    with Outbox(kiosk_env) as outbox:
        for sub, blobs in subs:
            outbox.enqueue(sub, blobs)

    code, out = run_cli(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["ref"], r["state"]) for r in rows] == [(s.local_reference, PENDING) for s, _ in subs]
    assert CITIZEN_NAME not in out and CITIZEN_ID not in out

    code, out = run_cli(capsys, "list")
    assert code == 0 and all(s.local_reference in out for s, _ in subs) and "2 not delivered" in out

    code, out = run_cli(capsys, "retry", "--json")
    assert code == 0 and json.loads(out) == {"delivered": 2, "pending": 0, "errors": []}
    codes = {d["local_reference"]: d["dossier_code"] for d in portal_dossiers(sandbox)}

    code, out = run_cli(capsys, "list", "--json")
    assert {row["ref"]: row["dossier_code"] for row in json.loads(out)} == codes

    code, out = run_cli(capsys, "purge-delivered", "--json")
    assert code == 0 and json.loads(out) == {"purged": 2}
    assert run_cli(capsys, "list", "--json") == (0, "[]\n")


def test_outbox_cli_retry_says_what_still_waits_when_the_portal_is_down(kiosk_env, client, sandbox, capsys,
                                                                         monkeypatch):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000401")
    with Outbox(kiosk_env) as outbox:
        outbox.enqueue(sub, blobs)
    from portal_fixtures import closed_port

    monkeypatch.setenv("KIOSK_PORTAL__URL", f"http://127.0.0.1:{closed_port()}")
    code, out = run_cli(capsys, "retry")
    assert code == 1 and "still waiting 1" in out and "unreachable" in out


def test_outbox_cli_with_a_broken_key_says_so_and_exits_2(kiosk_env, capsys):
    Outbox(kiosk_env).close()
    (kiosk_env / "outbox.key").write_bytes(b"garbage")
    for command in ("list", "retry", "purge-delivered"):
        assert run_cli(capsys, command, "--json") == (2, '{"error": "key_unreadable"}\n')


def test_every_outbox_message_is_nfc_vietnamese_with_a_next_step():
    import unicodedata

    for kind, text in MESSAGES.items():
        assert unicodedata.is_normalized("NFC", text), kind
        assert "vui lòng" in text.lower() or "cán bộ" in text, kind


# ---------------------------------------------------------------------------------------------- with a session
def test_a_session_during_an_outage_ends_saved_and_the_sender_delivers_it_later(tmp_path, sandbox):
    from kiosk.session.machine import State
    from session_fixtures import build_kiosk

    kiosk = build_kiosk(tmp_path, sandbox)
    try:
        kiosk.to_submitting()
        sandbox.set_faults(FaultConfig(fail_rate=1.0, modes=("500",), paths=("/api/v1/blobs", "/api/v1/dossiers")))
        kiosk.runner.run_next()  # save, then try to send: the portal fails
        assert kiosk.state is State.DONE and not kiosk.data.delivered and kiosk.data.error is None
        ref, outbox = kiosk.data.local_reference, kiosk.services.outbox
        assert outbox.get(ref).state == PENDING and portal_dossiers(sandbox) == []

        sandbox.set_faults(None)  # the portal is back
        with PortalClient(sandbox.url, kiosk_id=KIOSK_ID) as portal:
            assert Sender(outbox, lambda: portal).flush() == 1
            code = outbox.get(ref).dossier_code
            assert [d["local_reference"] for d in portal_dossiers(sandbox)] == [ref]
            assert portal.dossier_by_reference(ref).dossier_code == code  # the receipt's QR now finds it
    finally:
        kiosk.services.close()
        kiosk.services.portal.close()


def test_ciphertext_carved_from_freed_blocks_opens_with_no_key_left_after_delivery(data_dir, client, sandbox,
                                                                                    sender_portal, tmp_path,
                                                                                    monkeypatch):
    """Crypto-shredding: a raw-disk carve finds the old ciphertext (blob files, payload and WAL frames in freed
    blocks). After delivery no key on disk, master key included, nor any key it unwraps, opens any of it."""
    creds = tmp_path / "credentials"  # systemd's credential folder (not on the data disk)
    creds.mkdir()
    (creds / "dvc-kiosk-outbox-key").write_bytes(Fernet.generate_key())
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000120")
    personal = [CITIZEN_NAME.encode(), CITIZEN_ID.encode(), *blobs.values()]
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
        carved = all_bytes(data_dir)  # every block the dossier ever occupied, as a carve would find it
        assert outbox.deliver(sub.local_reference, sender_portal) is not None
    graveyard = data_dir / "carved.bin"  # the freed blocks, put back beside the surviving files
    graveyard.write_bytes(carved)
    assert decryptable_secrets(data_dir, personal) == []
    graveyard.unlink()
    assert not any(s in all_bytes(data_dir) for s in personal)


def test_an_outbox_saved_under_the_old_single_key_stays_readable_until_delivered(data_dir, client, sandbox,
                                                                                 sender_portal):
    sub, blobs = confirmed_dossier(client, sandbox, "KIOSK-TEST-01-000121")
    with Outbox(data_dir) as outbox:
        outbox.enqueue(sub, blobs)
    # Rewrite it as the old code stored it: everything under outbox.key, no per-dossier keys.
    import sqlite3
    old = Fernet((data_dir / "outbox.key").read_bytes().strip())
    db = sqlite3.connect(data_dir / "outbox.sqlite3")
    db.execute("UPDATE items SET payload=?, dek=NULL", (old.encrypt(sub.model_dump_json().encode()),))
    db.execute("DELETE FROM blob_keys")
    db.commit()
    db.close()
    for sha, data in blobs.items():
        (data_dir / "outbox-blobs" / f"{sha}.enc").write_bytes(old.encrypt(data))
    with Outbox(data_dir) as outbox:
        assert outbox.submission(sub.local_reference) == sub
        assert {sha: outbox.blob(sha) for sha in blobs} == blobs
        assert outbox.deliver(sub.local_reference, sender_portal) is not None
