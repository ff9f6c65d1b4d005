"""Catalogue form patterns cannot freeze the screen, and portal strings cannot exhaust memory."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.domain.catalog import FormField, Procedure
from kiosk.domain.patterns import MAX_INPUT_CHARS, fullmatch

BUNDLED = Path(__file__).resolve().parents[1] / "config" / "procedures.json"
EVIL = r"^([A-Za-zÀ-ỹ]+ ?)*$"  # an administrator's name rule: exponential in Python's re


def test_an_exponential_pattern_answers_at_once() -> None:
    started = time.process_time()
    for n in (25, 29, 60, MAX_INPUT_CHARS):
        assert not fullmatch(EVIL, "a" * n + "!")  # froze Python's re for seconds at 25
        assert fullmatch(EVIL, "Nguyễn Văn " + "a" * (n - 11))
    assert time.process_time() - started < 0.5


def test_overlong_input_never_matches() -> None:
    assert not fullmatch(r"^.*$", "x" * (MAX_INPUT_CHARS + 1))


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)a", r"(?<!b)a", "x" * 301])
def test_patterns_re2_cannot_run_are_refused_when_the_catalogue_loads(pattern: str) -> None:
    with pytest.raises(ValidationError):
        FormField(id="ten", type="text", label="Tên", pattern=pattern)


def test_a_giant_procedure_name_from_the_portal_is_refused() -> None:
    raw = json.loads(BUNDLED.read_text(encoding="utf-8"))
    entry = dict((raw["procedures"] if isinstance(raw, dict) else raw)[0])
    Procedure.model_validate(entry)
    entry["name"] = "Đăng ký khai sinh " * 40_000  # 600k characters
    with pytest.raises(ValidationError):
        Procedure.model_validate(entry)
