"""Issue 3 targets for packed pages, measured on generated 300 dpi grey A4 scans (tests/bench/pagegen.py):
  size   <= 60 KB per page (PDF bytes / pages)
  OCR    tesseract -l vie character accuracy on the packed page within 0.5 point of the original's
  photo  SSIM of the photo area at 150 dpi >= that of a 200 dpi quality-50 JPEG of the page
  speed  <= 0.3 s per page (median CPU time, all threads; wall time is printed too) on this machine
Every variant is rendered back with poppler's pdftoppm, as a reader of the portal would see it. The same
figures for the alternatives (200 dpi q50 JPEG, G4 bilevel, MRC) are printed as one table: docs/pages.md.
Run: make bench   (or .venv/bin/python -m pytest -q -m bench -s tests/bench/test_bench_pages.py)
"""
from __future__ import annotations

import functools
import importlib.util
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein
from skimage.metrics import structural_similarity

from kiosk.domain import pages
pytestmark = pytest.mark.bench


def _load_pagegen():
    spec = importlib.util.spec_from_file_location("bench_pagegen", Path(__file__).with_name("pagegen.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


pagegen = _load_pagegen()
PAGES_FOR_OCR = 2
PAGES_FOR_SIZE = 4


def render(pdf: bytes, dpi: int) -> Image.Image:
    """The first page as poppler draws it, grey."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(src),
                        str(Path(tmp) / "out")], check=True, capture_output=True)
        out = next(Path(tmp).glob("out*.png"))
        return Image.open(out).convert("L")


def ocr(img: Image.Image) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        img.save(path, dpi=(300, 300))
        result = subprocess.run(["tesseract", str(path), "-", "-l", "vie", "--psm", "4"], check=True,
                                capture_output=True, text=True)
        return result.stdout


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def char_accuracy(read: str, truth: str) -> float:
    """Percentage of the ground truth's characters read right (1 - edit distance / length)."""
    truth, read = _fold(truth), _fold(read)
    return 100.0 * (1.0 - Levenshtein.distance(read, truth) / len(truth))


def photo_ssim(rendered_150: Image.Image, original: Image.Image, box: tuple[int, int, int, int], dpi: int) -> float:
    """SSIM of the photo area at 150 dpi against the original brought to 150 dpi (a small inset avoids the
    crop's edge pixels, which depend on where each variant's image starts)."""
    scale = 150 / dpi
    reference = original.resize((round(original.width * scale), round(original.height * scale)), Image.BOX)
    x, y, w, h = (round(v * scale) for v in box)
    inset = 3
    crop = (x + inset, y + inset, x + w - inset, y + h - inset)
    a = np.asarray(reference.crop(crop), dtype=np.float64)
    b = np.asarray(rendered_150.crop(crop), dtype=np.float64)
    return float(structural_similarity(a, b, data_range=255.0))


def compose_150(pdf: bytes) -> Image.Image:
    """The first page at 150 dpi from the images the PDF stores, each area-resampled into the place its `cm`
    gives it. Why not poppler here: pdftoppm resamples images with its own rounding (a lossless 150 dpi
    image rendered at 150 dpi scores SSIM 0.85, and a crop lands up to a pixel off), which would measure
    poppler rather than the encoding. Image masks (the MRC text layer) are left out: they are empty inside
    photo areas by construction."""
    import cv2

    doc = pikepdf.open(io.BytesIO(pdf))
    page = doc.pages[0]
    _, _, width_pt, height_pt = (float(v) for v in page.MediaBox)
    k = 150 / 72
    canvas = np.full((round(height_pt * k), round(width_pt * k)), 255, np.uint8)
    matrix = None
    for operands, operator in pikepdf.parse_content_stream(page):
        if str(operator) == "cm":
            matrix = [float(v) for v in operands]
        elif str(operator) == "Do":
            xobject = page.Resources.XObject[str(operands[0])]
            if xobject.get("/ImageMask", False):
                continue
            pixels = np.asarray(pikepdf.PdfImage(xobject).as_pil_image().convert("L"))
            a, _, _, d, e, f = matrix
            x0, y0 = round(e * k), round((height_pt - f - d) * k)
            w, h = round(a * k), round(d * k)
            canvas[y0:y0 + h, x0:x0 + w] = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
    return Image.fromarray(canvas)


def jpeg_pdf(img: Image.Image, dpi: int, target_dpi: int = 200, quality: int = 50) -> bytes:
    """The plain alternative: the page resampled to 200 dpi, one JPEG at quality 50, embedded as-is."""
    scale = target_dpi / dpi
    small = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="JPEG", quality=quality, dpi=(target_dpi, target_dpi))
    return img2pdf.convert(buf.getvalue())


def g4_pdf(img: Image.Image, dpi: int) -> bytes:
    """The other plain alternative: the page thresholded (Otsu) to bilevel at full resolution, CCITT G4."""
    import cv2

    _, bw = cv2.threshold(np.asarray(img), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    buf = io.BytesIO()
    Image.fromarray(bw).convert("1").save(buf, format="TIFF", compression="group4", dpi=(dpi, dpi),
                                          strip_size=1 << 30)
    return img2pdf.convert(buf.getvalue())


def mrc_pdf(img: Image.Image, dpi: int) -> bytes:
    return pages.pack_pages([img], dpi).pdf


VARIANTS = {"jpeg200q50": jpeg_pdf, "g4": g4_pdf, "mrc": mrc_pdf}


@functools.lru_cache(maxsize=None)
def bench_page(index: int, skewed: bool = False):
    # Quality is compared on level pages (no deskew, so every variant has the same geometry);
    # speed is measured on skewed ones (the kiosk's worst case includes the deskew).
    return pagegen.make_page(index, skew_deg=None if skewed else 0.0, seed=7)


def test_size_per_page() -> None:
    print()
    rows = {name: [] for name in VARIANTS}
    for i in range(PAGES_FOR_SIZE):
        page = bench_page(i)
        for name, make in VARIANTS.items():
            rows[name].append(len(make(page.image, page.dpi)))
    for name, sizes in rows.items():
        print(f"size  {name:<11} median {statistics.median(sizes) / 1000:6.1f} KB  max {max(sizes) / 1000:6.1f} KB")
    document = pages.pack_pages([bench_page(i).image for i in range(PAGES_FOR_SIZE)], 300)
    per_page = len(document.pdf) / document.pages
    print(f"size  mrc, {document.pages}-page document: {per_page / 1000:.1f} KB per page")
    assert max(rows["mrc"]) <= pages.PAGE_BUDGET_BYTES
    assert per_page <= pages.PAGE_BUDGET_BYTES


def test_ocr_within_half_a_point_of_the_original() -> None:
    print()
    deltas = []
    for i in range(PAGES_FOR_OCR):
        page = bench_page(i)
        base = char_accuracy(ocr(page.image), page.text)
        scores = {name: char_accuracy(ocr(render(make(page.image, page.dpi), 300)), page.text)
                  for name, make in VARIANTS.items()}
        print(f"ocr   page {i}: original {base:6.2f}%  " + "  ".join(f"{n} {s:6.2f}%" for n, s in scores.items()))
        deltas.append(base - scores["mrc"])
    print(f"ocr   mrc worst loss against the original: {max(deltas):+.2f} points")
    assert max(deltas) <= 0.5


def test_photo_area_at_least_as_good_as_200dpi_q50_jpeg() -> None:
    print()
    worst_margin = float("inf")
    for i in range(PAGES_FOR_SIZE):
        page = bench_page(i)
        pdfs = {name: make(page.image, page.dpi) for name, make in VARIANTS.items()}
        scores = {name: photo_ssim(compose_150(pdf), page.image, page.photo_box, page.dpi) for name, pdf in pdfs.items()}
        poppler = {name: photo_ssim(render(pdf, 150), page.image, page.photo_box, page.dpi) for name, pdf in pdfs.items()}
        print(f"ssim  page {i}: " + "  ".join(f"{n} {s:.4f}" for n, s in scores.items())
              + "   (pdftoppm -r 150: " + "  ".join(f"{n} {s:.4f}" for n, s in poppler.items()) + ")")
        worst_margin = min(worst_margin, scores["mrc"] - scores["jpeg200q50"])
    print(f"ssim  mrc minus jpeg200q50, worst page: {worst_margin:+.4f}")
    assert worst_margin >= 0


def test_speed_per_page() -> None:
    """Time per page, the best of three runs of each page (timeit's convention: the other engineers' jobs on
    this shared 2-core machine only ever add time), then the median over the pages; wall and CPU."""
    print()
    images = [bench_page(i, skewed=True).image for i in range(PAGES_FOR_SIZE)]
    pages.pack_pages(images[:1], 300)  # warm-up: imports, libtiff, first allocations

    def best_of_three(make, img) -> tuple[float, float]:
        runs = []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            make(img)
            runs.append((time.perf_counter() - wall, time.process_time() - cpu))
        return min(runs)

    results = {name: [best_of_three(lambda im, m=make: m(im, 300), img) for img in images]
               for name, make in VARIANTS.items()}
    load = os.getloadavg()[0]
    for name, runs in results.items():
        print(f"speed {name:<11} median {statistics.median(w for w, _ in runs):.3f} s/page wall, "
              f"{statistics.median(c for _, c in runs):.3f} s CPU (load average {load:.1f} on {os.cpu_count()} cores)")
    # The target is on CPU seconds (all threads): on an idle machine wall time is at most that, while
    # here wall time mostly measures the other jobs queued for the same two cores.
    assert statistics.median(c for _, c in results["mrc"]) <= 0.3
