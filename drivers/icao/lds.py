"""Parsing the LDS files a Vietnamese CCCD chip carries: EF.COM, DG1 (MRZ), DG2 (face), DG13 (Vietnamese data).

DG13 is not defined by ICAO for Vietnam; its layout was learned from public reader code (see drivers/chip.py's
module docstring for what was found and where): tag 0x6D, and inside it, nested SEQUENCEs of
`SEQUENCE { INTEGER field-number, value... }`. Values are PrintableString (0x13) or UTF8String (0x0C);
field 13 (parents) holds two nested `SEQUENCE { UTF8String }` (father, mother), field 14 (spouse) zero or one.
The parser below does not depend on the exact nesting depth: it walks every constructed object and takes
each SEQUENCE whose first element is a small INTEGER as one field.
"""
from __future__ import annotations

import dataclasses
import unicodedata

from drivers.icao import tlv


class LdsError(ValueError):
    """An LDS file does not have the expected structure."""


# --------------------------------------------------------------------------------------------- EF.COM
@dataclasses.dataclass(frozen=True)
class EfCom:
    lds_version: str
    unicode_version: str
    dg_tags: tuple[int, ...]

    @property
    def data_groups(self) -> tuple[int, ...]:
        from drivers.icao.reader import DG_TAGS
        return tuple(DG_TAGS[t] for t in self.dg_tags if t in DG_TAGS)


def parse_com(data: bytes) -> EfCom:
    top = tlv.parse_one(data)
    if top.tag != 0x60:
        raise LdsError("EF.COM does not start with tag 60")
    items = {t.tag: t.value for t in top.children()}
    return EfCom(items.get(0x5F01, b"").decode("ascii", "replace"),
                 items.get(0x5F36, b"").decode("ascii", "replace"),
                 tuple(items.get(0x5C, b"")))


# --------------------------------------------------------------------------------------------- DG1
@dataclasses.dataclass(frozen=True)
class Mrz:
    """A TD1 (ID-card, 3 x 30) MRZ, fields as printed (fillers '<' removed where obvious)."""

    raw: str
    document_code: str
    issuing_state: str
    document_number: str
    document_number_check: str
    optional_data_1: str
    birth_date: str  # YYMMDD
    sex: str  # M / F / <
    expiry_date: str  # YYMMDD
    nationality: str
    optional_data_2: str
    surname: str
    given_names: str

    @property
    def full_id_number(self) -> str:
        """The 12-digit ID number: Vietnamese CCCD put it in optional data 1 (followed by its check digit)."""
        digits = self.optional_data_1.replace("<", "")
        return digits[:12] if len(digits) >= 12 and digits[:12].isdigit() else ""


def parse_mrz(text: str) -> Mrz:
    s = text.replace("\n", "").replace("\r", "")
    if len(s) != 90:
        raise LdsError(f"MRZ of {len(s)} characters: only TD1 (90) is supported")
    l1, l2, l3 = s[:30], s[30:60], s[60:90]
    names = l3.rstrip("<").split("<<", 1)
    return Mrz(
        raw=s,
        document_code=l1[0:2].replace("<", ""),
        issuing_state=l1[2:5],
        document_number=l1[5:14].rstrip("<"),
        document_number_check=l1[14],
        optional_data_1=l1[15:30],
        birth_date=l2[0:6],
        sex=l2[7],
        expiry_date=l2[8:14],
        nationality=l2[15:18],
        optional_data_2=l2[18:29],
        surname=names[0].replace("<", " ").strip(),
        given_names=(names[1] if len(names) > 1 else "").replace("<", " ").strip(),
    )


def parse_dg1(data: bytes) -> Mrz:
    top = tlv.parse_one(data)
    if top.tag != 0x61:
        raise LdsError("DG1 does not start with tag 61")
    mrz = tlv.find(top.value, 0x5F1F)
    if mrz is None:
        raise LdsError("DG1 has no MRZ (5F1F)")
    return parse_mrz(mrz.value.decode("ascii"))


# --------------------------------------------------------------------------------------------- DG2
JPEG_SOI = b"\xff\xd8\xff"
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
J2K_CODESTREAM = b"\xff\x4f\xff\x51"


@dataclasses.dataclass(frozen=True)
class FaceImage:
    data: bytes
    mime: str  # image/jpeg or image/jp2


def parse_dg2(data: bytes) -> FaceImage:
    """The first face image of DG2 (75 > 7F61 > 7F60 > 5F2E/7F2E ISO 19794-5 record > JPEG or JPEG 2000)."""
    top = tlv.parse_one(data)
    if top.tag != 0x75:
        raise LdsError("DG2 does not start with tag 75")
    group = tlv.find(top.value, 0x7F61)
    if group is None:
        raise LdsError("DG2 has no biometric information group template (7F61)")
    for bit in group.children():
        if bit.tag != 0x7F60:
            continue
        for item in bit.children():
            if item.tag in (0x5F2E, 0x7F2E):
                return _image_from_record(item.value)
    raise LdsError("DG2 has no biometric data block")


def _image_from_record(record: bytes) -> FaceImage:
    hits = [(record.find(sig), mime) for sig, mime in
            ((JPEG_SOI, "image/jpeg"), (JP2_SIGNATURE, "image/jp2"), (J2K_CODESTREAM, "image/jp2"))]
    hits = [(i, m) for i, m in hits if i >= 0]
    if not hits:
        raise LdsError("no JPEG or JPEG 2000 image in the DG2 record")
    start, mime = min(hits)
    return FaceImage(record[start:], mime)


# --------------------------------------------------------------------------------------------- DG13
DG13_FIELDS = {
    1: "id_number", 2: "full_name", 3: "birth_date", 4: "sex", 5: "nationality", 6: "ethnicity",
    7: "religion", 8: "home_town", 9: "residence", 10: "identifying_marks", 11: "issue_date",
    12: "expiry_date", 13: "parents", 14: "spouse", 15: "old_id_number", 16: "field_16",
}
_STRING_TAGS = (0x0C, 0x13, 0x16, 0x1E, 0x04)


def _text(item: tlv.Tlv) -> str:
    if item.tag == 0x1E:  # BMPString
        s = item.value.decode("utf-16-be", "replace")
    else:
        s = item.value.decode("utf-8", "replace")
    return unicodedata.normalize("NFC", s).strip()


def _strings(items: list[tlv.Tlv]) -> list[str]:
    """Every string value among `items`, descending into SEQUENCEs (parents: SEQ{SEQ{UTF8}, SEQ{UTF8}})."""
    out: list[str] = []
    for it in items:
        if it.tag in _STRING_TAGS:
            out.append(_text(it))
        elif it.tag == 0x30:
            out.extend(_strings(it.children()))
    return out


def _is_field(kids: list[tlv.Tlv]) -> bool:
    """SEQUENCE { INTEGER n, (string | SEQUENCE { string... })* } is one field; anything else is a container."""
    if not kids or kids[0].tag != 0x02 or len(kids[0].value) != 1 or not 1 <= kids[0].value[0] <= 40:
        return False
    for k in kids[1:]:
        if k.tag in _STRING_TAGS:
            continue
        if k.tag == 0x30 and all(g.tag in _STRING_TAGS for g in k.children()):
            continue
        return False
    return True


def parse_dg13(data: bytes) -> dict[int, list[str]]:
    """Field number -> its string values, in order (most fields have one; parents have two)."""
    top = tlv.parse_one(data)
    if top.tag != 0x6D:
        raise LdsError("DG13 does not start with tag 6D")
    fields: dict[int, list[str]] = {}

    def walk(items: list[tlv.Tlv]) -> None:
        for it in items:
            if it.tag != 0x30:
                continue
            kids = it.children()
            if _is_field(kids):
                num = kids[0].value[0]
                fields.setdefault(num, _strings(kids[1:]))
                continue
            walk(kids)

    try:
        walk(top.children())
    except tlv.TlvError as exc:
        raise LdsError("DG13 is not valid TLV") from exc
    if 1 not in fields:
        raise LdsError("DG13 has no ID number (field 1)")
    return fields
