"""`kiosk pages pack -o OUT.pdf PAGE... [--dpi N]`: what the kiosk does with scanned pages, with a per-page
report on stderr."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "pages pack"
HELP = "pack scanned pages into the PDF the kiosk uploads"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, required=True, help="the PDF to write")
    p.add_argument("pages", nargs="+", type=Path, help="page images (PNG, JPEG or TIFF), in order")
    p.add_argument("--dpi", type=int, default=0, help="resolution of the pages when the files do not say (default 300)")


def run(args: argparse.Namespace) -> int:
    from PIL import Image, UnidentifiedImageError

    from kiosk.domain.pages import DEFAULT_DPI, PagesError, _dpi_of, _pack

    images: list[Image.Image] = []
    dpis: list[int] = []
    for path in args.pages:
        try:
            img = Image.open(path)
            img.load()
        except FileNotFoundError:
            print(f"kiosk pages: no such file: {path}", file=sys.stderr)
            return 2
        except (OSError, UnidentifiedImageError) as e:
            print(f"kiosk pages: {path}: not a readable image ({type(e).__name__})", file=sys.stderr)
            return 1
        if img.format not in ("PNG", "JPEG", "TIFF"):
            print(f"kiosk pages: {path}: expected a PNG or JPEG page, got {img.format}", file=sys.stderr)
            return 1
        images.append(img)
        dpis.append(_dpi_of(img, args.dpi or DEFAULT_DPI))
    try:
        doc = _pack(images, dpis)
    except PagesError as e:
        print(f"kiosk pages: cannot pack the pages: {e.kind} ({e.detail})", file=sys.stderr)
        return 1
    args.output.write_bytes(doc.pdf)
    print(f"{'page':>4} {'KB':>7} {'blank':>5} {'skew°':>6} {'method':<16} size mm", file=sys.stderr)
    for r, path in zip(doc.report, args.pages, strict=True):
        print(f"{r.index:>4} {r.size_bytes / 1000:>7.1f} {'yes' if r.blank else 'no':>5} {r.skew_deg:>6.2f} "
              f"{r.method:<16} {r.width_mm:.0f}x{r.height_mm:.0f}  {path.name}"
              + ("  (blank? the kiosk asks the citizen before dropping it)" if r.blank else ""), file=sys.stderr)
    print(f"{args.output}: {doc.pages} pages, {len(doc.pdf) / 1000:.1f} KB, sha256 {doc.sha256}", file=sys.stderr)
    return 0
