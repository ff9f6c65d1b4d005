"""Issue 13 targets for packed pages, on every set of tests/bench/pagegen.py (tuning, seen, probe, and the
held-out sets heldout, fresh, heldout2):
  photo  SSIM of each photo area on the PDF *rendered* by poppler's Cairo backend (pdftocairo -r 150 -gray)
         against the original area-resampled (BOX) to 150 dpi: >= 0.90 (worst photo of the page). The
         original is the scan as it was fed (photo box: the part inside the turned photo, `scan_boxes`) or,
         for a variant that levels the page, the same scan without the skew; each variant scores against
         the geometry it keeps (the better of the two), so img2pdf lossless scores 1.0 on every page.
         Why Cairo, not pdftoppm (Splash): Splash draws an image that fills the page one pixel larger than
         the page, i.e. resamples a lossless scan (mean error 4 grey levels at the scan's own resolution,
         SSIM 0.85 at 150 dpi); Cairo draws it exactly (error 0, SSIM 0.999).
  size   <= 60 KB per page (the PDF of the one page)
  OCR    tesseract -l vie character accuracy on the packed page (rendered at 300 dpi) at most 0.5 point
         below the lossless peer's (the scan itself, embedded losslessly)
  beside it, for a skewed page: the same SSIM against the level page *without sensor noise* (`noise_free_level`),
         and that page's own score on the main figure (its ceiling)
  speed  <= 0.3 s CPU per page (median over the pages, all threads, best of two) on this machine
Peers, measured the same way and reported side by side: img2pdf lossless, one JPEG q75 at the scan's
resolution up to 300 dpi, one JPEG q50 at up to 200 dpi. Figures go to the `bench_report` fixture
(tests/bench/conftest.py) when there is one, and always to out/bench/pages.json; docs/pages.md quotes them.
The held-out set is reported, never tuned on (the rule is in pagegen's docstring). Targets are reported (met or
NO per figure, and how many pages of each set meet each target), not asserted: `make bench` writes the report
whatever the figures are. Asserted are only invariants: every variant gives a PDF poppler can draw, and ours
keeps every page.
Run: make bench   (or .venv/bin/python -m pytest -q -m bench -s tests/bench/test_bench_pages.py)
Environment (for quicker partial runs while tuning; `make bench` sets none of them):
  BENCH_PAGES_SETS=tuning,probe  only these sets (default: all of pagegen.SETS)
  BENCH_PAGES_OCR=0              no OCR (the slow part: tesseract on every variant of every page)
  BENCH_PAGES_PEERS=0            ours only (no peers); =lossless: ours and img2pdf lossless only
  BENCH_PAGES_KINDS=id_copy,...  only pages of these kinds
  BENCH_PAGES_SKEWED=1           only skewed pages
A partial run prints its table and writes out/bench/pages-partial.json, never pages.json or the report.
"""
from __future__ import annotations

import functools
import importlib.util
import io
import json
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
import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein
from skimage.metrics import structural_similarity

from kiosk.domain import pages

pytestmark = pytest.mark.bench


def _load_pagegen():
    spec = importlib.util.spec_from_file_location("bench_pagegen", Path(__file__).with_name("pagegen.py"))
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


pagegen = _load_pagegen()
SSIM_TARGET = 0.90
SPEED_TARGET_S = 0.3
OCR_MAX_LOSS = 0.5
OCR_MAX_KIND_LOSS = 1.0  # per page kind, mean over its pages
OUT = Path(__file__).resolve().parents[2] / "out" / "bench"


# ------------------------------------------------------------------------------------------ measuring
def render(pdf: bytes, dpi: int) -> Image.Image:
    """The first page as poppler's Cairo backend draws it, grey (see the module's docstring for why not
    pdftoppm)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftocairo", "-gray", "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(src),
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
    """SSIM of a photo area of the 150 dpi rendering against the original (grey) area-resampled to 150 dpi;
    a 3 px inset leaves out the edge pixels, which depend on where each variant's image starts."""
    scale = 150 / dpi
    grey = original.convert("L")
    reference = grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.BOX)
    x, y, w, h = (round(v * scale) for v in box)
    inset = 3
    crop = (x + inset, y + inset, x + w - inset, y + h - inset)
    a = np.asarray(reference.crop(crop), dtype=np.float64)
    b = np.asarray(rendered_150.crop(crop), dtype=np.float64)
    return float(structural_similarity(a, b, data_range=255.0))


def page_photo_ssim(pdf: bytes, page, clean=None) -> tuple[float | None, float | None]:
    """The worst photo of the page, rendered at 150 dpi, against the scan as fed or, for a skewed page, the
    level scan, whichever the variant reproduces better; None for a page without photos. Second, for a skewed
    page, the same against `clean`: the page without sensor noise, as fed and level (see `noise_free_level`)."""
    if not page.photo_boxes:
        return None, None
    shown = render(pdf, 150)
    worst = min(photo_ssim(shown, page.image, box, page.dpi) for box in page.scan_boxes)
    if page.level is not None:
        worst = max(worst, min(photo_ssim(shown, page.level, box, page.dpi) for box in page.photo_boxes))
    if clean is None:
        return worst, None
    clean_fed, clean_level = clean  # against the geometry the variant keeps, as above
    return worst, max(min(photo_ssim(shown, clean_fed, box, page.dpi) for box in page.scan_boxes),
                      min(photo_ssim(shown, clean_level, box, page.dpi) for box in page.photo_boxes))


@functools.cache
def noise_free_level(set_name: str, index: int):
    """A skewed page without its sensor noise (lamp and optical blur kept), as fed and level, with its ceiling; or
    None.

    Why: the level scan a skewed page is compared with carries sensor noise at its own pixels, which a page
    that was scanned turned, and turned back, cannot reproduce: on skewed grey photos this noise-free page
    itself scores only 0.82-0.86 against it (docs/pages.md, fifth round). Reported beside the main figure, never
    instead of it: `ceiling` is what a packer that reproduced this page exactly would score on the main one."""
    page = bench_page(set_name, index)
    if page.level is None or not page.photo_boxes:
        return None
    noise_free = pagegen.set_page(set_name, index, noise=0.0)
    clean = noise_free.level
    scale = 150 / page.dpi
    grey = clean.convert("L")
    shown = grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.BOX)
    ceiling = min(photo_ssim(shown, page.level, box, page.dpi) for box in page.photo_boxes)
    return (noise_free.image, clean), ceiling


# ------------------------------------------------------------------------------------------ peers
def lossless_pdf(img: Image.Image, dpi: int) -> bytes:
    """The scan as PNG, the page exactly its size at `dpi` (a PNG stores pixels per metre: 300 dpi would
    come back as 299.9994 and the page a fraction of a pixel too wide)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return img2pdf.convert(buf.getvalue(), layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi)))


def jpeg_pdf(img: Image.Image, dpi: int, target_dpi: int, quality: int) -> bytes:
    """One JPEG of the page at `target_dpi` (never above the scan's own resolution), embedded as-is."""
    target_dpi = min(dpi, target_dpi)
    if target_dpi != dpi:
        scale = target_dpi / dpi
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, dpi=(target_dpi, target_dpi))
    return img2pdf.convert(buf.getvalue(), layout_fun=img2pdf.get_fixed_dpi_layout_fun((target_dpi, target_dpi)))


def ours_pdf(img: Image.Image, dpi: int) -> bytes:
    return pages.pack_pages([img], dpi).pdf


VARIANTS = {
    "img2pdf lossless": lossless_pdf,
    "JPEG q75 300 dpi": functools.partial(jpeg_pdf, target_dpi=300, quality=75),
    "JPEG q50 200 dpi": functools.partial(jpeg_pdf, target_dpi=200, quality=50),
    "ours (MRC)": ours_pdf,
}
OURS = "ours (MRC)"
BASELINE = "img2pdf lossless"


@functools.cache
def bench_page(set_name: str, index: int):
    return pagegen.set_page(set_name, index)


def cpu_seconds(make, page, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        cpu = time.process_time()
        make(page.image, page.dpi)
        best = min(best, time.process_time() - cpu)
    return best


def measure_page(set_name: str, index: int, with_ocr: bool = True, variants: dict | None = None) -> dict:
    page = bench_page(set_name, index)
    row = {"set": set_name, "index": index, "kind": page.kind, "dpi": page.dpi, "colour": page.colour,
           "size_mm": list(page.size_mm), "skew_deg": round(page.skew_deg, 2), "holds": list(page.holds),
           "variants": {}}
    level = noise_free_level(set_name, index)
    if level is not None:
        row["noise_free_ceiling"] = level[1]
    for name, make in (variants or VARIANTS).items():
        pdf = make(page.image, page.dpi)
        ssim, ssim_clean = page_photo_ssim(pdf, page, level[0] if level is not None else None)
        figures = {"bytes": len(pdf), "photo_ssim": ssim, "cpu_s": cpu_seconds(make, page, 2 if name == OURS else 1)}
        if ssim_clean is not None:
            figures["photo_ssim_noise_free"] = ssim_clean
        if with_ocr:
            figures["ocr"] = char_accuracy(ocr(render(pdf, 300)), page.text)
        row["variants"][name] = figures
    return row


def summarise(rows: list[dict]) -> dict:
    """Per set, per kind (and 'all'), per variant: mean and max KB/page, worst photo SSIM, mean OCR, median
    CPU s/page."""
    out: dict = {}
    for set_name in dict.fromkeys(r["set"] for r in rows):
        in_set = [r for r in rows if r["set"] == set_name]
        for kind in ["all", *dict.fromkeys(r["kind"] for r in in_set)]:
            group = [r for r in in_set if kind == "all" or r["kind"] == kind]
            for name in group[0]["variants"]:
                figs = [r["variants"][name] for r in group]
                ssims = [f["photo_ssim"] for f in figs if f["photo_ssim"] is not None]
                ocrs = [f["ocr"] for f in figs if "ocr" in f]
                out.setdefault(set_name, {}).setdefault(kind, {})[name] = {
                    "pages": len(figs),
                    "kb_mean": statistics.mean(f["bytes"] for f in figs) / 1000,
                    "kb_max": max(f["bytes"] for f in figs) / 1000,
                    "photo_ssim_min": min(ssims) if ssims else None,
                    "ocr_mean": statistics.mean(ocrs) if ocrs else None,
                    "ocr_min": min(ocrs) if ocrs else None,
                    "cpu_s_median": statistics.median(f["cpu_s"] for f in figs),
                }
    return out


def _print_table(summary: dict) -> None:
    for set_name, kinds in summary.items():
        print(f"\n== {set_name} set ==")
        print(f"{'kind':<12} {'variant':<17} {'KB/page':>8} {'KB max':>7} {'SSIM150':>8} {'OCR %':>7} {'OCR min':>7} "
              f"{'CPU s':>6}")
        for kind, variants in kinds.items():
            for name, f in variants.items():
                ssim = "—" if f["photo_ssim_min"] is None else f"{f['photo_ssim_min']:.4f}"
                ocr_ = "—" if f["ocr_mean"] is None else f"{f['ocr_mean']:.2f}"
                ocr_min = "—" if f["ocr_min"] is None else f"{f['ocr_min']:.2f}"
                print(f"{kind:<12} {name:<17} {f['kb_mean']:8.1f} {f['kb_max']:7.1f} {ssim:>8} {ocr_:>7} {ocr_min:>7} "
                      f"{f['cpu_s_median']:6.3f}")


def _print_pages(rows: list[dict]) -> None:
    """One line per page: ours, and the lossless peer's OCR when measured."""
    print(f"\n{'set':<8} {'#':>2} {'kind':<12} {'dpi':>3} {'C':>1} {'skew':>5} {'KB':>5} {'SSIM':>6} {'OCR':>6} "
          f"{'lossl.':>6} {'CPU s':>5} {'nf SSIM':>7} {'ceil.':>5}")
    for r in rows:
        f, base = r["variants"][OURS], r["variants"].get(BASELINE, {})
        ssim = "—" if f["photo_ssim"] is None else f"{f['photo_ssim']:.3f}"
        clean = f"{f['photo_ssim_noise_free']:.3f}" if "photo_ssim_noise_free" in f else "—"
        ceiling = f"{r['noise_free_ceiling']:.3f}" if "noise_free_ceiling" in r else "—"
        print(f"{r['set']:<8} {r['index']:>2} {r['kind']:<12} {r['dpi']:>3} {'C' if r['colour'] else 'G':>1} "
              f"{r['skew_deg']:5.1f} {f['bytes'] / 1000:5.1f} {ssim:>6} {f.get('ocr', float('nan')):6.2f} "
              f"{base.get('ocr', float('nan')):6.2f} {f['cpu_s']:5.3f} {clean:>7} {ceiling:>5}")


def _report(request, summary: dict, rows: list[dict]) -> None:
    try:
        report = request.getfixturevalue("bench_report")
    except pytest.FixtureLookupError:
        return
    note = "photo SSIM: worst photo of the page, pdftoppm -r 150 vs the original at 150 dpi; OCR: tesseract vie"
    for set_name, kinds in summary.items():
        in_set = [r for r in rows if r["set"] == set_name]
        section = f"Page packing, {set_name} set ({len(in_set)} pages)"
        ours = [r["variants"][OURS] for r in in_set]
        photo_pages = [f for f in ours if f["photo_ssim"] is not None]
        drops = [r["variants"][BASELINE]["ocr"] - r["variants"][OURS]["ocr"] for r in in_set]
        report.add(section, "photo pages with SSIM >= 0.90", sum(f["photo_ssim"] >= SSIM_TARGET for f in photo_pages),
                   f"of {len(photo_pages)}", f">= {len(photo_pages)}",
                   peers={name: sum(r["variants"][name]["photo_ssim"] >= SSIM_TARGET for r in in_set
                                    if r["variants"][name]["photo_ssim"] is not None)
                          for name in VARIANTS if name != OURS}, note=note)
        skewed = [r for r in in_set if "noise_free_ceiling" in r]
        if skewed:
            report.add(section, "skewed photo pages with SSIM >= 0.90 against the noise-free level page",
                       sum(r["variants"][OURS]["photo_ssim_noise_free"] >= SSIM_TARGET for r in skewed),
                       f"of {len(skewed)}", None,
                       peers={name: sum(r["variants"][name]["photo_ssim_noise_free"] >= SSIM_TARGET for r in skewed)
                              for name in VARIANTS if name != OURS},
                       note="beside the figure above, not instead of it: the level scan carries sensor noise a "
                            "turned scan cannot reproduce; the noise-free level page itself reaches >= 0.90 on "
                            f"{sum(r['noise_free_ceiling'] >= SSIM_TARGET for r in skewed)} of them")
        report.add(section, "pages <= 60 KB", sum(f["bytes"] <= pages.PAGE_BUDGET_BYTES for f in ours),
                   f"of {len(ours)}", f">= {len(ours)}",
                   peers={name: sum(r["variants"][name]["bytes"] <= pages.PAGE_BUDGET_BYTES for r in in_set)
                          for name in VARIANTS if name != OURS})
        report.add(section, "worst OCR drop vs lossless", round(max(drops), 2), "points", f"<= {OCR_MAX_LOSS}",
                   note="img2pdf lossless minus ours, character accuracy, per page")
        for kind in kinds:
            if kind == "all":
                continue
            group = [r for r in in_set if r["kind"] == kind]
            drop = statistics.mean(r["variants"][BASELINE]["ocr"] - r["variants"][OURS]["ocr"] for r in group)
            report.add(section, f"{kind}: OCR drop vs lossless, mean", round(drop, 2), "points",
                       f"<= {OCR_MAX_KIND_LOSS}", note=f"{len(group)} pages")
        targets = {"kb_mean": "<= 60", "kb_max": "<= 60", "photo_ssim_min": f">= {SSIM_TARGET}",
                   "cpu_s_median": f"<= {SPEED_TARGET_S}"}
        units = {"kb_mean": "KB/page", "kb_max": "KB", "photo_ssim_min": "SSIM", "ocr_mean": "%",
                 "cpu_s_median": "s/page"}
        labels = {"kb_mean": "size, mean", "kb_max": "size, largest page", "photo_ssim_min": "photo SSIM, worst",
                  "ocr_mean": "OCR accuracy, mean", "cpu_s_median": "CPU, median"}
        for kind, variants in kinds.items():
            for key, unit in units.items():
                value = variants[OURS][key]
                if value is None or (kind != "all" and key in ("kb_mean", "ocr_mean")):
                    continue
                peers = {name: round(f[key], 4) for name, f in variants.items() if name != OURS and f[key] is not None}
                report.add(section, f"{kind}: {labels[key]}", round(value, 4), unit=unit, target=targets.get(key),
                           peers=peers, note=f"{variants[OURS]['pages']} pages")


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name, "").strip()
    return [v.strip() for v in value.split(",") if v.strip()] or None


def test_pages_against_peers(request) -> None:
    """All figures for every set, side by side with the peers; the targets are reported, not asserted."""
    sets = _env_list("BENCH_PAGES_SETS") or list(pagegen.SETS)
    kinds = _env_list("BENCH_PAGES_KINDS")
    with_ocr = os.environ.get("BENCH_PAGES_OCR", "1") != "0"
    peers = os.environ.get("BENCH_PAGES_PEERS", "1")
    variants = {"0": {OURS: VARIANTS[OURS]}, "lossless": {BASELINE: VARIANTS[BASELINE], OURS: VARIANTS[OURS]}}.get(
        peers, VARIANTS)
    partial = sets != list(pagegen.SETS) or kinds is not None or not with_ocr or variants is not VARIANTS
    skewed_only = os.environ.get("BENCH_PAGES_SKEWED") == "1"
    partial = partial or skewed_only
    rows = [measure_page(set_name, i, with_ocr, variants) for set_name in sets
            for i, spec in enumerate(pagegen.SETS[set_name][0])
            if (kinds is None or spec.kind in kinds) and (not skewed_only or spec.skew_deg)]
    summary = summarise(rows)
    _print_table(summary)
    _print_pages(rows)
    load = os.getloadavg()[0]
    print(f"(load average {load:.1f} on {os.cpu_count()} cores)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("pages-partial.json" if partial else "pages.json")).write_text(
        json.dumps({"pages": rows, "summary": summary, "load": load}, indent=1, ensure_ascii=False), encoding="utf-8")
    if partial:
        return
    _report(request, summary, rows)
    misses = []
    for row in rows:
        ours, base = row["variants"][OURS], row["variants"][BASELINE]
        where = f"{row['set']} #{row['index']} {row['kind']} {row['dpi']} dpi"
        if ours["bytes"] > pages.PAGE_BUDGET_BYTES:
            misses.append(f"{where}: {ours['bytes'] / 1000:.1f} KB")
        if ours["photo_ssim"] is not None and ours["photo_ssim"] < SSIM_TARGET:
            misses.append(f"{where}: photo SSIM {ours['photo_ssim']:.3f}")
        if ours["ocr"] < base["ocr"] - OCR_MAX_LOSS:
            misses.append(f"{where}: OCR {ours['ocr']:.2f} vs {base['ocr']:.2f}")
    for set_name in summary:
        cpu = summary[set_name]["all"][OURS]["cpu_s_median"]
        if cpu > SPEED_TARGET_S:
            misses.append(f"{set_name}: {cpu:.3f} s CPU per page")
    print("targets missed:", misses or "none")
    assert all(r["variants"][OURS]["bytes"] > 0 for r in rows)


def test_multi_page_document_stays_in_budget() -> None:
    images = [bench_page("tuning", i) for i in range(4)]
    doc = pages.pack_pages([p.image for p in images if p.dpi == 300], 300)
    assert len(doc.pdf) / doc.pages <= pages.PAGE_BUDGET_BYTES
