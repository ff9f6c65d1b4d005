"""Form `pattern`s from the catalogue, matched in time linear in the input (RE2), on inputs of bounded length.

A catalogue is data from the portal's administrators: Python's backtracking `re` turned an admin's
`^([A-Za-zÀ-ỹ]+ ?)*$` into seconds of frozen screen at 25 characters (the watchdog killed the app at ~29).
RE2 has no backtracking, so a match costs microseconds whatever the pattern; with the input capped it is safe
to run on the UI thread. Patterns RE2 cannot run (back-references, look-arounds) are refused when the
catalogue loads, with the technician's reason, instead of failing in front of a citizen.
"""
from __future__ import annotations

import functools

import re2

from kiosk.errors import InputRejected

MAX_PATTERN_CHARS = 300  # a form pattern is a short shape rule, not a program
MAX_INPUT_CHARS = 400  # longer than any answer a kiosk form asks for (addresses included)

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 1 << 20  # a pathological pattern is refused at compile time rather than allowed 8 MB


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str):
    """The compiled pattern, or `InputRejected` naming why it cannot be used."""
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
        raise InputRejected(f"a form pattern is at most {MAX_PATTERN_CHARS} characters", code="pattern_too_long")
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except Exception as e:  # re2.error, or an unsupported construct
        raise InputRejected(f"pattern cannot run in linear time: {type(e).__name__}: {e}"[:200],
                            code="pattern_unsupported") from None


def fullmatch(pattern: str, text: str) -> bool:
    """Does all of `text` match `pattern`? Input over MAX_INPUT_CHARS never matches."""
    if len(text) > MAX_INPUT_CHARS:
        return False
    return compile_pattern(pattern).fullmatch(text) is not None
