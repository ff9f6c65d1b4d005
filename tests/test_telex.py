"""The on-screen keyboard's Vietnamese typing (Telex and VNI), checked against a real word list.

The word-list tests type every word of Debian's hunspell-vi dictionary (/usr/share/hunspell/vi_VN.dic) with
key sequences produced by the small encoders below, which follow the published Telex/VNI conventions and
share no code with kiosk.domain.telex.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.telex import Composer, compose

DICTIONARY = Path("/usr/share/hunspell/vi_VN.dic")

# ---- independent encoders: NFC word -> the keys a person types ----------------------------------------------

_TONE_OF_MARK = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_VNI_TONE = {"s": "1", "f": "2", "r": "3", "x": "4", "j": "5"}
_TELEX_CONSUMED = set("sfrxjwz")  # letters Telex may take as a command when typed after a vowel
_FINAL_CONSONANTS = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t"}  # what a tone may be typed after


def _split(char: str) -> tuple[str, str, str]:
    """(base letter, shape: '^' '(' '+' 'd' or '', tone letter or '') of one NFC character."""
    if char in "đĐ":
        return ("D" if char == "Đ" else "d"), "d", ""
    nfd = unicodedata.normalize("NFD", char)
    shape = {"\u0302": "^", "\u0306": "(", "\u031b": "+"}
    found_shape = next((shape[m] for m in nfd[1:] if m in shape), "")
    tone = next((_TONE_OF_MARK[m] for m in nfd[1:] if m in _TONE_OF_MARK), "")
    return nfd[0], found_shape, tone


def telex_keys(word: str) -> str:
    """Shapes right after their letter (aa, aw, ow, uw, dd), the tone at the end of the word; a plain letter
    that Telex would read as a command (after a vowel and at most a final consonant) is typed twice, the
    convention for typing it as itself."""
    keys, tone, seen_vowel, previous, tail = [], "", False, "", ""
    for char in word:
        base, shape, char_tone = _split(char)
        tone = tone or char_tone
        low = base.lower()
        if shape == "^":
            keys.append(base + base)
        elif shape in ("(", "+"):
            keys.append(base + ("W" if base.isupper() else "w"))
        elif shape == "d":
            keys.append(base + base)
        elif low == "w" or (low in _TELEX_CONSUMED and seen_vowel and tail in _FINAL_CONSONANTS):
            keys.append(base + base)
        elif low in "aeo" and previous == low:  # a plain doubled vowel (boong): the third press undoes
            keys.append(base + base)
        else:
            keys.append(base)
        seen_vowel = seen_vowel or low in "aeiouy"
        tail = "" if low in "aeiouy" else tail + low
        previous = low if not shape else ""
    return "".join(keys) + tone


def vni_keys(word: str) -> str:
    keys, tone = [], ""
    for char in word:
        base, shape, char_tone = _split(char)
        tone = tone or char_tone
        keys.append(base + {"^": "6", "(": "8", "+": "7", "d": "9", "": ""}[shape])
    return "".join(keys) + (_VNI_TONE[tone] if tone else "")


def _words() -> list[str]:
    if not DICTIONARY.exists():
        pytest.skip("hunspell-vi is not installed (apt-get install hunspell-vi)")
    return _read_dictionary()


@lru_cache(maxsize=1)
def _read_dictionary() -> list[str]:
    lines = DICTIONARY.read_text(encoding="utf-8").splitlines()[1:]  # the first line is the entry count
    return [line.split("/")[0] for line in lines if line.strip()]


@lru_cache(maxsize=1)
def _syllables() -> list[str]:
    return [w for w in _words() if w.islower() and not set(w) & set("fjwz")]


# ---- behaviour a citizen notices -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("aa", "â"), ("aw", "ă"), ("ee", "ê"), ("oo", "ô"), ("ow", "ơ"), ("uw", "ư"), ("w", "ư"), ("dd", "đ"),
        ("as", "á"), ("af", "à"), ("ar", "ả"), ("ax", "ã"), ("aj", "ạ"),
        ("asz", "a"), ("ass", "as"), ("aaa", "aa"), ("ddd", "dd"), ("ww", "w"),
        ("toans", "toán"), ("tieengs", "tiếng"), ("vieetj", "việt"), ("nguwowif", "người"),
        ("quys", "quý"), ("giuwx", "giữ"), ("thuowr", "thuở"), ("huow", "huơ"), ("truowngf", "trường"),
        ("dduowcj", "được"), ("muwa", "mưa"), ("quawn", "quăn"), ("ngoaif", "ngoài"), ("khuyur", "khuỷu"),
        ("hoaf", "hòa"), ("thuyr", "thủy"), ("hoafn", "hoàn"),
        ("muoio", "muôi"), ("caya", "cây"), ("tieue", "tiêu"), ("khoeof", "khoèo"), ("ngoaof", "ngoào"),
        ("booong", "boong"), ("HDDND", "HĐND"), ("palawng", "palăng"),
        ("Vieetj Nam", "Việt Nam"), ("VIEETJ NAM", "VIỆT NAM"), ("DDaf Nawngx", "Đà Nẵng"),
        ("Nguyeenx Vawn An", "Nguyễn Văn An"), ("so61", "so61"),
    ],
)
def test_telex_spellings(keys: str, expected: str) -> None:
    assert compose(keys, "telex") == expected


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("a6", "â"), ("a8", "ă"), ("o7", "ơ"), ("u7", "ư"), ("d9", "đ"), ("a1", "á"), ("a2", "à"), ("a3", "ả"),
        ("a4", "ã"), ("a5", "ạ"), ("a10", "a"), ("a11", "a1"), ("to1an", "toán"), ("toan1", "toán"),
        ("Vie65t Nam", "Việt Nam"), ("d9u7o7c5", "được"), ("thuo73", "thuở"), ("nguoi72", "người"),
        ("so61 12", "số 12"), ("Phong2 2025", "Phòng 2025"),
    ],
)
def test_vni_spellings(keys: str, expected: str) -> None:
    assert compose(keys, "vni") == expected


def test_tone_style_oa_puts_tones_on_the_second_vowel_of_open_pairs() -> None:
    assert compose("hoaf", tone_style="oà") == "hoà"
    assert compose("thuyr", tone_style="oà") == "thuỷ"
    assert compose("quys", tone_style="oà") == "quý"  # qu: not an open pair, both styles agree


def test_tone_moves_when_the_syllable_grows() -> None:
    composer = Composer("telex")
    for key in "hoaf":
        composer.press(key)
    assert composer.text == "hòa"
    composer.press("n")
    assert composer.text == "hoàn"


def test_backspace_removes_one_visible_letter_and_the_word_stays_editable() -> None:
    composer = Composer("telex")
    for key in "tieengs ":
        composer.press(key)
    composer.backspace()  # the space
    composer.press("f")  # change the tone of the word before
    assert composer.text == "tiềng"
    composer.backspace()
    assert composer.text == "tiền"
    composer.clear()
    assert composer.text == ""


def test_text_is_always_nfc() -> None:
    text = compose("Coongj hoaf xax hooij chur nghiax Vieetj Nam")
    assert text == unicodedata.normalize("NFC", text)
    assert text == "Cộng hòa xã hội chủ nghĩa Việt Nam"


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        Composer("viqr")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Composer().press("ab")


# ---- the word list ----------------------------------------------------------------------------------------

def _failures(method: str) -> tuple[list[str], list[str]]:
    words = _words()
    encode = telex_keys if method == "telex" else vni_keys
    failed = [w for w in words if compose(encode(w), method, tone_style="oà") != w]  # type: ignore[arg-type]
    return words, failed


@pytest.mark.parametrize("method", ["telex", "vni"])
def test_every_dictionary_syllable_types_back(method: str) -> None:
    words, failed = _failures(method)
    print(f"\n{method}: {len(words) - len(failed)}/{len(words)} dictionary words type back; failing: {failed[:20]}")
    assert len(words) > 6000
    assert failed == []  # loanwords and acronyms too ("palăng", "HĐND", "Telex", "web")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), method=st.sampled_from(["telex", "vni"]))
def test_a_sentence_of_dictionary_words_types_back(data: st.DataObject, method: str) -> None:
    words = _syllables()
    sentence = data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=6))
    encode = telex_keys if method == "telex" else vni_keys
    keys = " ".join(encode(w) for w in sentence)
    assert compose(keys, method, tone_style="oà") == " ".join(sentence)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_typing_then_erasing_a_word_restores_the_text(data: st.DataObject) -> None:
    words = _syllables()
    first, second = data.draw(st.sampled_from(words)), data.draw(st.sampled_from(words))
    composer = Composer("telex", tone_style="oà")
    for key in telex_keys(first) + " ":
        composer.press(key)
    before = composer.text
    for key in telex_keys(second):
        composer.press(key)
    for _ in second:
        composer.backspace()
    assert composer.text == before
