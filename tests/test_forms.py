"""Procedure forms: prefilled from the login, checked with Vietnamese messages next to each field."""
from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain.catalog import Catalog, Procedure, load_catalog
from kiosk.domain.forms import MESSAGES, FormResult, display_value, prefill, validate
from kiosk.portal.models import CitizenProfile

BUNDLED = Path(__file__).resolve().parent.parent / "config" / "procedures.json"
TODAY = dt.date(2026, 11, 23)
CATALOG: Catalog = load_catalog(BUNDLED)
BIRTH: Procedure = CATALOG.get("1.001193")  # type: ignore[assignment]

CITIZEN = CitizenProfile(id_number="001099012345", full_name="Nguyễn Văn An", birth_date=dt.date(1990, 1, 1),
                         sex="Nam", address="Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội", phone_masked="09******89")


def _birth_values(**changes: str) -> dict[str, str]:
    values = {"child_full_name": "Nguyễn Minh Khang", "child_birth_date": "05/03/2026", "child_sex": "Nam",
              "birth_place": "Trạm y tế xã Tân Lập", "mother_full_name": "Lê Thị Hoa",
              "father_full_name": "Nguyễn Văn An", "declarant_full_name": "Nguyễn Văn An"}
    values.update(changes)
    return values


# ------------------------------------------------------------------------------------------ prefill
def test_birth_form_prefills_the_declarant_and_nothing_about_the_child() -> None:
    filled = prefill(BIRTH, CITIZEN)
    assert filled == {"declarant_full_name": "Nguyễn Văn An"}


def test_prefill_shows_dates_as_day_month_year_and_matches_choices() -> None:
    re_birth = CATALOG.get("1.004884")
    filled = prefill(re_birth, CITIZEN)
    assert filled["person_birth_date"] == "01/01/1990"
    assert filled["person_sex"] == "Nam"
    assert filled["person_full_name"] == "Nguyễn Văn An"


def test_masked_phone_is_not_prefilled_but_the_id_number_is() -> None:
    residence = CATALOG.get("1.004194")
    filled = prefill(residence, CITIZEN)
    assert "contact_phone" not in filled
    assert filled["declarant_id_number"] == "001099012345"
    assert filled["permanent_address"] == CITIZEN.address


def test_id_card_fills_in_when_there_is_no_portal_profile() -> None:
    card = {"id_number": "001099012345", "full_name": "Lê Thị Hoa", "birth_date": "15081985", "sex": "Nữ"}
    filled = prefill(CATALOG.get("1.004884"), None, card)
    assert filled["person_full_name"] == "Lê Thị Hoa"
    assert filled["person_birth_date"] == "15/08/1985"
    assert filled["person_sex"] == "Nữ"
    # The portal profile wins over the card when both are known.
    assert prefill(CATALOG.get("1.004884"), CITIZEN, card)["person_full_name"] == "Nguyễn Văn An"


def test_prefilled_values_pass_validation() -> None:
    residence = CATALOG.get("1.004194")
    values = prefill(residence, CITIZEN) | {"stay_address": "Số 5 ngõ 10 Láng Hạ", "stay_until": "01/01/2027",
                                            "host_name": "Trần Văn Bình"}
    assert validate(residence, values, today=TODAY).errors == {}


# ------------------------------------------------------------------------------------------ validate
def test_a_complete_birth_form_is_accepted_and_typed() -> None:
    result = validate(BIRTH, _birth_values(), today=TODAY)
    assert result.ok
    assert result.values["child_birth_date"] == dt.date(2026, 3, 5)
    assert result.values["child_sex"] == "Nam"
    assert result.json_values()["child_birth_date"] == "2026-03-05"


def test_missing_answers_get_a_message_naming_what_to_enter() -> None:
    result = validate(BIRTH, _birth_values(child_full_name="  ", child_sex=""), today=TODAY)
    assert result.errors["child_full_name"] == "Vui lòng nhập họ và tên của trẻ."
    assert result.errors["child_sex"] == "Vui lòng chọn giới tính của trẻ."
    assert "child_full_name" not in result.values
    assert result.values["mother_full_name"] == "Lê Thị Hoa"  # good answers are kept for the next attempt


def test_optional_field_may_stay_empty() -> None:
    result = validate(BIRTH, _birth_values(father_full_name=""), today=TODAY)
    assert result.ok and "father_full_name" not in result.values


@pytest.mark.parametrize("typed", ["5/3/2026", "05/03/2026", "05-03-2026", "05.03.2026", "05032026", "2026-03-05"])
def test_common_date_spellings_are_understood(typed: str) -> None:
    result = validate(BIRTH, _birth_values(child_birth_date=typed), today=TODAY)
    assert result.values.get("child_birth_date") == dt.date(2026, 3, 5), result.errors


@pytest.mark.parametrize("typed, kind", [
    ("hôm qua", "date_format"),
    ("03/2026", "date_format"),
    ("31/02/2026", "date_invalid"),
    ("01/12/2026", "date_future"),  # a birth date after today
    ("01/01/1850", "date_too_old"),
])
def test_bad_dates_are_refused_with_a_next_step(typed: str, kind: str) -> None:
    result = validate(BIRTH, _birth_values(child_birth_date=typed), today=TODAY)
    assert result.errors["child_birth_date"] == MESSAGES[kind]
    assert MESSAGES["date_format"] == "Ngày không hợp lệ, hãy nhập theo dạng ngày/tháng/năm."


def test_a_date_to_come_must_not_be_in_the_past() -> None:
    extension = CATALOG.get("1.002755")
    values = prefill(extension, CITIZEN) | {"stay_address": "Số 5 Láng Hạ", "stay_until": "01/01/2026"}
    assert validate(extension, values, today=TODAY).errors["stay_until"] == MESSAGES["date_past"]


def test_names_are_normalised_and_refuse_digits() -> None:
    nfd_name = unicodedata.normalize("NFD", "Nguyễn   Minh  Khang")
    result = validate(BIRTH, _birth_values(child_full_name=nfd_name), today=TODAY)
    assert result.values["child_full_name"] == "Nguyễn Minh Khang"
    assert unicodedata.is_normalized("NFC", result.values["child_full_name"])
    bad = validate(BIRTH, _birth_values(mother_full_name="Lê Thị Hoa 2"), today=TODAY)
    assert bad.errors["mother_full_name"] == MESSAGES["name_chars"]


def test_choices_are_matched_without_marks() -> None:
    assert validate(BIRTH, _birth_values(child_sex="nu"), today=TODAY).values["child_sex"] == "Nữ"
    assert (validate(BIRTH, _birth_values(child_sex="Khác"), today=TODAY).errors["child_sex"]
            == MESSAGES["choice_unknown"])


def test_phone_numbers_are_normalised_or_refused() -> None:
    residence = CATALOG.get("1.004194")
    base = prefill(residence, CITIZEN) | {"stay_address": "Số 5 Láng Hạ", "stay_until": "01/01/2027",
                                          "host_name": "Trần Văn Bình"}
    def phone(value: str):
        return validate(residence, base | {"contact_phone": value}, today=TODAY)
    assert phone("+84 912 345 678").values["contact_phone"] == "0912345678"
    assert phone("0912.345.678").values["contact_phone"] == "0912345678"
    assert phone("12345").errors["contact_phone"] == MESSAGES["phone"]


def test_numbers_yes_no_and_patterns() -> None:
    extract = CATALOG.get("2.000635")
    base = prefill(extract, CITIZEN) | {"record_type": "Giấy khai sinh", "registered_where": "Xã Tân Lập"}
    assert validate(extract, base | {"copies": "3"}, today=TODAY).values["copies"] == 3
    assert validate(extract, base | {"copies": "ba"}, today=TODAY).errors["copies"] == MESSAGES["number_format"]
    assert validate(extract, base | {"copies": "50"}, today=TODAY).errors["copies"] == "Vui lòng nhập số từ 1 đến 10."

    marriage = CATALOG.get("1.000894")
    values = prefill(marriage, CITIZEN) | {"partner_full_name": "Trần Thị Mai", "partner_birth_date": "02/02/1992",
                                           "partner_id_number": "001192000111", "partner_address": "Xã Tân Lập",
                                           "first_marriage": "có"}
    assert validate(marriage, values, today=TODAY).values["first_marriage"] is True
    assert validate(marriage, values | {"first_marriage": "khong"}, today=TODAY).values["first_marriage"] is False
    assert (validate(marriage, values | {"first_marriage": "có lẽ"}, today=TODAY).errors["first_marriage"]
            == MESSAGES["yesno"])
    assert (validate(marriage, values | {"partner_id_number": "12345"}, today=TODAY).errors["partner_id_number"]
            == MESSAGES["pattern"])


def test_too_long_text_is_refused_and_unknown_keys_ignored() -> None:
    result = validate(BIRTH, _birth_values(birth_place="x" * 301, unexpected="?"), today=TODAY)
    assert result.errors["birth_place"] == "Nội dung quá dài: tối đa 300 ký tự. Vui lòng viết ngắn lại."
    assert "unexpected" not in result.values


def test_display_values_for_the_review_screen() -> None:
    result = validate(BIRTH, _birth_values(), today=TODAY)
    assert display_value(result.values["child_birth_date"]) == "05/03/2026"
    assert display_value(True) == "Có" and display_value(False) == "Không"


# ------------------------------------------------------------------------------------------ any input
_EVERY_MESSAGE_START = tuple({m.split("{")[0] for m in MESSAGES.values()})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(procedure=st.sampled_from(CATALOG.procedures), data=st.data())
def test_validate_never_raises_and_accounts_for_every_field(procedure: Procedure, data: st.DataObject) -> None:
    ids = [f.id for f in procedure.form]
    keys = st.one_of(st.sampled_from(ids), st.text(max_size=8))
    texts = st.one_of(st.text(max_size=40), st.sampled_from(["", " ", "01/01/2000", "31/13/2020", "có", "0912345678",
                                                              "3", "Nam", "Nữ", "\x00\n", "９"]))
    values = data.draw(st.dictionaries(keys, texts, max_size=10))
    result = validate(procedure, values, today=TODAY)
    assert isinstance(result, FormResult)
    assert set(result.errors) <= set(ids) and set(result.values) <= set(ids)
    assert not set(result.errors) & set(result.values)
    for field in procedure.form:
        if field.required:
            assert field.id in result.errors or field.id in result.values
    for message in result.errors.values():
        assert message.startswith(_EVERY_MESSAGE_START)
        assert unicodedata.is_normalized("NFC", message)
    for value in result.values.values():
        if isinstance(value, str):
            assert unicodedata.is_normalized("NFC", value) and value == value.strip()
