"""The outbox: a confirmed dossier is on disk before the citizen is told it was received, and it reaches the
portal exactly once, whatever happens to the network, the portal or the kiosk.

- SQLite in WAL mode with synchronous=FULL for the queue; each document's PDF is a separate file, written to a
  temporary name, fsynced, renamed, and the folder fsynced, before the row that names it is committed. A crash
  before the commit leaves only an orphan file, removed on the next start.
- Everything personal (form data, scans) is encrypted at rest with its own random key (one per dossier, one
  per document), stored only wrapped by a master key; the master key comes from the systemd credential
  `dvc-kiosk-outbox-key` (off the data disk) or, when none is given, from `outbox.key` (mode 0600) in the
  data folder. Once the portal has acknowledged a dossier its keys are destroyed (overwritten, then deleted,
  with SQLite's secure_delete on and the WAL truncated) and the payload and blob files removed: ciphertext a
  raw-disk carve still finds in freed blocks is useless without them (crypto-shredding).
- Delivery is idempotent: documents are content-addressed (the portal is asked which hashes it lacks and only
  those are sent; documents over `part_size` go in resumable parts, so a dropped link costs one part), and
  the dossier is submitted with the local reference as its idempotency key, so a retry after a lost answer
  gets the first receipt back instead of a second dossier.
- Before its first upload each dossier goes once through the `preparer` given (kiosk.outbox.prepare: OCR text
  layer on scans, then the kiosk's PAdES seal), in the same write order as saving (see `_prepare_locked`).

Public API: `Outbox(data_dir, preparer=None)` with `enqueue`, `deliver`, `deliver_due`, `has`, `get`, `items`, `depth`,
`oldest_pending_age`, `retry_now`, `purge_delivered`, `reference_for`, `close`; `Sender(outbox, portal_factory)`
with `start`, `wake`, `flush`, `stop`; `OutboxError` and `MESSAGES`. The `kiosk outbox ...`
commands are kiosk.cli.outbox_*.
"""
from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import random
import sqlite3
import stat
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from cryptography.fernet import Fernet, InvalidToken

from kiosk.errors import KioskError
from kiosk.portal.models import DossierReceipt, DossierSubmission

log = logging.getLogger("kiosk.outbox.store")

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"
#: Portal error codes that a later retry can fix (everything else is a refusal a human must look at).
RETRYABLE = frozenset({"unreachable", "timeout", "server_error", "rate_limited", "bad_response", "blob_missing"})
#: Failures that say the portal as a whole is unusable right now: the rest of a sending round would only
#: wait for the same timeouts (or make a rate limit worse), so the round stops.
PORTAL_WIDE = frozenset({"unreachable", "rate_limited"})
#: Local failures of the preparation step (OCR, seal) that a later attempt can fix (a full disk, a crash of ours).
LOCAL_RETRYABLE = frozenset({"disk_full", "storage_error", "prepare_failed"})
KEY_FILE, DB_FILE, BLOB_DIR, LOCK_FILE = "outbox.key", "outbox.sqlite3", "outbox-blobs", "outbox.lock"
#: The systemd credential holding the master key (`LoadCredentialEncrypted=` in systemd/dvc-kiosk.service).
CREDENTIAL_NAME = "dvc-kiosk-outbox-key"

#: What a citizen or technician reads for an outbox failure (kind -> Vietnamese, with the next step).
MESSAGES: dict[str, str] = {k: unicodedata.normalize("NFC", v) for k, v in {
    "disk_full": "Máy không lưu được hồ sơ vì bộ nhớ đã đầy. Hồ sơ chưa được gửi; "
                 "vui lòng báo cán bộ tại quầy để được hỗ trợ nộp hồ sơ.",
    "storage_error": "Máy không lưu được hồ sơ. Hồ sơ chưa được gửi; vui lòng bấm «Thử lại», "
                     "nếu vẫn lỗi hãy báo cán bộ tại quầy.",
    "blob_unreadable": "Giấy tờ đã quét của hồ sơ này không đọc lại được trên máy. "
                       "Cán bộ kỹ thuật cần kiểm tra (kiosk outbox list); công dân vui lòng nộp lại tại quầy.",
    "key_unreadable": "Máy không mở được kho hồ sơ chờ gửi (khoá mã hoá bị lỗi). Vui lòng báo cán bộ kỹ thuật.",
}.items()}

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
CREATE INDEX IF NOT EXISTS items_due ON items(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS blob_keys (
    sha TEXT PRIMARY KEY,       -- document sha256 (its file is outbox-blobs/<sha>.enc)
    wrapped BLOB NOT NULL       -- the document's own key, encrypted with the master key
);
"""


class OutboxError(KioskError):
    """A local failure of the outbox (disk, key, unreadable document). `code` keys `MESSAGES`."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail, code=code)

    @property
    def message(self) -> str:
        return MESSAGES.get(self.code, MESSAGES["storage_error"])


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

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["created_at"] = dt.datetime.fromtimestamp(self.created_at).isoformat(timespec="seconds")
        d["age_seconds"] = round((time.time() if now is None else now) - self.created_at, 1)
        return d


# ---------------------------------------------------------------------------------------------- files
def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    """tmp + fsync + rename + folder fsync: after return the file survives a power cut, and a crash
    before return leaves at most a `.tmp` (never a half-written file under the real name)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def load_or_create_key(path: Path) -> bytes:
    """The outbox key: created once, atomically, with mode 0600 (readable only by the kiosk user).
    A crash while creating it leaves no empty key behind (it is written aside and hard-linked in)."""
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process made one first: then theirs is the key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)
        key = path.read_bytes().strip()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("outbox key was readable by others (mode %o); restricting it to 0600", mode)
        os.chmod(path, 0o600)
    try:
        Fernet(key)
    except ValueError as e:
        raise OutboxError("key_unreadable", f"{path} is not a valid key") from e
    return key


def credential_key_path() -> Path | None:
    """Where systemd put the master key credential for this process, if it did."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    path = Path(folder) / CREDENTIAL_NAME if folder else None
    return path if path is not None and path.is_file() else None


def _credential_key(path: Path) -> bytes:
    """A Fernet key as is; any other secret of at least 32 bytes is hashed into one."""
    try:
        raw = path.read_bytes().strip()
    except OSError as e:
        raise OutboxError("key_unreadable", f"credential {path.name} unreadable") from e
    try:
        Fernet(raw)
        return raw
    except ValueError:
        if len(raw) < 32:
            raise OutboxError("key_unreadable", f"credential {path.name} is too short to be a key") from None
        return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _shred(db: sqlite3.Connection, table: str, column: str, where: str, args: tuple) -> None:
    """Overwrite a key column with zeros of the same length, then NULL/delete it (secure_delete zeroes the
    freed cells); the caller checkpoints the WAL afterwards."""
    db.execute(f"UPDATE {table} SET {column}=zeroblob(length({column})) WHERE {where} AND {column} IS NOT NULL",
               args)


def _try_lock(path: Path) -> int | None:
    """An exclusive, non-blocking flock on `path`: the fd while held, None when another process holds it.
    The kernel drops it when the process dies, so a SIGKILLed kiosk never leaves a stale lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


# ---------------------------------------------------------------------------------------------- outbox
class Outbox:
    """The durable queue of confirmed dossiers. Thread-safe; one process per data folder."""

    def __init__(self, data_dir: Path | str, *, clock: Callable[[], float] = time.time,
                 backoff_base: float = 2.0, backoff_cap: float = 300.0, rng: random.Random | None = None,
                 part_size: int = 512 * 1024, preparer: Callable[[Any, bytes], bytes] | None = None):
        self.dir = Path(data_dir)
        # Run once per dossier before its first upload (kiosk.outbox.prepare: OCR text layer, then the seal).
        self._preparer = preparer
        self.blob_dir = self.dir / BLOB_DIR
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.dir, self.blob_dir):
            with contextlib.suppress(PermissionError):  # not the owner (a technician's shell): leave as is
                os.chmod(folder, 0o700)
        # The master key only wraps the per-dossier and per-document keys. A systemd credential keeps it off
        # the data disk; without one it is `outbox.key` in the data folder (the documented fallback), which is
        # also the key of dossiers saved before per-dossier keys (read with it until delivered).
        legacy_path = self.dir / KEY_FILE
        cred = credential_key_path()
        if cred is not None:
            self.master_source = "credential"
            self._master = Fernet(_credential_key(cred))
            self._legacy = Fernet(load_or_create_key(legacy_path)) if legacy_path.exists() else None
        else:
            self.master_source = "file"
            self._master = Fernet(load_or_create_key(legacy_path))
            self._legacy = self._master
        self._clock = clock
        self._backoff_base, self._backoff_cap = backoff_base, backoff_cap
        self._part_size = part_size  # documents larger than this upload in resumable parts of this size
        self._rng = rng or random.Random()
        self._lock = threading.RLock()
        self._in_flight: dict[str, list] = {}  # ref -> [lock, users]
        db_path = self.dir / DB_FILE
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed: a NULLed payload is gone
        self._db.executescript(_SCHEMA)
        if "dek" not in {r[1] for r in self._db.execute("PRAGMA table_info(items)")}:
            self._db.execute("ALTER TABLE items ADD COLUMN dek BLOB")  # NULL: saved under the old single key
        if "prepared" not in {r[1] for r in self._db.execute("PRAGMA table_info(items)")}:
            # 0: its documents are as the session packed them; 1: text layer and seal added (see _prepare_locked)
            self._db.execute("ALTER TABLE items ADD COLUMN prepared INTEGER NOT NULL DEFAULT 0")
        for name in (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                os.chmod(self.dir / name, 0o600)
        # The kiosk process owns the folder; a technician's `kiosk outbox list` running beside it must not
        # tidy files the kiosk is writing at that very moment.
        self._owner_fd: int | None = _try_lock(self.dir / LOCK_FILE)
        if self._owner_fd is not None:
            self._drop_leftovers()
            self._retire_legacy_key()

    @property
    def owner(self) -> bool:
        """True when this process holds the folder's lock (and so tidied it on opening)."""
        return self._owner_fd is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._owner_fd is not None:
                os.close(self._owner_fd)  # releases the flock
                self._owner_fd = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ writing
    def enqueue(self, submission: DossierSubmission, blobs: dict[str, bytes]) -> None:
        """Save a confirmed dossier durably; when this returns, a power cut cannot lose it. Idempotent for
        the same local reference. Raises OutboxError('disk_full' / 'storage_error') when it cannot save."""
        hashes = [d.sha256 for d in submission.documents]
        missing = set(hashes) - set(blobs)
        if missing:
            raise ValueError(f"{len(missing)} documents without data")
        try:
            with self._lock:
                if self.has(submission.local_reference):
                    return
                new_keys: dict[str, bytes] = {}
                for sha in dict.fromkeys(hashes):
                    path = self._blob_path(sha)
                    if path.exists() and self._blob_fernet(sha) is not None:
                        continue  # shared with a waiting dossier: stored once, under its own key
                    key = Fernet.generate_key()
                    _write_durably(path, Fernet(key).encrypt(blobs[sha]))
                    new_keys[sha] = key
                dek = Fernet.generate_key()
                payload = Fernet(dek).encrypt(submission.model_dump_json().encode())
                # The documents are durable; now their keys and the dossier, in one commit.
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for sha, key in new_keys.items():
                        self._db.execute("INSERT OR REPLACE INTO blob_keys(sha, wrapped) VALUES (?,?)",
                                         (sha, self._master.encrypt(key)))
                    self._db.execute(
                        "INSERT INTO items(ref, created_at, procedure_code, payload, hashes, dek) "
                        "VALUES (?,?,?,?,?,?)",
                        (submission.local_reference, self._clock(), submission.procedure_code, payload,
                         json.dumps(hashes), self._master.encrypt(dek)))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except OSError as e:
            code = "disk_full" if e.errno == 28 else "storage_error"
            log.error("outbox: could not save %s: %s", submission.local_reference, code)
            raise OutboxError(code, type(e).__name__) from e
        except sqlite3.Error as e:
            full = isinstance(e, sqlite3.OperationalError) and "full" in str(e)
            log.error("outbox: could not save %s: %s", submission.local_reference, type(e).__name__)
            raise OutboxError("disk_full" if full else "storage_error", type(e).__name__) from e
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
        q = f"SELECT {self._cols} FROM items" + (" WHERE state=?" if state else "") + " ORDER BY created_at, ref"
        with self._lock:
            rows = self._db.execute(q, (state,) if state else ()).fetchall()
        return [self._item(r) for r in rows]

    def depth(self) -> int:
        """Dossiers not yet delivered (pending and refused ones): what `kiosk doctor` reports."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM items WHERE state!='delivered'").fetchone()[0]

    def oldest_pending_age(self) -> float | None:
        """Seconds since the oldest undelivered dossier was confirmed; None when everything is delivered."""
        with self._lock:
            row = self._db.execute("SELECT MIN(created_at) FROM items WHERE state!='delivered'").fetchone()
        return None if row[0] is None else max(0.0, self._clock() - row[0])

    def next_due_in(self) -> float | None:
        """Seconds until the next pending dossier is due (0 when one is due now); None when none waits."""
        self._clamp_schedule()
        with self._lock:
            row = self._db.execute("SELECT MIN(next_attempt_at) FROM items WHERE state='pending'").fetchone()
        return None if row[0] is None else max(0.0, row[0] - self._clock())

    def submission(self, ref: str) -> DossierSubmission:
        with self._lock:
            row = self._db.execute("SELECT payload, dek FROM items WHERE ref=?", (ref,)).fetchone()
        if row is None or row[0] is None:
            raise KeyError(ref)
        try:
            fernet = Fernet(self._master.decrypt(row[1])) if row[1] is not None else self._legacy
            if fernet is None:
                raise InvalidToken
            return DossierSubmission.model_validate_json(fernet.decrypt(row[0]))
        except InvalidToken as e:
            raise OutboxError("key_unreadable", "the dossier cannot be decrypted with this kiosk's key") from e

    def blob(self, sha: str) -> bytes:
        try:
            fernet = self._blob_fernet(sha) or self._legacy
            if fernet is None:
                raise InvalidToken
            return fernet.decrypt(self._blob_path(sha).read_bytes())
        except (InvalidToken, FileNotFoundError) as e:
            raise OutboxError("blob_unreadable", f"document {sha[:12]} missing or undecryptable") from e

    def _blob_fernet(self, sha: str) -> Fernet | None:
        """The document's own key (None for a document saved under the old single key, or not saved)."""
        with self._lock:
            row = self._db.execute("SELECT wrapped FROM blob_keys WHERE sha=?", (sha,)).fetchone()
        if row is None:
            return None
        try:
            return Fernet(self._master.decrypt(row[0]))
        except InvalidToken as e:
            raise OutboxError("key_unreadable", "a document key cannot be unwrapped with the master key") from e

    def reference_for(self, dossier_code: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT ref FROM items WHERE dossier_code=?", (dossier_code,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------------------------------ before confirming
    @property
    def warms(self) -> bool:
        """Whether the preparation can start on a document before it is confirmed (see kiosk.outbox.prepare)."""
        return bool(getattr(self._preparer, "ocr", False)) and hasattr(self._preparer, "warm")

    def warm(self, data: bytes) -> None:
        if self.warms:
            self._preparer.warm(data)  # type: ignore[union-attr]

    def forget_warm(self) -> None:
        forget = getattr(self._preparer, "forget_warm", None)
        if forget is not None:
            forget()

    # ------------------------------------------------------------------------------------------ delivering
    def deliver(self, ref: str, portal: Any) -> DossierReceipt | None:
        """Try to deliver one dossier now. Returns the portal's receipt, or None when a retry later can fix
        what went wrong (it is then scheduled with backoff). Raises the portal's refusal (or an OutboxError
        for an unreadable document) when it cannot; the dossier is then marked refused for a technician.
        Safe to call from several threads: a second caller waits for the first and gets its outcome."""
        with self._claim(ref):
            return self._deliver_locked(ref, portal)

    def deliver_due(self, portal: Any, *, limit: int = 20, now_only: bool = False) -> int:
        """Deliver the pending dossiers whose retry time has come (all pending ones with `now_only`);
        returns how many were delivered. Stops early when the portal as a whole is unusable. Refusals are
        recorded and skipped; an unexpected error (a bug, not a portal answer) is raised after the dossier
        was rescheduled, so the Sender can rebuild its client."""
        self._clamp_schedule()
        cutoff = float("inf") if now_only else self._clock()
        with self._lock:
            refs = [r for (r,) in self._db.execute(
                "SELECT ref FROM items WHERE state='pending' AND next_attempt_at<=? "
                "ORDER BY next_attempt_at, created_at LIMIT ?", (cutoff, limit))]
        delivered = 0
        for ref in refs:
            with self._claim(ref, blocking=False) as claimed:
                if not claimed:
                    continue  # a session is delivering it right now
                try:
                    if self._deliver_locked(ref, portal) is not None:
                        delivered += 1
                    elif (item := self.get(ref)) is not None and item.last_error in PORTAL_WIDE:
                        break
                except Exception as e:  # noqa: BLE001 - refused ones are marked; keep sending the others
                    if not getattr(e, "code", ""):
                        raise  # not a refusal but a fault of ours (already rescheduled): let the caller see it
        return delivered

    def retry_now(self) -> int:
        """Make every pending and refused dossier due now (technician's `kiosk outbox retry`)."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE items SET next_attempt_at=0, state='pending' WHERE state IN ('pending','rejected')")
            return cur.rowcount

    def purge_delivered(self) -> int:
        """Forget delivered dossiers (only their reference -> dossier code mapping was left)."""
        with self._lock:
            n = self._db.execute("DELETE FROM items WHERE state='delivered'").rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._retire_legacy_key()
        return n

    # ------------------------------------------------------------------------------------------ internals
    _cols = "ref, created_at, procedure_code, state, attempts, next_attempt_at, last_error, dossier_code, hashes"

    @staticmethod
    def _item(row: tuple) -> OutboxItem:
        ref, created_at, procedure_code, state, attempts, next_attempt_at, last_error, dossier_code, hashes = row
        return OutboxItem(ref, created_at, procedure_code, state, attempts, next_attempt_at, last_error, dossier_code,
                          documents=len(json.loads(hashes)))

    @contextlib.contextmanager
    def _claim(self, ref: str, *, blocking: bool = True) -> Iterator[bool]:
        """One delivery per dossier at a time (the session and the Sender may race for a new one). Yields
        whether the claim was had; entries are dropped when unused, so a long-running kiosk does not grow."""
        with self._lock:
            entry = self._in_flight.setdefault(ref, [threading.Lock(), 0])
            entry[1] += 1
        got = entry[0].acquire(blocking)
        try:
            yield got
        finally:
            if got:
                entry[0].release()
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._in_flight[ref]

    def _deliver_locked(self, ref: str, portal: Any) -> DossierReceipt | None:
        item = self.get(ref)
        if item is None:
            raise KeyError(ref)
        if item.state == DELIVERED:
            return self._delivered_receipt(ref)
        try:
            submission = self._prepare_locked(ref)
            token = submission.confirmation_token
            for doc in {d.sha256: d for d in submission.documents}.values():
                state = portal.blob_state(doc.sha256, confirmation_token=token)
                if not state.present or state.size != doc.size:
                    self._upload(portal, self.blob(doc.sha256), token)
            receipt = portal.submit(submission, idempotency_key=ref)
        except OutboxError as e:
            if e.code in LOCAL_RETRYABLE:
                self._schedule_retry(item, e.code, None)
                return None
            self._mark(ref, REJECTED, last_error=e.code)
            log.error("outbox: %s cannot be sent: %s", ref, e.code)
            if e.code.startswith("seal_"):
                return None  # the kiosk's seal is broken: for the technician (doctor, logs), not the citizen
            raise
        except Exception as e:
            code = getattr(e, "code", "")
            if code == "seal_invalid":  # the portal refused a document's seal: a kiosk fault, not the citizen's
                self._mark(ref, REJECTED, last_error=code)
                log.error("outbox: %s refused by the portal: its seal did not verify (%s); see `kiosk outbox list`",
                          ref, str(getattr(e, "detail", ""))[:200])
                return None
            if code in RETRYABLE or getattr(e, "retryable", False) or (isinstance(e, OSError) and not code):
                self._schedule_retry(item, code or type(e).__name__, getattr(e, "retry_after", None))
                return None
            if code:
                self._mark(ref, REJECTED, last_error=code)
                log.warning("outbox: %s refused by the portal: %s", ref, code)
            else:  # a bug or an unexpected library error: do not spin on it, keep the dossier
                self._schedule_retry(item, type(e).__name__, None)
                log.exception("outbox: %s failed unexpectedly", ref)
            raise
        self._mark_delivered(ref, receipt)
        return receipt

    def _prepare_locked(self, ref: str) -> DossierSubmission:
        """The dossier as it is to be uploaded: once per dossier, each document goes through the preparer (OCR text
        layer, seal) and the result replaces it, in the outbox's write order: the new documents are written
        durably under new keys first, then ONE commit swaps the dossier's payload, hashes and document keys and
        sets `prepared`; the old documents are dropped after it. A crash before the commit leaves the dossier
        as it was (the new files are orphans that the next start removes) and it is prepared again; a crash
        after it leaves the prepared dossier (the old files are orphans). Nothing was uploaded before: either
        way exactly one version of each document reaches the portal."""
        submission = self.submission(ref)
        preparer = self._preparer
        if preparer is None:
            return submission
        with self._lock:
            done = self._db.execute("SELECT prepared FROM items WHERE ref=?", (ref,)).fetchone()[0]
        if done:
            return submission
        replaced: dict[str, tuple[str, bytes]] = {}  # old sha -> (new sha, new data)
        unique = list({d.sha256: d for d in submission.documents}.values())
        try:
            # Documents side by side (the preparer bounds its OCR processes to the cores).
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(unique) or 1,
                                                       thread_name_prefix="outbox-prepare") as pool:
                results = list(pool.map(lambda d: preparer(d, self.blob(d.sha256)), unique))
            for doc, data in zip(unique, results, strict=True):
                if data:
                    new_sha = hashlib.sha256(data).hexdigest()
                    if new_sha != doc.sha256:
                        replaced[doc.sha256] = (new_sha, data)
        except OutboxError:
            raise
        except KioskError as e:  # the seal key or certificate is unusable: a technician must look
            log.error("outbox: %s cannot be prepared: %s", ref, e.code)
            raise OutboxError(e.code if e.code.startswith("seal_") else "prepare_failed", e.detail) from e
        except Exception as e:
            log.exception("outbox: %s: preparing its documents failed", ref)
            raise OutboxError("prepare_failed", type(e).__name__) from e
        docs = [d.model_copy(update={"sha256": replaced[d.sha256][0], "size": len(replaced[d.sha256][1])})
                if d.sha256 in replaced else d for d in submission.documents]
        prepared = submission.model_copy(update={"documents": docs})
        hashes = [d.sha256 for d in docs]
        try:
            with self._lock:
                new_keys: dict[str, bytes] = {}
                for new_sha, data in replaced.values():
                    if self._blob_path(new_sha).exists() and self._blob_fernet(new_sha) is not None:
                        continue
                    key = Fernet.generate_key()
                    _write_durably(self._blob_path(new_sha), Fernet(key).encrypt(data))
                    new_keys[new_sha] = key
                dek = Fernet.generate_key()
                payload = Fernet(dek).encrypt(prepared.model_dump_json().encode())
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for sha, key in new_keys.items():
                        self._db.execute("INSERT OR REPLACE INTO blob_keys(sha, wrapped) VALUES (?,?)",
                                         (sha, self._master.encrypt(key)))
                    _shred(self._db, "items", "dek", "ref=?", (ref,))
                    self._db.execute("UPDATE items SET payload=?, dek=?, hashes=?, prepared=1 WHERE ref=?",
                                     (payload, self._master.encrypt(dek), json.dumps(hashes), ref))
                    gone = set(replaced) - self._needed_hashes()
                    for sha in gone:
                        _shred(self._db, "blob_keys", "wrapped", "sha=?", (sha,))
                        self._db.execute("DELETE FROM blob_keys WHERE sha=?", (sha,))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                for sha in gone:
                    self._blob_path(sha).unlink(missing_ok=True)
        except OSError as e:
            raise OutboxError("disk_full" if e.errno == 28 else "storage_error", type(e).__name__) from e
        except sqlite3.Error as e:
            raise OutboxError("storage_error", type(e).__name__) from e
        log.info("outbox: %s prepared (%d of %d documents changed)", ref, len(replaced), len(hashes))
        return prepared

    def _upload(self, portal: Any, data: bytes, token: str) -> None:
        """Large documents go in resumable parts (a dropped link costs one part); small ones in one request."""
        resumable = getattr(portal, "upload_blob_resumable", None)
        if resumable is not None and len(data) > self._part_size:
            resumable(data, confirmation_token=token, part_size=self._part_size)
        else:
            portal.upload_blob(data, confirmation_token=token)

    def _delivered_receipt(self, ref: str) -> DossierReceipt:
        with self._lock:
            code, at = self._db.execute("SELECT dossier_code, delivered_at FROM items WHERE ref=?", (ref,)).fetchone()
        return DossierReceipt(dossier_code=code, local_reference=ref,
                              received_at=dt.datetime.fromtimestamp(at or 0, dt.UTC), duplicate=True)

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`: exponential, capped, with full jitter in [0.5, 1.5) so a
        centre's kiosks coming back after an outage do not all hit the portal in the same second."""
        return min(self._backoff_cap, self._backoff_base ** min(attempts, 16)) * self._rng.uniform(0.5, 1.5)

    def _clamp_schedule(self) -> None:
        """No retry is ever further away than the longest backoff: a time set while the clock was wrong (a year
        ahead, then corrected backwards) is brought back to now + cap instead of stalling delivery for a year."""
        latest = self._clock() + self._max_wait
        with self._lock:
            moved = self._db.execute("UPDATE items SET next_attempt_at=? WHERE state='pending' AND next_attempt_at>?",
                                     (latest, latest)).rowcount
        if moved:
            log.warning("outbox: %d retry times lay beyond the longest backoff (the clock went back); "
                        "rescheduled within %.0f s", moved, self._max_wait)

    @property
    def _max_wait(self) -> float:
        # jitter stretches a capped backoff by up to 1.5
        return self._backoff_cap * 1.5

    def _schedule_retry(self, item: OutboxItem, error: str, retry_after: float | None) -> None:
        attempts = item.attempts + 1
        delay = self.backoff(attempts)
        if retry_after is not None:
            delay = max(delay, float(retry_after))  # the portal said when: never sooner...
        delay = min(max(delay, 0.0), self._max_wait)  # ...but never later than the longest backoff
        with self._lock:
            self._db.execute("UPDATE items SET attempts=?, next_attempt_at=?, last_error=? WHERE ref=?",
                             (attempts, self._clock() + delay, error, item.ref))
        log.info("outbox: %s not delivered (%s); retry in %.1f s", item.ref, error, delay)

    def _mark(self, ref: str, state: str, **fields: Any) -> None:
        sets = ", ".join(f"{k}=?" for k in ("state", *fields))
        with self._lock:
            self._db.execute(f"UPDATE items SET {sets} WHERE ref=?", (state, *fields.values(), ref))

    def _mark_delivered(self, ref: str, receipt: DossierReceipt) -> None:
        """The portal has it: forget the personal data and scans, keep only the mapping ref -> dossier code."""
        with self._lock:
            hashes = json.loads(self._db.execute("SELECT hashes FROM items WHERE ref=?", (ref,)).fetchone()[0])
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # Crypto-shredding: the dossier's key (and the keys of documents no waiting dossier needs) are
                # overwritten, then dropped; what ciphertext survives in freed blocks opens with nothing.
                _shred(self._db, "items", "dek", "ref=?", (ref,))
                self._db.execute(
                    "UPDATE items SET state='delivered', payload=NULL, dek=NULL, dossier_code=?, delivered_at=?, "
                    "last_error='' WHERE ref=?", (receipt.dossier_code, self._clock(), ref))
                gone = set(hashes) - self._needed_hashes()
                for sha in gone:
                    _shred(self._db, "blob_keys", "wrapped", "sha=?", (sha,))
                    self._db.execute("DELETE FROM blob_keys WHERE sha=?", (sha,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            # Old copies of the pages live on in the WAL until a checkpoint; truncate it now.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # Under the lock: an enqueue that found a shared document already on disk must not lose it here.
            for sha in gone:
                self._blob_path(sha).unlink(missing_ok=True)
        self._retire_legacy_key()
        log.info("outbox: %s delivered as %s", ref, receipt.dossier_code)

    def _needed_hashes(self) -> set[str]:
        return {h for (hs,) in self._db.execute("SELECT hashes FROM items WHERE state!='delivered'")
                for h in json.loads(hs)}

    def _retire_legacy_key(self) -> None:
        """With the master key in a credential, `outbox.key` is only the key of dossiers saved before the
        upgrade: once none of them waits any more (and no document needs it), it is deleted."""
        if self.master_source != "credential" or self._legacy is None or self._owner_fd is None:
            return
        with self._lock:
            old_rows = self._db.execute(
                "SELECT COUNT(*) FROM items WHERE payload IS NOT NULL AND dek IS NULL").fetchone()[0]
            keyed = {sha for (sha,) in self._db.execute("SELECT sha FROM blob_keys")}
            old_blobs = [p for p in self.blob_dir.glob("*.enc") if p.stem not in keyed]
            if old_rows or old_blobs:
                return
            (self.dir / KEY_FILE).unlink(missing_ok=True)
            _fsync_dir(self.dir)
            self._legacy = None
        log.info("outbox: every dossier saved under the old single key is delivered; old key deleted")

    def _blob_path(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError("bad document hash")
        return self.blob_dir / f"{sha}.enc"

    def _drop_leftovers(self) -> None:
        """After a crash: half-written temp files, and documents no undelivered dossier names (written
        before a crash stopped their row's commit, or left when a crash cut a delivery's clean-up)."""
        with self._lock:
            needed = self._needed_hashes()
            orphans = [sha for (sha,) in self._db.execute("SELECT sha FROM blob_keys") if sha not in needed]
            for sha in orphans:  # keys of documents nobody waits for (a crash cut their dossier's commit)
                _shred(self._db, "blob_keys", "wrapped", "sha=?", (sha,))
                self._db.execute("DELETE FROM blob_keys WHERE sha=?", (sha,))
            if orphans:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for path in self.blob_dir.iterdir():
            if path.name.endswith(".tmp") or (path.suffix == ".enc" and path.stem not in needed):
                path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- sender
class Sender:
    """Delivers the outbox in the background. Never dies (every round's failure is logged and the loop goes
    on), sleeps until the next dossier is due (at most `interval`), and `stop()` flushes: one last attempt
    at every pending dossier before the kiosk shuts down."""

    def __init__(self, outbox: Outbox, portal_factory: Callable[[], Any], *, interval: float = 5.0,
                 min_sleep: float = 0.05):
        self.outbox, self.portal_factory, self.interval, self.min_sleep = outbox, portal_factory, interval, min_sleep
        self.rounds = 0
        self._portal: Any = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="outbox-sender", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Something new was queued (or the network is back): look now instead of at the next interval."""
        self._wake.set()

    def flush(self) -> int:
        """Try every pending dossier now, whatever its retry time, on the caller's thread (shutdown, or the
        technician saw the link come back); returns how many were delivered. A round still stops at the
        first sign the portal as a whole is down or rate-limiting."""
        return self._round(limit=10_000, now_only=True)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop; it flushes on its way out (bounded by the portal client's timeouts)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("outbox sender did not stop within %.0f s", timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _round(self, limit: int = 20, now_only: bool = False) -> int:
        try:
            if self._portal is None:
                self._portal = self.portal_factory()
            return self.outbox.deliver_due(self._portal, limit=limit, now_only=now_only)
        except Exception:  # noqa: BLE001 - the sender must never die
            log.exception("outbox sender round failed")
            self._portal = None  # build a fresh client next round
            return 0
        finally:
            self.rounds += 1

    def _sleep_time(self) -> float:
        try:
            due = self.outbox.next_due_in()
        except Exception:  # noqa: BLE001
            return self.interval
        return self.interval if due is None else max(self.min_sleep, min(self.interval, due))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._round()
            self._wake.wait(self._sleep_time())
            self._wake.clear()
        self.flush()  # one last try before the kiosk shuts down


__all__ = ["Outbox", "OutboxItem", "OutboxError", "Sender", "MESSAGES", "PENDING", "DELIVERED", "REJECTED",
           "load_or_create_key", "credential_key_path", "CREDENTIAL_NAME"]
