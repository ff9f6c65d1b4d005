"""The filled declaration form (issue 14): every field back out of the PDF (NFC, at its place), PDF/A-2b with
Noto Sans embedded, page 1 against a golden rendering (pdftoppm), and the dossier sent with it first."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import unicodedata
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pikepdf
from PIL import Image

from kiosk.domain import declaration as decl
from kiosk.domain.catalog import load_catalog

GOLDEN = Path(__file__).parent / "golden" / "declaration_khai_sinh.png"
MM_PER_PT = 25.4 / 72
#: A synthetic birth registration (invented people), NFD on purpose: the form must come out NFC.
FORM = {
    "child_full_name": unicodedata.normalize("NFD", "Nguyễn Thị Ngọc Ánh"),
    "child_birth_date": "2026-11-20",
    "child_sex": "Nữ",
    "birth_place": "Bệnh viện Phụ sản Hà Nội, phường Láng, thành phố Hà Nội",
    "mother_full_name": "Trần Thị Hồng",
    "father_full_name": "Nguyễn Văn An",
    "declarant_full_name": "Nguyễn Văn An",
}
CITIZEN = {"id_number": "001099012345", "address": "Số 12 Tràng Tiền, phường Hoàn Kiếm, thành phố Hà Nội"}


def _plan() -> decl.Plan:
    return decl.layout("khai_sinh", FORM, citizen=CITIZEN, agency="Ủy ban nhân dân phường Hoàn Kiếm",
                       place="Hà Nội", day=dt.date(2026, 12, 2), kiosk_id="HN-HK-01")


def _pdf(tmp_path: Path) -> Path:
    path = tmp_path / "to_khai.pdf"
    path.write_bytes(decl.declaration_pdf(_plan()))
    return path


def _words(pdf: Path) -> list[tuple[float, float, str]]:
    """(x mm, top mm, word) for every word pdftotext finds."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True).stdout
    xml = re.sub(rb"<!DOCTYPE[^>]*>", b"", xml)
    root = ElementTree.fromstring(xml)
    return [(float(w.get("xMin")) * MM_PER_PT, float(w.get("yMin")) * MM_PER_PT, w.text or "")
            for w in root.iter() if w.tag.endswith("word")]


def test_every_field_is_in_the_pdf_text_nfc_at_its_place(tmp_path: Path) -> None:
    words = _words(_pdf(tmp_path))
    expected = {
        "form.declarant_full_name": "Nguyễn Văn An", "citizen.id_number": "001099012345",
        "citizen.address": CITIZEN["address"], "form.child_full_name": "Nguyễn Thị Ngọc Ánh",
        "form.child_birth_date": "20/11/2026", "form.child_sex": "Nữ", "form.birth_place": FORM["birth_place"],
        "form.mother_full_name": "Trần Thị Hồng", "form.father_full_name": "Nguyễn Văn An",
    }
    runs = {}
    for r in _plan().runs:
        if r.field and r.field not in runs:
            runs[r.field] = r
    for path, value in expected.items():
        run = runs[path]
        first = value.split()[0]
        hits = [(x, y) for x, y, t in words if t == first and abs(x - run.x) < 1.0 and abs(y - run.y) < 2.5]
        assert hits, f"{path}: {first!r} not found at ({run.x}, {run.y}) mm"
        assert run.x == decl.VALUE_X
    text = subprocess.run(["pdftotext", "-raw", str(tmp_path / "to_khai.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert unicodedata.is_normalized("NFC", text)
    for value in expected.values():
        assert value in text.replace("\n", " "), value
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text and "04/2020/TT-BTP" in text
    assert "không phải chữ ký" in text  # the kiosk's seal, named so: no citizen signature is faked


def test_the_pdf_is_pdfa_2b_with_the_fonts_embedded(tmp_path: Path) -> None:
    with pikepdf.open(_pdf(tmp_path)) as pdf:
        with pdf.open_metadata() as meta:
            assert meta.pdfa_status == "2B"
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"
        fonts = pdf.pages[0].Resources.Font
        for name in fonts.keys():
            descendant = fonts[name].DescendantFonts[0]
            assert "/FontFile2" in descendant.FontDescriptor, "font not embedded"
            assert "NotoSans" in str(descendant.BaseFont)


def test_page_one_matches_the_golden_rendering(tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-png", "-singlefile", str(_pdf(tmp_path)),
                    str(tmp_path / "page")], check=True, capture_output=True)
    page = np.asarray(Image.open(tmp_path / "page.png").convert("L"), dtype=np.int16)
    if not GOLDEN.exists():  # regenerate: delete the golden file and run once, then look at it
        Image.fromarray(page.astype(np.uint8)).save(GOLDEN)
    golden = np.asarray(Image.open(GOLDEN).convert("L"), dtype=np.int16)
    assert page.shape == golden.shape
    assert np.mean(np.abs(page - golden)) < 1.0
    # and the review screen's rendering (Pillow, same plan) draws the same page
    preview = np.asarray(decl.render_page(_plan(), dpi=50).resize(golden.shape[::-1]), dtype=np.int16)
    ink_p, ink_g = preview < 128, golden < 128
    assert abs(int(ink_p.sum()) - int(ink_g.sum())) / ink_g.sum() < 0.25
    rows_p, rows_g = np.flatnonzero(ink_p.any(axis=1)), np.flatnonzero(ink_g.any(axis=1))
    assert abs(int(rows_p[0]) - int(rows_g[0])) <= 2 and abs(int(rows_p[-1]) - int(rows_g[-1])) <= 2


def test_a_paper_copy_is_a_printer_wide_one_bit_page() -> None:
    img = decl.print_image(_plan(), width_dots=576)
    assert img.mode == "1" and img.width == 576 and img.height > 800


def test_every_named_template_exists_and_fills() -> None:
    for p in load_catalog().procedures:
        if p.declaration:
            plan = decl.layout(p.declaration, {}, form_fields=[f.id for f in p.form])
            assert plan.title.startswith("TỜ KHAI")
    birth = load_catalog().get("1.001193") if hasattr(load_catalog(), "get") else None
    assert birth is None or birth.declaration == "khai_sinh"
