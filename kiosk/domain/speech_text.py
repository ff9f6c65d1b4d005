"""Display text -> the words a person would read aloud (Vietnamese, or English for lang="en").

A speech engine (espeak-ng's `vi` voice) reads "02/12/2026" or "50.000đ" badly; the kiosk passes every
screen text through `spoken()` first. Pure text in, NFC text out: no I/O, no dependencies.

What is rewritten (Vietnamese; English follows the same shapes):

| shown | read | rule |
|---|---|---|
| 21 / 105 / 2026 | hai mươi mốt / một trăm linh năm / hai nghìn không trăm hai mươi sáu | integers below |
| 1.000.000, 1,5 | một triệu, một phẩy năm | "." groups thousands, "," is the decimal comma |
| 50.000đ, 50.000 đ, 50.000 VNĐ, 50.000 đồng | năm mươi nghìn đồng | money |
| 02/12/2026 (also 2-12-2026, 2.12.2026) | ngày hai tháng mười hai năm hai nghìn ... | dates dd/mm/yyyy; 4 is "tư" |
| 12/2026 | tháng mười hai năm hai nghìn ... | month/year |
| 15:30, 15h30, 15h | mười lăm giờ ba mươi phút, mười lăm giờ | times |
| 15%, 2,5% | mười lăm phần trăm, hai phẩy năm phần trăm | percentages |
| 0912 345 678, +84 912 345 678, 1900 1234 | không chín một hai, ba bốn năm, ... | phones: by digit, pause per group |
| Bước 3/7 | Bước ba trên bảy | n/m that is not a date |
| H38.01-261202-0001, 1.001193 | hát ba tám chấm không một gạch ngang ... | codes: `spell()` |
| A012 | a không một hai | queue numbers: spelled like any code (letter name, then each digit) |
| 001090012345, 0123 | không không một ... | digit runs of 8+ digits or with a leading zero: digit by digit |
| 13/2023/NĐ-CP | số mười ba năm hai nghìn không trăm hai mươi ba Nghị định Chính phủ | legal document numbers |

Vietnamese integers (checked against CLDR's Vietnamese spell-out rules, vi.xml, and common usage):
- units: không một hai ba bốn năm sáu bảy tám chín; 10-19 "mười ..."; 20-99 "X mươi ...".
- after "mươi" (20 and up): 1 -> "mốt" (21 hai mươi mốt), 4 -> "tư" (24 hai mươi tư), 5 -> "lăm";
  after "mười": 5 -> "lăm" (15 mười lăm) but 1 and 4 stay "một", "bốn" (11 mười một, 14 mười bốn).
- a zero tens digit after a hundreds digit reads "linh" (northern; "lẻ" in the south): 105 một trăm linh năm;
  after "linh" the units keep their plain names (linh một, linh bốn, linh năm).
- groups of three: nghìn (10^3), triệu (10^6), tỷ (10^9), then nghìn tỷ, triệu tỷ ...; a group after a
  higher group is read in full, so an empty hundreds digit says "không trăm" (2026 hai nghìn không trăm hai
  mươi sáu; 1.005.000 một triệu không trăm linh năm nghìn); an all-zero group is skipped (1.000.000 một triệu).
Dates read the day and month as plain numbers ("ngày hai", not "mồng hai"), except month 4 "tháng tư".
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["spoken", "spell", "number_words", "digits_words", "PAUSE"]

PAUSE = ", "  # a comma makes the voice pause between groups (phone numbers, dossier code parts)

# --------------------------------------------------------------------------------------------- words
_VI_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
             "eighteen", "nineteen")
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")
_EN_ORDINAL_SUFFIX = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                      "nine": "ninth", "twelve": "twelfth"}

# Vietnamese letter names (tên chữ cái, as taught in school), plus the four foreign letters f j w z.
_VI_LETTERS = {
    "a": "a", "ă": "á", "â": "ớ", "b": "bê", "c": "xê", "d": "dê", "đ": "đê", "e": "e", "ê": "ê",
    "g": "giê", "h": "hát", "i": "i", "k": "ca", "l": "e lờ", "m": "em mờ", "n": "en nờ", "o": "o",
    "ô": "ô", "ơ": "ơ", "p": "pê", "q": "quy", "r": "e rờ", "s": "ét xì", "t": "tê", "u": "u", "ư": "ư",
    "v": "vê", "x": "ích xì", "y": "i dài", "f": "ép", "j": "gi", "w": "vê kép", "z": "dét",
}
_VI_SYMBOLS = {".": "chấm", "-": "gạch ngang", "/": "gạch chéo", "_": "gạch dưới", ":": "hai chấm",
               "+": "cộng", "*": "sao", "#": "thăng", "|": "gạch đứng", ",": "phẩy", "@": "a còng",
               "&": "và", " ": ""}
_EN_SYMBOLS = {".": "dot", "-": "dash", "/": "slash", "_": "underscore", ":": "colon", "+": "plus",
               "*": "star", "#": "hash", "|": "bar", ",": "comma", "@": "at", "&": "and", " ": ""}

_ABBREVIATIONS_VI = {
    "NĐ-CP": "Nghị định Chính phủ", "TT-BCA": "Thông tư Bộ Công an", "TT-VPCP": "Thông tư Văn phòng Chính phủ",
    "QĐ-TTg": "Quyết định Thủ tướng", "CCCD": "căn cước công dân", "CMND": "chứng minh nhân dân",
    "UBND": "Ủy ban nhân dân", "VNĐ": "đồng", "VND": "đồng", "đ": "đồng", "₫": "đồng",
}
_ABBREVIATIONS_EN = {"VNĐ": "dong", "VND": "dong", "đ": "dong", "₫": "dong", "đồng": "dong"}
_CURRENCY = ("đồng", "VNĐ", "VND", "đ", "₫")


def _vi_triple(n: int, full: bool) -> list[str]:
    """0 < n < 1000; `full` reads an empty hundreds digit ("không trăm") because a higher group came first."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if h or full:
        words += [_VI_DIGITS[h], "trăm"]
    if t == 0:
        if u:
            words += (["linh"] if words else []) + [_VI_DIGITS[u]]
    elif t == 1:
        words.append("mười")
        if u:
            words.append("lăm" if u == 5 else _VI_DIGITS[u])
    else:
        words += [_VI_DIGITS[t], "mươi"]
        if u:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(u, _VI_DIGITS[u]))
    return words


def _vi_int(n: int, full: bool = False) -> list[str]:
    if n >= 10**9:
        high, low = divmod(n, 10**9)
        return _vi_int(high, full) + ["tỷ"] + (_vi_int(low, True) if low else [])
    words: list[str] = []
    started = full
    for group, scale in ((n // 10**6, "triệu"), (n // 1000 % 1000, "nghìn"), (n % 1000, "")):
        if group == 0:
            continue
        words += _vi_triple(group, started)
        if scale:
            words.append(scale)
        started = True
    return words


def _en_below_1000(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_EN_DIGITS[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_EN_TENS[n // 10] + (f"-{_EN_DIGITS[n % 10]}" if n % 10 else ""))
    elif n >= 10:
        words.append(_EN_TEENS[n - 10])
    elif n:
        words.append(_EN_DIGITS[n])
    return words


def _en_int(n: int) -> list[str]:
    if n == 0:
        return ["zero"]
    words: list[str] = []
    for value, name in _EN_SCALES:
        if n >= value:
            words += _en_int(n // value) + [name]
            n %= value
    return words + _en_below_1000(n)


def number_words(n: int, lang: str = "vi") -> str:
    """A non-negative integer in words: 21 -> "hai mươi mốt", 2026 -> "hai nghìn không trăm hai mươi sáu"."""
    if n < 0:
        return ("âm " if lang == "vi" else "minus ") + number_words(-n, lang)
    if lang == "en":
        return " ".join(_en_int(n))
    return " ".join(_vi_int(n)) if n else "không"


def digits_words(digits: str, lang: str = "vi") -> str:
    """Each digit by name: "0912" -> "không chín một hai"."""
    names = _EN_DIGITS if lang == "en" else _VI_DIGITS
    return " ".join(names[int(d)] for d in digits if d.isdigit())


def _en_ordinal(n: int) -> str:
    words = number_words(n, "en")
    head, sep, last = words.rpartition(" ")
    if "-" in last:
        head2, _, last = last.rpartition("-")
        head, sep = (f"{head} {head2}" if head else head2), "-"
    if last in _EN_ORDINAL_SUFFIX:
        last = _EN_ORDINAL_SUFFIX[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}" if head else last


def _en_year(y: int) -> str:
    if 2000 <= y < 2010 or y % 1000 == 0 or not 1100 <= y < 10000:
        return number_words(y, "en")
    high, low = divmod(y, 100)
    if low == 0:
        return f"{number_words(high, 'en')} hundred"
    tail = f"oh {_EN_DIGITS[low]}" if low < 10 else number_words(low, "en")
    return f"{number_words(high, 'en')} {tail}"


# --------------------------------------------------------------------------------------------- spell
def spell(code: str, lang: str = "vi") -> str:
    """A code character by character: letters by name, digits one by one, separators as words.

    "H38.01-261202-0001" -> "hát ba tám chấm không một gạch ngang hai sáu một hai không hai gạch ngang
    không không không một". Queue numbers the same way: "A012" -> "a không một hai".
    English: letters stay capitals (the voice names them), "dot", "dash".
    """
    code = unicodedata.normalize("NFC", code.strip())
    symbols = _EN_SYMBOLS if lang == "en" else _VI_SYMBOLS
    words: list[str] = []
    for ch in code:
        if ch.isdigit() and ch.isascii():
            words.append((_EN_DIGITS if lang == "en" else _VI_DIGITS)[int(ch)])
        elif ch.isalpha():
            if lang == "en":
                words.append(ch.upper())
            else:
                words.append(_VI_LETTERS.get(ch.lower(), ch.lower()))
        elif ch in symbols:
            if symbols[ch]:
                words.append(symbols[ch])
        else:
            words.append(ch)
    return _nfc(" ".join(words))


# --------------------------------------------------------------------------------------------- numbers
_THOUSANDS_VI = r"\d{1,3}(?:\.\d{3})+"
_THOUSANDS_EN = r"\d{1,3}(?:,\d{3})+"
_NUMBER_VI = re.compile(rf"(?P<int>{_THOUSANDS_VI}|\d+)(?:,(?P<frac>\d+))?")
_NUMBER_EN = re.compile(rf"(?P<int>{_THOUSANDS_EN}|{_THOUSANDS_VI}|\d+)(?:\.(?P<frac>\d+))?")


def _number_match(token: str, lang: str) -> re.Match | None:
    return (_NUMBER_EN if lang == "en" else _NUMBER_VI).fullmatch(token)


def _read_number(m: re.Match, lang: str) -> str:
    raw_int = m.group("int").replace(".", "").replace(",", "")
    words = number_words(int(raw_int), lang)
    frac = m.group("frac")
    if frac:
        point = "point" if lang == "en" else "phẩy"
        if lang == "en" or frac.startswith("0") or len(frac) > 2:
            words += f" {point} {digits_words(frac, lang)}"
        else:
            words += f" {point} {number_words(int(frac), lang)}"
    return words


def _read_plain_digits(token: str, lang: str) -> str | None:
    """A bare run of digits: a number, or digit by digit when it is an identifier (leading zero, 8+ digits)."""
    if not token.isdigit() or not token.isascii():
        return None
    if (len(token) > 1 and token.startswith("0")) or len(token) >= 8:
        return digits_words(token, lang)
    return number_words(int(token), lang)


# --------------------------------------------------------------------------------------------- patterns
_DATE = re.compile(r"(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})")
_MONTH_YEAR = re.compile(r"(?P<m>\d{1,2})/(?P<y>\d{4})")
_TIME = re.compile(r"(?P<h>[01]?\d|2[0-3])(?::|[hg])(?P<min>[0-5]\d)?")
_TIME_SECONDS = re.compile(r"(?P<h>[01]?\d|2[0-3]):(?P<min>[0-5]\d):(?P<s>[0-5]\d)")
_FRACTION = re.compile(r"(?P<a>\d+)/(?P<b>\d+)")
_PERCENT = re.compile(r"(?P<n>.+?)%")
_LEGAL = re.compile(r"(?P<n>\d+)/(?P<y>\d{4})/(?P<kind>[A-ZĐ][A-Za-zĐđ\-]*)")
_RANGE = re.compile(r"(?P<a>[1-9]\d{0,3})[-–](?P<b>[1-9]\d{0,3})")
_CODE_CHARS = re.compile(r"[0-9A-Za-zĐđ]+(?:[.\-_/|][0-9A-Za-zĐđ]+)*")
_MONEY_TOKEN = re.compile(r"(?P<n>[\d.,]+)(?P<unit>đồng|VNĐ|VND|đ|₫)")
# phone numbers, possibly grouped with spaces, dots or dashes: 0912 345 678, 024.3825.1234, +84 912 345 678,
# 1900 1234 / 1800-1234 (hotlines)
_PHONE = re.compile(
    r"(?<![\w.,/\-+])(?P<num>(?:\+84[ .\-]?|0)\d{2,4}(?:[ .\-]?\d{2,4}){1,3}|1[89]00[ .\-]?\d{3,4}(?:[ .\-]?\d{2,4})?)"
    r"(?![\w/\-]|[.,]\d)"
)

_LEAD = "([{\"'“‘«"
_TRAIL = ")]}\"'”’».,;:!?…"


def _phone_digits(number: str) -> int:
    return sum(ch.isdigit() for ch in number)


def _read_phone(number: str, lang: str) -> str:
    groups = re.split(r"[ .\-]+", number.strip())
    if len(groups) == 1:  # unbroken: group as people read them (4-3-3, or 3-3-4 for landlines is rarer)
        g = groups[0]
        plus = g.startswith("+")
        g = g.lstrip("+")
        if plus:
            groups = ["+" + g[:2]] + _split_groups(g[2:])
        else:
            groups = _split_groups(g)
    spoken_groups = []
    for g in groups:
        prefix = ("plus " if lang == "en" else "cộng ") if g.startswith("+") else ""
        spoken_groups.append(prefix + digits_words(g, lang))
    return PAUSE.join(spoken_groups)


def _split_groups(digits: str) -> list[str]:
    if len(digits) == 10:
        return [digits[:4], digits[4:7], digits[7:]]
    if len(digits) == 9:
        return [digits[:3], digits[3:6], digits[6:]]
    if len(digits) == 8:
        return [digits[:4], digits[4:]]
    return [digits[i:i + 3] for i in range(0, len(digits), 3)]


def _is_phone(number: str) -> bool:
    digits = _phone_digits(number)
    if number.startswith("+84"):
        return 10 <= digits <= 12
    if number.startswith(("1900", "1800")):
        return 8 <= digits <= 10
    return 10 <= digits <= 11


def _read_date(d: int, m: int, y: int, lang: str) -> str | None:
    if not (1 <= d <= 31 and 1 <= m <= 12):
        return None
    if lang == "en":
        return f"the {_en_ordinal(d)} of {_EN_MONTHS[m - 1]} {_en_year(y)}"
    return f"ngày {number_words(d)} tháng {_vi_month(m)} năm {number_words(y)}"


def _vi_month(m: int) -> str:
    return "tư" if m == 4 else number_words(m)


def _read_time(h: int, minutes: int | None, seconds: int | None, lang: str) -> str:
    if lang == "en":
        suffix = "a.m." if h < 12 else "p.m."
        h12 = h % 12 or 12
        if not minutes:
            return f"{number_words(h12, 'en')} o'clock {suffix}" if h not in (0, 12) else (
                "twelve noon" if h == 12 else "twelve midnight")
        tail = f"oh {_EN_DIGITS[minutes]}" if minutes < 10 else number_words(minutes, "en")
        return f"{number_words(h12, 'en')} {tail} {suffix}"
    words = f"{number_words(h)} giờ"
    if minutes:
        words += f" {number_words(minutes)} phút"
    if seconds:
        words += f" {number_words(seconds)} giây"
    return words


def _looks_like_code(token: str, lang: str) -> bool:
    if not _CODE_CHARS.fullmatch(token):
        return False
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if has_digit and has_alpha:
        return True
    if has_digit and any(c in "-_|" for c in token):
        return True
    if has_digit and "." in token:  # dotted digits that are not a number: procedure codes 1.001193, 000.00.01
        return _number_match(token, lang) is None
    return False


def _read_token(token: str, lang: str, prev_word: str) -> str | None:
    """The spoken form of one whitespace-separated token (without surrounding punctuation), or None to keep it."""
    abbreviations = _ABBREVIATIONS_EN if lang == "en" else _ABBREVIATIONS_VI
    if token in abbreviations and (token not in _CURRENCY or _NUMBERISH.search(prev_word)):
        return abbreviations[token]
    if not any(c.isdigit() for c in token):
        return None
    if m := _LEGAL.fullmatch(token):
        kind = m.group("kind")
        kind_words = abbreviations.get(kind, spell(kind, lang) if lang == "en" else kind)
        if lang == "en":
            return f"number {number_words(int(m.group('n')), 'en')} of {_en_year(int(m.group('y')))} {kind_words}"
        return f"số {number_words(int(m.group('n')))} năm {number_words(int(m.group('y')))} {kind_words}"
    if m := _MONEY_TOKEN.fullmatch(token):
        number = _number_match(m.group("n"), lang)
        if number:
            return f"{_read_number(number, lang)} {'dong' if lang == 'en' else 'đồng'}"
    if "/" in token and (m := re.fullmatch(r"(?P<money>.+?(?:đồng|VNĐ|VND|đ|₫))/(?P<per>\w+)", token)):
        money = _read_token(m.group("money"), lang, prev_word)
        if money:
            return f"{money} {'per' if lang == 'en' else 'một'} {m.group('per')}"
    if m := _PERCENT.fullmatch(token):
        number = _number_match(m.group("n"), lang)
        if number:
            return f"{_read_number(number, lang)} {'percent' if lang == 'en' else 'phần trăm'}"
    if m := _DATE.fullmatch(token):
        read = _read_date(int(m.group("d")), int(m.group("m")), int(m.group("y")), lang)
        if read:
            return read
    if m := _TIME_SECONDS.fullmatch(token):
        return _read_time(int(m.group("h")), int(m.group("min")), int(m.group("s")), lang)
    if (m := _TIME.fullmatch(token)) and (":" in token or token[-1] in "hg" or re.search(r"\d[hg]\d", token)):
        if ":" in token and m.group("min") is None:
            return None
        return _read_time(int(m.group("h")), int(m.group("min") or 0), None, lang)
    if m := _MONTH_YEAR.fullmatch(token):
        month = int(m.group("m"))
        if 1 <= month <= 12:
            if lang == "en":
                return f"{_EN_MONTHS[month - 1]} {_en_year(int(m.group('y')))}"
            return f"tháng {_vi_month(month)} năm {number_words(int(m.group('y')))}"
    if m := _FRACTION.fullmatch(token):
        a, b = m.group("a"), m.group("b")
        sep = "of" if lang == "en" else "trên"
        return f"{_read_plain_digits(a, lang)} {sep} {_read_plain_digits(b, lang)}"
    if (plain := _read_plain_digits(token, lang)) is not None:
        if lang == "vi" and prev_word.lower() in ("thứ", "tháng") and token in ("1", "4"):
            return {"1": "nhất" if prev_word.lower() == "thứ" else "một", "4": "tư"}[token]  # thứ tư, tháng tư
        return plain
    if m := _number_match(token, lang):
        return _read_number(m, lang)
    if m := _RANGE.fullmatch(token):  # 3-5 ngày: "ba đến năm"
        return f"{number_words(int(m.group('a')), lang)} {'to' if lang == 'en' else 'đến'} " \
               f"{number_words(int(m.group('b')), lang)}"
    if m := re.fullmatch(r"(?P<n>\d+)(?P<unit>[a-zđ]{2,})", token):  # 3trang, 5km: the number, then the word
        return f"{_read_plain_digits(m.group('n'), lang)} {m.group('unit')}"
    if _looks_like_code(token, lang):
        return spell(token, lang)
    if m := re.fullmatch(r"[-−](?P<n>.+)", token):  # -5: "âm năm"
        rest = _read_token(m.group("n"), lang, "")
        if rest and (_number_match(m.group("n"), lang) or m.group("n").isdigit()):
            return f"{'minus' if lang == 'en' else 'âm'} {rest}"
    return spell(token, lang)  # anything else with digits (32/13/2026): character by character, never raw digits


_NUMBERISH = re.compile(r"\d|mươi|mười|trăm|nghìn|triệu|tỷ|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|"
                        r"hundred|thousand|million|billion|one|two|three|four|five|six|seven|eight|nine|ten")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def spoken(text: str, lang: str = "vi") -> str:
    """What a person would read aloud for `text` (lang "vi" or "en"), NFC. Words without digits pass through
    unchanged, so text that is already spoken comes back the same (the function is idempotent)."""
    lang = "en" if lang.lower().startswith("en") else "vi"
    text = _nfc(text)

    def phone(m: re.Match) -> str:
        number = m.group("num")
        return _read_phone(number, lang) if _is_phone(number) else number

    text = _PHONE.sub(phone, text)
    if lang == "vi":  # "15 giờ 30" -> "15 giờ 30 phút"
        text = re.sub(r"\b(\d{1,2}) giờ (\d{1,2})\b(?! phút)", r"\1 giờ \2 phút", text)
    parts = re.split(r"(\s+)", text)
    out: list[str] = []
    prev_word = ""
    for i, part in enumerate(parts):
        if not part or part.isspace():
            out.append(part)
            continue
        if part in ("-", "–", "—") and _NUMBERISH.search(prev_word) and any(
                c.isdigit() for c in "".join(parts[i + 1:i + 3])):
            out.append("to" if lang == "en" else "đến")  # 7h30 - 17h00: "bảy giờ ba mươi phút đến ..."
            prev_word = ""
            continue
        core = part.lstrip(_LEAD)
        lead = part[: len(part) - len(core)]
        stripped = core.rstrip(_TRAIL)
        trail = core[len(stripped):]
        read = _read_token(stripped, lang, prev_word) if stripped else None
        if read and prev_word.lower() in ("ngày", "tháng") and read.startswith(prev_word.lower() + " "):
            read = read[len(prev_word) + 1:]  # "ngày 04/04/2026" says "ngày" once
        out.append(f"{lead}{read}{trail}" if read is not None else part)
        prev_word = read if read is not None else stripped
    return _nfc(re.sub(r"[ \t]{2,}", " ", "".join(out)).strip())
