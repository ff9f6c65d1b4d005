"""Interactive portal calls survive a flaky portal: 20 whole citizen sessions against the real sandbox on
loopback, with 30 % of its API requests failing (500, 429 with Retry-After, connection reset, and the answer
lost after the work was done), all complete; the portal then holds each dossier exactly once, and no retry
sent a second text message, took a second queue number or left a second rating.

Driven at the state-machine level (Session.send with a ManualRunner and fake devices, see session_fixtures),
with the portal client's retries on, as `PortalClient.from_settings` builds it, but with short backoffs.
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

from kiosk.portal.client import PortalClient, RetryPolicy
from kiosk.sandbox.faults import FaultConfig
from kiosk.session.machine import State
from session_fixtures import KIOSK_ID, build_kiosk, close_kiosk
from portal_fixtures import sandbox_server  # noqa: F401  (fixture)

SESSIONS = 20
#: As `kiosk sandbox --fail-rate 0.3 --fault 500 --fault 429 --fault reset --fault lose_response`.
FLAKY = FaultConfig(fail_rate=0.3, modes=("500", "429", "reset", "lose_response"), retry_after=1)
#: Short waits keep the run quick; 8 tries make a call that fails every try rare (0.3**8 ~ 7e-5).
FAST_RETRIES = RetryPolicy(attempts=8, base=0.02, cap=0.2, deadline=8.0)


KIOSKS = 4  # a centre's kiosks, side by side on one portal (threads: the waits overlap, as they would)


def _count(sandbox, table: str) -> int:
    store = sandbox.store
    with store._lock:
        return store._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _run_kiosk(sandbox, folder, sessions: int) -> dict:
    """One kiosk: `sessions` citizens one after another, then its outbox emptied as its Sender would."""
    k = build_kiosk(folder, sandbox)
    k.services.portal.close()
    waits: list[float] = []
    citizen = PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.5, read_timeout=1.0, upload_timeout=2.0,
                           retry=FAST_RETRIES, on_retry=lambda attempt, delay, error: waits.append(delay))
    k.services.portal = citizen
    sender = PortalClient(sandbox.url, kiosk_id=KIOSK_ID, connect_timeout=0.5, read_timeout=1.0, upload_timeout=2.0)
    refs: list[str] = []
    try:
        for n in range(sessions):
            k.to_rating()
            refs.append(k.data.local_reference)
            assert k.data.ticket is not None, f"session {n}: no queue number"
            k.send("rate", level=5)
            k.settle()
            assert k.state is State.ATTRACT
        # What a session could not deliver at once (a fault on an upload or the submission) goes out on the
        # outbox's next rounds.
        for _ in range(300):
            if k.services.outbox.depth() == 0:
                break
            k.services.outbox.deliver_due(sender, limit=100, now_only=True)
        return {"refs": refs, "left": k.services.outbox.depth(), "retries": citizen.retries, "waited": sum(waits)}
    finally:
        citizen.close()
        sender.close()
        close_kiosk(k)


def test_twenty_sessions_complete_on_a_flaky_portal_and_each_dossier_is_held_once(sandbox_server, tmp_path):
    sandbox_server.reset(tmp_path / "portal.sqlite3")
    sandbox_server.set_faults(FLAKY)
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(KIOSKS) as pool:
            runs = list(pool.map(lambda i: _run_kiosk(sandbox_server, tmp_path / f"kiosk{i}", SESSIONS // KIOSKS),
                                 range(KIOSKS)))
        seconds = time.monotonic() - started
        injected = dict(sandbox_server.faults.injected)
    finally:
        sandbox_server.set_faults(None)
    refs = [r for run in runs for r in run["refs"]]
    assert len(refs) == SESSIONS and all(run["left"] == 0 for run in runs)
    held = sandbox_server.store.all_dossiers()
    assert sorted(d["local_reference"] for d in held) == sorted(refs)  # every dossier, each exactly once
    assert _count(sandbox_server, "otps") == SESSIONS  # one text message per citizen, retries or not
    assert _count(sandbox_server, "tickets") == SESSIONS  # one queue number each
    assert len(sandbox_server.store.ratings()) == SESSIONS  # one rating each
    retries = sum(run["retries"] for run in runs)
    assert sum(injected.values()) > 0 and retries > 0
    print(f"\n{SESSIONS} sessions on {KIOSKS} kiosks, all delivered, in {seconds:.1f} s; faults injected "
          f"{injected}; interactive retries {retries} (waited {sum(run['waited'] for run in runs):.1f} s)",
          file=sys.__stderr__)
