"""The sandbox portal's state and rules: SQLite (WAL) for records, content-addressed files for blobs.

The rules a real portal enforces live here, in plain Python, so they can be read in one place: test login
codes, one-time codes (6 digits, 5 minutes, 3 attempts), single-use confirmation tokens bound to the login
session (and good for delivering that dossier for a week after it, when the outbox sends it late),
idempotent dossier submission, per-day dossier and queue numbers. A broken rule raises
`SandboxError`, which the web layer turns into an `ErrorBody` with the same stable code.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from kiosk.domain.clock import CENTRE_TZ
from kiosk.portal.models import (
    AssistanceRequest,
    BlobState,
    CitizenProfile,
    DossierReceipt,
    DossierStatus,
    DossierSubmission,
    DossierView,
    LoginResponse,
    OtpChallenge,
    OtpVerifyResponse,
    QueueTicket,
    QueueTicketRequest,
    RatingRequest,
    VneidLevel,
)

log = logging.getLogger(__name__)

SESSION_LIFETIME = dt.timedelta(minutes=30)
OTP_LIFETIME = dt.timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 3
OTP_LENGTH = 6
# How long a verified one-time code authorises delivering its dossier after the citizen has left
# (the kiosk's outbox keeps retrying while the portal or the network is down).
DELIVERY_WINDOW = dt.timedelta(days=7)
MAX_BLOB_BYTES = 50 * 1024 * 1024

# Synthetic citizens behind the documented test login codes (docs/sandbox.md). Not real people.
TEST_CITIZENS: dict[str, CitizenProfile] = {
    "VNEID-TEST-0001": CitizenProfile(
        id_number="001099012345", full_name="Nguyễn Văn An", birth_date=dt.date(1990, 1, 1), sex="Nam",
        address="Số 12 Tràng Tiền, phường Hoàn Kiếm, thành phố Hà Nội", phone_masked="09******78",
        level=VneidLevel.LEVEL_2),
    "VNEID-TEST-0002": CitizenProfile(
        id_number="037195004321", full_name="Phạm Thị Ngọc Diễm", birth_date=dt.date(1995, 7, 14), sex="Nữ",
        address="Số 17 ngõ Quyết Thắng, xóm Đồng Lỗ, thôn Thượng Ẩm, xã Nghĩa Hưng, tỉnh Ninh Bình",
        phone_masked="03******15", level=VneidLevel.LEVEL_2),
    "VNEID-TEST-0003": CitizenProfile(
        id_number="036088001234", full_name="Lê Văn Bình", birth_date=dt.date(1988, 3, 9), sex="Nam",
        address="Thôn Quần Liêu, xã Hải Hậu, tỉnh Ninh Bình", phone_masked="08******02",
        level=VneidLevel.LEVEL_1),
}
EXPIRED_LOGIN_CODES = frozenset({"VNEID-TEST-EXPIRED"})
# Kiosk enrolment (provisioning): any ENROL-TEST-<4 digits> is a valid one-time code; this one has expired.
TEST_ENROLMENT_PATTERN = re.compile(r"^ENROL-TEST-[0-9]{4}$")
EXPIRED_ENROLMENT_CODES = frozenset({"ENROL-TEST-EXPIRED"})
HEARTBEAT_SECONDS = 60


class SandboxError(Exception):
    """A request the portal refuses; `code` is the stable `ErrorBody.error`."""

    def __init__(self, status: int, code: str, detail: str = "", *, remaining_attempts: int | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.detail = status, code, detail
        self.remaining_attempts = remaining_attempts


@dataclass(frozen=True)
class Session:
    token: str
    citizen: CitizenProfile
    kiosk_id: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, login_code TEXT NOT NULL, kiosk_id TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS otps (
    otp_id TEXT PRIMARY KEY, session_token TEXT NOT NULL, code TEXT NOT NULL, expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, confirmation_token TEXT UNIQUE, used_by TEXT);
CREATE TABLE IF NOT EXISTS dossiers (
    code TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, local_reference TEXT NOT NULL UNIQUE,
    session_token TEXT NOT NULL, kiosk_id TEXT NOT NULL, procedure_code TEXT NOT NULL,
    procedure_name TEXT NOT NULL, form TEXT NOT NULL, received_at TEXT NOT NULL, confirmed_at TEXT NOT NULL,
    appointment_date TEXT, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    dossier_code TEXT NOT NULL, position INTEGER NOT NULL, component TEXT NOT NULL, name TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, pages INTEGER NOT NULL, PRIMARY KEY (dossier_code, position));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    day TEXT NOT NULL, number TEXT NOT NULL, counter TEXT NOT NULL, kiosk_id TEXT NOT NULL,
    procedure_code TEXT, dossier_code TEXT, issued_at TEXT NOT NULL, PRIMARY KEY (day, number));
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kiosk_id TEXT NOT NULL, level INTEGER NOT NULL,
    dossier_code TEXT, comment TEXT NOT NULL, rated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assistance (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kiosk_id TEXT NOT NULL, step TEXT NOT NULL, requested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kiosks (
    kiosk_id TEXT PRIMARY KEY, enrolment_code TEXT NOT NULL UNIQUE, token_sha256 TEXT NOT NULL,
    registered_at TEXT NOT NULL, app_version TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS heartbeats (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kiosk_id TEXT NOT NULL, received_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotent_replies (
    route TEXT NOT NULL, key TEXT NOT NULL, body_sha256 TEXT NOT NULL, status INTEGER NOT NULL,
    headers TEXT NOT NULL, body BLOB NOT NULL, stored_at TEXT NOT NULL, PRIMARY KEY (route, key));
CREATE TABLE IF NOT EXISTS kiosk_configs (
    kiosk_id TEXT PRIMARY KEY, version INTEGER NOT NULL, settings TEXT NOT NULL);
"""

COUNTERS = ("Quầy 1", "Quầy 2", "Quầy 3")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SandboxStore:
    """All sandbox state. Thread-safe: FastAPI runs sync endpoints on a thread pool, so one lock guards
    the single connection and every public method is one transaction."""

    def __init__(self, db_path: Path | str, *, agency_code: str = "000.20.31.H38",
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db_path = Path(db_path)
        self.blob_dir = self.db_path.with_name(self.db_path.name + ".blobs")
        self.agency_code = agency_code
        self.clock = clock or _utc_now  # the base clock; advance_clock() adds to it
        self._clock_offset = dt.timedelta()
        self._lock = threading.RLock()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    # ---------------------------------------------------------------------------------- plumbing
    def now(self) -> dt.datetime:
        return self.clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward (test-only: expire one-time codes and sessions)."""
        self._clock_offset += dt.timedelta(seconds=seconds)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _next(self, db: sqlite3.Connection, name: str) -> int:
        db.execute("INSERT INTO counters(name, value) VALUES (?, 1) "
                   "ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,))
        return int(db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    # ---------------------------------------------------------------------------------- idempotency keys
    def idempotent_reply(self, route: str, key: str) -> dict[str, Any] | None:
        """The first answer given to this Idempotency-Key on this route (kiosk.sandbox.idempotency), or None."""
        with self._lock:
            row = self._db.execute("SELECT * FROM idempotent_replies WHERE route = ? AND key = ?",
                                   (route, key)).fetchone()
        if row is None:
            return None
        return {"body_sha256": row["body_sha256"], "status": row["status"], "body": bytes(row["body"]),
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(row["headers"])]}

    def remember_reply(self, route: str, key: str, body_sha256: str, status: int, headers: list[tuple[bytes, bytes]],
                       body: bytes) -> None:
        kept = json.dumps([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers])
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO idempotent_replies VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (route, key, body_sha256, status, kept, body, self.now().isoformat()))

    # ---------------------------------------------------------------------------------- login
    def login(self, login_code: str, kiosk_id: str) -> LoginResponse:
        code = login_code.strip()
        if code in EXPIRED_LOGIN_CODES:
            raise SandboxError(401, "login_code_expired", "the login code has expired; show a new one")
        citizen = TEST_CITIZENS.get(code)
        if citizen is None:
            raise SandboxError(401, "login_code_unknown", "the login code is not recognised")
        token = secrets.token_urlsafe(32)
        expires_at = self.now() + SESSION_LIFETIME
        with self._tx() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (token, code, kiosk_id, expires_at.isoformat()))
        log.info("sandbox login: test citizen %s (level %d) on kiosk %s", code.rsplit("-", 1)[-1],
                 citizen.level.value, kiosk_id)
        return LoginResponse(session_token=token, expires_at=expires_at, citizen=citizen)

    def session(self, token: str | None) -> Session:
        """The live login session behind a bearer token."""
        if not token:
            raise SandboxError(401, "auth_required", "log in first (Authorization: Bearer <session_token>)")
        with self._lock:
            row = self._db.execute("SELECT * FROM sessions WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise SandboxError(401, "session_unknown", "the session token is not known")
        if dt.datetime.fromisoformat(row["expires_at"]) <= self.now():
            raise SandboxError(401, "session_expired", "the session has expired; log in again")
        return Session(token=token, citizen=TEST_CITIZENS[row["login_code"]], kiosk_id=row["kiosk_id"])

    def confirmed_session(self, confirmation_token: str | None) -> Session:
        """The session a verified one-time code was confirmed in, live or not: the citizen's confirmation
        authorises delivering their dossier (documents, then the dossier) after they have left the kiosk.
        Spent tokens still authorise blob calls, so a retry after a lost answer can run its whole course."""
        with self._lock:
            otp = self._db.execute("SELECT session_token, expires_at FROM otps WHERE confirmation_token = ?",
                                   (confirmation_token or "",)).fetchone()
            row = None if otp is None else self._db.execute(
                "SELECT * FROM sessions WHERE token = ?", (otp["session_token"],)).fetchone()
        if not confirmation_token or otp is None or row is None:
            raise SandboxError(403, "not_confirmed", "the confirmation token is not a verified one-time code")
        if dt.datetime.fromisoformat(otp["expires_at"]) + DELIVERY_WINDOW <= self.now():
            raise SandboxError(403, "not_confirmed", "the confirmation is too old to deliver; confirm again")
        return Session(token=row["token"], citizen=TEST_CITIZENS[row["login_code"]], kiosk_id=row["kiosk_id"])

    # ---------------------------------------------------------------------------------- one-time codes
    def request_otp(self, session: Session) -> OtpChallenge:
        otp_id = "otp_" + secrets.token_urlsafe(12)
        code = "".join(secrets.choice("0123456789") for _ in range(OTP_LENGTH))
        expires_at = self.now() + OTP_LIFETIME
        with self._tx() as db:
            db.execute("INSERT INTO otps(otp_id, session_token, code, expires_at) VALUES (?, ?, ?, ?)",
                       (otp_id, session.token, code, expires_at.isoformat()))
        log.info("sandbox OTP for otp_id %s: %s", otp_id, code)  # sandbox test data, not personal
        return OtpChallenge(otp_id=otp_id, sent_to=session.citizen.phone_masked, expires_at=expires_at,
                            length=OTP_LENGTH, max_attempts=OTP_MAX_ATTEMPTS)

    def peek_otp(self, otp_id: str) -> str:
        """The code of a challenge (test-only endpoint: stands in for the citizen's phone)."""
        with self._lock:
            row = self._db.execute("SELECT code FROM otps WHERE otp_id = ?", (otp_id,)).fetchone()
        if row is None:
            raise SandboxError(404, "otp_unknown", "no such one-time code")
        return str(row["code"])

    def verify_otp(self, session: Session, otp_id: str, code: str) -> OtpVerifyResponse:
        code = code.strip() if isinstance(code, str) else ""
        if not re.fullmatch(r"[0-9]{1,12}", code):  # ASCII digits only ("١٢٣٤٥٦" is not a code; never a 500)
            raise SandboxError(422, "invalid_request", "code: a one-time code is ASCII digits")
        with self._tx() as db:
            row = db.execute("SELECT * FROM otps WHERE otp_id = ? AND session_token = ?",
                             (otp_id, session.token)).fetchone()
            if row is None:
                raise SandboxError(404, "otp_unknown", "no such one-time code for this session")
            if row["confirmation_token"]:
                if secrets.compare_digest(row["code"], code.strip()):
                    # A retried verify (lost response) gets the same token back.
                    return OtpVerifyResponse(confirmation_token=row["confirmation_token"])
                raise SandboxError(400, "otp_used", "this one-time code was already used")
            if row["attempts"] >= OTP_MAX_ATTEMPTS:
                raise SandboxError(400, "otp_locked", "too many wrong codes; ask for a new one", remaining_attempts=0)
            if dt.datetime.fromisoformat(row["expires_at"]) <= self.now():
                raise SandboxError(400, "otp_expired", "the one-time code has expired; ask for a new one")
            if not secrets.compare_digest(row["code"], code.strip()):
                # The wrong attempt must be committed, so the refusal is raised after the transaction.
                attempts = row["attempts"] + 1
                db.execute("UPDATE otps SET attempts = ? WHERE otp_id = ?", (attempts, otp_id))
                remaining = OTP_MAX_ATTEMPTS - attempts
                wrong = (SandboxError(400, "otp_locked", "too many wrong codes; ask for a new one",
                                      remaining_attempts=0) if remaining <= 0 else
                         SandboxError(400, "otp_wrong", "the one-time code is wrong", remaining_attempts=remaining))
            else:
                wrong = None
                token = secrets.token_urlsafe(32)
                db.execute("UPDATE otps SET confirmation_token = ? WHERE otp_id = ?", (token, otp_id))
        if wrong is not None:
            raise wrong
        return OtpVerifyResponse(confirmation_token=token)

    # ---------------------------------------------------------------------------------- blobs
    def blob_path(self, sha256: str) -> Path:
        return self.blob_dir / sha256[:2] / sha256

    def blob_state(self, sha256: str) -> BlobState:
        path = self.blob_path(sha256)
        try:
            return BlobState(sha256=sha256, present=True, size=path.stat().st_size)
        except FileNotFoundError:
            return BlobState(sha256=sha256, present=False, size=0)

    def open_blob_writer(self) -> BlobWriter:
        return BlobWriter(self)

    # Resumable uploads: a large document arrives in parts, each at the offset the portal says it holds, so
    # a dropped connection costs one part, not the whole document. The bytes so far live in
    # `<blobs>/.partial/<sha256>`; the last part completes it, the hash is checked, and it moves into place.
    def partial_path(self, sha256: str) -> Path:
        return self.blob_dir / ".partial" / sha256

    def upload_state(self, sha256: str) -> tuple[BlobState, int]:
        """The blob's state and how many bytes of a resumable upload the portal holds (its size when present)."""
        state = self.blob_state(sha256)
        if state.present:
            return state, state.size
        try:
            return state, self.partial_path(sha256).stat().st_size
        except FileNotFoundError:
            return state, 0

    def append_part(self, sha256: str, offset: int, data: bytes, total: int) -> tuple[BlobState, int]:
        """Append one part at `offset` of a `total`-byte document. 409 `offset_mismatch` (detail: the bytes
        held) when the offset is not where the portal's copy ends: the kiosk asks and resumes from there."""
        if not 0 < total <= MAX_BLOB_BYTES:
            raise SandboxError(413 if total > 0 else 400, "blob_too_large" if total > 0 else "blob_empty",
                               f"a document is 1 to {MAX_BLOB_BYTES} bytes")
        if not data or offset < 0 or offset + len(data) > total:
            raise SandboxError(400, "invalid_request", "a part must be non-empty and end within the document")
        with self._lock:
            state, received = self.upload_state(sha256)
            if state.present:
                return state, state.size
            if offset != received:
                raise SandboxError(409, "offset_mismatch", str(received))
            partial = self.partial_path(sha256)
            partial.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "ab") as f:
                f.write(data)
            received += len(data)
            if received < total:
                return state, received
            digest = hashlib.sha256()
            with open(partial, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            if received != total or digest.hexdigest() != sha256:
                partial.unlink(missing_ok=True)
                raise SandboxError(400, "hash_mismatch", "the parts' SHA-256 is not the one in the URL")
            target = self.blob_path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, target)
            return self.blob_state(sha256), total

    # ---------------------------------------------------------------------------------- dossiers
    def submit(self, session: Session | None, submission: DossierSubmission, idempotency_key: str,
               procedure_name: str = "") -> DossierReceipt:
        """Store a dossier once. A replay (same key, or same local reference) returns the first receipt.
        Without a live session (the citizen has left; the outbox delivers) the confirmation token is the
        credential; with one, the token must have been confirmed in that very session."""
        if session is None:
            session = self.confirmed_session(submission.confirmation_token)
        with self._tx() as db:
            row = db.execute("SELECT * FROM dossiers WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            if row is not None and row["local_reference"] != submission.local_reference:
                raise SandboxError(409, "idempotency_conflict",
                                   "this Idempotency-Key was already used for another dossier")
            if row is None:
                row = db.execute("SELECT * FROM dossiers WHERE local_reference = ?",
                                 (submission.local_reference,)).fetchone()
            if row is not None:
                return self._receipt(row, duplicate=True)
            if session.citizen.level < VneidLevel.LEVEL_2:
                raise SandboxError(403, "level_insufficient",
                                   "submitting a dossier needs a level-2 VNeID account")
            otp = db.execute("SELECT otp_id, used_by, expires_at FROM otps "
                             "WHERE confirmation_token = ? AND session_token = ?",
                             (submission.confirmation_token, session.token)).fetchone()
            if (otp is None or otp["used_by"]
                    or dt.datetime.fromisoformat(otp["expires_at"]) + DELIVERY_WINDOW <= self.now()):
                raise SandboxError(403, "not_confirmed",
                                   "the confirmation token is not an unused verified one-time code of this session")
            missing = [d.sha256 for d in submission.documents if not self.blob_state(d.sha256).present]
            if missing:
                raise SandboxError(409, "blob_missing", ",".join(dict.fromkeys(missing)))
            wrong_size = [d.sha256 for d in submission.documents if self.blob_state(d.sha256).size != d.size]
            if wrong_size:
                raise SandboxError(409, "blob_size_mismatch", ",".join(dict.fromkeys(wrong_size)))
            now = self.now()
            day = now.astimezone(CENTRE_TZ).strftime("%y%m%d")
            seq = self._next(db, f"dossier:{self.agency_code}:{day}")
            code = f"{self.agency_code}-{day}-{seq:04d}"
            db.execute(
                "INSERT INTO dossiers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (code, idempotency_key, submission.local_reference, session.token, submission.kiosk_id,
                 submission.procedure_code, procedure_name, json.dumps(submission.form, ensure_ascii=False),
                 now.isoformat(), submission.confirmed_at.isoformat(),
                 submission.appointment_date.isoformat() if submission.appointment_date else None,
                 DossierStatus.RECEIVED.value))
            db.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(code, i, d.component, d.name, d.sha256, d.size, d.pages)
                            for i, d in enumerate(submission.documents)])
            db.execute("UPDATE otps SET used_by = ? WHERE otp_id = ?", (code, otp["otp_id"]))
            row = db.execute("SELECT * FROM dossiers WHERE code = ?", (code,)).fetchone()
        log.info("sandbox dossier %s received (%d documents) from kiosk %s", code, len(submission.documents),
                 submission.kiosk_id)
        return self._receipt(row, duplicate=False)

    @staticmethod
    def _receipt(row: sqlite3.Row, *, duplicate: bool) -> DossierReceipt:
        return DossierReceipt(
            dossier_code=row["code"], local_reference=row["local_reference"],
            received_at=dt.datetime.fromisoformat(row["received_at"]),
            appointment_date=dt.date.fromisoformat(row["appointment_date"]) if row["appointment_date"] else None,
            status=DossierStatus(row["status"]), duplicate=duplicate)

    def dossier(self, code: str | None = None, *, local_reference: str | None = None) -> DossierView:
        with self._lock:
            if code is not None:
                row = self._db.execute("SELECT * FROM dossiers WHERE code = ?", (code,)).fetchone()
            else:
                row = self._db.execute("SELECT * FROM dossiers WHERE local_reference = ?",
                                       (local_reference,)).fetchone()
            if row is None:
                raise SandboxError(404, "dossier_unknown", "no dossier with this code")
            counts = self._db.execute("SELECT COUNT(*), COALESCE(SUM(pages), 0) FROM documents WHERE dossier_code = ?",
                                      (row["code"],)).fetchone()
        return DossierView(
            dossier_code=row["code"], status=DossierStatus(row["status"]), procedure_code=row["procedure_code"],
            procedure_name=row["procedure_name"], received_at=dt.datetime.fromisoformat(row["received_at"]),
            appointment_date=dt.date.fromisoformat(row["appointment_date"]) if row["appointment_date"] else None,
            documents=int(counts[0]), pages=int(counts[1]),
            **_status_details(row["code"], DossierStatus(row["status"])))

    def set_status(self, code: str, status: DossierStatus) -> DossierView:
        """Move a dossier along (test-only: what portal staff would do)."""
        with self._tx() as db:
            if db.execute("UPDATE dossiers SET status = ? WHERE code = ?", (status.value, code)).rowcount == 0:
                raise SandboxError(404, "dossier_unknown", "no dossier with this code")
        return self.dossier(code)

    def all_dossiers(self) -> list[dict[str, Any]]:
        """Every dossier with its documents (test-only: prove the portal holds exactly what was confirmed)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM dossiers ORDER BY received_at, code").fetchall()
            docs = self._db.execute("SELECT * FROM documents ORDER BY dossier_code, position").fetchall()
        by_code: dict[str, list[dict[str, Any]]] = {}
        for d in docs:
            by_code.setdefault(d["dossier_code"], []).append(
                {"component": d["component"], "name": d["name"], "sha256": d["sha256"], "size": d["size"],
                 "pages": d["pages"]})
        return [{"dossier_code": r["code"], "local_reference": r["local_reference"],
                 "idempotency_key": r["idempotency_key"], "kiosk_id": r["kiosk_id"],
                 "procedure_code": r["procedure_code"], "status": r["status"], "received_at": r["received_at"],
                 "confirmed_at": r["confirmed_at"], "appointment_date": r["appointment_date"],
                 "form": json.loads(r["form"]), "documents": by_code.get(r["code"], [])} for r in rows]

    # ---------------------------------------------------------------------------------- queue, rating
    def issue_ticket(self, request: QueueTicketRequest) -> QueueTicket:
        now = self.now()
        day = now.astimezone(CENTRE_TZ).date().isoformat()
        with self._tx() as db:
            seq = self._next(db, f"ticket:{day}")
            number = f"A{seq:03d}"
            counter = COUNTERS[(seq - 1) % len(COUNTERS)]
            # People still waiting: tickets issued in the last 30 minutes (about one served per 10 minutes
            # per counter in a commune centre).
            since = (now - dt.timedelta(minutes=30)).isoformat()
            waiting = db.execute("SELECT COUNT(*) FROM tickets WHERE day = ? AND issued_at >= ?",
                                 (day, since)).fetchone()[0]
            db.execute("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (day, number, counter, request.kiosk_id, request.procedure_code, request.dossier_code,
                        now.isoformat()))
        return QueueTicket(number=number, counter=counter, waiting=int(waiting), issued_at=now)

    def rate(self, rating: RatingRequest) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO ratings(kiosk_id, level, dossier_code, comment, rated_at) VALUES (?, ?, ?, ?, ?)",
                       (rating.kiosk_id, rating.level.value, rating.dossier_code, rating.comment,
                        self.now().isoformat()))

    def call_staff(self, request: AssistanceRequest) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO assistance(kiosk_id, step, requested_at) VALUES (?, ?, ?)",
                       (request.kiosk_id, request.step, self.now().isoformat()))

    def assistance_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM assistance ORDER BY id").fetchall()]

    def ratings(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM ratings ORDER BY id").fetchall()]

    # ---------------------------------------------------------------------------------- fleet
    def register_kiosk(self, enrolment_code: str, kiosk_id: str, app_version: str = "") -> tuple[str, dt.datetime]:
        """Issue a kiosk token for a one-time enrolment code; returns (token, issued_at). Only a hash of the
        token is kept. The same kiosk replaying its code (a lost answer) gets a fresh token that replaces the
        old one; another kiosk presenting a used code is refused."""
        code = enrolment_code.strip()
        if code in EXPIRED_ENROLMENT_CODES:
            raise SandboxError(401, "enrolment_code_expired", "the enrolment code has expired; ask for a new one")
        if not TEST_ENROLMENT_PATTERN.fullmatch(code):
            raise SandboxError(401, "enrolment_code_unknown", "the enrolment code is not recognised")
        token = secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self.now()
        with self._tx() as db:
            used = db.execute("SELECT kiosk_id FROM kiosks WHERE enrolment_code = ?", (code,)).fetchone()
            if used is not None and used["kiosk_id"] != kiosk_id:
                raise SandboxError(409, "enrolment_code_used", "this enrolment code was used by another kiosk")
            db.execute("INSERT INTO kiosks VALUES (?, ?, ?, ?, ?) ON CONFLICT(kiosk_id) DO UPDATE SET "
                       "enrolment_code = excluded.enrolment_code, token_sha256 = excluded.token_sha256, "
                       "registered_at = excluded.registered_at, app_version = excluded.app_version",
                       (kiosk_id, code, digest, now.isoformat(), app_version))
        log.info("sandbox kiosk %s registered", kiosk_id)
        return token, now

    def _check_kiosk(self, kiosk_id: str, token: str | None) -> None:
        with self._lock:
            row = self._db.execute("SELECT token_sha256 FROM kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
        if not token:
            raise SandboxError(401, "kiosk_auth_required", "send the kiosk token in X-Kiosk-Token")
        digest = hashlib.sha256(token.encode()).hexdigest()
        if row is None or not secrets.compare_digest(row["token_sha256"], digest):
            raise SandboxError(401, "kiosk_unknown", "no registered kiosk with this id and token")

    def kiosk_config(self, kiosk_id: str, token: str | None) -> tuple[int, dict[str, Any]]:
        """The settings the portal's administrators set for this kiosk, and their version (0: none yet)."""
        self._check_kiosk(kiosk_id, token)
        return self.config_version_and_settings(kiosk_id)

    def config_version_and_settings(self, kiosk_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            row = self._db.execute("SELECT version, settings FROM kiosk_configs WHERE kiosk_id = ?",
                                   (kiosk_id,)).fetchone()
        return (0, {}) if row is None else (row["version"], json.loads(row["settings"]))

    def set_kiosk_config(self, kiosk_id: str, settings: dict[str, Any]) -> int:
        """Test-only (an administrator's console): new settings for a kiosk; returns the new version."""
        version = self.config_version_and_settings(kiosk_id)[0] + 1
        with self._tx() as db:
            db.execute("INSERT INTO kiosk_configs(kiosk_id, version, settings) VALUES (?, ?, ?) "
                       "ON CONFLICT(kiosk_id) DO UPDATE SET version = excluded.version, settings = excluded.settings",
                       (kiosk_id, version, json.dumps(settings, ensure_ascii=False)))
        return version

    def record_heartbeat(self, kiosk_id: str, token: str | None, body: dict[str, Any]) -> dt.datetime:
        """Keep one heartbeat from a registered kiosk whose token matches; returns when it was received."""
        self._check_kiosk(kiosk_id, token)
        now = self.now()
        with self._tx() as db:
            db.execute("INSERT INTO heartbeats(kiosk_id, received_at, body) VALUES (?, ?, ?)",
                       (kiosk_id, now.isoformat(), json.dumps(body, ensure_ascii=False)))
        return now

    def heartbeats(self, kiosk_id: str) -> list[dict[str, Any]]:
        """Every heartbeat a kiosk sent, oldest first (test-only: what the fleet dashboard would see)."""
        with self._lock:
            rows = self._db.execute("SELECT received_at, body FROM heartbeats WHERE kiosk_id = ? ORDER BY id",
                                    (kiosk_id,)).fetchall()
        return [{"received_at": r["received_at"], **json.loads(r["body"])} for r in rows]


def _status_details(code: str, status: DossierStatus) -> dict[str, Any]:
    """What staff would enter with a status (sandbox stand-ins): the national number, what to bring (5),
    the fee and its payment code (6), where to collect the result (9). Never personal data."""
    from kiosk.portal.models import NATIONAL_STATUS_CODE

    details: dict[str, Any] = {"status_code": NATIONAL_STATUS_CODE[status]}
    if status is DossierStatus.SUPPLEMENT_REQUIRED:
        details["note"] = "Bản chính Giấy chứng sinh (bản đã nộp bị mờ, không đọc được)."
    elif status is DossierStatus.PAYMENT_REQUIRED:
        details["fee_amount"] = 8000
        details["payment_code"] = "TT" + "".join(ch for ch in code if ch.isdigit())[-12:]
    elif status is DossierStatus.COMPLETED:
        details["result_at"] = "Quầy trả kết quả, Bộ phận Một cửa"
    return details


class BlobWriter:
    """Receives one upload in chunks, hashing as it goes; `commit(sha256)` keeps it only if the hash
    matches. Written to a temp file and renamed, so a half-received upload never looks present."""

    def __init__(self, store: SandboxStore) -> None:
        self._store = store
        self._hash = hashlib.sha256()
        self._size = 0
        fd, name = tempfile.mkstemp(dir=store.blob_dir, prefix=".upload-")
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > MAX_BLOB_BYTES:
            self.discard()
            raise SandboxError(413, "blob_too_large", f"a document may not exceed {MAX_BLOB_BYTES} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def commit(self, sha256: str) -> BlobState:
        self._file.close()
        if self._size == 0:
            self.discard()
            raise SandboxError(400, "blob_empty", "the upload was empty")
        if self._hash.hexdigest() != sha256:
            self.discard()
            raise SandboxError(400, "hash_mismatch", "the body's SHA-256 is not the one in the URL")
        target = self._store.blob_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            self.discard()  # content-addressed: the same bytes are already there
        else:
            os.replace(self._tmp, target)
        return self._store.blob_state(sha256)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)
