"""Languages (issue 12): every Vietnamese text of the screens and of kiosk.messages has an English translation;
Vietnamese stays the default and NFC; the guide speaks English with the `en` voice when English is shown."""
from __future__ import annotations

import ast
import dataclasses
import re
import unicodedata
from pathlib import Path

import pytest

from kiosk import messages
from kiosk.domain import forms
from kiosk.messages.en import EN, TEMPLATES
from kiosk.messages.i18n import is_vietnamese, known, tr
from kiosk.portal.client import STATUS_LABELS
from session_fixtures import kiosk, portal, sandbox_server, shared_outbox  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
#: Python modules of the screens whose Vietnamese literals a citizen reads (docstrings and the like are skipped
#: by looking only at strings with Vietnamese letters that are not module/class/function docstrings).
SCREEN_MODULES = ["attract", "consent", "documents", "done", "form", "otp", "procedure", "procedure_info",
                  "queue_ticket", "rating", "review", "status_lookup", "submitting", "widgets", "app"]
NOT_SHOWN = {"hộ tịch", "chứng thực", "cư trú",  # FIELD_ICONS keys (picks an icon)
             "á", "à", "ả", "ã", "ạ", "â ê ô", "ă ơ ư", "đ",  # the keyboard's Vietnamese letters
             "Tiếng Việt"}  # the language button names the language in that language


def _covered(fragment: str) -> bool:
    """A piece of text is covered when the catalogue translates it or it is part of a template."""
    f = unicodedata.normalize("NFC", fragment).strip()
    return known(f) or any(f in unicodedata.normalize("NFC", vi) for vi, _en in TEMPLATES) or f in EN


def _kv_literals() -> list[tuple[str, str]]:
    out = []
    for kv in sorted((ROOT / "screens").glob("*.kv")):
        if kv.name == "technician.kv":  # staff only
            continue
        for i, line in enumerate(kv.read_text(encoding="utf-8").splitlines(), 1):
            for m in re.finditer(r"'([^'\\]*)'", line):
                if is_vietnamese(m.group(1)) and m.group(1) not in NOT_SHOWN:
                    out.append((f"{kv.name}:{i}", m.group(1)))
    return out


def _py_literals(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None), ast.Constant):
            docs.add(id(node.body[0].value))
    return [(f"{path.name}:{n.lineno}", n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
            and is_vietnamese(n.value) and n.value not in NOT_SHOWN]


def test_every_kv_text_has_an_english_translation():
    missing = [(w, t) for w, t in _kv_literals() if not _covered(t)]
    assert len(_kv_literals()) > 60
    assert not missing, missing


@pytest.mark.parametrize("module", SCREEN_MODULES)
def test_every_text_the_screens_set_has_an_english_translation(module):
    missing = [(w, t) for w, t in _py_literals(ROOT / "screens" / f"{module}.py") if not _covered(t)]
    assert not missing, missing


def _messages_texts() -> list[str]:
    texts: list[str] = []
    for name in dir(messages):
        value = getattr(messages, name)
        if isinstance(value, str) and is_vietnamese(value):
            texts.append(value)
        elif isinstance(value, messages.UserMessage):
            texts += [value.title, value.text, value.next_step]
        elif isinstance(value, dict):
            for v in value.values():
                texts += list(v) if isinstance(v, tuple) else [v] if isinstance(v, str) else []
    for table in (messages._DEVICE, messages._ON_DEVICE, messages._PORTAL):
        for triple in table.values():
            texts += list(triple)
    return [t for t in texts if is_vietnamese(t)]


def test_the_login_screens_words_have_an_english_translation():
    missing = [(w, t) for w, t in _py_literals(ROOT / "kiosk" / "messages" / "login_screen.py") if not _covered(t)]
    assert not missing, missing


def test_every_vietnamese_message_has_an_english_translation():
    texts = _messages_texts()
    assert len(texts) > 100
    missing = [t for t in texts if not known(t)]
    assert not missing, missing
    # messages made at run time: with their varying parts
    for exc_msg in (messages.for_portal_code("otp_wrong", remaining_attempts=2),
                    messages.rejected_code("Mã QR này không phải mã đăng nhập VNeID hợp lệ.")):
        for part in dataclasses.astuple(exc_msg)[:3]:
            assert not is_vietnamese(tr(part, "en")), part
    for label in STATUS_LABELS.values():
        assert known(label), label
    for kind, text in forms.MESSAGES.items():
        filled = text.format(label="họ và tên", max=50, min=2)
        assert not is_vietnamese(tr(filled, "en").replace("họ và tên", "")), kind


def test_vietnamese_is_the_default_and_nfc():
    for vi in [*EN, *(v for v, _ in TEMPLATES)]:
        assert unicodedata.normalize("NFC", vi) == vi, vi
        assert tr(vi, "vi") is vi
    decomposed = unicodedata.normalize("NFD", "Tiếp tục")
    assert tr(decomposed, "en") == "Continue"
    assert tr("Tiếp tục") == "Tiếp tục"
    for en in EN.values():
        assert en.strip() and not is_vietnamese(en.replace("NĐ-CP", "").replace("khai sinh", "")), en


def test_templates_sentences_and_what_stays_vietnamese():
    assert tr("Bước 3/7", "en") == "Step 3/7"
    assert tr("Lưu ý: Máy in hết giấy", "en") == "Note: The printer is out of paper"
    assert tr("Máy in hết giấy. Vui lòng báo cán bộ tại quầy để được in lại.", "en") == \
        "The printer is out of paper. Please tell staff at the counter to print it again."
    # a catalogue text is shown in its English (issue 12 §5); a text no table knows stays as it is, never blank
    assert tr("Kiểm tra lại: Khai sinh cho con", "en") == "Check: Register a child's birth"
    assert tr("Kiểm tra lại: Một thủ tục mới", "en") == "Check: Một thủ tục mới"
    assert tr("Một câu không có trong danh mục.", "en") == "Một câu không có trong danh mục."


# ------------------------------------------------------------------------------------------ the catalogue (§5)
def _shown_in_english(text: str) -> str:
    """What is left of a shown English text once amounts (Vietnamese money stays "8.000 đ") are taken out."""
    return re.sub(r"[\d.]+ đ\b", "", tr(text, "en"))


def test_every_catalogue_text_is_shown_in_english():
    from kiosk.domain.catalog import load_catalog

    table = load_catalog().english()
    assert len(table) > 150
    wrong = {vi: tr(vi, "en") for vi, en in table.items() if tr(vi, "en") != en}
    assert not wrong, wrong
    assert tr("Thủ tục đăng ký khai sinh", "vi") == "Thủ tục đăng ký khai sinh"  # Vietnamese mode: unchanged


def test_what_the_screens_make_of_the_catalogue_is_english():
    """The lines the screens and messages build around catalogue texts (kiosk.domain.forms, screens/*.py):
    the papers list of the procedure info, the review, the scanner's instruction, each question's messages."""
    from kiosk.domain.catalog import fee_for, load_catalog

    left = []
    for p in load_catalog().procedures:
        p = forms.with_delivery(p, 25000)
        shown = [f"Lĩnh vực {p.field}:", f"Kiểm tra lại: {p.plain_name}", f"Tên thủ tục: {p.name}",
                 fee_for(p).text_vi, fee_for(p, pages=3).text_vi, p.processing.note]
        for d in p.documents:
            shown += [f"•  {d.name} (1 bản chính, quét tại máy)",
                      f"•  {d.name} (2 tờ khai, mang theo khi nhận kết quả)",
                      f"•  {d.name}: 2 trang", f"[b]» {d.name}[/b]\n[size=40]Đã quét 2 trang[/size]",
                      f"Đặt “{d.name}” vào khay nạp giấy, mặt có chữ úp xuống, đầu trang vào trước. Sau đó bấm “Quét”.",
                      f"Bạn chưa quét “{d.name}”."]
        shown += list(forms.validate(p, {}).errors.values())  # "Vui lòng nhập họ và tên của trẻ." …
        shown += [f"Câu hỏi 1 trên {len(p.form)}: {f.label}." for f in p.form]
        left += [(p.code, t, tr(t, "en")) for t in shown if t and is_vietnamese(_shown_in_english(t))]
    assert not left, left
    assert tr("Vui lòng nhập họ và tên của trẻ.", "en") == "Please enter: child's full name."


def test_a_portal_catalogue_without_english_keeps_the_shipped_english():
    """The portal's catalogue may carry no English: a text the shipped catalogue translates (same Vietnamese)
    keeps its English, a new one stays Vietnamese; the served catalogue's own English comes first."""
    from kiosk.domain.catalog import parse_procedures
    from kiosk.messages.i18n import use_catalog

    birth = {"code": "1.001193", "name": "Thủ tục đăng ký khai sinh", "plain": "Giải thích mới.",
             "field": "Hộ tịch", "source": "portal"}
    renamed = {**birth, "code": "1.000001", "name": "Thủ tục mới của tỉnh", "plain": "Giải thích.",
               "en": {"name": "The province's new procedure", "plain": "Explained."}}
    try:
        use_catalog(parse_procedures([birth, renamed], origin="portal"))
        assert tr("Thủ tục đăng ký khai sinh", "en") == "Birth registration"  # from the shipped catalogue
        assert tr("Giải thích mới.", "en") == "Giải thích mới."  # nobody translated it
        assert tr("Tên thủ tục: Thủ tục mới của tỉnh", "en") == "Procedure: The province's new procedure"
        use_catalog(None)
        assert tr("Thủ tục mới của tỉnh", "en") == "Thủ tục mới của tỉnh"
    finally:
        use_catalog(None)


def test_the_guide_speaks_english_with_the_english_voice(kiosk):
    from drivers.fakes.speech import FakeSpeechOutput
    from kiosk.appliance.guide import HELP_TEXT, Guide

    speech = FakeSpeechOutput(time_scale=0.0)
    try:
        guide = Guide(kiosk.session, speech)
        kiosk.send("set_lang", lang="en")
        kiosk.send("speech_toggle", on=True)
        assert speech.wait_idle(5)
        guide.help()
        assert speech.wait_idle(5)
        said = [(u.text, u.lang) for u in speech.utterances if u.tone is None]
        english = [t for t, lang in said if lang == "en"]
        assert any(t.startswith("Press the green key") and "to start an application" in t for t in english), said
        # the greeting holds the centre's Vietnamese name: said whole in the Vietnamese voice, not mangled
        assert any(t.startswith("Xin chào") and lang == "vi" for t, lang in said), said
        assert any(t.startswith("Keypad guide.") for t in english), said
        assert all(not is_vietnamese(t) for t in english)
        assert tr(HELP_TEXT, "en") != HELP_TEXT
        # the procedure list and a procedure's page, read from the catalogue's English
        kiosk.send("start")
        kiosk.send("search", query="birth")  # English words find it in English mode
        listed = [guide.in_language(line.text) for line in guide.script()]
        assert ("Key 1: Get a birth certificate for a newborn child. Register within 60 days of the birth.",
                "en") in listed, listed
        assert guide.procedure_choices[0] == "1.001193"
        kiosk.send("choose", code="1.001193")
        info = [guide.in_language(line.text) for line in guide.script()]
        assert ("About the procedure: Birth registration.", "en") in info, info
        assert all(lang == "en" and not is_vietnamese(t.replace("đ", "")) for t, lang in info), info
        kiosk.send("back")
        kiosk.send("back")
        kiosk.send("set_lang", lang="vi")
        guide.help()
        assert speech.wait_idle(5)
        last = [u for u in speech.utterances if u.tone is None][-1]
        assert last.lang == "vi" and last.text.startswith("Hướng dẫn bàn phím")
    finally:
        speech.close()
