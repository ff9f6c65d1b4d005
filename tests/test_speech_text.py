"""The speech normaliser: display text -> what a person reads aloud.

Vietnamese number words follow the rules in kiosk/domain/speech_text.py's docstring (CLDR's Vietnamese
spell-out rules: "mốt"/"tư"/"lăm" after "mươi", "lăm" after "mười", a zero tens digit after hundreds read
"linh", "không trăm" inside a number once a higher group was read).
"""
from __future__ import annotations

import unicodedata

import pytest

from kiosk.domain.speech_text import digits_words, number_words, spell, spoken

VI_CASES = [
    # integers
    ("0", "không"),
    ("5", "năm"),
    ("10", "mười"),
    ("11", "mười một"),
    ("14", "mười bốn"),
    ("15", "mười lăm"),
    ("20", "hai mươi"),
    ("21", "hai mươi mốt"),
    ("24", "hai mươi tư"),
    ("25", "hai mươi lăm"),
    ("55", "năm mươi lăm"),
    ("100", "một trăm"),
    ("101", "một trăm linh một"),
    ("104", "một trăm linh bốn"),
    ("105", "một trăm linh năm"),
    ("110", "một trăm mười"),
    ("115", "một trăm mười lăm"),
    ("121", "một trăm hai mươi mốt"),
    ("999", "chín trăm chín mươi chín"),
    ("1.000", "một nghìn"),
    ("2026", "hai nghìn không trăm hai mươi sáu"),
    ("1.005", "một nghìn không trăm linh năm"),
    ("10.500", "mười nghìn năm trăm"),
    ("1.000.000", "một triệu"),
    ("1.005.000", "một triệu không trăm linh năm nghìn"),
    ("1.000.005", "một triệu không trăm linh năm"),
    ("2.500.000.000", "hai tỷ năm trăm triệu"),
    ("1,5", "một phẩy năm"),
    # money
    ("50.000 đồng", "năm mươi nghìn đồng"),
    ("50.000 đ", "năm mươi nghìn đồng"),
    ("50.000đ", "năm mươi nghìn đồng"),
    ("50.000 VNĐ", "năm mươi nghìn đồng"),
    ("50.000₫", "năm mươi nghìn đồng"),
    ("Lệ phí: 200.000 đ.", "Lệ phí: hai trăm nghìn đồng."),
    ("2.000đ/trang", "hai nghìn đồng một trang"),
    # dates and times
    ("02/12/2026", "ngày hai tháng mười hai năm hai nghìn không trăm hai mươi sáu"),
    ("ngày 21/04/2026", "ngày hai mươi mốt tháng tư năm hai nghìn không trăm hai mươi sáu"),
    ("1-1-2027", "ngày một tháng một năm hai nghìn không trăm hai mươi bảy"),
    ("tháng 4/2026", "tháng tư năm hai nghìn không trăm hai mươi sáu"),
    ("15:30", "mười lăm giờ ba mươi phút"),
    ("08:05", "tám giờ năm phút"),
    ("15:00", "mười lăm giờ"),
    ("15h30", "mười lăm giờ ba mươi phút"),
    ("Nhận sau 15 giờ", "Nhận sau mười lăm giờ"),
    ("10 giờ 30", "mười giờ ba mươi phút"),
    ("7h30 - 17h00", "bảy giờ ba mươi phút đến mười bảy giờ"),
    # codes, queue numbers, identifiers
    ("H38.01-261202-0001",
     "hát ba tám chấm không một gạch ngang hai sáu một hai không hai gạch ngang không không không một"),
    ("Mã thủ tục 1.001193", "Mã thủ tục một chấm không không một một chín ba"),
    ("A012", "a không một hai"),
    ("Số thứ tự của bạn là B105.", "Số thứ tự của bạn là bê một không năm."),
    ("001090012345", "không không một không chín không không một hai ba bốn năm"),
    # percentages, phones, steps
    ("15%", "mười lăm phần trăm"),
    ("2,5%", "hai phẩy năm phần trăm"),
    ("Giảm 50% lệ phí", "Giảm năm mươi phần trăm lệ phí"),
    ("0912 345 678", "không chín một hai, ba bốn năm, sáu bảy tám"),
    ("0912345678", "không chín một hai, ba bốn năm, sáu bảy tám"),
    ("Gọi +84 912 345 678.", "Gọi cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám."),
    ("Tổng đài 1900 1234", "Tổng đài một chín không không, một hai ba bốn"),
    ("Bước 3/7", "Bước ba trên bảy"),
    ("3-5 ngày làm việc", "ba đến năm ngày làm việc"),
    ("thứ 4", "thứ tư"),
    ("Nghị định 13/2023/NĐ-CP",
     "Nghị định số mười ba năm hai nghìn không trăm hai mươi ba Nghị định Chính phủ"),
    # text without numbers passes through
    ("Vui lòng đưa mã QR vào trước camera.", "Vui lòng đưa mã QR vào trước camera."),
]

EN_CASES = [
    ("21", "twenty-one"),
    ("105", "one hundred five"),
    ("15", "fifteen"),
    ("2026", "two thousand twenty-six"),
    ("1.000.000", "one million"),
    ("1,000,000", "one million"),
    ("1.5", "one point five"),
    ("50.000 VND", "fifty thousand dong"),
    ("50.000đ", "fifty thousand dong"),
    ("02/12/2026", "the second of December twenty twenty-six"),
    ("21/04/2026", "the twenty-first of April twenty twenty-six"),
    ("15:30", "three thirty p.m."),
    ("08:05", "eight oh five a.m."),
    ("12:00", "twelve noon"),
    ("Step 3/7", "Step three of seven"),
    ("15%", "fifteen percent"),
    ("0912 345 678", "zero nine one two, three four five, six seven eight"),
    ("H38.01-261202-0001",
     "H three eight dot zero one dash two six one two zero two dash zero zero zero one"),
    ("Your number is A012.", "Your number is A zero one two."),
]


@pytest.mark.parametrize(("shown", "read"), VI_CASES)
def test_vietnamese(shown: str, read: str) -> None:
    assert spoken(shown, "vi") == read


@pytest.mark.parametrize(("shown", "read"), EN_CASES)
def test_english(shown: str, read: str) -> None:
    assert spoken(shown, "en") == read


def test_table_is_large_enough() -> None:
    assert len(VI_CASES) + len(EN_CASES) >= 40


def test_number_rules_over_a_range() -> None:
    """Properties of every number 1..2099 rather than examples."""
    for n in range(1, 2100):
        words = number_words(n).split()
        tens, units = n // 10 % 10, n % 10
        if tens >= 2 and units == 1:
            assert words[-1] == "mốt", n
        if tens >= 2 and units == 4:
            assert words[-1] == "tư", n
        if tens >= 1 and units == 5:
            assert words[-1] == "lăm", n
        if tens == 0 and units and n > 100:
            assert words[-2] == "linh" and words[-1] == digits_words(str(units)), n
        if tens == 1:
            assert "mười" in words and "mươi" not in words[-3:], n
        if 1000 < n and n % 1000 < 100 and n % 1000:
            assert "không trăm" in " ".join(words), n
        assert "không" not in words or n % 1000 < 100, n


def test_spell_codes_and_letter_names() -> None:
    assert spell("H38") == "hát ba tám"
    assert spell("Đ-9") == "đê gạch ngang chín"
    assert spell("qr") == "quy e rờ"
    assert spell("A012", "en") == "A zero one two"
    assert spell("000.00.01.H22") == "không không không chấm không không chấm không một chấm hát hai hai"


def test_output_is_nfc_and_idempotent() -> None:
    decomposed = unicodedata.normalize("NFD", "Lệ phí 50.000đ, hẹn ngày 02/12/2026 lúc 15:30")
    out = spoken(decomposed)
    assert out == unicodedata.normalize("NFC", out)
    assert out == "Lệ phí năm mươi nghìn đồng, hẹn ngày hai tháng mười hai năm hai nghìn không trăm hai mươi sáu " \
                  "lúc mười lăm giờ ba mươi phút"
    assert spoken(out) == out
    assert not any(ch.isdigit() for ch in out)


def test_what_matches_no_rule_is_spelled_not_left_as_digits() -> None:
    assert spoken("32/13/2026") == "ba hai gạch chéo một ba gạch chéo hai không hai sáu"
    assert spoken("-5") == "âm năm"
    assert spoken("Nhiệt độ -5 độ", "en") == "Nhiệt độ minus five độ"


def test_the_normaliser_is_pure_domain_code() -> None:
    """kiosk/domain imports no I/O libraries: the normaliser uses only `re` and `unicodedata`."""
    import ast
    from pathlib import Path

    import kiosk.domain.speech_text as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "re", "unicodedata"}
