"""The theme's colours (issue 12): WCAG 2 contrast of every pair a citizen reads, in both modes — body text >= 7:1
in high contrast, >= 4.5:1 otherwise; borders and the keypad's focus ring >= 3:1 — and every colour role the kv
files use is defined in both palettes and checked here."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from screens.palette import CONTRAST_PAIRS, NON_TEXT_PAIRS, PALETTES

SCREENS = Path(__file__).resolve().parent.parent / "screens"


def _channel(c: float) -> float:  # WCAG 2.x relative luminance of one sRGB channel
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgba) -> float:
    r, g, b = (_channel(float(x)) for x in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_formula():
    assert contrast((0, 0, 0, 1), (1, 1, 1, 1)) == pytest.approx(21.0)
    assert contrast((1, 1, 1, 1), (1, 1, 1, 1)) == pytest.approx(1.0)
    assert contrast((0.4627, 0.4627, 0.4627, 1), (1, 1, 1, 1)) == pytest.approx(4.54, abs=0.02)  # #767676


@pytest.mark.parametrize("mode", sorted(PALETTES))
@pytest.mark.parametrize("fg,bg,hc_min,min_", CONTRAST_PAIRS)
def test_text_contrast(mode, fg, bg, hc_min, min_):
    pal = PALETTES[mode]
    want = hc_min if mode == "high_contrast" else min_
    got = contrast(pal[fg], pal[bg])
    assert got >= want, f"{mode}: {fg} on {bg} is {got:.2f}:1 < {want}:1"


@pytest.mark.parametrize("mode", sorted(PALETTES))
@pytest.mark.parametrize("part,bg", NON_TEXT_PAIRS)
def test_non_text_contrast(mode, part, bg):
    pal = PALETTES[mode]
    assert contrast(pal[part], pal[bg]) >= 3.0, f"{mode}: {part} on {bg}"


def test_high_contrast_is_light_on_dark():
    hc = PALETTES["high_contrast"]
    assert luminance(hc["ink"]) > 0.9 and luminance(hc["paper"]) < 0.01
    assert contrast(hc["ink"], hc["paper"]) >= 15


def test_every_role_the_screens_use_is_in_both_palettes_and_checked():
    used = set()
    for kv in SCREENS.glob("*.kv"):
        used |= set(re.findall(r"\btheme\.([a-z_]+)\b", kv.read_text(encoding="utf-8")))
    used -= {"k", "large", "contrast", "lang"}
    assert used, "no kv file reads the theme"
    checked = {r for pair in CONTRAST_PAIRS for r in pair[:2]} | {r for pair in NON_TEXT_PAIRS for r in pair}
    for mode, pal in PALETTES.items():
        assert used <= set(pal), f"{mode} lacks {sorted(used - set(pal))}"
    assert used <= checked, sorted(used - checked)
    assert set(PALETTES["default"]) == set(PALETTES["high_contrast"])
