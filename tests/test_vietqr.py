"""VietQR payment codes: byte-for-byte equal to NAPAS' published examples, and tamper-evident.

Sources: the two example payloads in shared/domain.md (NAPAS VietQR specification examples: BIN 970415,
account 113366668888); the CRC check value 0x29B1 for "123456789" from the CRC catalogue (CRC-16/CCITT-FALSE).
"""
from __future__ import annotations

import pytest

from kiosk.domain.vietqr import VietQRError, crc16_ccitt_false, fold_purpose, parse_tlv, vietqr_payload

STATIC_EXAMPLE = "00020101021138560010A0000007270126000697041501121133666688880208QRIBFTTA53037045802VN6304F443"
DYNAMIC_EXAMPLE = (
    "00020101021238560010A0000007270126000697041501121133666688880208QRIBFTTA"
    "53037045405790005802VN62220818Ung Ho Quy Vac Xin63043ACF"
)


def test_crc_matches_the_catalogue_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_static_code_equals_the_published_example() -> None:
    assert vietqr_payload("970415", "113366668888", None, None) == STATIC_EXAMPLE


def test_dynamic_code_with_amount_and_purpose_equals_the_published_example() -> None:
    assert vietqr_payload("970415", "113366668888", 79000, "Ung Ho Quy Vac Xin") == DYNAMIC_EXAMPLE


def test_vietnamese_purpose_is_folded_to_the_same_ascii_code() -> None:
    assert vietqr_payload("970415", "113366668888", 79000, "Ủng Hộ Quỹ Vắc Xin") == DYNAMIC_EXAMPLE


def test_purpose_is_ascii_and_at_most_25_characters() -> None:
    folded = fold_purpose("Phí chứng thực bản sao từ bản chính, hồ sơ Đ-000123")
    assert folded.isascii()
    assert len(folded) <= 25
    assert folded.startswith("Phi chung thuc ban sao")
    assert fold_purpose("Đăng ký khai sinh") == "Dang ky khai sinh"


def test_parse_reads_back_the_fields_a_bank_app_shows() -> None:
    fields = parse_tlv(DYNAMIC_EXAMPLE)
    assert fields["01"] == "12"
    assert fields["38"]["00"] == "A000000727"
    assert fields["38"]["01"] == {"00": "970415", "01": "113366668888"}
    assert fields["54"] == "79000"
    assert fields["62"]["08"] == "Ung Ho Quy Vac Xin"
    assert fields["53"] == "704" and fields["58"] == "VN"


@pytest.mark.parametrize("position", [30, 44, 80])
def test_a_tampered_payload_is_rejected(position: int) -> None:
    original = DYNAMIC_EXAMPLE[position]
    replacement = "8" if original != "8" else "9"
    tampered = DYNAMIC_EXAMPLE[:position] + replacement + DYNAMIC_EXAMPLE[position + 1:]
    with pytest.raises(VietQRError, match="CRC"):
        parse_tlv(tampered)


def test_changed_amount_with_old_crc_is_rejected() -> None:
    with pytest.raises(VietQRError):
        parse_tlv(DYNAMIC_EXAMPLE.replace("540579000", "540599000"))


def test_truncated_payload_is_rejected() -> None:
    with pytest.raises(VietQRError):
        parse_tlv(DYNAMIC_EXAMPLE[:-10])


@pytest.mark.parametrize(
    ("bank_bin", "account", "amount"),
    [("97041", "113366668888", None), ("970415", "", None), ("970415", "1133-6666", None), ("970415", "1", 0),
     ("970415", "1", -5)],
)
def test_unusable_details_are_refused(bank_bin: str, account: str, amount: int | None) -> None:
    with pytest.raises(VietQRError):
        vietqr_payload(bank_bin, account, amount, None)


def test_payload_survives_a_real_qr_encode_and_decode() -> None:
    qrcode = pytest.importorskip("qrcode")
    zxingcpp = pytest.importorskip("zxingcpp")
    payload = vietqr_payload("970436", "0011004455667", 200000, "Phí lý lịch tư pháp HS-12")
    image = qrcode.make(payload, box_size=4).get_image().convert("L")
    decoded = zxingcpp.read_barcodes(image)
    assert [result.text for result in decoded] == [payload]
    assert parse_tlv(decoded[0].text)["54"] == "200000"
