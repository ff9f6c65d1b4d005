"""Vietnamese typing for the on-screen keyboard: Telex and VNI composition, one key at a time.

A kiosk has no system input method, so the keyboard widget sends plain keys here and shows `.text`.
The engine works on what is visible: each key re-reads the word being typed (the trailing run of letters),
changes it and writes it back, so backspace, retyping a tone after the final consonant ("toans" → "toán")
and correcting a word after a space all behave like Unikey does, and `.text` is always NFC.

Tone placement follows the syllable: on the vowel with a shape mark (ươ → on ơ: "người", "thuở"), the "u" of
"qu" and the "i" of "gi" before another vowel are part of the consonant ("quý", "giữ"), and the middle of three
vowels ("ngoài"). The open pairs oa/oe/uy take it on the first vowel ("hòa", "thủy", the default here) or on the
second ("hoà", "thuỷ", tone_style="oà", as the Vietnamese hunspell dictionary spells them); search folds both.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["Composer", "compose", "Method", "ToneStyle"]

Method = Literal["telex", "vni", "plain"]
ToneStyle = Literal["òa", "oà"]

_VOWELS = frozenset("aeiouy")
_TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # none, sắc, huyền, hỏi, ngã, nặng
_SHAPE_MARKS = {"^": "\u0302", "(": "\u0306", "+": "\u031b"}  # circumflex â ê ô, breve ă, horn ơ ư
_MARK_TO_SHAPE = {mark: shape for shape, mark in _SHAPE_MARKS.items()}
_MARK_TO_TONE = {mark: tone for tone, mark in enumerate(_TONE_MARKS) if mark}

_TELEX_TONES = {"s": 1, "f": 2, "r": 3, "x": 4, "j": 5}
_VNI_TONES = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


@dataclass(frozen=True)
class _Letter:
    base: str  # lower-case letter without marks
    shape: str = ""  # "", "^", "(" or "+"
    stroke: bool = False  # đ
    upper: bool = False

    def render(self, tone: int = 0) -> str:
        if self.stroke:
            text = "đ"
        else:
            text = self.base + _SHAPE_MARKS.get(self.shape, "") + _TONE_MARKS[tone]
        text = unicodedata.normalize("NFC", text)
        return text.upper() if self.upper else text


def _parse(word: str) -> tuple[list[_Letter], int]:
    """Split a visible word into letters and the word's tone (0 = none)."""
    letters: list[_Letter] = []
    tone = 0
    for char in word:
        if char in "đĐ":
            letters.append(_Letter("d", stroke=True, upper=char == "Đ"))
            continue
        decomposed = unicodedata.normalize("NFD", char)
        base, shape = decomposed[0], ""
        for mark in decomposed[1:]:
            if mark in _MARK_TO_SHAPE:
                shape = _MARK_TO_SHAPE[mark]
            elif mark in _MARK_TO_TONE:
                tone = _MARK_TO_TONE[mark]
        letters.append(_Letter(base.lower(), shape, upper=base.isupper()))
    return letters, tone


def _vowel_span(letters: list[_Letter]) -> tuple[int, int] | None:
    """[start, end) of the vowel nucleus being typed (the last run of vowels: a syllable has one, a loanword
    like "palăng" is typed run by run); the u of "qu" and i of "gi" before a vowel are left out."""
    end = next((i + 1 for i in range(len(letters) - 1, -1, -1) if letters[i].base in _VOWELS), None)
    if end is None:
        return None
    start = end - 1
    while start > 0 and letters[start - 1].base in _VOWELS:
        start -= 1
    if start > 0 and end - start >= 2:
        before, first = letters[start - 1], letters[start]
        if (before.base == "q" and first.base == "u") or (before.base == "g" and first.base == "i" and not first.shape):
            start += 1
    return start, end


_FINALS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})


def _editable_span(letters: list[_Letter]) -> tuple[int, int] | None:
    """The nucleus a mark or tone key may change: only across a real Vietnamese final consonant ("toans" →
    "toán", "vietej" → "việt"), so loanwords keep their letters ("palawng" → "palăng", not "pălng")."""
    span = _vowel_span(letters)
    if span is None:
        return None
    final = "".join(letter.base for letter in letters[span[1]:])
    return span if final in _FINALS else None


def _with_horn_cluster_fixed(letters: list[_Letter]) -> list[_Letter]:
    """"uơ"/"ưo" followed by more letters is always "ươ" (thương, người); "uơ" stays at a syllable's end (thuở)."""
    span = _vowel_span(letters)
    if span is None:
        return letters
    start, end = span
    for i in range(start, end - 1):
        u, o = letters[i], letters[i + 1]
        if u.base == "u" and o.base == "o" and i + 2 < len(letters) and (u.shape == "+") != (o.shape == "+"):
            if u.shape in ("", "+") and o.shape in ("", "+"):
                fixed = list(letters)
                fixed[i], fixed[i + 1] = replace(u, shape="+"), replace(o, shape="+")
                return fixed
    return letters


def _tone_index(letters: list[_Letter], style: ToneStyle) -> int | None:
    span = _vowel_span(letters)
    if span is None:
        return None
    start, end = span
    shaped = [i for i in range(start, end) if letters[i].shape]
    if shaped:
        return shaped[-1]
    size = end - start
    if size == 1:
        return start
    if size >= 3:
        return start + 1
    if end < len(letters):  # a final consonant follows: toán, hoàng, huỳnh
        return start + 1
    pair = letters[start].base + letters[start + 1].base
    if style == "oà" and pair in ("oa", "oe", "uy"):
        return start + 1
    return start


def _render(letters: list[_Letter], tone: int, style: ToneStyle) -> str:
    letters = _with_horn_cluster_fixed(letters)
    where = _tone_index(letters, style) if tone else None
    return "".join(letter.render(tone if i == where else 0) for i, letter in enumerate(letters))


class Composer:
    """Incremental Telex/VNI typing: press keys, read `.text` (NFC)."""

    def __init__(self, method: Method = "telex", tone_style: ToneStyle = "òa") -> None:
        if method not in ("telex", "vni", "plain"):
            raise ValueError(f"unknown input method {method!r}: use 'telex', 'vni' or 'plain'")
        if tone_style not in ("òa", "oà"):
            raise ValueError(f"unknown tone style {tone_style!r}: use 'òa' or 'oà'")
        self.method: Method = method
        self.tone_style: ToneStyle = tone_style
        self._text = ""
        self._literal: set[str] = set()  # keys undone in this word ("ass" → "as"): typed as themselves now
        self._bare_w = False  # the last key was a Telex w that typed a bare ư

    @property
    def text(self) -> str:
        return self._text

    def clear(self) -> None:
        self._text = ""
        self._reset_word_state()

    def backspace(self) -> None:
        """Remove the last visible character (a whole letter with its marks), like a phone keyboard does."""
        self._text = self._text[:-1]
        self._reset_word_state()

    def _reset_word_state(self) -> None:
        self._literal.clear()
        self._bare_w = False

    def press(self, key: str) -> None:
        """Type one key: a letter, a digit, a space or punctuation."""
        if len(key) != 1:
            raise ValueError(f"press() takes one character, got {key!r}")
        word_start = len(self._text)
        while word_start > 0 and self._text[word_start - 1].isalpha():
            word_start -= 1
        word = self._text[word_start:]
        if not key.isalpha() and not (self.method == "vni" and key.isdigit() and word):
            self._text += key
            self._reset_word_state()
            return
        if not word:
            self._reset_word_state()
        if key.lower() in self._literal or self.method == "plain":
            self._text += key  # plain: names keep what was typed ("Ksor", "Alex"); marks come from `mark`
            return
        if self._bare_w and key in "wW":  # "ww": the ư that w typed becomes a plain w
            self._text = self._text[:-1] + key
            self._literal.add("w")
            self._bare_w = False
            return
        self._bare_w = False
        letters, tone = _parse(word)
        handler = self._telex if self.method == "telex" else self._vni
        letters, tone, literal_key = handler(letters, tone, key)
        self._text = self._text[:word_start] + _render(letters, tone, self.tone_style) + literal_key
        if literal_key and not literal_key.isalpha():  # a VNI digit typed as itself ends the word
            self._reset_word_state()

    def mark(self, kind: str) -> None:
        """A tone or mark key on the screen, for any method: "tone1".."tone5" (sắc huyền hỏi ngã nặng), "hat"
        (â ê ô), "horn" (ă ơ ư) or "stroke" (đ), on the word being typed. Nothing happens where it cannot go."""
        word_start = len(self._text)
        while word_start > 0 and self._text[word_start - 1].isalpha():
            word_start -= 1
        word = self._text[word_start:]
        if not word:
            return
        letters, tone = _parse(word)
        if kind.startswith("tone") and kind[4:].isdigit() and 1 <= int(kind[4:]) <= 5:
            if _editable_span(letters) is None:
                return
            tone = 0 if tone == int(kind[4:]) else int(kind[4:])
        elif kind == "hat":
            target = self._last_in_nucleus(letters, "aeo")
            if target is None:
                return
            letters = list(letters)
            letters[target] = replace(letters[target], shape="" if letters[target].shape == "^" else "^")
        elif kind == "horn":
            method, self.method = self.method, "vni"  # no stray letter where no horn can go
            try:
                letters, tone, _literal = self._horn_or_breve(letters, tone, "", allow_breve=True, bare_u=False)
            finally:
                self.method = method
        elif kind == "stroke":
            if "d" not in (letters[0].base, letters[-1].base):
                return
            letters, tone, _literal = self._toggle_stroke(letters, tone, "")
        else:
            raise ValueError(f"unknown mark {kind!r}")
        self._text = self._text[:word_start] + _render(letters, tone, self.tone_style)
        self._reset_word_state()

    # Each handler returns (letters, tone, literal suffix): a non-empty suffix is a key typed as itself
    # after the word (an undone modifier, or a VNI digit that modifies nothing).

    def _telex(self, letters: list[_Letter], tone: int, key: str) -> tuple[list[_Letter], int, str]:
        lower = key.lower()
        if lower in _TELEX_TONES:
            return self._tone(letters, tone, _TELEX_TONES[lower], key)
        if lower == "z" and tone:
            return letters, 0, ""
        if lower in "aeo":  # "muoio" → muôi, "caya" → cây; but "khoeo", "ngoao" keep their plain o
            target = self._last_in_nucleus(letters, lower, glides_only_after=True)
            if target is not None:
                return self._toggle_shape(letters, tone, [target], "^", key)
        if lower == "w":
            return self._horn_or_breve(letters, tone, key, allow_breve=True, bare_u=True)
        if lower == "d" and letters and "d" in (letters[0].base, letters[-1].base):
            return self._toggle_stroke(letters, tone, key)
        return [*letters, _Letter(lower, upper=key.isupper())], tone, ""

    def _vni(self, letters: list[_Letter], tone: int, key: str) -> tuple[list[_Letter], int, str]:
        if key in _VNI_TONES:
            return self._tone(letters, tone, _VNI_TONES[key], key)
        if key == "0":
            return (letters, 0, "") if tone else (letters, tone, key)
        if key == "6":
            target = self._last_in_nucleus(letters, "aeo")
            return (letters, tone, key) if target is None else self._toggle_shape(letters, tone, [target], "^", key)
        if key == "7":
            return self._horn_or_breve(letters, tone, key, allow_breve=False, bare_u=False)
        if key == "8":
            target = self._last_in_nucleus(letters, "a")
            return (letters, tone, key) if target is None else self._toggle_shape(letters, tone, [target], "(", key)
        if key == "9":
            if letters and "d" in (letters[0].base, letters[-1].base):
                return self._toggle_stroke(letters, tone, key)
            return letters, tone, key
        if key.isdigit():
            return letters, tone, key
        return [*letters, _Letter(key.lower(), upper=key.isupper())], tone, ""

    def _tone(self, letters: list[_Letter], tone: int, new_tone: int, key: str) -> tuple[list[_Letter], int, str]:
        if _editable_span(letters) is None:
            if self.method == "vni":
                return letters, tone, key
            return [*letters, _Letter(key.lower(), upper=key.isupper())], tone, ""
        if tone == new_tone:  # the same tone key twice: take the tone off and type the key itself
            self._literal.add(key.lower())
            return letters, 0, key
        return letters, new_tone, ""

    def _toggle_shape(
        self, letters: list[_Letter], tone: int, targets: list[int], shape: str, key: str
    ) -> tuple[list[_Letter], int, str]:
        letters = list(letters)
        if all(letters[i].shape == shape for i in targets):
            for i in targets:
                letters[i] = replace(letters[i], shape="")
            self._literal.add(key.lower())
            return letters, tone, key
        for i in targets:
            letters[i] = replace(letters[i], shape=shape)
        return letters, tone, ""

    def _toggle_stroke(self, letters: list[_Letter], tone: int, key: str) -> tuple[list[_Letter], int, str]:
        """dd → đ on the d just typed ("HĐND"), else on the initial d (đ only ever starts a syllable)."""
        where = len(letters) - 1 if letters[-1].base == "d" else 0
        letters = list(letters)
        if letters[where].stroke:
            letters[where] = replace(letters[where], stroke=False)
            self._literal.add(key.lower())
            return letters, tone, key
        letters[where] = replace(letters[where], stroke=True)
        return letters, tone, ""

    def _horn_or_breve(
        self, letters: list[_Letter], tone: int, key: str, *, allow_breve: bool, bare_u: bool
    ) -> tuple[list[_Letter], int, str]:
        """Telex w / VNI 7: ươ on "uo" (uơ at a syllable's end), else ơ/ư, else (Telex) ă; Telex w alone is ư."""
        span = _editable_span(letters)
        if span is None:
            if bare_u:  # "w" after consonants (or alone) types ư: "nhw" → "như"
                self._bare_w = True
                return [*letters, _Letter("u", "+", upper=key.isupper())], tone, ""
            return letters, tone, key
        start, end = span
        for i in range(start, end - 1):
            if letters[i].base == "u" and letters[i + 1].base == "o":
                letters = list(letters)
                if letters[i + 1].shape == "+":  # pressed again on ươ / uơ: undo
                    letters[i], letters[i + 1] = replace(letters[i], shape=""), replace(letters[i + 1], shape="")
                    self._literal.add(key.lower())
                    return letters, tone, key
                horned = [i, i + 1] if i + 2 < len(letters) or letters[i].shape == "+" else [i + 1]
                for j in horned:
                    letters[j] = replace(letters[j], shape="+")
                return letters, tone, ""
        nucleus = "".join(letter.base for letter in letters[start:end])
        candidates = "aou" if allow_breve else "ou"
        if nucleus in ("ua", "uu"):  # mưa, cửa, cưu: the horn goes on the u, never "uă"
            target: int | None = start
        else:
            target = self._last_in_nucleus(letters, candidates)
        if target is None:
            if self.method == "vni":
                return letters, tone, key
            return [*letters, _Letter("w", upper=key.isupper())], tone, ""
        shape = "(" if letters[target].base == "a" else "+"
        return self._toggle_shape(letters, tone, [target], shape, key)

    @staticmethod
    def _last_in_nucleus(letters: list[_Letter], bases: str, glides_only_after: bool = False) -> int | None:
        """Index of the last vowel of the editable nucleus whose letter is in `bases` (or None); with
        `glides_only_after`, only if what follows it in the nucleus is an off-glide i/y/u (uôi, ây, iêu)."""
        span = _editable_span(letters)
        if span is None:
            return None
        target = next((i for i in range(span[1] - 1, span[0] - 1, -1) if letters[i].base in bases), None)
        if target is not None and glides_only_after:
            if any(letter.base not in "iyu" for letter in letters[target + 1:span[1]]):
                return None
        return target


def compose(keys: str, method: Method = "telex", tone_style: ToneStyle = "òa") -> str:
    """The text that typing `keys` one by one produces."""
    composer = Composer(method, tone_style)
    for key in keys:
        composer.press(key)
    return composer.text
