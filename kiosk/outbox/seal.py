"""The kiosk's seal: a PAdES signature (pyHanko, PAdES B-B, invisible field) on every dossier PDF, made with the
key the kiosk generated at enrolment and the certificate the portal's CA issued for it (issue 14).

The seal says "this file left kiosk <id> like this": the certificate names the kiosk (subject CN = kiosk id,
O = "DVC Kiosk seal"), never a citizen, and the signature's /Name and /Reason say so. No citizen signature is
made or implied.

Key material, next to the portal credentials (`credentials.json`, mode 0600), like the outbox master key:
- the private key: the systemd credential `dvc-kiosk-seal-key` when given (off the data disk), else
  `seal-key.pem` (mode 0600, PKCS#8 PEM) beside credentials.json;
- `seal-cert.pem`: the kiosk's certificate followed by the issuing CA's (public, mode 0644).

`kiosk provision` makes the key and the certificate signing request (`new_key`, `make_csr`), sends the request
to the portal and saves the answer (`save_certificate`); the outbox's preparation step seals with `Sealer`.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import os
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.errors import KioskError

log = logging.getLogger("kiosk.outbox.seal")

KEY_FILE, CERT_FILE = "seal-key.pem", "seal-cert.pem"
#: The systemd credential holding the seal's private key (`LoadCredentialEncrypted=`), preferred to the file.
CREDENTIAL_NAME = "dvc-kiosk-seal-key"
FIELD_NAME = "KioskSeal"
ORGANISATION = "DVC Kiosk seal"
#: What the signature dictionary says (a clerk's PDF viewer shows it): the kiosk's seal, not a person's signature.
REASON = ("Dấu niêm phong của ki-ốt: tệp không bị thay đổi từ ki-ốt đến cổng dịch vụ công "
          "(không phải chữ ký của công dân)")
MAX_PEM_BYTES = 16 * 1024


class SealError(KioskError):
    """The seal key or certificate is missing or unusable, or signing failed (for the technician: `code`)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code, code=code)


# ---------------------------------------------------------------------------------------------- enrolment
def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_csr(key: ec.EllipticCurvePrivateKey, kiosk_id: str) -> bytes:
    """A PEM certificate signing request naming the kiosk (the CA sets the final subject itself)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kiosk_id),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def write_secret(path: Path, data: bytes, *, mode: int = 0o600, owner: tuple[int, int] | None = None) -> None:
    """tmp (created with `mode`) + fsync + rename + folder fsync, as the outbox writes its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if owner is not None:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def load_or_create_key(path: Path, *, owner: tuple[int, int] | None = None) -> ec.EllipticCurvePrivateKey:
    """The seal key at `path` (mode 0600), made once; an existing key is reused (a re-run after a lost answer
    asks for a certificate for the same key)."""
    if path.exists():
        return load_key(path)
    key = new_key()
    write_secret(path, key_pem(key), owner=owner)
    return key


def certificate_kiosk_id(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def read_certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    if len(data) > MAX_PEM_BYTES * 4:
        raise SealError("seal_certificate_unusable", f"{path.name} is too large")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise SealError("seal_certificate_unusable", f"{path.name} holds no PEM certificate") from e


def certificate_matches(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bool:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
        == key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def save_certificate(path: Path, chain_pem: str, key: ec.EllipticCurvePrivateKey, kiosk_id: str,
                     *, owner: tuple[int, int] | None = None) -> x509.Certificate:
    """Check what the CA answered (our key, our kiosk id), then write it; returns the kiosk's certificate."""
    data = chain_pem.encode()
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise SealError("seal_certificate_unusable", "the portal's answer holds no PEM certificate") from e
    cert = chain[0]
    if not certificate_matches(key, cert):
        raise SealError("seal_certificate_unusable", "the portal certified another key")
    if certificate_kiosk_id(cert) != kiosk_id:
        raise SealError("seal_certificate_unusable", "the portal certified another kiosk id")
    write_secret(path, data, mode=0o644, owner=owner)
    return cert


# ---------------------------------------------------------------------------------------------- finding the files
def key_path(folder: Path) -> Path:
    """The credential when systemd gave one, else the file beside credentials.json."""
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds and (Path(creds) / CREDENTIAL_NAME).is_file():
        return Path(creds) / CREDENTIAL_NAME
    return folder / KEY_FILE


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SealError("seal_key_unreadable", f"{path.name} unreadable") from e
    if path.name == KEY_FILE and stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("seal key was readable by others; restricting it to 0600")
        os.chmod(path, 0o600)
    try:
        key = serialization.load_pem_private_key(data[:MAX_PEM_BYTES], password=None)
    except (ValueError, TypeError) as e:
        raise SealError("seal_key_unreadable", f"{path.name} is not a PEM private key") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SealError("seal_key_unreadable", f"{path.name} is not an EC key")
    return key


# ---------------------------------------------------------------------------------------------- sealing
class Sealer:
    """Seals PDFs with the kiosk's key and certificate (thread-safe: one call builds its own writer)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, chain: list[x509.Certificate]) -> None:
        from asn1crypto import keys as asn1_keys, x509 as asn1_x509
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        if not chain or not certificate_matches(key, chain[0]):
            raise SealError("seal_certificate_unusable", "the seal certificate is not for the seal key")
        self.kiosk_id = certificate_kiosk_id(chain[0])
        self.not_after = chain[0].not_valid_after_utc
        der = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain]
        self._signer = signers.SimpleSigner(
            signing_cert=der[0],
            signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
            cert_registry=SimpleCertificateStore.from_certs(der))

    @classmethod
    def from_folder(cls, folder: Path | str) -> Sealer | None:
        """The sealer of an enrolled kiosk; None when it has no seal certificate yet (not enrolled for sealing)."""
        folder = Path(folder)
        cert_path = folder / CERT_FILE
        if not cert_path.exists():
            return None
        return cls(load_key(key_path(folder)), read_certificates(cert_path))

    @staticmethod
    def is_sealed(pdf: bytes) -> bool:
        """True when the file already carries the kiosk's seal (the preparation step is then done for it)."""
        from pyhanko.pdf_utils.reader import PdfFileReader

        try:
            signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
            return any(s.field_name == FIELD_NAME for s in signatures)
        except Exception:  # noqa: BLE001 - an unreadable file is not sealed; sealing it will say why
            return False

    def seal(self, pdf: bytes) -> bytes:
        """The same PDF with the kiosk's PAdES B-B seal appended as an incremental update (invisible field)."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        if dt.datetime.now(dt.UTC) > self.not_after:
            raise SealError("seal_certificate_expired", "the seal certificate has expired: re-enrol the kiosk")
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            meta = signers.PdfSignatureMetadata(
                field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
                name=f"Ki-ốt {self.kiosk_id}", reason=REASON)
            out = signers.PdfSigner(meta, signer=self._signer,
                                    new_field_spec=fields.SigFieldSpec(FIELD_NAME, box=None)).sign_pdf(writer)
        except SealError:
            raise
        except Exception as e:  # noqa: BLE001 - pyHanko raises many kinds; the technician needs one code
            raise SealError("seal_failed", f"{type(e).__name__}: {str(e)[:200]}") from e
        return out.getvalue()


__all__ = ["Sealer", "SealError", "new_key", "key_pem", "make_csr", "load_key", "load_or_create_key",
           "save_certificate", "read_certificates", "certificate_kiosk_id", "key_path", "write_secret", "KEY_FILE",
           "CERT_FILE", "CREDENTIAL_NAME", "FIELD_NAME", "REASON"]
