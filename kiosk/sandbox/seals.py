"""The sandbox as the kiosks' issuing CA, and the check of every dossier PDF's seal on receipt (issue 14).

- `SandboxCA(folder)`: a CA key and self-signed certificate made once (key mode 0600) in `<db>.ca/`; `issue`
  signs an enrolled kiosk's certificate signing request into a certificate whose subject is the kiosk id (CN)
  and "DVC Kiosk seal" (O), for signing only (digitalSignature + nonRepudiation), valid `CERT_DAYS` days.
  The CA remembers which kiosks it certified (`certified`).
- `verify_pdf(data, kiosk_id, ca)`: the PDF's kiosk seal validated with pyHanko against this CA only (no fetching):
  intact, trusted, covering the whole file, made by the submitting kiosk's certificate. Anything else raises
  `SandboxError(422, "seal_invalid")` naming what failed (never the file's content).

Policy: a kiosk the CA has certified must seal every document (an unsealed one is refused like a tampered one:
stripping the seal must not get a changed file through); a kiosk never certified (a demo, an older kiosk) is
accepted and its documents are recorded as "unsealed". A file that carries a seal is always checked.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
import os
import threading
import weakref
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.sandbox.store import SandboxError

log = logging.getLogger("kiosk.sandbox.seals")

CERT_DAYS = 730
MAX_CSR_BYTES = 8 * 1024
SEAL_ORGANISATION = "DVC Kiosk seal"
VERIFIED, UNSEALED = "verified", "unsealed"


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class SandboxCA:
    """The sandbox's issuing CA for kiosk seals. Thread-safe."""

    def __init__(self, folder: Path | str, *, name: str = "DVC Kiosk Sandbox CA") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self._lock = threading.Lock()
        key_file, cert_file = self.folder / "ca-key.pem", self.folder / "ca-cert.pem"
        if key_file.exists() and cert_file.exists():
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_file}: not the EC key this CA writes")
            self._key = key
            self.certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        else:
            self._key = ec.generate_private_key(ec.SECP256R1())
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DVC Kiosk sandbox")])
            now = dt.datetime.now(dt.UTC)
            self.certificate = (
                x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
                .sign(self._key, hashes.SHA256()))
            _write(key_file, self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()), 0o600)
            _write(cert_file, self.pem, 0o644)
        self._issued_file = self.folder / "issued.json"

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def certified(self, kiosk_id: str) -> bool:
        return kiosk_id in self._issued()

    def _issued(self) -> dict[str, str]:
        try:
            return json.loads(self._issued_file.read_text())
        except FileNotFoundError:
            return {}

    def issue(self, csr_pem: str, kiosk_id: str) -> str:
        """Sign a kiosk's CSR; returns the PEM chain (the kiosk's certificate, then this CA's).
        Errors: csr_invalid (not a PEM CSR, a bad self-signature, not an EC P-256 / RSA >= 2048 key)."""
        data = csr_pem.encode()
        if len(data) > MAX_CSR_BYTES:
            raise SandboxError(422, "csr_invalid", f"a certificate request may not exceed {MAX_CSR_BYTES} bytes")
        try:
            csr = x509.load_pem_x509_csr(data)
        except ValueError:
            raise SandboxError(422, "csr_invalid", "not a PEM certificate signing request") from None
        if not csr.is_signature_valid:
            raise SandboxError(422, "csr_invalid", "the request's signature does not match its key")
        public = csr.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
            raise SandboxError(422, "csr_invalid", "the seal key must be EC P-256")
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kiosk_id),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, SEAL_ORGANISATION)])
        cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(self.certificate.subject)
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CERT_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256()))
        with self._lock:
            issued = self._issued()
            issued[kiosk_id] = now.isoformat()
            _write(self._issued_file, json.dumps(issued).encode(), 0o644)
        log.info("sandbox CA: seal certificate issued for kiosk %s", kiosk_id)
        return (cert.public_bytes(serialization.Encoding.PEM) + self.pem).decode()


@dataclasses.dataclass(frozen=True)
class SealCheck:
    status: str  # VERIFIED or UNSEALED
    signer: str = ""  # the certificate's kiosk id
    signed_at: str = ""


def _refuse(why: str) -> SandboxError:
    return SandboxError(422, "seal_invalid", why)


def verify_pdf(data: bytes, kiosk_id: str, ca: SandboxCA) -> SealCheck:
    """Check one dossier PDF's seal (see the module's policy). Raises SandboxError 422 seal_invalid."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    sigs = []
    if b"/ByteRange" in data:  # every signature dictionary has one (pyHanko writes them uncompressed)
        try:
            sigs = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        except Exception:  # noqa: BLE001 - a seal that cannot be read is no seal
            raise _refuse("the PDF carries a signature but cannot be parsed") from None
    if not sigs:
        if ca.certified(kiosk_id):
            raise _refuse("this kiosk seals its documents, and this one has no seal")
        return SealCheck(UNSEALED)
    root = asn1_x509.Certificate.load(ca.certificate.public_bytes(serialization.Encoding.DER))
    checked: SealCheck | None = None
    for sig in sigs:
        context = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(sig, context, key_usage_settings=KeyUsageConstraints(
                key_usage={"digital_signature"}))
        except Exception as e:  # noqa: BLE001 - a malformed signature is a refused one
            raise _refuse(f"the seal cannot be validated ({type(e).__name__})") from None
        if not status.intact:
            raise _refuse("the file was changed after it was sealed (digest mismatch)")
        if not status.valid:
            raise _refuse("the seal's cryptographic signature is not valid")
        if not status.trusted:
            raise _refuse("the seal was not made with a certificate of this portal's CA")
        cn = status.signing_cert.subject.native.get("common_name", "")
        if cn != kiosk_id:
            raise _refuse("the seal was made by another kiosk")
        checked = SealCheck(VERIFIED, signer=cn,
                            signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else "")
    # Only the last signature may cover the whole file: anything appended after it is unsealed content.
    if sigs[-1].coverage is None or sigs[-1].coverage.name != "ENTIRE_FILE":
        raise _refuse("content was appended after the seal")
    assert checked is not None
    return checked


# ---------------------------------------------------------------------------------------------- the portal's side
_CAS: weakref.WeakKeyDictionary[Any, SandboxCA] = weakref.WeakKeyDictionary()
_CAS_LOCK = threading.Lock()

_SCHEMA = """CREATE TABLE IF NOT EXISTS document_seals (
    dossier_code TEXT NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL, signer TEXT NOT NULL,
    signed_at TEXT NOT NULL, checked_at TEXT NOT NULL, PRIMARY KEY (dossier_code, sha256))"""


def ca_for(store: Any) -> SandboxCA:
    """The CA of one sandbox portal (its files beside the portal's database: a reset portal gets a new CA)."""
    with _CAS_LOCK:
        ca = _CAS.get(store)
        if ca is None:
            ca = _CAS[store] = SandboxCA(store.db_path.with_name(store.db_path.name + ".ca"))
        return ca


def check_submission(store: Any, submission: Any) -> dict[str, SealCheck]:
    """Every received document's seal (documents not uploaded yet are left to the submission's own blob_missing
    check). Raises SandboxError 422 seal_invalid on the first that fails."""
    ca = ca_for(store)
    checks: dict[str, SealCheck] = {}
    for doc in submission.documents:
        if doc.sha256 in checks or not store.blob_state(doc.sha256).present:
            continue
        try:
            checks[doc.sha256] = verify_pdf(store.blob_path(doc.sha256).read_bytes(), submission.kiosk_id, ca)
        except SandboxError as e:
            log.warning("sandbox: a document of %s from kiosk %s refused: %s", submission.local_reference,
                        submission.kiosk_id, e.detail)
            raise
    return checks


def record(store: Any, dossier_code: str, checks: dict[str, SealCheck]) -> None:
    now = store.now().isoformat()
    with store._tx() as db:  # noqa: SLF001 - the seal table lives in the portal's database
        db.execute(_SCHEMA)
        db.executemany("INSERT OR IGNORE INTO document_seals VALUES (?, ?, ?, ?, ?, ?)",
                       [(dossier_code, sha, c.status, c.signer, c.signed_at, now) for sha, c in checks.items()])
    if checks:
        log.info("sandbox dossier %s: seals %s", dossier_code,
                 ", ".join(sorted({c.status for c in checks.values()})))


def seal_states(store: Any) -> dict[tuple[str, str], str]:
    """(dossier code, sha256) -> "verified" / "unsealed", for the test-only dossier listing."""
    with store._tx() as db:  # noqa: SLF001
        db.execute(_SCHEMA)
        return {(r[0], r[1]): r[2] for r in db.execute("SELECT dossier_code, sha256, status FROM document_seals")}


__all__ = ["SandboxCA", "SealCheck", "verify_pdf", "ca_for", "check_submission", "record", "seal_states",
           "VERIFIED", "UNSEALED", "CERT_DAYS"]
