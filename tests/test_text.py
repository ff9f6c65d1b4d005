"""Folding and Telex: what a citizen types on a plain keyboard must meet the official Vietnamese names."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.catalog import load_catalog
from kiosk.domain.text import fold, nfc, telex_to_plain, words


def test_nfc_turns_decomposed_input_into_single_code_points() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    assert decomposed != "Nguyễn Thị Ánh"
    assert nfc(decomposed) == "Nguyễn Thị Ánh"


@pytest.mark.parametrize("marked, plain", [
    ("Đăng ký khai sinh", "dang ky khai sinh"),
    ("CHỨNG THỰC BẢN SAO", "chung thuc ban sao"),
    ("Đắk Lắk", "dak lak"),
    ("Thường trú", "thuong tru"),
])
def test_fold_drops_marks_and_case(marked: str, plain: str) -> None:
    assert fold(marked) == plain


@pytest.mark.parametrize("old_style, new_style", [("hoà", "hòa"), ("thuỷ", "thủy"), ("Khoá", "Khóa")])
def test_old_and_new_tone_placement_fold_equal(old_style: str, new_style: str) -> None:
    assert old_style != new_style
    assert fold(old_style) == fold(new_style)


def test_fold_is_the_same_for_nfc_and_nfd_input() -> None:
    text = "Giấy xác nhận tình trạng hôn nhân"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text)


@pytest.mark.parametrize("typed, plain", [
    ("kets hoon", "ket hon"),
    ("chungws thuwcj", "chung thuc"),
    ("ddangw kys khai sinh", "dang ky khai sinh"),
    ("thuwowngf truws", "thuong tru"),
    ("tw phaps", "tu phap"),
    ("d9a8ng ky1", "dang ky"),  # VNI digits
])
def test_telex_keystrokes_become_plain_words(typed: str, plain: str) -> None:
    assert telex_to_plain(typed) == plain


def test_telex_leaves_codes_and_ordinary_words_alone() -> None:
    assert telex_to_plain("1.001193") == "1.001193"
    assert telex_to_plain("sinh xa ra") == "sinh xa ra"  # s, x, r as first letters are consonants


def test_telex_is_identity_on_every_word_of_the_catalogue() -> None:
    """Applying it to any query is safe: real Vietnamese words (folded) pass through unchanged."""
    catalogue = load_catalog()
    vocabulary = {w for p in catalogue.procedures for text in (p.name, p.plain, p.field) for w in words(text)}
    assert len(vocabulary) > 100
    changed = {w: telex_to_plain(w) for w in vocabulary if telex_to_plain(w) != w}
    assert changed == {}


@given(st.text())
def test_fold_output_has_no_marks_and_is_idempotent(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(unicodedata.combining(c) for c in folded)
    assert "đ" not in folded
