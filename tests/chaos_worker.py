"""A kiosk stand-in that tests/test_chaos.py kills with SIGKILL at random points and restarts.

Each generation of the worker opens the same outbox folder, first delivers whatever an earlier generation left
behind, then loops: log in to the sandbox, confirm a one-time code, enqueue a synthetic dossier (documents
derived from its reference, so the test can rebuild the exact bytes), then deliver it. It reports on stdout,
one line per event, flushed at once:

    READY                  outbox open, about to work
    INTENT <ref>           about to enqueue (the citizen pressed "submit")
    ENQUEUED <ref>         enqueue returned: the kiosk may now say "received"
    DELIVERED <ref> <code> the portal acknowledged it
    DRAINED <depth>        (--drain) nothing left to send (depth 0) or the deadline passed

`python tests/chaos_worker.py --data DIR --portal URL --generation G --count N [--drain]`
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import sys
import time
from pathlib import Path

import httpx

KIOSK_ID = "KIOSK-CHAOS-01"
LOGIN_CODE = "VNEID-TEST-0001"
SHARED_DOCUMENT_SEED = "shared-id-card-scan"
PART_SIZE = 48_000


def _pdf(seed: str, size: int) -> bytes:
    rng = random.Random(seed)
    return b"%PDF-1.7\n%" + rng.randbytes(size) + b"\n%%EOF\n"


def documents_for(ref: str) -> list[tuple[str, bytes, int]]:
    """The (component, PDF bytes, pages) of a dossier, rebuilt from its reference alone. Every third dossier
    also carries the same ID-card scan, so blobs shared between dossiers are exercised (dedup, clean-up)."""
    rng = random.Random(ref)
    docs = [(f"thanh-phan-{i + 1}", _pdf(f"{ref}/{i}", rng.randint(2_000, 120_000)), rng.randint(1, 5))
            for i in range(rng.randint(1, 3))]
    if int(hashlib.sha256(ref.encode()).hexdigest(), 16) % 3 == 0:
        docs.append(("cccd", _pdf(SHARED_DOCUMENT_SEED, 30_000), 1))
    return docs


def reference(generation: int, index: int) -> str:
    return f"CHAOS-{generation:04d}-{index:04d}"


def _say(*words: object) -> None:
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def _confirm(citizen, phone: httpx.Client) -> str:
    """Request and verify a one-time code as the citizen would (the sandbox's test endpoint is the phone).
    A slow answer on a loaded test machine is retried, as the citizen would press "resend"."""
    from kiosk.portal.client import PortalError

    for attempt in range(5):
        try:
            if not citizen.logged_in:
                citizen.login(LOGIN_CODE)
            challenge = citizen.request_otp()
            code = phone.get(f"/api/v1/sandbox/otp/{challenge.otp_id}").json()["code"]
            return citizen.verify_otp(challenge.otp_id, code).confirmation_token
        except (PortalError, httpx.HTTPError):
            if attempt == 4:
                raise
            time.sleep(0.2)
    raise AssertionError("the retry loop always returns or raises")


def _submission(ref: str, token: str):
    from kiosk.portal.models import DocumentRef, DossierSubmission

    docs = documents_for(ref)
    refs = [DocumentRef(component=c, name=f"{c}.pdf", sha256=hashlib.sha256(b).hexdigest(), size=len(b), pages=p)
            for c, b, p in docs]
    submission = DossierSubmission(
        procedure_code="1.001193", form={"ho_ten_tre": "Trẻ Thử Nghiệm", "noi_sinh": "Hà Nội"}, documents=refs,
        kiosk_id=KIOSK_ID, local_reference=ref, confirmed_at=dt.datetime.now(dt.UTC),
        confirmation_token=token, appointment_date=None)
    return submission, {r.sha256: b for r, (_, b, _) in zip(refs, docs, strict=True)}


def _deliver_one(outbox, sender, ref: str) -> None:
    try:
        receipt = outbox.deliver(ref, sender)
    except Exception as e:  # noqa: BLE001 - a refusal is recorded in the outbox; the run goes on
        _say("REFUSED", ref, getattr(e, "code", type(e).__name__))
        return
    if receipt is not None:
        _say("DELIVERED", ref, receipt.dossier_code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--portal", required=True)
    parser.add_argument("--generation", type=int, default=0)
    parser.add_argument("--count", type=int, default=1_000)
    parser.add_argument("--drain", action="store_true", help="only deliver what is waiting, then exit")
    parser.add_argument("--deadline", type=float, default=60.0)
    args = parser.parse_args(argv)

    from kiosk.outbox.store import Outbox
    from kiosk.portal.client import PortalClient

    # Small parts, so many documents go up in several resumable pieces and a kill can land between them.
    outbox = Outbox(args.data, backoff_base=1.0, backoff_cap=0.0, part_size=PART_SIZE)
    sender = PortalClient(args.portal, kiosk_id=KIOSK_ID, connect_timeout=1, read_timeout=3, upload_timeout=5)
    _say("READY")
    if args.drain:
        deadline = time.monotonic() + args.deadline
        while outbox.depth() and time.monotonic() < deadline:
            outbox.retry_now()
            outbox.deliver_due(sender, limit=1_000, now_only=True)
        left = outbox.depth()
        _say("DRAINED", left)
        outbox.close()
        return 0 if left == 0 else 1

    outbox.retry_now()
    outbox.deliver_due(sender, limit=1_000, now_only=True)  # what the previous generation left
    citizen = PortalClient(args.portal, kiosk_id=KIOSK_ID, connect_timeout=2, read_timeout=5)
    phone = httpx.Client(base_url=args.portal, timeout=5)
    for index in range(args.count):
        ref = reference(args.generation, index)
        submission, blobs = _submission(ref, _confirm(citizen, phone))
        _say("INTENT", ref)
        outbox.enqueue(submission, blobs)
        _say("ENQUEUED", ref)
        _deliver_one(outbox, sender, ref)
        outbox.deliver_due(sender, limit=5, now_only=True)
    outbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
