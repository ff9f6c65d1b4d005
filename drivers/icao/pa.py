"""Passive authentication (ICAO 9303 part 11 §5.1, part 10 §4.6.2 EF.SOD, part 12 PKI).

1. EF.SOD (tag 0x77) wraps a CMS SignedData whose encapsulated content (type id-icao-mrtd-security-ldsSecurityObject,
   2.23.136.1.1.1) is the LDSSecurityObject: the hash algorithm and one hash per data group.
2. Every data group we read must be listed and its hash must match (a cloned/altered chip fails here).
3. The signer info's signed attributes carry the message digest of that content; their DER (as a SET OF) is
   signed by the Document Signer (DS) whose certificate is in the SignedData.
4. The DS certificate must be issued (name + signature) by a Country Signing CA (CSCA) in the configured bundle.

Not checked: CRLs, DS/CSCA validity periods against the signing time (reported, not enforced), and the
"Master List" format (the bundle is PEM/DER certificates in a file or a folder).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
from typing import Any

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from drivers.icao import tlv

LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"

# failure codes (stable, logged; no personal data)
OK = ""
BAD_SOD = "bad_sod"
DG_MISSING = "dg_missing_from_sod"
DG_HASH_MISMATCH = "dg_hash_mismatch"
BAD_SIGNATURE = "bad_signature"
UNKNOWN_CSCA = "unknown_csca"
NO_CSCA = "no_csca_configured"


class DataGroupHash(core.Sequence):
    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):
    _fields = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]


class LdsSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
           "sha384": hashes.SHA384, "sha512": hashes.SHA512}


@dataclasses.dataclass(frozen=True)
class PassiveAuthResult:
    """Outcome of passive authentication. `failure` is one of the codes above ("" when ok)."""

    ok: bool
    failure: str = ""
    hash_algorithm: str = ""
    dg_hashes: dict[int, bool] = dataclasses.field(default_factory=dict)  # DG number -> hash matched
    signature_ok: bool = False
    chain_ok: bool = False
    ds_subject: str = ""  # Document Signer subject (an authority, not a citizen)
    csca_subject: str = ""


class CscaStore:
    """Trusted CSCA certificates, from PEM/DER files (a bundle file or a folder of them)."""

    def __init__(self, certs: list[x509.Certificate] | None = None) -> None:
        self.certs = list(certs or [])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CscaStore:
        p = pathlib.Path(path)
        files = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
        certs: list[x509.Certificate] = []
        for f in files:
            data = f.read_bytes()
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs.extend(x509.load_pem_x509_certificates(data))
            elif f.suffix.lower() in (".der", ".cer", ".crt"):
                certs.append(x509.load_der_x509_certificate(data))
        return cls(certs)

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        return [c for c in self.certs if c.subject == cert.issuer]


@dataclasses.dataclass(frozen=True)
class Sod:
    hash_algorithm: str
    dg_hashes: dict[int, bytes]
    signed_data: cms.SignedData
    econtent: bytes


def parse_sod(data: bytes) -> Sod:
    top = tlv.parse_one(data)
    if top.tag != 0x77:
        raise ValueError("EF.SOD does not start with tag 77")
    info = cms.ContentInfo.load(top.value)
    if info["content_type"].native != "signed_data":
        raise ValueError("EF.SOD is not CMS SignedData")
    sd = info["content"]
    eci = sd["encap_content_info"]
    if eci["content_type"].dotted != LDS_SECURITY_OBJECT_OID:
        raise ValueError("EF.SOD content is not an LDSSecurityObject")
    econtent = eci["content"].native
    if isinstance(econtent, core.ParsableOctetString):  # pragma: no cover - asn1crypto variants
        econtent = econtent.native
    lso = LdsSecurityObject.load(bytes(econtent))
    algo = lso["hash_algorithm"]["algorithm"].native
    hashes_ = {int(h["data_group_number"].native): bytes(h["data_group_hash_value"].native)
               for h in lso["data_group_hash_values"]}
    return Sod(algo, hashes_, sd, bytes(econtent))


def _digest(algo: str, data: bytes) -> bytes:
    return hashlib.new(algo, data).digest()


def _signer_cert(sd: cms.SignedData, signer: cms.SignerInfo) -> x509.Certificate:
    sid = signer["sid"]
    certs = [c.chosen for c in sd["certificates"] if c.name == "certificate"] if sd["certificates"] else []
    for c in certs:
        if sid.name == "issuer_and_serial_number":
            if c.issuer == sid.chosen["issuer"] and c.serial_number == sid.chosen["serial_number"].native:
                return x509.load_der_x509_certificate(c.dump())
        elif c.key_identifier == sid.chosen.native:
            return x509.load_der_x509_certificate(c.dump())
    raise ValueError("the Document Signer certificate is not in EF.SOD")


def _verify_signature(cert: x509.Certificate, signer: cms.SignerInfo, signed: bytes) -> None:
    sig = bytes(signer["signature"].native)
    hash_name = signer["digest_algorithm"]["algorithm"].native
    h = _HASHES[hash_name]()
    key = cert.public_key()
    sig_algo = signer["signature_algorithm"]
    if isinstance(key, rsa.RSAPublicKey):
        if sig_algo.signature_algo == "rsassa_pss":
            params = sig_algo["parameters"]
            pss_hash = _HASHES[params["hash_algorithm"]["algorithm"].native]()
            key.verify(sig, signed, padding.PSS(padding.MGF1(pss_hash), params["salt_length"].native), pss_hash)
        else:
            key.verify(sig, signed, padding.PKCS1v15(), h)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(sig, signed, ec.ECDSA(h))
    else:
        raise InvalidSignature("unsupported Document Signer key type")


def verify(sod_bytes: bytes, data_groups: dict[int, bytes], csca: CscaStore | None) -> PassiveAuthResult:
    """Passive authentication of the data groups read (DG number -> the file bytes as read)."""
    try:
        sod = parse_sod(sod_bytes)
    except Exception:  # noqa: BLE001 - any malformed SOD is one outcome
        return PassiveAuthResult(False, BAD_SOD)
    checked: dict[int, bool] = {}
    failure = OK
    for num, data in sorted(data_groups.items()):
        expected = sod.dg_hashes.get(num)
        if expected is None:
            checked[num] = False
            failure = failure or DG_MISSING
            continue
        checked[num] = _digest(sod.hash_algorithm, data) == expected
        if not checked[num]:
            failure = failure or DG_HASH_MISMATCH
    base: dict[str, Any] = dict(hash_algorithm=sod.hash_algorithm, dg_hashes=checked)
    # signature of the Document Signer over the signed attributes
    try:
        signer = sod.signed_data["signer_infos"][0]
        attrs = signer["signed_attrs"]
        md = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
        if bytes(md) != _digest(signer["digest_algorithm"]["algorithm"].native, sod.econtent):
            raise InvalidSignature("message digest does not match the LDSSecurityObject")
        signed = b"\x31" + attrs.dump()[1:]  # DER of the SET OF, not of the [0] IMPLICIT field
        ds = _signer_cert(sod.signed_data, signer)
        _verify_signature(ds, signer, signed)
    except Exception:  # noqa: BLE001
        return PassiveAuthResult(False, failure or BAD_SIGNATURE, **base)
    ds_subject = ds.subject.rfc4514_string()
    if csca is None or not csca.certs:
        return PassiveAuthResult(False, failure or NO_CSCA, signature_ok=True, ds_subject=ds_subject, **base)
    for ca in csca.issuers_of(ds):
        try:
            ds.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return PassiveAuthResult(not failure, failure, signature_ok=True, chain_ok=True, ds_subject=ds_subject,
                                 csca_subject=ca.subject.rfc4514_string(), **base)
    return PassiveAuthResult(False, failure or UNKNOWN_CSCA, signature_ok=True, ds_subject=ds_subject, **base)
