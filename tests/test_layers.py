"""The layer rules of shared/DESIGN.md hold (import-linter contracts in .importlinter): screens over kiosk over
drivers; inside kiosk, commands on top and the pure domain at the bottom; the domain does no I/O; kiosk reaches
drivers only through their interfaces and the registry; only the sandbox uses the web stack of its extra."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--config", str(REPO / ".importlinter")], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    contracts = (REPO / ".importlinter").read_text(encoding="utf-8").count("[importlinter:contract:")
    assert contracts >= 5 and f"{contracts} kept, 0 broken" in out.stdout, out.stdout[-2000:]


def test_opencv_is_imported_through_drivers_opencv_only() -> None:
    """drivers/opencv.py holds OpenCV to one thread (its pool cost the two-core kiosk CPU for nothing); a module
    importing cv2 on its own would still get that setting only by the luck of import order."""
    import re

    sources = [p for folder in ("kiosk", "drivers", "screens") for p in (REPO / folder).rglob("*.py")]
    direct = [str(p.relative_to(REPO)) for p in sources if p.name != "opencv.py"
              and re.search(r"^\s*(import cv2|from cv2 )", p.read_text(encoding="utf-8"), re.M)]
    assert not direct, direct
    from drivers.opencv import cv2

    assert cv2.getNumThreads() == 1
