"""The displayed language (issue 12): `tr(text, lang)` gives a Vietnamese text in the citizen's language.

Vietnamese is the source and the default: `tr(text, "vi")` returns it unchanged (NFC, as kiosk.messages keeps it).
For "en" the catalogue (kiosk.messages.en) is tried: the whole text, then its templates ("Bước {}/{}"), then line
by line and sentence by sentence (a message's text + its next step, a paragraph of help). A part the catalogue does
not know stays in Vietnamese — the procedure names and document names of the province's catalogue, the citizen's
own answers — so nothing is ever blank or invented."""
from __future__ import annotations

import functools
import re
import unicodedata

from kiosk.messages.en import EN, TEMPLATES

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
MAX_TEXT = 5000  # longer texts are returned as they are (nothing a screen shows is this long)

_SENTENCE = re.compile(r"(?<=[.!?…:;])\s+")


def _template_regex(vi: str) -> re.Pattern:
    parts = [re.escape(p) for p in vi.split("{}")]
    return re.compile("^" + "(.+?)".join(parts) + "$", re.DOTALL)


_TEMPLATES = [(_template_regex(unicodedata.normalize("NFC", vi)), en) for vi, en in TEMPLATES]
_EN = {unicodedata.normalize("NFC", k): v for k, v in EN.items()}


def _one(text: str) -> str | None:
    """The English of one whole piece, or None."""
    if text in _EN:
        return _EN[text]
    if text[-1:] in ".:" and text[:-1] in _EN:  # "Máy in hết giấy." — a title ended as a sentence
        return _EN[text[:-1]] + text[-1]
    for regex, en in _TEMPLATES:
        m = regex.match(text)
        if m and not any(_SENTENCE.search(g) for g in m.groups()):  # a part never spans sentences
            out = en.format(*(_one(g) or g for g in m.groups()))
            return out[:1].upper() + out[1:] if en.startswith("{}") else out
    return None


@functools.lru_cache(maxsize=4096)
def _to_en(text: str) -> str:
    whole = _one(text)
    if whole is not None:
        return whole
    if "\n" in text:
        return "\n".join(_to_en(line) for line in text.split("\n"))
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()):]
    core = text.strip()
    if core != text:
        return lead + _to_en(core) + tail
    pieces = _SENTENCE.split(core)
    if len(pieces) > 1:
        return " ".join(_to_en(p) for p in pieces)
    return text


def tr(text: str, lang: str = DEFAULT_LANG) -> str:
    if lang != "en" or not text or len(text) > MAX_TEXT:
        return text
    return _to_en(unicodedata.normalize("NFC", text))


_VI_LETTERS = re.compile("[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE)


def is_vietnamese(text: str) -> bool:
    """True when the text has Vietnamese letters (a diacritic or đ) — what English speech must not read."""
    return bool(_VI_LETTERS.search(unicodedata.normalize("NFC", text)))


def known(text: str) -> bool:
    """True when the catalogue has an English for the whole text (tests)."""
    return tr(text, "en") != text
