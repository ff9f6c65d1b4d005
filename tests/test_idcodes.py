"""Scanned-payload classification: what the login screen gets for each kind of code a citizen holds up."""
from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.codes import (
    PROVINCE_CODES,
    IdCardQr,
    ReceiptQr,
    Rejected,
    VneidLogin,
    parse_code,
)

# Synthetic card in the layout of shared/domain.md (CCCD 2021 QR); the number is made consistent with
# TT 59/2021 (province 001, digit 0 = male born 19xx, "90" = 1990). Not a real person.
CARD = "001090012345|123456789|Nguyễn Văn An|01011990|Nam|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|15082021"


def test_chip_card_payload_prefills_the_form():
    card = parse_code(CARD)
    assert isinstance(card, IdCardQr)
    assert card.to_prefill() == {
        "full_name": "Nguyễn Văn An",
        "birth_date": dt.date(1990, 1, 1),
        "sex": "Nam",
        "id_number": "001090012345",
        "address": "Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
    }
    assert card.old_id_number == "123456789"
    assert card.issue_date == dt.date(2021, 8, 15)


def test_card_repr_does_not_leak_personal_data():
    card = parse_code(CARD)
    shown = repr(card) + str(card) + repr([card]) + f"{card}"
    for secret in ("001090012345", "123456789", "Nguyễn", "An", "1990", "Tràng Tiền"):
        assert secret not in shown
    login = parse_code("VNEID-TEST-0001")
    assert "VNEID-TEST-0001" not in repr(login)


@pytest.mark.parametrize(
    "payload",
    [
        CARD.replace("|123456789|", "||"),                          # old-ID field empty
        CARD.replace("|123456789|", "|"),                           # 6-field variant
        CARD + "\r\n",                                              # USB scanner suffix
        CARD + "\n",
        CARD + "\t",                                               # scanners set to a Tab suffix
        unicodedata.normalize("NFD", CARD),                         # decomposed marks from some phones
        CARD + "|Trần Văn B|Lê Thị C",                              # 2024 card with extra fields
        CARD.replace("Nam", "NAM"),
    ],
)
def test_card_variants_read_the_same_person(payload):
    card = parse_code(payload)
    assert isinstance(card, IdCardQr), card
    assert card.full_name == "Nguyễn Văn An"
    assert unicodedata.is_normalized("NFC", card.full_name + card.address)
    assert card.id_number == "001090012345"
    assert card.birth_date == dt.date(1990, 1, 1)
    assert card.sex == "Nam"


def test_2024_card_keeps_the_extra_fields():
    card = parse_code(CARD + "|Trần Văn B|Lê Thị C")
    assert isinstance(card, IdCardQr)
    assert card.extra == ("Trần Văn B", "Lê Thị C")


def test_woman_born_2004_number_structure():
    # 079 = TP Hồ Chí Minh, 3 = female born 20xx, 04 = 2004.
    payload = "079304000123||Trần Thị Bình|29022004|Nữ|Phường 1, TP Hồ Chí Minh|10102022"
    card = parse_code(payload)
    assert isinstance(card, IdCardQr), card
    assert card.sex == "Nữ" and card.birth_date == dt.date(2004, 2, 29)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (CARD.replace("001090012345", "00109001234"), "id_card.id_number_digits"),
        (CARD.replace("001090012345", "00109001234X"), "id_card.id_number_digits"),
        (CARD.replace("|123456789|", "|12345678|"), "id_card.old_id_digits"),
        (CARD.replace("01011990", "31021990"), "id_card.birth_date"),
        (CARD.replace("01011990", "0101199"), "id_card.birth_date"),
        (CARD.replace("15082021", "15132021"), "id_card.issue_date"),
        (CARD.replace("15082021", "15081980"), "id_card.issue_date_range"),
        (CARD.replace("01011990", "01013990"), "id_card.birth_date_future"),
        (CARD.replace("001090", "003090"), "id_card.province_code"),     # 003 is not a province code
        (CARD.replace("001090", "001190"), "id_card.sex_digit"),         # 1 = female, card says Nam
        (CARD.replace("001090", "001290"), "id_card.century_digit"),     # 2 = born 20xx
        (CARD.replace("001090", "001091"), "id_card.birth_year_digits"),
        (CARD.replace("|Nam|", "|Male|"), "id_card.sex"),
        (CARD.replace("Nguyễn Văn An", "Nguyễn <script>"), "id_card.full_name"),
        (CARD.replace("Nguyễn Văn An", ""), "id_card.full_name"),
        ("001090012345|Nguyễn Văn An|01011990", "id_card.field_count"),
    ],
)
def test_bad_cards_are_rejected_with_the_failed_check(payload, reason):
    result = parse_code(payload)
    assert isinstance(result, Rejected)
    assert result.reason == reason
    assert "căn cước" in result.reason_vi and "Vui lòng" in result.reason_vi


def test_rejection_reason_never_contains_the_payload():
    result = parse_code(CARD.replace("001090", "001091"))
    assert isinstance(result, Rejected)
    assert "001091012345" not in result.reason + result.reason_vi


def test_login_and_receipt_codes():
    assert parse_code("VNEID-TEST-0001") == VneidLogin("VNEID-TEST-0001")
    assert parse_code("VNEID-TEST-0001\r\n") == VneidLogin("VNEID-TEST-0001")
    assert parse_code(" VNEID-TEST-0001 ") == VneidLogin("VNEID-TEST-0001")
    assert parse_code("DVCK1|H38.01-2026-000123") == ReceiptQr("H38.01-2026-000123")
    bad = parse_code("DVCK1|hs 12")
    assert isinstance(bad, Rejected) and bad.reason.startswith("receipt")


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ("", "empty"),
        ("\r\n", "empty"),
        ("A" * 2049, "too_long"),
        ("ệ" * 1000, "too_long"),                        # 1000 chars but 3000 UTF-8 bytes
        ("VNEID\x00TEST", "control_chars"),
        ("VNEID-TEST\u200b0001", "control_chars"),       # zero-width space
        ("001090012345|\x1b[2J|x|01011990|Nam|a|15082021", "control_chars"),
        ("Xin chào", "unknown_format"),
        ("abc", "unknown_format"),
        ("00020101021138560010A0000007270126000697041501121133666688880208QRIBFTTA53037045802VN6304F443",
         "payment_qr"),
    ],
)
def test_hostile_or_foreign_payloads_are_rejected(payload, kind):
    result = parse_code(payload)
    assert isinstance(result, Rejected)
    assert result.reason.split(".")[0] == kind
    assert result.reason_vi and unicodedata.is_normalized("NFC", result.reason_vi)


def test_every_rejection_and_reader_message_gives_a_next_step():
    from drivers.base import ERROR_KINDS, DeviceGone
    from kiosk.domain.codes import REJECT_MESSAGES
    from kiosk.messages import for_device

    for message in REJECT_MESSAGES.values():
        assert "Vui lòng" in message and unicodedata.is_normalized("NFC", message)
    for kind, cls in ERROR_KINDS.items():
        msg = for_device(cls(), device_kind="code_reader")
        assert msg.next_step and unicodedata.is_normalized("NFC", msg.text + msg.next_step), kind
    assert "cán bộ" in for_device(DeviceGone(), device_kind="code_reader").next_step
    assert "đọc mã" in for_device(DeviceGone(), device_kind="code_reader").title


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.text(max_size=3000),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=100),  # lone surrogates too
    st.text(alphabet="0123456789|NamữệA \r\n\x00", max_size=200),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
))
def test_any_text_never_raises(text):
    result = parse_code(text)
    assert isinstance(result, (VneidLogin, IdCardQr, ReceiptQr, Rejected))
    if not isinstance(result, Rejected):
        assert len(text.encode("utf-8", "surrogatepass")) <= 2048


_VI_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
_word = st.text(alphabet=_VI_LETTERS, min_size=1, max_size=8).map(str.capitalize)
_name = st.lists(_word, min_size=1, max_size=5).map(" ".join)
_address = st.lists(st.text(alphabet=_VI_LETTERS + "0123456789/", min_size=1, max_size=10), min_size=1,
                    max_size=8).map(", ".join)


@st.composite
def _cards(draw) -> tuple[IdCardQr, bool]:
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today()))
    issue = draw(st.dates(min_value=birth, max_value=dt.date.today()))
    sex = draw(st.sampled_from(["Nam", "Nữ"]))
    digit = (birth.year - 1900) // 100 * 2 + (sex == "Nữ")
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    tail = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    six = draw(st.booleans())
    card = IdCardQr(
        id_number=f"{province}{digit}{birth.year % 100:02d}{tail}",
        old_id_number="" if six else draw(st.sampled_from(["", "123456789", "987654321"])),
        full_name=draw(_name), birth_date=birth, sex=sex, address=draw(_address), issue_date=issue,
        extra=() if six else tuple(draw(st.lists(_name, max_size=3))),
    )
    return card, six


def _payload(card: IdCardQr, six_fields: bool) -> str:
    """The text a card with these values carries, written out per the layout in shared/domain.md."""
    birth, issue = (f"{d.day:02d}{d.month:02d}{d.year:04d}" for d in (card.birth_date, card.issue_date))
    head = [card.id_number] + ([] if six_fields else [card.old_id_number])
    return "|".join([*head, card.full_name, birth, card.sex, card.address, issue, *card.extra])


@settings(max_examples=200, deadline=None)
@given(_cards())
def test_valid_cards_round_trip(card_and_layout):
    card, six = card_and_layout
    assert parse_code(_payload(card, six)) == card


@settings(max_examples=150, deadline=None)
@given(_cards(), st.integers(min_value=0, max_value=11), st.sampled_from("0123456789"))
def test_a_misread_id_digit_is_caught_where_the_structure_allows(card_and_layout, position, digit):
    """Digits 4-6 (sex/century, birth year) are fully determined by the card's other fields, so any change
    there is rejected; a changed province digit is rejected unless it lands on another province code;
    the serial digits cannot be checked and must come through exactly as read (no silent "fix")."""
    card, six = card_and_layout
    changed = card.id_number[:position] + digit + card.id_number[position + 1:]
    result = parse_code(_payload(dataclass_replace(card, id_number=changed), six))
    if changed == card.id_number:
        assert result == card
    elif position in (3, 4, 5):
        assert isinstance(result, Rejected)
    elif position < 3:
        assert isinstance(result, Rejected) == (changed[:3] not in PROVINCE_CODES)
    else:
        assert isinstance(result, IdCardQr) and result.id_number == changed


def dataclass_replace(card: IdCardQr, **changes) -> IdCardQr:
    import dataclasses

    return dataclasses.replace(card, **changes)
