"""Typing text on a 12-key keypad (0-9, *, #), like an old phone, for citizens who cannot use the touch screen.

- 2-9 type letters by multi-tap: pressing the same key again within `timeout` seconds cycles through its
  letters (2: a b c, 3: d e f, ... 9: w x y z); another key, or the timeout, keeps the letter.
- 1 keeps the pending letter at once (to type two letters of one key in a row: "aa" is 2 1 2).
- 0 types a space.
- * cycles the tone of the last word (none → sắc → huyền → hỏi → ngã → nặng → none), through Telex.
- # ends the entry (`done` turns True).
- `backspace()` removes the pending letter, else the last character.

Letters go through the Telex composer (kiosk.domain.telex), so Vietnamese shapes come as on a Telex keyboard:
"aa" → â, "dd" → đ, "ow" → ơ, "uw" → ư. `capitalize=True` (names) writes each word's first letter in capitals.
Pure: no clock of its own; callers pass `at` (seconds, monotonic) to `press`.
"""
from __future__ import annotations

import unicodedata

from kiosk.domain.telex import Composer

__all__ = ["MultiTap", "LETTERS", "TONE_KEYS", "type_keys"]

LETTERS: dict[str, str] = {"2": "abc", "3": "def", "4": "ghi", "5": "jkl", "6": "mno", "7": "pqrs", "8": "tuv",
                           "9": "wxyz"}
#: Telex keys for the tones in cycle order (index 1-5); "z" removes the tone.
TONE_KEYS = ("z", "s", "f", "r", "x", "j")
_TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
DEFAULT_TIMEOUT = 1.2


class MultiTap:
    def __init__(self, text: str = "", *, capitalize: bool = False, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.capitalize = capitalize
        self.timeout = timeout
        self._composer = Composer("telex")
        for ch in text:
            self._composer.press(ch)
        self._pending_key = ""
        self._pending_index = 0
        self._pending_at = 0.0
        self.done = False

    # ------------------------------------------------------------------ reading
    @property
    def pending(self) -> str:
        """The letter being cycled (not yet typed), "" when none."""
        if not self._pending_key:
            return ""
        letter = LETTERS[self._pending_key][self._pending_index]
        return letter.upper() if self._capital_next() else letter

    @property
    def text(self) -> str:
        """What the entry would hold if the pending letter were kept now (NFC)."""
        if not self._pending_key:
            return self._composer.text
        probe = Composer("telex")
        for ch in self._composer.text:
            probe.press(ch)
        probe.press(self.pending)
        return probe.text

    # ------------------------------------------------------------------ typing
    def press(self, key: str, at: float = 0.0) -> str:
        """One key ("0"-"9", "*", "#"); returns the text as it now reads."""
        if key in LETTERS:
            if key == self._pending_key and at - self._pending_at <= self.timeout:
                self._pending_index = (self._pending_index + 1) % len(LETTERS[key])
            else:
                self._commit()
                self._pending_key, self._pending_index = key, 0
            self._pending_at = at
        elif key == "1":
            self._commit()
        elif key == "0":
            self._commit()
            self._composer.press(" ")
        elif key == "*":
            self._commit()
            self._cycle_tone()
        elif key == "#":
            self._commit()
            self.done = True
        else:
            raise ValueError(f"not a keypad key: {key!r}")
        return self.text

    def backspace(self) -> None:
        if self._pending_key:
            self._pending_key = ""
            return
        self._composer.backspace()

    def finish(self) -> str:
        """Keep the pending letter and return the text, trailing spaces dropped."""
        self._commit()
        return self._composer.text.strip()

    # ------------------------------------------------------------------ internals
    def _capital_next(self) -> bool:
        text = self._composer.text
        return self.capitalize and (not text or not text[-1].isalpha())

    def _commit(self) -> None:
        if self._pending_key:
            letter = self.pending
            self._pending_key = ""
            self._composer.press(letter)

    def _cycle_tone(self) -> None:
        text = self._composer.text
        start = len(text)
        while start > 0 and text[start - 1].isalpha():
            start -= 1
        word = text[start:]
        if not word:
            return
        marks = unicodedata.normalize("NFD", word)
        current = next((i for i, m in enumerate(_TONE_MARKS) if i and m in marks), 0)
        nxt = (current + 1) % len(_TONE_MARKS)
        if current:
            self._composer.press("z")  # remove the tone, then put the next one
        if nxt:
            self._composer.press(TONE_KEYS[nxt])


def type_keys(text: str) -> str:
    """The key presses that type `text` (lower-case Telex letters and spaces, e.g. "leex minh") with MultiTap:
    tests and the simulator's keypad-only walk. Tone keys in `text` (s f r x j) are NOT converted: write the
    tone with "*" yourself, e.g. type_keys("le") + "*" ... ; letters of one key in a row get a "1" between."""
    keys: list[str] = []
    last = ""
    for ch in text.lower():
        if ch == " ":
            keys.append("0")
            last = ""
            continue
        if ch in "*#":
            keys.append(ch)
            last = ""
            continue
        key = next(k for k, letters in LETTERS.items() if ch in letters)
        if key == last:
            keys.append("1")
        keys.extend(key * (LETTERS[key].index(ch) + 1))
        last = key
    return "".join(keys)
