"""The procedure catalogue: what a citizen can file at this kiosk, how it is found, and what it costs.

The catalogue ships with the kiosk (config/procedures.json) and is refreshed from the portal; the last good
copy is kept on disk so a kiosk that boots offline still offers every procedure. Search is built for typing
on a kiosk keyboard: with or without marks, with Telex keystrokes left in, with typos, or by code.

English (issue 12): every text a citizen sees has its English beside it, in an `en` object on the same entry
(`Procedure.en`, `DocumentComponent.en`, `FormField.en`, `Fee.en`), bounded like the Vietnamese. The Vietnamese
stays the value: what is sent to the portal, printed on the receipt and the declaration. `Catalog.english()` is
the table Vietnamese → English the screens and the guide read through kiosk.messages.i18n.tr; a text without
English (a portal catalogue that has none) is shown in Vietnamese.
"""
from __future__ import annotations

import heapq
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from collections.abc import Callable, Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from rapidfuzz import process
from rapidfuzz.distance import OSA

from kiosk.domain.appointment import ProcessingTime
from kiosk.domain.patterns import MAX_PATTERN_CHARS, compile_pattern
from kiosk.errors import InputRejected
from kiosk.domain.text import fold, nfc, telex_to_plain, words

__all__ = [
    "Catalog", "CatalogError", "CatalogStore", "DocumentComponent", "DocumentEnglish", "Fee", "FeeEnglish",
    "FeeQuote", "FieldEnglish", "FormField", "ProcedureEnglish",
    "PageTier", "Procedure", "SearchHit", "fee_for", "format_vnd", "load_catalog", "parse_procedures",
]

log = logging.getLogger(__name__)

# National `1.001193`, provincial copy `2.000815.000.00.00.H38`, short provincial `1.012753.H19`.
PROCEDURE_CODE = r"^\d\.\d{6}(?:\.\d{3}\.\d{2}\.\d{2})?(?:\.[A-Z]\d{2})?$"
MAX_FORM_FIELDS = 8  # more than this does not fit one kiosk screen without scrolling

PrefillSource = Literal[
    "citizen.full_name", "citizen.birth_date", "citizen.id_number", "citizen.sex", "citizen.address",
    "citizen.phone",
]
#: Every text in a catalogue entry is bounded: a catalogue comes from the portal, and a 600k-character
#: procedure name took 12.5 s and 2.9 GB to draw.
MAX_TEXT_CHARS = 1000
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)]
ShortText = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]


MAX_CHOICE_CHARS = 200
Choice = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CHOICE_CHARS)]
EnChoice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHOICE_CHARS)]
Keyword = Annotated[str, StringConstraints(max_length=100)]


class CatalogError(Exception):
    """The catalogue cannot be used; the message names the procedure and field (for the technician)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _nfc(cls, v: Any) -> Any:
        """Vietnamese text is stored NFC whatever tool wrote the file."""
        if isinstance(v, str):
            return nfc(v)
        if isinstance(v, list):
            return [nfc(x) if isinstance(x, str) else x for x in v]
        return v


class _English(_Model):
    """The English of an entry's texts (issue 12). A key left out is shown in Vietnamese; a key whose Vietnamese
    is empty is refused (nothing to translate)."""

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self if v is not None}


def _check_english(entry: BaseModel, en: _English | None) -> None:
    """Every English text translates a Vietnamese one of the same entry; a list has the Vietnamese's length."""
    if en is None:
        return
    for key, value in en.given().items():
        vi = getattr(entry, key)
        if not vi:
            raise ValueError(f"en.{key}: there is no Vietnamese {key} to translate")
        if isinstance(vi, list) and len(value) != len(vi):
            raise ValueError(f"en.{key}: {len(value)} English texts for {len(vi)} Vietnamese ones")


class FeeEnglish(_English):
    condition: Text | None = None


class DocumentEnglish(_English):
    name: Text | None = None
    note: Text | None = None


class FieldEnglish(_English):
    label: Text | None = None
    help: Text | None = None
    choices: list[EnChoice] | None = Field(None, max_length=30)  # in the order of the Vietnamese choices


class ProcedureEnglish(_English):
    name: Text | None = None
    plain_name: Text | None = None
    plain: Text | None = None
    field: Text | None = None
    result_name: Text | None = None
    processing_note: Text | None = None  # the English of `processing.note`
    # words an English speaker would search with (not translations: they add to the Vietnamese keywords)
    keywords: list[Keyword] = Field(default_factory=list, max_length=50)

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in super().given().items() if k not in ("keywords", "processing_note")}


class PageTier(_Model):
    """From this page on, each page costs `amount_vnd` (chứng thực: from page 3, 1.000 đ)."""

    from_page: int = Field(ge=2)
    amount_vnd: int = Field(ge=0)


class Fee(_Model):
    """One fee rule. A procedure lists its usual case first; later rules are exceptions with a `condition`.

    `channel` says where the rule applies: a kiosk files through the portal, so it uses "online" rules
    when the procedure has them and "any" rules otherwise, never "counter" ones.
    """

    kind: Literal["fixed", "per_page", "per_copy", "free"]
    amount_vnd: int = Field(0, ge=0)
    tiers: list[PageTier] = Field(default_factory=list)
    max_per_copy_vnd: int | None = Field(None, ge=0)
    condition: ShortText = ""
    channel: Literal["any", "online", "counter"] = "any"
    en: FeeEnglish | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Fee:
        _check_english(self, self.en)
        if self.kind == "free" and self.amount_vnd:
            raise ValueError("a free case has no amount")
        if self.kind != "free" and not self.amount_vnd:
            raise ValueError(f"a {self.kind} fee needs amount_vnd")
        if self.tiers and self.kind != "per_page":
            raise ValueError("page tiers only apply to per_page fees")
        return self


class DocumentComponent(_Model):
    """One paper of the dossier (thành phần hồ sơ); `scan_at_kiosk` ones are scanned, the rest shown at the desk."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    kind: Literal["original", "copy", "form"]
    count: int = Field(1, ge=1, le=10)
    scan_at_kiosk: bool = True
    min_pages: int = Field(1, ge=0, le=100)
    note: ShortText = ""
    en: DocumentEnglish | None = None

    @model_validator(mode="after")
    def _english(self) -> DocumentComponent:
        _check_english(self, self.en)
        return self


class FormField(_Model):
    """One question of a procedure's form. `min`/`max` bound a number's value or a text's length."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    type: Literal["text", "date", "number", "choice", "yesno", "address", "phone"]
    label: Text
    help: ShortText = ""
    required: bool = True
    choices: list[Choice] = Field(default_factory=list, max_length=30)
    min: float | None = None
    max: float | None = None
    pattern: Annotated[str, StringConstraints(max_length=MAX_PATTERN_CHARS)] | None = None
    when: Literal["past", "future", "any"] = "past"  # dates: most forms ask about events that already happened
    prefill: PrefillSource | None = None
    en: FieldEnglish | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        _check_english(self, self.en)
        if self.type == "choice" and len(self.choices) < 2:
            raise ValueError("a choice field needs at least two choices")
        if self.type != "choice" and self.choices:
            raise ValueError("only choice fields have choices")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.pattern is not None:
            try:
                compile_pattern(self.pattern)
            except InputRejected as e:
                raise ValueError(e.detail) from None
        return self


Delivery = Literal["office", "post"]


def _at_the_office() -> list[Delivery]:
    return ["office"]


class Procedure(_Model):
    """One administrative procedure (thủ tục hành chính) as the kiosk offers it."""

    code: Annotated[str, StringConstraints(pattern=PROCEDURE_CODE)]
    name: Text
    plain_name: ShortText = ""  # a short tile title in everyday words ("Khai sinh cho con"); the official name stays
    plain: Text
    field: Text
    level: ShortText = "Cấp xã"
    agency: ShortText = "Ủy ban nhân dân cấp xã"
    processing: ProcessingTime = Field(default_factory=ProcessingTime)
    fees: list[Fee] = Field(default_factory=list, max_length=10)
    documents: list[DocumentComponent] = Field(default_factory=list, max_length=20)
    form: list[FormField] = Field(default_factory=list, max_length=MAX_FORM_FIELDS)
    result_delivery: list[Delivery] = Field(default_factory=_at_the_office, min_length=1)
    result_name: ShortText = ""  # what the citizen receives ("Bản sao trích lục khai sinh")
    # "electronic": the result also exists as an electronic copy; "printable": one the kiosk may print (issue 14)
    result_copy: Literal["none", "electronic", "printable"] = "none"
    # config/declarations/<id>.json
    declaration: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")] | None = None
    popularity: int = Field(0, ge=0)
    # words citizens use that the official name lacks
    keywords: list[Keyword] = Field(default_factory=list, max_length=50)
    assumed: list[ShortText] = Field(default_factory=list, max_length=20)  # for staff: not shown, not translated
    source: Text
    en: ProcedureEnglish | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> Procedure:
        _check_english(self, self.en)
        if self.en is not None and self.en.processing_note and not self.processing.note:
            raise ValueError("en.processing_note: there is no Vietnamese processing.note to translate")
        for what, ids in (("form", [f.id for f in self.form]), ("documents", [d.id for d in self.documents])):
            dup = {i for i in ids if ids.count(i) > 1}
            if dup:
                raise ValueError(f"{what}: duplicate id {sorted(dup)[0]!r}")
        return self

    def english_pairs(self) -> Iterable[tuple[str, str]]:
        """(Vietnamese, English) for every text of the procedure that has its English."""
        entries: list[tuple[BaseModel, _English | None]] = [(self, self.en), *((f, f.en) for f in self.fees),
                                                             *((d, d.en) for d in self.documents),
                                                             *((f, f.en) for f in self.form)]
        for entry, en in entries:
            for key, value in (en.given() if en is not None else {}).items():
                vi = getattr(entry, key)
                yield from zip(vi, value, strict=True) if isinstance(vi, list) else ((vi, value),)
        if self.en is not None and self.en.processing_note:
            yield self.processing.note, self.en.processing_note


class FeeQuote(BaseModel):
    amount_vnd: int
    text_vi: str  # "Miễn phí", "8.000 đ", "2.000 đ/trang"
    condition: str = ""  # when the quoted rule applies, shown under the amount


@dataclass(frozen=True)
class SearchHit:
    procedure: Procedure
    score: float  # 0..1, higher is better


# ------------------------------------------------------------------------------------------ fees
def format_vnd(amount: int) -> str:
    """Vietnamese money: '.' groups thousands, 'đ' follows ('200.000 đ')."""
    return f"{amount:,}".replace(",", ".") + " đ"


def _page_cost(fee: Fee, pages: int) -> int:
    tiers = sorted(fee.tiers, key=lambda t: t.from_page)
    total = 0
    for page in range(1, pages + 1):
        price = fee.amount_vnd
        for tier in tiers:
            if page >= tier.from_page:
                price = tier.amount_vnd
        total += price
    if fee.max_per_copy_vnd is not None:
        total = min(total, fee.max_per_copy_vnd)
    return total


def _kiosk_fee(procedure: Procedure) -> Fee | None:
    for channel in ("online", "any"):
        for fee in procedure.fees:
            if fee.channel == channel:
                return fee
    return None


def fee_for(procedure: Procedure, pages: int = 0, copies: int = 1) -> FeeQuote:
    """What the citizen pays for a dossier filed at the kiosk, in the usual case of the procedure.

    With `pages` unknown (0) a per-page fee is quoted as its rate, amount 0, until the papers are scanned.
    """
    fee = _kiosk_fee(procedure)
    if fee is None or fee.kind == "free":
        return FeeQuote(amount_vnd=0, text_vi="Miễn phí", condition=fee.condition if fee else "")
    copies = max(copies, 1)
    if fee.kind == "fixed":
        amount = fee.amount_vnd
    elif fee.kind == "per_copy":
        amount = fee.amount_vnd * copies
    elif pages <= 0:
        rate = f"{format_vnd(fee.amount_vnd)}/trang"
        for tier in sorted(fee.tiers, key=lambda t: t.from_page):
            rate += f", từ trang thứ {tier.from_page}: {format_vnd(tier.amount_vnd)}/trang"
        if fee.max_per_copy_vnd is not None:
            rate += f", tối đa {format_vnd(fee.max_per_copy_vnd)}/bản"
        return FeeQuote(amount_vnd=0, text_vi=rate, condition=fee.condition)
    else:
        amount = _page_cost(fee, pages) * copies
    return FeeQuote(amount_vnd=amount, text_vi=format_vnd(amount), condition=fee.condition)


# ------------------------------------------------------------------------------------------ search index
# How much a word counts depending on where it sits in the procedure.
_WEIGHT_NAME, _WEIGHT_KEYWORD, _WEIGHT_FIELD, _WEIGHT_PLAIN = 1.0, 0.9, 0.7, 0.5
_SIM_EXACT, _SIM_PREFIX, _SIM_FUZZY_1, _SIM_FUZZY_2 = 1.0, 0.85, 0.7, 0.55
_MAX_QUERY_WORDS = 10  # a pasted paragraph must not cost more than a long name
_MIN_SCORE = 0.3  # below this a hit shares only a stray word or a typo with the query: noise, not a match
_CODE_QUERY = re.compile(r"^\d[\d.]*(?:\.?[a-z]\d{0,2})?$")


#: English words too common to tell procedures apart (the English index neither holds nor scores them)
_ENGLISH_STOP_WORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "is", "it", "of", "on",
                                 "or", "s", "the", "to", "with", "my", "your"})


def _english_names(p: Procedure) -> list[str]:
    return [t for t in ((p.en.name, p.en.plain_name) if p.en is not None else ()) if t]


def _keywords(p: Procedure, english: bool) -> list[str]:
    return [*(p.en.keywords if english and p.en is not None else ()), *p.keywords]


class _SearchIndex:
    """Inverted index over folded words, with prefix postings, scored with numpy so a keystroke stays cheap.

    A posting maps a word to the procedures holding it and the word's weight there (name > keywords >
    field > plain text). Each typed word yields one score vector over all procedures (exact, prefix of the
    word being typed, Telex-stripped, or within one or two typos); the typed phrase found in a name adds a
    bonus, so exact phrases and prefixes rank above fuzzy matches.
    """

    def __init__(self, procedures: tuple[Procedure, ...], english: bool = False) -> None:
        self.size = len(procedures)
        self.english = english
        # Official names start with "Thủ tục"; nobody types that, so phrases are matched against the rest.
        # Padded with a space so " phrase" finds a phrase at the start of any word, the first one included.
        # English (the index for English mode): the English name and tile title first, then the Vietnamese.
        self.spaced_names = np.array([" " + " | ".join(
            [" ".join(words(t)) for t in _english_names(p) if english]
            + [" ".join(words(p.name)).removeprefix("thu tuc ")]) for p in procedures], dtype=np.str_)
        self.keyword_array = np.array([" | ".join(" ".join(words(k)) for k in _keywords(p, english))
                                       for p in procedures], dtype=np.str_)
        self.codes = [p.code.lower() for p in procedures]
        self.popularity = np.array([p.popularity for p in procedures], dtype=np.float64)
        raw: dict[str, dict[int, float]] = defaultdict(dict)
        for i, p in enumerate(procedures):
            slots = [(p.plain, _WEIGHT_PLAIN), (p.field, _WEIGHT_FIELD), (" ".join(p.keywords), _WEIGHT_KEYWORD),
                     (p.name, _WEIGHT_NAME)]
            if english and p.en is not None:
                slots += [(p.en.plain or "", _WEIGHT_PLAIN), (p.en.field or "", _WEIGHT_FIELD),
                          (" ".join(p.en.keywords), _WEIGHT_KEYWORD), (" ".join(_english_names(p)), _WEIGHT_NAME)]
            for text, weight in slots:
                for word in words(text):
                    if english and word in _ENGLISH_STOP_WORDS:
                        continue
                    if raw[word].get(i, 0.0) < weight:
                        raw[word][i] = weight
        prefixes: dict[str, dict[int, float]] = defaultdict(dict)
        for word, posting in raw.items():
            for end in range(1, len(word)):
                merged = prefixes[word[:end]]
                for i, weight in posting.items():
                    if merged.get(i, 0.0) < weight:
                        merged[i] = weight
        self.postings = {w: self._arrays(p) for w, p in raw.items()}
        self.prefixes = {w: self._arrays(p) for w, p in prefixes.items()}
        self.vocabulary = list(self.postings)

    @staticmethod
    def _arrays(posting: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        return (np.fromiter(posting.keys(), dtype=np.int32, count=len(posting)),
                np.fromiter(posting.values(), dtype=np.float64, count=len(posting)))

    def _word_scores(self, typed: str, is_last: bool) -> np.ndarray:
        """Best similarity × weight per procedure for one typed word (exact, prefix while typing, typo)."""
        best = np.zeros(self.size)

        def add(posting: tuple[np.ndarray, np.ndarray], sim: float) -> None:
            idx, weights = posting
            best[idx] = np.maximum(best[idx], weights * sim)

        for variant in {typed, telex_to_plain(typed)}:
            if variant in self.postings:
                add(self.postings[variant], _SIM_EXACT)
            if is_last and variant in self.prefixes:
                add(self.prefixes[variant], _SIM_PREFIX)
            if len(variant) >= 3 and not variant.isdigit():
                max_edits = 1 if len(variant) <= 5 else 2
                for word, dist, _ in process.extract(variant, self.vocabulary, scorer=OSA.distance,
                                                     score_cutoff=max_edits, limit=None):
                    if dist:
                        add(self.postings[word], _SIM_FUZZY_1 if dist == 1 else _SIM_FUZZY_2)
        return best

    def _phrase_scores(self, candidates: np.ndarray, phrases: Iterable[str]) -> np.ndarray:
        """Per candidate: 1 when the name starts with the typed phrase, 0.85 when it holds it from a word
        start, 0.7 when a keyword holds it, else 0."""
        names = self.spaced_names[candidates]
        keywords = self.keyword_array[candidates]
        best = np.zeros(candidates.size)
        for phrase in phrases:
            score = np.where(np.char.startswith(names, " " + phrase), 1.0,
                             np.where(np.char.find(names, " " + phrase) >= 0, 0.85,
                                      np.where(np.char.find(keywords, phrase) >= 0, 0.7, 0.0)))
            best = np.maximum(best, score)
        return best

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        folded = fold(nfc(query)).strip()
        if not folded or limit <= 0 or not self.size:
            return []
        if _CODE_QUERY.match(folded.replace(" ", "")):
            return self._by_code(folded.replace(" ", ""), limit)
        typed = words(folded)[:_MAX_QUERY_WORDS]
        if not typed:
            return []
        typing_last_word = not query[-1:].isspace()
        # English: "a", "of", "the"… say nothing about the procedure (the phrase below still holds them)
        scored = [(n, w) for n, w in enumerate(typed) if not (self.english and w in _ENGLISH_STOP_WORDS)
                  or (n == len(typed) - 1 and typing_last_word)] or list(enumerate(typed))
        scores = np.vstack([self._word_scores(w, is_last=(n == len(typed) - 1 and typing_last_word))
                            for n, w in scored])
        matched = (scores > 0).sum(axis=0)
        candidates = np.flatnonzero(matched >= math.ceil(len(scored) / 2))
        if not candidates.size:
            return []
        word_score = scores[:, candidates].sum(axis=0) / len(scored)
        phrases = {" ".join(typed), " ".join(words(telex_to_plain(folded)))}
        total = np.round(0.6 * word_score + 0.4 * self._phrase_scores(candidates, phrases), 4)
        keep = total >= _MIN_SCORE
        candidates, total = candidates[keep], total[keep]
        # Best score first, then the more used procedure, then catalogue order.
        order = np.lexsort((candidates, -self.popularity[candidates], -total))[:limit]
        return [(int(candidates[k]), float(total[k])) for k in order]

    def _by_code(self, code: str, limit: int) -> list[tuple[int, float]]:
        hits = []
        for i, own in enumerate(self.codes):
            if own == code:
                hits.append((1.0, self.popularity[i], -i))
            elif own.startswith(code):
                hits.append((0.9, self.popularity[i], -i))
            elif code in own:
                hits.append((0.7, self.popularity[i], -i))
        return [(-neg_i, score) for score, _, neg_i in heapq.nlargest(limit, hits)]


# ------------------------------------------------------------------------------------------ catalogue
class Catalog:
    """An immutable, validated set of procedures with the look-ups the screens need."""

    def __init__(self, procedures: Iterable[Procedure]) -> None:
        self.procedures: tuple[Procedure, ...] = tuple(procedures)
        self._by_code = {p.code: p for p in self.procedures}
        if len(self._by_code) != len(self.procedures):
            counts = Counter(p.code for p in self.procedures)
            dup = next(code for code, n in counts.items() if n > 1)
            raise CatalogError(f"procedure {dup}: the code appears twice")
        self._indexes: dict[bool, _SearchIndex] = {}
        self._english = self._english_table()

    def __len__(self) -> int:
        return len(self.procedures)

    def get(self, code: str) -> Procedure | None:
        """The procedure with this code; a provincial copy is also found by its national code."""
        code = code.strip()
        found = self._by_code.get(code)
        if found is None:
            found = next((p for p in self.procedures if p.code.startswith(code + ".")), None)
        return found

    def fields(self) -> list[str]:
        """The fields (lĩnh vực), the one with the most-used procedures first."""
        usage: dict[str, int] = defaultdict(int)
        for p in self.procedures:
            usage[p.field] += p.popularity
        return sorted(usage, key=lambda f: (-usage[f], fold(f)))

    def in_field(self, field: str) -> list[Procedure]:
        wanted = fold(field)
        return sorted((p for p in self.procedures if fold(p.field) == wanted), key=lambda p: -p.popularity)

    def popular(self, n: int = 6) -> list[Procedure]:
        return sorted(self.procedures, key=lambda p: -p.popularity)[:max(n, 0)]

    def search(self, query: str, limit: int = 10, lang: str = "vi") -> list[SearchHit]:
        """Ranked matches for what the citizen has typed so far: phrase and prefix hits above typo matches.
        `lang="en"` (English shown) also finds English words; the Vietnamese ones still work there."""
        english = lang == "en"
        index = self._indexes.get(english)
        if index is None:
            index = self._indexes[english] = _SearchIndex(self.procedures, english=english)
        return [SearchHit(self.procedures[i], score) for i, score in index.search(query, limit)]

    def english(self) -> dict[str, str]:
        """Vietnamese → English for every catalogue text that has its English (kiosk.messages.i18n reads it)."""
        return dict(self._english)

    def _english_table(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for p in self.procedures:
            for vi, en in p.english_pairs():
                if table.setdefault(vi, en) != en:
                    raise CatalogError(f"procedure {p.code}: {vi!r} has two English texts, "
                                       f"{table[vi]!r} and {en!r}")
        return table


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(x) for x in e["loc"]) or "(procedure)"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def parse_procedures(items: Any, origin: str = "catalogue") -> Catalog:
    """Validate raw procedure dicts (from the bundled file or the portal) into a Catalog."""
    if isinstance(items, dict):
        items = items.get("procedures")
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{origin}: expected a non-empty list of procedures")
    procedures = []
    for n, raw in enumerate(items):
        label = f"#{n + 1}"
        if isinstance(raw, dict):
            label = " ".join(str(raw.get(k, "")) for k in ("code", "name")).strip() or label
        try:
            procedures.append(Procedure.model_validate(raw))
        except ValidationError as e:
            raise CatalogError(f"{origin}: procedure {label}: {_describe(e)}") from None
    try:
        return Catalog(procedures)
    except CatalogError as e:
        raise CatalogError(f"{origin}: {e}") from None


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate a catalogue file (default: the shipped one; a kiosk passes its configured
    `catalog.path` — the domain reads no configuration)."""
    if path is None:
        from kiosk import resources

        path = resources.resource_path("config/procedures.json")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise CatalogError(f"{path}: not valid JSON: {e}") from None
    return parse_procedures(data, origin=str(path))


class CatalogStore:
    """The catalogue the kiosk serves: the last good copy synced from the portal, else the bundled one."""

    FILE_NAME = "procedures.json"

    def __init__(self, data_dir: Path, bundled_path: Path) -> None:
        self.data_dir = Path(data_dir)
        self.bundled_path = Path(bundled_path)
        self._current: Catalog | None = None

    @property
    def synced_path(self) -> Path:
        return self.data_dir / self.FILE_NAME

    def current(self) -> Catalog:
        if self._current is None:
            self._current = self._load_best()
        return self._current

    def _load_best(self) -> Catalog:
        if self.synced_path.exists():
            try:
                return load_catalog(self.synced_path)
            except CatalogError as e:
                log.warning("synced catalogue unusable, using the bundled one: %s", e)
        return load_catalog(self.bundled_path)

    def sync(self, fetch: Callable[[], list[dict]]) -> bool:
        """Replace the catalogue with the portal's list; on any failure keep serving the previous one."""
        try:
            items = fetch()
        except Exception as e:  # noqa: BLE001 - any portal failure means "keep what we have"
            log.warning("catalogue sync failed: %s", type(e).__name__)
            return False
        try:
            catalog = parse_procedures(items, origin="portal")
        except CatalogError as e:
            log.warning("catalogue from the portal rejected: %s", e)
            return False
        payload = {"procedures": [p.model_dump(mode="json") for p in catalog.procedures]}
        try:
            self._write_atomically(json.dumps(payload, ensure_ascii=False, indent=1))
        except OSError as e:
            log.warning("cannot store the synced catalogue: %s", e.strerror)
            return False
        self._current = catalog
        log.info("catalogue synced: %d procedures", len(catalog))
        return True

    def _write_atomically(self, text: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".procedures.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.synced_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
