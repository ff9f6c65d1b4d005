"""The displayed language (issue 12): `tr(text, lang)` gives a Vietnamese text in the citizen's language.

Vietnamese is the source and the default: `tr(text, "vi")` returns it unchanged (NFC, as kiosk.messages keeps it).
For "en" two tables are tried: the kiosk's own words (kiosk.messages.en) and the procedure catalogue's English
(its `en` objects, kiosk.domain.catalog: procedure names, documents, questions, choices, fees). First the whole
text, then its templates ("Bước {}/{}"), then line by line and sentence by sentence (a message's text + its next
step, a paragraph of help); markup around a line (`[b]…[/b]`) is kept. A part neither table knows stays in
Vietnamese — a catalogue text without English, the citizen's own answers — so nothing is ever blank or invented.

The catalogue's English comes from the catalogue the kiosk serves (`use_catalog`, called when services are built
and after each sync from the portal) and, for texts it does not translate (a portal catalogue without English),
from the shipped catalogue (config/procedures.json), matched on the exact Vietnamese. Only what is shown and
spoken changes: the values sent to the portal and printed stay Vietnamese.
"""
from __future__ import annotations

import functools
import logging
import re
import unicodedata
from typing import Any

from kiosk.messages.en import EN, TEMPLATES

log = logging.getLogger(__name__)

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
MAX_TEXT = 5000  # longer texts are returned as they are (nothing a screen shows is this long)

_SENTENCE = re.compile(r"(?<=[.!?…:;])\s+")


_MARKUP_LINE = re.compile(r"^((?:\[[a-z]+(?:=[^\]]*)?\])+)(.*?)((?:\[/[a-z]+\])+)$", re.DOTALL)


def _template_regex(vi: str, first_greedy: bool = False) -> re.Pattern:
    parts = [re.escape(p) for p in vi.split("{}")]
    groups = ["(.+)" if first_greedy and i == 0 else "(.+?)" for i in range(len(parts) - 1)] + [""]
    return re.compile("^" + "".join(p + g for p, g in zip(parts, groups, strict=True)) + "$", re.DOTALL)


# Each template with two readings: every part as short as possible, and the first part as long as possible (a
# catalogue text such as "Tờ khai … (theo mẫu)" holds the template's own brackets); the second is used when only
# it translates every Vietnamese part.
_TEMPLATES = [(_template_regex(nfc_vi), _template_regex(nfc_vi, first_greedy=True), en)
              for nfc_vi, en in ((unicodedata.normalize("NFC", vi), en) for vi, en in TEMPLATES)]
_EN = {unicodedata.normalize("NFC", k): v for k, v in EN.items()}

# ------------------------------------------------------------------------------------------ the catalogue's English
_served: dict[str, str] = {}
_shipped: dict[str, str] | None = None


def use_catalog(catalog: Any) -> None:
    """Show the English of this catalogue (a kiosk.domain.catalog.Catalog, or None for the shipped one only)."""
    global _served
    _served = catalog.english() if catalog is not None else {}
    _to_en.cache_clear()


def _shipped_english() -> dict[str, str]:
    global _shipped
    if _shipped is None:
        from kiosk.domain.catalog import CatalogError, load_catalog
        from kiosk.resources import MissingResource

        try:
            _shipped = load_catalog().english()
        except (CatalogError, MissingResource) as e:
            log.warning("the shipped catalogue's English is not available: %s", e)
            _shipped = {}
    return _shipped


def _exact(text: str) -> str | None:
    return _EN.get(text) or _served.get(text) or _shipped_english().get(text)


def _whole(text: str) -> str | None:
    found = _exact(text)
    if found is None and text[:1].islower():
        # a question's label inside a sentence ("Vui lòng nhập họ và tên của trẻ.", kiosk.domain.forms)
        found = _exact(text[:1].upper() + text[1:])
        if found is not None and not found[:2].isupper():  # "ID number" keeps its capitals
            found = found[:1].lower() + found[1:]
    return found


def _fill(m: re.Match, en: str) -> tuple[str, bool]:
    """The template's English with its parts translated, and whether every Vietnamese part was."""
    parts = [(_one(g), g) for g in m.groups()]
    out = en.format(*(t or g for t, g in parts))
    complete = all(t is not None or not is_vietnamese(g) for t, g in parts)
    return (out[:1].upper() + out[1:] if en.startswith("{}") else out), complete


def _one_piece(m: re.Match) -> bool:
    """A template's part never spans sentences or lines (a list of papers is translated line by line)."""
    return not any(_SENTENCE.search(g) or "\n" in g for g in m.groups())


def _one(text: str) -> str | None:
    """The English of one whole piece, or None."""
    found = _whole(text)
    if found is not None:
        return found
    if text[-1:] in ".:;" and (found := _whole(text[:-1])) is not None:  # "Máy in hết giấy." — ended as a sentence
        return found + text[-1]
    for shortest, first_longest, en in _TEMPLATES:
        m = shortest.match(text)
        if m and _one_piece(m):
            out, complete = _fill(m, en)
            if not complete and (m2 := first_longest.match(text)) and _one_piece(m2):
                out2, complete2 = _fill(m2, en)
                if complete2:
                    return out2
            return out
    return None


@functools.lru_cache(maxsize=4096)
def _to_en(text: str) -> str:
    whole = _one(text)
    if whole is not None:
        return whole
    if "\n" in text:
        return "\n".join(_to_en(line) for line in text.split("\n"))
    markup = _MARKUP_LINE.match(text)
    if markup and markup.group(2):  # "[b]Khai sinh cho con[/b]": the words inside, the markup kept
        return markup.group(1) + _to_en(markup.group(2)) + markup.group(3)
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
    out = tr(text, "en")
    return out != text and not is_vietnamese(out)  # not a Vietnamese text merely re-spaced by a template
