"""VietQR payment codes (NAPAS, EMVCo merchant-presented QR) printed on receipts that carry a fee.

Any Vietnamese banking app reads these: the citizen scans, sees the centre's account, the amount and the
dossier code as the transfer purpose, and confirms. The payload is EMVCo TLV text (two-digit tag, two-digit
length, value) closed by a CRC-16/CCITT-FALSE; banks reject a code whose CRC or lengths are wrong, so the
payload is built exactly as NAPAS specifies and `parse_tlv` checks codes read back.
"""
from __future__ import annotations

import binascii
import re
import unicodedata

__all__ = ["vietqr_payload", "crc16_ccitt_false", "parse_tlv", "fold_purpose", "VietQRError", "MAX_PURPOSE_LENGTH"]

NAPAS_AID = "A000000727"
SERVICE_TRANSFER_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
MAX_PURPOSE_LENGTH = 25
# Fields whose value is itself a TLV list: merchant account templates 26–51 (VietQR's 38 nests the beneficiary
# in its 01), additional data 62, language template 64.
_TEMPLATE_PATHS = {f"{tag:02d}" for tag in range(26, 52)} | {"38.01", "62", "64"}


class VietQRError(ValueError):
    """A payload cannot be built from these details, or a scanned payload is malformed or fails its CRC."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR) — EMVCo's checksum."""
    return binascii.crc_hqx(data, 0xFFFF)


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQRError(f"field {tag} is {len(value)} characters long; EMVCo allows 99")
    return f"{tag}{len(value):02d}{value}"


def fold_purpose(text: str) -> str:
    """Vietnamese → plain ASCII for the transfer purpose ("Phí chứng thực" → "Phi chung thuc"), at most 25
    characters: bank apps and NAPAS accept only ASCII there."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(c for c in decomposed if c.isascii() and (c.isprintable()))
    squeezed = re.sub(r"\s+", " ", ascii_only).strip()
    return squeezed[:MAX_PURPOSE_LENGTH].rstrip()


def vietqr_payload(
    bank_bin: str, account: str, amount: int | None = None, purpose: str | None = None, *, dynamic: bool | None = None
) -> str:
    """The VietQR text for a transfer to `account` at the bank `bank_bin` (NAPAS 6-digit BIN).

    With an amount the code is dynamic (point of initiation 12: one payment); without, static (11), unless
    `dynamic` says otherwise. The purpose is folded to ASCII and cut to 25 characters.
    """
    if not re.fullmatch(r"\d{6}", bank_bin or ""):
        raise VietQRError(f"bank BIN must be 6 digits, got {bank_bin!r}")
    if not re.fullmatch(r"[0-9A-Za-z]{1,19}", account or ""):
        raise VietQRError("account must be 1-19 letters or digits")
    if amount is not None and not (isinstance(amount, int) and 0 < amount < 10**13):
        raise VietQRError(f"amount must be a whole number of đồng between 1 and 13 digits, got {amount!r}")
    is_dynamic = amount is not None if dynamic is None else dynamic

    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant_account = _tlv("00", NAPAS_AID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_TRANSFER_TO_ACCOUNT)
    parts = [
        _tlv("00", "01"),
        _tlv("01", "12" if is_dynamic else "11"),
        _tlv("38", merchant_account),
        _tlv("53", CURRENCY_VND),
    ]
    if amount is not None:
        parts.append(_tlv("54", str(amount)))
    parts.append(_tlv("58", COUNTRY_VN))
    folded = fold_purpose(purpose) if purpose else ""
    if folded:
        parts.append(_tlv("62", _tlv("08", folded)))
    body = "".join(parts) + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def _parse_fields(text: str, path: str = "") -> dict[str, str | dict]:
    where = path or "payload"
    fields: dict[str, str | dict] = {}
    position = 0
    while position < len(text):
        header = text[position:position + 4]
        if len(header) < 4 or not header.isdigit():
            raise VietQRError(f"{where}: malformed field header at position {position}")
        tag, length = header[:2], int(header[2:])
        value = text[position + 4:position + 4 + length]
        if len(value) != length:
            raise VietQRError(f"{where}: field {tag} is cut short")
        if tag in fields:
            raise VietQRError(f"{where}: field {tag} appears twice")
        field_path = f"{path}.{tag}" if path else tag
        fields[tag] = _parse_fields(value, field_path) if field_path in _TEMPLATE_PATHS else value
        position += 4 + length
    return fields


def parse_tlv(payload: str) -> dict[str, str | dict]:
    """Fields of an EMVCo payload by tag (templates as nested dicts: VietQR's bank BIN is
    fields["38"]["01"]["00"]), after checking its CRC.

    VietQRError when the payload is malformed or its CRC does not match (a damaged or altered code).
    """
    payload = payload.strip()
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("payload does not end with a CRC field (6304…)")
    expected = f"{crc16_ccitt_false(payload[:-4].encode('utf-8')):04X}"
    if payload[-4:].upper() != expected:
        raise VietQRError(f"CRC mismatch: the code says {payload[-4:]}, its content gives {expected}")
    fields = _parse_fields(payload)
    if fields.get("00") != "01":
        raise VietQRError("payload format indicator (00) must be 01")
    return fields
