"""The outbox: a confirmed dossier is on disk before the citizen is told it was received, and it reaches the
portal exactly once, whatever happens to the network, the portal or the kiosk.

- SQLite in WAL mode with synchronous=FULL for the queue; each document's PDF is a separate file, written to a
  temporary name, fsynced, renamed, and the folder fsynced, before the row that names it is committed.
- Everything personal (form data, scans) is encrypted at rest with a key only the kiosk user can read
  (`outbox.key`, mode 0600), and deleted once the portal has acknowledged the dossier.
- Delivery is idempotent: documents are content-addressed (the portal is asked which hashes it lacks and only
  those are sent), and the dossier is submitted with the local reference as its idempotency key.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from cryptography.fernet import Fernet, InvalidToken

from kiosk.models import DossierReceipt, DossierSubmission

log = logging.getLogger("kiosk.outbox")

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"
#: Portal error codes that a later retry can fix (everything else is a refusal a human must look at).
RETRYABLE = frozenset({"unreachable", "timeout", "server_error", "rate_limited", "bad_response", "blob_missing"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    ref TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    procedure_code TEXT NOT NULL,
    payload BLOB,               -- encrypted DossierSubmission JSON; NULL once delivered
    hashes TEXT NOT NULL,       -- JSON list of document sha256
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    dossier_code TEXT NOT NULL DEFAULT '',
    delivered_at REAL
);
"""


@dataclasses.dataclass(frozen=True)
class OutboxItem:
    ref: str
    created_at: float
    procedure_code: str
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str
    dossier_code: str
    documents: int

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["created_at"] = dt.datetime.fromtimestamp(self.created_at).isoformat(timespec="seconds")
        d["age_seconds"] = round(time.time() - self.created_at, 1)
        return d


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def load_or_create_key(path: Path) -> bytes:
    """The outbox key: created once with mode 0600; readable only by the kiosk user."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        key = Fernet.generate_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(path.parent)
        return key


class Outbox:
    def __init__(self, data_dir: Path, *, clock: Callable[[], float] = time.time):
        self.dir = Path(data_dir)
        self.blob_dir = self.dir / "outbox-blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self._fernet = Fernet(load_or_create_key(self.dir / "outbox.key"))
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.dir / "outbox.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._drop_stray_temp_files()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------------------------------ writing
    def enqueue(self, submission: DossierSubmission, blobs: dict[str, bytes]) -> None:
        """Save a confirmed dossier durably. Idempotent for the same local reference."""
        hashes = [d.sha256 for d in submission.documents]
        missing = set(hashes) - set(blobs)
        if missing:
            raise ValueError(f"documents without data: {sorted(missing)}")
        with self._lock:
            if self.has(submission.local_reference):
                return
            for sha in hashes:
                path = self._blob_path(sha)
                if not path.exists():
                    _write_durably(path, self._fernet.encrypt(blobs[sha]))
            payload = self._fernet.encrypt(submission.model_dump_json().encode())
            self._db.execute(
                "INSERT INTO items(ref, created_at, procedure_code, payload, hashes) VALUES (?,?,?,?,?)",
                (submission.local_reference, self._clock(), submission.procedure_code, payload, json.dumps(hashes)))
        log.info("outbox: saved %s (%d documents)", submission.local_reference, len(hashes))

    # ------------------------------------------------------------------------------------------ reading
    def has(self, ref: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM items WHERE ref=?", (ref,)).fetchone() is not None

    def get(self, ref: str) -> OutboxItem | None:
        with self._lock:
            row = self._db.execute(f"SELECT {self._cols} FROM items WHERE ref=?", (ref,)).fetchone()
        return self._item(row) if row else None

    def items(self, state: str | None = None) -> list[OutboxItem]:
        q = f"SELECT {self._cols} FROM items" + (" WHERE state=?" if state else "") + " ORDER BY created_at"
        with self._lock:
            rows = self._db.execute(q, (state,) if state else ()).fetchall()
        return [self._item(r) for r in rows]

    def depth(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM items WHERE state='pending'").fetchone()[0]

    def oldest_pending_age(self) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(created_at) FROM items WHERE state='pending'").fetchone()
        return None if row[0] is None else max(0.0, self._clock() - row[0])

    def submission(self, ref: str) -> DossierSubmission:
        with self._lock:
            row = self._db.execute("SELECT payload FROM items WHERE ref=?", (ref,)).fetchone()
        if row is None or row[0] is None:
            raise KeyError(ref)
        return DossierSubmission.model_validate_json(self._fernet.decrypt(row[0]))

    def blob(self, sha: str) -> bytes:
        try:
            return self._fernet.decrypt(self._blob_path(sha).read_bytes())
        except InvalidToken as e:
            raise OSError(f"outbox blob {sha[:12]} cannot be decrypted") from e

    # ------------------------------------------------------------------------------------------ delivering
    def deliver(self, ref: str, portal: Any) -> DossierReceipt | None:
        """Try to deliver one dossier now. Returns the portal's receipt, or None when a retry later can fix
        what went wrong (it is then scheduled with backoff). Raises the portal's refusal when it cannot."""
        item = self.get(ref)
        if item is None:
            raise KeyError(ref)
        if item.state == DELIVERED:
            return DossierReceipt(dossier_code=item.dossier_code, local_reference=ref,
                                  received_at=dt.datetime.fromtimestamp(item.created_at), duplicate=True)
        try:
            submission = self.submission(ref)
            for doc in submission.documents:
                if not portal.blob_state(doc.sha256, confirmation_token=submission.confirmation_token).present:
                    portal.upload_blob(self.blob(doc.sha256), confirmation_token=submission.confirmation_token)
            receipt = portal.submit(submission, idempotency_key=ref)
        except Exception as e:
            code = getattr(e, "code", "")
            if code in RETRYABLE or isinstance(e, OSError) and not code:
                self._schedule_retry(item, code or type(e).__name__)
                return None
            if code:
                self._mark(ref, REJECTED, last_error=code)
                log.warning("outbox: %s refused by the portal: %s", ref, code)
            raise
        self._mark_delivered(ref, receipt)
        return receipt

    def deliver_due(self, portal: Any, *, limit: int = 20) -> int:
        """Deliver the pending dossiers whose retry time has come; returns how many were delivered."""
        now, delivered = self._clock(), 0
        for item in self.items(PENDING)[:limit]:
            if item.next_attempt_at > now:
                continue
            try:
                if self.deliver(item.ref, portal) is not None:
                    delivered += 1
            except Exception:  # noqa: BLE001 - refused ones are marked; keep sending the others
                continue
        return delivered

    def retry_now(self) -> int:
        """Make every pending and refused dossier due now (technician's `kiosk outbox retry`)."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE items SET next_attempt_at=0, state='pending' WHERE state IN ('pending','rejected')")
            return cur.rowcount

    def purge_delivered(self) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM items WHERE state='delivered'").rowcount

    def reference_for(self, dossier_code: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT ref FROM items WHERE dossier_code=?", (dossier_code,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------------------------------ internals
    _cols = "ref, created_at, procedure_code, state, attempts, next_attempt_at, last_error, dossier_code, hashes"

    @staticmethod
    def _item(row) -> OutboxItem:
        return OutboxItem(*row[:8], documents=len(json.loads(row[8])))

    def _blob_path(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError("bad document hash")
        return self.blob_dir / f"{sha}.enc"

    def _schedule_retry(self, item: OutboxItem, error: str) -> None:
        attempts = item.attempts + 1
        delay = min(300.0, 2.0 ** min(attempts, 9)) * random.uniform(0.5, 1.5)
        with self._lock:
            self._db.execute("UPDATE items SET attempts=?, next_attempt_at=?, last_error=? WHERE ref=?",
                             (attempts, self._clock() + delay, error, item.ref))
        log.info("outbox: %s not delivered (%s); retry in %.0f s", item.ref, error, delay)

    def _mark(self, ref: str, state: str, **fields: Any) -> None:
        sets = ", ".join(f"{k}=?" for k in ("state", *fields))
        with self._lock:
            self._db.execute(f"UPDATE items SET {sets} WHERE ref=?", (state, *fields.values(), ref))

    def _mark_delivered(self, ref: str, receipt: DossierReceipt) -> None:
        """The portal has it: forget the personal data and scans, keep only the mapping ref -> dossier code."""
        with self._lock:
            hashes = json.loads(self._db.execute("SELECT hashes FROM items WHERE ref=?", (ref,)).fetchone()[0])
            self._db.execute(
                "UPDATE items SET state='delivered', payload=NULL, dossier_code=?, delivered_at=?, last_error='' "
                "WHERE ref=?", (receipt.dossier_code, self._clock(), ref))
            still_needed = {h for (hs,) in self._db.execute("SELECT hashes FROM items WHERE state!='delivered'")
                            for h in json.loads(hs)}
        for sha in set(hashes) - still_needed:
            self._blob_path(sha).unlink(missing_ok=True)
        log.info("outbox: %s delivered as %s", ref, receipt.dossier_code)

    def _drop_stray_temp_files(self) -> None:
        for tmp in self.blob_dir.glob("*.tmp"):
            tmp.unlink(missing_ok=True)  # a crash mid-write; the row was never committed


class Sender:
    """Delivers the outbox in the background: due items first, then sleeps; `flush()` on shutdown."""

    def __init__(self, outbox: Outbox, portal_factory: Callable[[], Any], *, interval: float = 5.0):
        self.outbox, self.portal_factory, self.interval = outbox, portal_factory, interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="outbox-sender", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        portal = self.portal_factory()
        while not self._stop.is_set():
            try:
                self.outbox.deliver_due(portal)
            except Exception:  # noqa: BLE001 - the sender must never die
                log.exception("outbox sender round failed")
            self._wake.wait(self.interval)
            self._wake.clear()


def iter_table(items: list[OutboxItem]) -> Iterator[str]:
    yield f"{'REFERENCE':<24} {'STATE':<10} {'TRIES':>5} {'DOSSIER CODE':<22} {'AGE':>8}  LAST ERROR"
    for it in items:
        age = time.time() - it.created_at
        yield (f"{it.ref:<24} {it.state:<10} {it.attempts:>5} {it.dossier_code or '-':<22} "
               f"{_human_age(age):>8}  {it.last_error}")


def _human_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


# ------------------------------------------------------------------------------------------ CLI
def _open_from_config() -> tuple[Outbox, Any]:
    from kiosk import config

    settings = config.load()
    return Outbox(settings.kiosk.data_dir), settings


def list_command(args) -> int:
    outbox, _ = _open_from_config()
    items = outbox.items()
    if args.json:
        for it in items:
            print(json.dumps(it.as_dict(), ensure_ascii=False))
    else:
        for line in iter_table(items):
            print(line)
    return 0


def retry_command(args) -> int:
    from kiosk.portal import PortalClient

    outbox, settings = _open_from_config()
    outbox.retry_now()
    portal = PortalClient(settings.portal.url, kiosk_id=settings.kiosk.id)
    delivered = outbox.deliver_due(portal, limit=10_000)
    left = outbox.depth()
    result = {"delivered": delivered, "pending": left}
    print(json.dumps(result) if args.json else f"delivered {delivered}, still pending {left}")
    return 0 if left == 0 else 1


def purge_delivered_command(args) -> int:
    outbox, _ = _open_from_config()
    n = outbox.purge_delivered()
    print(json.dumps({"purged": n}) if args.json else f"purged {n} delivered dossiers")
    return 0
