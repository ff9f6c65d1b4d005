"""Vietnamese text helpers: one normal form for storage and one folded form for matching.

Citizens type on plain on-screen or physical keyboards, with or without marks, sometimes in Telex or VNI
keystrokes that no input method turned into letters ("kets hoon" for "kết hôn"). Search compares folded
forms so all of these meet the catalogue's official names.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["nfc", "fold", "telex_to_plain", "words"]

_VOWELS = frozenset("aeiouy")
# After a syllable's first vowel Vietnamese only has the finals c, ch, m, n, ng, nh, p, t: any of these letters
# there is a Telex tone key (s f r x j, z clears the tone), never part of the word.
_TONE_KEYS = frozenset("sfrxjz")
_DOUBLED_VOWEL = re.compile(r"(aa|ee|oo)")
_WORD = re.compile(r"[a-z0-9]+")


def nfc(text: str) -> str:
    """The stored form: NFC, so 'ệ' is one code point whatever keyboard or QR produced it."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """The matching form: marks dropped, đ→d, lower case ('Đăng ký' → 'dang ky', 'hoà' == 'hòa' → 'hoa')."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")


def words(text: str) -> list[str]:
    """The folded words and numbers of `text`, punctuation dropped."""
    return _WORD.findall(fold(text))


def _plain_word(word: str) -> str:
    if word.isdigit():
        return word
    if any(c.isdigit() for c in word):  # VNI keystrokes: 'd9a6ng' → 'dang'
        word = "".join(c for c in word if not c.isdigit())
    first_vowel = next((i for i, c in enumerate(word) if c in _VOWELS), None)
    if first_vowel is None:
        # 'w' alone is ư in Telex ('tw' → 'tư'); a word with no vowel at all is left as typed.
        return word.replace("w", "u")
    initial, rest = word[:first_vowel], word[first_vowel:]
    if initial.startswith("dd"):
        initial = initial[1:]
    kept: list[str] = []
    for c in rest:
        if c in _TONE_KEYS:
            continue
        if c == "w":
            if any(k in "aou" for k in kept):  # aw → ă, ow → ơ, uw → ư, also typed late ('chungw')
                continue
            c = "u"  # a bare w is ư
        kept.append(c)
    return initial + _DOUBLED_VOWEL.sub(lambda m: m.group(0)[0], "".join(kept))


def telex_to_plain(text: str) -> str:
    """Folded text with Telex/VNI keystrokes removed: 'kets hoon' → 'ket hon', 'chungws thuwcj' → 'chung thuc'.

    Ordinary folded Vietnamese passes through unchanged, so it is safe to apply to any query.
    """
    return _WORD.sub(lambda m: _plain_word(m.group(0)), fold(text))
