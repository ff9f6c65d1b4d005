"""Whole sessions in the accessibility modes (issue 12), through the real Kivy screens against the sandbox portal:
`kiosk simulate --keypad-only` (keys of the fake keypad only, guided by speech) and the header's modes chosen on
the first screen (`--large-text --high-contrast --lang en`, in portrait). Each must deliver its dossier, write its
screenshots in the chosen mode, and leave the next citizen the default modes."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from kiosk.sandbox.server import start_sandbox
from test_ui_flow import run_simulate

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    base = tmp_path_factory.mktemp("a11y-portal")
    with start_sandbox(base / "portal.sqlite3") as sb:
        yield sb


KEYPAD_SIZE = (1280, 720)
PORTRAIT_SIZE = (720, 1280)


def _session(out):
    return json.loads((out / "session.json").read_text(encoding="utf-8"))


def test_keypad_only_completes_a_whole_session(sandbox, tmp_path):
    out = tmp_path / "out"
    # At 1280x720, the landscape layout at two thirds (the screens scale with the window): the keys are what is
    # tested here; the focus ring at full size is tests/test_screen_goldens.py's. Half the rendering CPU.
    result = run_simulate(sandbox.url, out, "--keypad-only", "--size", f"{KEYPAD_SIZE[0]}x{KEYPAD_SIZE[1]}")
    assert result.returncode == 0, result.stderr[-3000:]
    s = _session(out)
    assert s["ok"] and s["dossier_code"] and s["wiped"] and s["modes_reset"], s
    assert s["answers"] == {"child_full_name": "Lê Minh Khôi"}  # typed by multi-tap with Telex
    assert s["spoken"] > 20  # the guide spoke every screen
    steps = [st["step"] for st in s["steps"]]
    assert steps == ["attract", "procedure_info", "login", "form", "review", "done", "rating"]
    # on review the arrows moved the focus off "Xác nhận và gửi" and back, saying each control; select pressed it
    from kiosk.domain.speech_text import spoken

    focus = s["focus"]
    assert focus["focused"] == "Xác nhận và gửi" and focus["said"][-1] == spoken("Xác nhận và gửi"), focus
    assert len(s["focus"]["said"]) == 2
    # the focus ring shows what the select key does (orange in the default palette), on the review screen
    review = np.asarray(Image.open(out / s["steps"][4]["screenshot"]).convert("RGB")).astype(int)
    assert review.shape[:2] == (KEYPAD_SIZE[1], KEYPAD_SIZE[0])
    ring = (np.abs(review - np.array([217, 84, 0])).max(axis=2) < 24).sum()
    assert ring > 2000 * (KEYPAD_SIZE[0] * KEYPAD_SIZE[1]) / (1920 * 1080), ring  # 2,000 px at 1920x1080


def test_large_text_high_contrast_english_portrait_session(sandbox, tmp_path):
    out = tmp_path / "out"
    # At 720x1280, the portrait layout at two thirds (the screens scale with the window, text too): the large-text
    # portrait look at full size is the goldens' (@large, @large+contrast). Half the rendering CPU.
    w, h = PORTRAIT_SIZE
    result = run_simulate(sandbox.url, out, "--large-text", "--high-contrast", "--lang", "en", "--size", f"{w}x{h}")
    assert result.returncode == 0, result.stderr[-3000:]
    s = _session(out)
    assert s["ok"] and s["dossier_code"] and s["wiped"] and s["modes_reset"], s
    for step in s["steps"]:
        if step["step"] in ("status_lookup", "queue_ticket"):  # after the session: the next citizen's defaults
            continue
        img = np.asarray(Image.open(out / step["screenshot"]).convert("L")).astype(float) / 255
        assert img.shape == (h, w) and img[h * 5 // 24:h * 5 // 6].mean() < 0.3, f"{step['step']}: not light on dark"
    # the catalogue in English (issue 12 §5): found by typing "birth registration", its tile, its questions' choices
    buttons = {st["step"]: st["buttons"] for st in s["steps"]}
    assert any(b.startswith("Register a child's birth") for b in buttons["procedure"]), buttons["procedure"]
    from kiosk.messages.i18n import is_vietnamese

    for step in ("procedure", "procedure_info", "consent", "form", "review", "done"):
        keyboard = {"đ", "ă ơ ư", "â ê ô", "á", "à", "ả", "ã", "ạ"}  # the keyboard's Vietnamese letters
        left = [b for b in buttons[step] if is_vietnamese(b) and b != "Tiếng Việt" and b not in keyboard
                and not b.endswith("|")]  # the answer box: the citizen's own words
        assert not left, (step, left)
