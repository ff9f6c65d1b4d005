"""Personalisation of the virtual CCCD: the LDS files and an EF.SOD signed by a test Document Signer.

DG13 layout (an ASSUMPTION built from public reader code, see drivers/chip.py): 6D { 30 { fields } } where each
field is SEQUENCE { INTEGER n, PrintableString | UTF8String }, parents SEQUENCE { INTEGER 13, SEQUENCE
{ UTF8String father }, SEQUENCE { UTF8String mother } }, spouse SEQUENCE { INTEGER 14 [, SEQUENCE { UTF8String }] }.
Dates in DG13 are dd/mm/yyyy, the ID and dates PrintableString, Vietnamese text UTF-8 in NFC.

All data is synthetic (the names and the ID are invented; the ID follows the structure of TT 59/2021:
province 001, sex/century digit, 2 birth-year digits, 6 digits).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import random
import unicodedata

from asn1crypto import algos, cms, core, x509 as asn1x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw

from drivers.icao.crypto import mrz_check_digit
from drivers.icao.pa import LdsSecurityObject
from drivers.icao.reader import FID_COM, FID_DG, FID_SOD
from drivers.icao.tlv import tlv


@dataclasses.dataclass
class CardProfile:
    id_number: str = "001090012345"
    full_name: str = "Nguyễn Văn An"
    birth_date: dt.date = dt.date(1990, 1, 1)
    sex: str = "Nam"
    nationality: str = "Việt Nam"
    ethnicity: str = "Kinh"
    religion: str = "Không"
    home_town: str = "Xã Đông Hưng, Tỉnh Thái Bình"
    residence: str = "Số 12 Tràng Tiền, Phường Hoàn Kiếm, Thành phố Hà Nội"
    identifying_marks: str = "Nốt ruồi C:1cm trên trước đầu lông mày phải"
    issue_date: dt.date = dt.date(2021, 8, 15)
    expiry_date: dt.date | None = dt.date(2030, 1, 1)  # 40th birthday (Luật Căn cước Điều 21)
    father_name: str = "Nguyễn Văn Bình"
    mother_name: str = "Trần Thị Cúc"
    spouse_name: str = ""
    old_id_number: str = "123456789"
    photo_bytes: int = 15000  # approximate DG2 JPEG size (real CCCD faces are ~10-20 kB)

    @property
    def mrz_document_number(self) -> str:
        return self.id_number[-9:]

    @property
    def mrz_expiry(self) -> str:
        return self.expiry_date.strftime("%y%m%d") if self.expiry_date else "991231"

    def mrz(self) -> str:
        doc = self.mrz_document_number
        opt = (self.id_number + "<<" + mrz_check_digit(self.id_number))[:15].ljust(15, "<")
        l1 = "IDVNM" + doc + mrz_check_digit(doc) + opt
        birth = self.birth_date.strftime("%y%m%d")
        sex = {"Nam": "M", "Nữ": "F"}.get(self.sex, "<")
        l2_head = birth + mrz_check_digit(birth) + sex + self.mrz_expiry + mrz_check_digit(self.mrz_expiry) + "VNM"
        l2_head = l2_head.ljust(29, "<")
        composite = l1[5:30] + l2_head[0:7] + l2_head[8:15] + l2_head[18:29]
        l2 = l2_head + mrz_check_digit(composite)
        surname, _, given = _ascii_name(self.full_name).partition(" ")
        l3 = (surname + "<<" + given.replace(" ", "<"))[:30].ljust(30, "<")
        assert len(l1) == len(l2) == len(l3) == 30
        return l1 + l2 + l3


def default_profile(**changes) -> CardProfile:
    return dataclasses.replace(CardProfile(), **changes)


def _ascii_name(name: str) -> str:
    s = unicodedata.normalize("NFD", name).replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.upper()


def _nfc(s: str) -> bytes:
    return unicodedata.normalize("NFC", s).encode("utf-8")


def _d(d: dt.date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "Không thời hạn"


# --------------------------------------------------------------------------------------------- files
def build_com(dgs=(1, 2, 13)) -> bytes:
    tags = {1: 0x61, 2: 0x75, 13: 0x6D}
    return tlv(0x60, [tlv(0x5F01, b"0107"), tlv(0x5F36, b"040000"), tlv(0x5C, bytes(tags[n] for n in dgs))])


def build_dg1(p: CardProfile) -> bytes:
    return tlv(0x61, tlv(0x5F1F, p.mrz().encode("ascii")))


def face_jpeg(target_bytes: int = 15000, seed: int = 7) -> bytes:
    """A synthetic face (ellipses) with some texture, JPEG, close to `target_bytes`."""
    rng = random.Random(seed)
    w, h = 240, 320
    img = Image.new("RGB", (w, h), (235, 235, 240))
    draw = ImageDraw.Draw(img)
    draw.ellipse((50, 50, 190, 240), fill=(224, 189, 160))
    draw.ellipse((85, 120, 105, 135), fill=(40, 30, 30))
    draw.ellipse((135, 120, 155, 135), fill=(40, 30, 30))
    draw.arc((95, 170, 145, 205), 20, 160, fill=(150, 60, 60), width=4)
    draw.rectangle((40, 250, 200, 320), fill=(30, 60, 120))
    px = img.load()
    assert px is not None
    for _ in range(w * h // 3):  # sensor noise, gives the JPEG a realistic size
        x, y = rng.randrange(w), rng.randrange(h)
        pixel = px[x, y]
        assert isinstance(pixel, tuple)  # an RGB image
        r, g, b = pixel
        n = rng.randint(-25, 25)
        px[x, y] = (max(0, min(255, r + n)), max(0, min(255, g + n)), max(0, min(255, b + n)))
    best = b""
    for q in range(95, 10, -5):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        best = buf.getvalue()
        if len(best) <= target_bytes:
            break
    return best


def build_dg2(jpeg: bytes) -> bytes:
    # ISO/IEC 19794-5 facial record: general header + one facial information block + image information
    face_info = (len(jpeg) + 20 + 12).to_bytes(4, "big") + bytes(2) + b"\x01" + bytes(17)
    image_info = bytes([1, 0]) + (240).to_bytes(2, "big") + (320).to_bytes(2, "big") + bytes([1, 2]) + bytes(4)
    body = face_info + image_info + jpeg
    record = b"FAC\x00" + b"010\x00" + (14 + len(body)).to_bytes(4, "big") + (1).to_bytes(2, "big") + body
    header = tlv(0xA1, [tlv(0x80, b"\x01\x01"), tlv(0x81, b"\x02"), tlv(0x87, b"\x01\x01"), tlv(0x88, b"\x00\x08")])
    return tlv(0x75, tlv(0x7F61, [tlv(0x02, b"\x01"), tlv(0x7F60, [header, tlv(0x5F2E, record)])]))


def build_dg13(p: CardProfile) -> bytes:
    def field(n: int, *values: bytes) -> bytes:
        return tlv(0x30, [tlv(0x02, bytes([n])), *values])

    ps = lambda s: tlv(0x13, s.encode("ascii"))  # noqa: E731 - PrintableString
    u8 = lambda s: tlv(0x0C, _nfc(s))  # noqa: E731 - UTF8String
    fields = [
        field(1, ps(p.id_number)), field(2, u8(p.full_name)), field(3, ps(_d(p.birth_date))), field(4, u8(p.sex)),
        field(5, u8(p.nationality)), field(6, u8(p.ethnicity)), field(7, u8(p.religion)),
        field(8, u8(p.home_town)), field(9, u8(p.residence)), field(10, u8(p.identifying_marks)),
        field(11, ps(_d(p.issue_date))), field(12, u8(_d(p.expiry_date))),
        field(13, tlv(0x30, u8(p.father_name)), tlv(0x30, u8(p.mother_name))),
        field(14, *( [tlv(0x30, u8(p.spouse_name))] if p.spouse_name else [])),
        field(15, ps(p.old_id_number)) if p.old_id_number else field(15),
    ]
    return tlv(0x6D, tlv(0x30, fields))


# --------------------------------------------------------------------------------------------- PKI
def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Ministry (DVC Kiosk tests)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclasses.dataclass
class TestPki:
    """A test CSCA and a Document Signer it issued (ECDSA P-256, generated at test time)."""

    csca_key: ec.EllipticCurvePrivateKey
    csca_cert: x509.Certificate
    ds_key: ec.EllipticCurvePrivateKey
    ds_cert: x509.Certificate

    __test__ = False  # not a pytest class

    @classmethod
    def generate(cls, cn: str = "CSCA Test VN", *, seed: bytes | None = None) -> TestPki:
        """Fresh random keys; with `seed`, the same keys every time (the demo's CSCA: any process can write
        its bundle and every demo card built elsewhere still chains to it)."""
        now = dt.datetime.now(dt.UTC)

        def key(label: bytes) -> ec.EllipticCurvePrivateKey:
            if seed is None:
                return ec.generate_private_key(ec.SECP256R1())
            n = int.from_bytes(hashlib.sha256(seed + label).digest(), "big") % (2**255) + 1
            return ec.derive_private_key(n, ec.SECP256R1())

        def serial(label: bytes) -> int:
            if seed is None:
                return x509.random_serial_number()
            return int.from_bytes(hashlib.sha256(seed + b"serial" + label).digest()[:16], "big") >> 1

        start = now - dt.timedelta(days=1) if seed is None else dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        ck = key(b"csca")
        csca = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                .public_key(ck.public_key()).serial_number(serial(b"csca"))
                .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650 * 2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .sign(ck, hashes.SHA256()))
        dk = key(b"ds")
        ds = (x509.CertificateBuilder().subject_name(_name("DS Test VN")).issuer_name(csca.subject)
              .public_key(dk.public_key()).serial_number(serial(b"ds"))
              .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650 * 2))
              .sign(ck, hashes.SHA256()))
        return cls(ck, csca, dk, ds)

    def csca_pem(self) -> bytes:
        return self.csca_cert.public_bytes(serialization.Encoding.PEM)


def build_sod(dgs: dict[int, bytes], pki: TestPki, *, break_signature: bool = False) -> bytes:
    lso = LdsSecurityObject({
        "version": 0,
        "hash_algorithm": {"algorithm": "sha256"},
        "data_group_hash_values": [{"data_group_number": n, "data_group_hash_value": hashlib.sha256(d).digest()}
                                   for n, d in sorted(dgs.items())],
    })
    econtent = lso.dump()
    attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": [cms.ContentType("2.23.136.1.1.1")]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(econtent).digest()]}),
    ])
    sig = pki.ds_key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    if break_signature:
        sig = pki.ds_key.sign(attrs.dump() + b"x", ec.ECDSA(hashes.SHA256()))  # valid DER, wrong message
    ds = asn1x509.Certificate.load(pki.ds_cert.public_bytes(serialization.Encoding.DER))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": ds.issuer, "serial_number": ds.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "signature": sig,
    })
    sd = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "2.23.136.1.1.1", "content": core.ParsableOctetString(econtent)},
        "certificates": [ds],
        "signer_infos": [signer],
    })
    return tlv(0x77, cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


@functools.lru_cache(maxsize=4)
def _jpeg(size: int) -> bytes:
    return face_jpeg(size)


def build_card_files(profile: CardProfile, pki: TestPki, *, variant: str = "good") -> dict[int, bytes]:
    """FID -> file bytes. Variants: good, wrong_hash (DG13 altered after signing: a cloned/edited chip),
    bad_signature, (unknown CSCA and expired are made with another PKI / profile, not here)."""
    dg1, dg2, dg13 = build_dg1(profile), build_dg2(_jpeg(profile.photo_bytes)), build_dg13(profile)
    sod = build_sod({1: dg1, 2: dg2, 13: dg13}, pki, break_signature=variant == "bad_signature")
    if variant == "wrong_hash":
        dg13 = build_dg13(dataclasses.replace(profile, full_name=profile.full_name + " Giả"))
    elif variant not in ("good", "bad_signature"):
        raise ValueError(f"unknown variant {variant!r}")
    return {FID_COM: build_com(), FID_DG[1]: dg1, FID_DG[2]: dg2, FID_DG[13]: dg13, FID_SOD: sod}
