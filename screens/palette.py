"""The kiosk's colours, per mode (issue 12): pure data (no Kivy), read by screens.widgets.Theme and checked by
tests/test_theme.py (WCAG 2 contrast of every pair a citizen reads)."""
from __future__ import annotations

# The default palette (body text on background >= 7:1; meaning never carried by colour alone). These names stay
# for older imports; the kv files read the live `theme` below, which holds them in the default mode.
INK = (0.07, 0.07, 0.07, 1)
PRIMARY = (0.04, 0.23, 0.50, 1)
PAPER = (1, 1, 1, 1)
PANEL = (0.94, 0.95, 0.97, 1)
WARN_BG = (1.0, 0.96, 0.81, 1)
WARN_INK = (0.35, 0.10, 0.0, 1)

#: role -> colour, per mode. "paper" is the page, "primary" the header and main buttons (their words are "paper"),
#: "panel" the tiles and footer, "pressed" a touched tile, "line" thin borders, "hint" a placeholder's words,
#: "soft" secondary words, "ok_bg" a good-news band, "disabled_bg"/"disabled_ink" a greyed button, "focus" the
#: keypad's focus ring. tests/test_theme.py checks the contrast of every pair a citizen reads (CONTRAST_PAIRS).
PALETTES: dict[str, dict[str, tuple]] = {
    "default": {
        "ink": INK, "primary": PRIMARY, "paper": PAPER, "panel": PANEL, "warn_bg": WARN_BG, "warn_ink": WARN_INK,
        "pressed": (0.80, 0.86, 0.95, 1), "line": (0.35, 0.35, 0.4, 1), "key_line": (0.45, 0.45, 0.5, 1),
        "hint": (0.3, 0.3, 0.3, 1), "soft": (0.2, 0.2, 0.2, 1), "ok_bg": (0.85, 0.93, 0.86, 1),
        "disabled_bg": (0.75, 0.75, 0.75, 1), "disabled_ink": (0.25, 0.25, 0.25, 1),
        "face_bg": (0.93, 0.94, 0.97, 1), "face_ink": (0.05, 0.23, 0.49, 1), "focus": (0.85, 0.33, 0.0, 1),
        "sel_bg": (1.0, 0.84, 0.2, 1), "sel_ink": INK,
    },
    # light on dark: white words on black, yellow for what can be pressed (black words on yellow buttons)
    "high_contrast": {
        "ink": (1, 1, 1, 1), "primary": (1.0, 0.86, 0.0, 1), "paper": (0, 0, 0, 1), "panel": (0.1, 0.1, 0.1, 1),
        "warn_bg": (0.22, 0.08, 0.0, 1), "warn_ink": (1.0, 0.85, 0.55, 1),
        "pressed": (0.28, 0.24, 0.0, 1), "line": (0.85, 0.85, 0.85, 1), "key_line": (0.85, 0.85, 0.85, 1),
        "hint": (0.82, 0.82, 0.82, 1), "soft": (0.9, 0.9, 0.9, 1), "ok_bg": (0.0, 0.22, 0.08, 1),
        "disabled_bg": (0.25, 0.25, 0.25, 1), "disabled_ink": (0.8, 0.8, 0.8, 1),
        "face_bg": (0.1, 0.1, 0.1, 1), "face_ink": (1.0, 0.86, 0.0, 1), "focus": (0.0, 0.9, 1.0, 1),
        "sel_bg": (1, 1, 1, 1), "sel_ink": (0, 0, 0, 1),
    },
}

#: (words, background, minimum in high contrast, minimum otherwise): every pair a citizen reads on the screens.
BODY, NON_BODY = (7.0, 4.5), (4.5, 4.5)
CONTRAST_PAIRS: list[tuple[str, str, float, float]] = [
    ("ink", "paper", *BODY), ("ink", "panel", *BODY), ("ink", "pressed", *BODY), ("ink", "ok_bg", *BODY),
    ("warn_ink", "warn_bg", *BODY), ("primary", "paper", *BODY), ("paper", "primary", *BODY),
    ("primary", "panel", *BODY), ("primary", "ok_bg", *BODY), ("soft", "paper", *BODY), ("soft", "panel", *BODY),
    ("face_ink", "face_bg", *BODY), ("warn_ink", "paper", *BODY),
    ("sel_ink", "sel_bg", *BODY), ("hint", "paper", *NON_BODY), ("disabled_ink", "disabled_bg", *NON_BODY),
    ("ink", "disabled_bg", *NON_BODY),
]
#: Non-text parts (borders, the focus ring) need 3:1 against what they sit on (WCAG 1.4.11). The focus ring is
#: drawn outside the focused button, on the page or the footer, never on the button's own fill.
NON_TEXT_PAIRS: list[tuple[str, str]] = [("focus", "paper"), ("focus", "panel"), ("line", "paper"),
                                         ("key_line", "paper"), ("primary", "paper"), ("primary", "panel")]

LARGE_TEXT_FACTOR = 1.5
