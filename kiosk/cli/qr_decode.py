"""`kiosk qr decode FILE...`: one JSON line per image with the kiosk's decoder. 0 every image read, 1 some
image could not be decoded as an image, 2 a file does not exist."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "qr decode"
HELP = "decode QR codes in images with the kiosk's decoder (JSON lines)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, help="image files (PNG, JPEG, ...)")


def run(args: argparse.Namespace) -> int:
    missing = [path for path in args.files if not Path(path).is_file()]
    if missing:
        for path in missing:
            print(f"kiosk qr decode: no such file: {path}", file=sys.stderr)
        return 2
    from drivers.qrdecode import decode_file  # OpenCV and zxing-cpp: only for this command

    status = 0
    for path in args.files:
        record = decode_file(Path(path))
        status |= 1 if "error" in record else 0
        print(json.dumps(record, ensure_ascii=False), flush=True)
    if status:
        print("kiosk qr decode: some files could not be read as images", file=sys.stderr)
    return status
