"""`kiosk demo` (what `make demo` runs): the kiosk with simulated devices and an embedded sandbox portal on a free
loopback port, with the sample catalogue — no configuration. Without a display it runs the scripted session
(`kiosk simulate`) instead and says where the screenshots and the receipt went."""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("screens.demo")


NAME = "demo"
HELP = "the kiosk with simulated devices and an embedded sandbox portal"


def add_arguments(p) -> None:
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="where a headless demo writes screenshots")
    p.add_argument("--headless", action="store_true", help="run the scripted session even when a display exists")


def run(args) -> int:
    from kiosk.sandbox import NEEDS_EXTRA, missing_library

    if (missing := missing_library()) is not None:
        print(f"kiosk demo: {missing} is not installed; {NEEDS_EXTRA}")
        return 2
    from kiosk.sandbox.server import start_sandbox
    from screens import kivy_env

    work = Path(tempfile.mkdtemp(prefix="dvc-kiosk-demo-"))
    try:
        with start_sandbox(work / "sandbox.sqlite3") as sandbox:
            print(f"Sandbox portal: {sandbox.url}  (test login code: VNEID-TEST-0001; see docs/sandbox.md)")
            if args.headless or not kivy_env.has_display():
                print("No display: running the scripted citizen session instead (kiosk simulate).")
                return _scripted(sandbox.url, args.out)
            return _windowed(sandbox.url, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _scripted(portal_url: str, out: Path) -> int:
    from screens import simulate
    from screens.main import build_parser

    # the same defaults as `kiosk simulate --portal URL --out DIR`
    code = simulate.run(build_parser().parse_args(["simulate", "--portal", portal_url, "--out", str(out)]))
    if code == 0:
        _render_paper(out)
        print(f"Screenshots of every step: {out / 'screens'}")
        print(f"Printer output: {out / 'receipt.bin'} and {out / 'ticket.bin'} (exact ESC/POS bytes), "
              f"rendered as {out / 'receipt.png'} and {out / 'ticket.png'}")
        print(f"Session summary: {out / 'session.json'}")
    return code


def _render_paper(out: Path) -> None:
    """What the thermal printer would have printed, as pictures a person can look at."""
    from drivers.escpos_decode import render_paper

    for name in ("receipt", "ticket"):
        stream = out / f"{name}.bin"
        if stream.exists():
            render_paper(stream.read_bytes(), 576).save(out / f"{name}.png")


def _windowed(portal_url: str, work: Path) -> int:
    from screens import kivy_env

    kivy_env.configure(size=(1920, 1080), fullscreen=False)  # before anything creates the window
    from drivers.fakes.printer import FakePrinter
    from drivers.fakes.reader import FakeCodeReader
    from drivers.fakes.scanner import FakeScanner
    from kiosk.appliance import config
    from kiosk.appliance import services as services_mod
    from screens.app import run_app

    from kiosk.sandbox.testing import SandboxTestClient

    settings = config.load(portal={"url": portal_url}, kiosk={"data_dir": str(work / "data"), "fullscreen": False})
    # the sandbox stands in for the citizen's phone: "Mô phỏng" approves the kiosk's login QR
    svc = services_mod.build(settings, data_dir=work / "data", sandbox=SandboxTestClient(portal_url),
                             scanner=FakeScanner(delay=0.4, pages=0),
                             printer=FakePrinter(width_dots=settings.printer.width_dots, speed=250.0),
                             reader=FakeCodeReader(delay=0.3))
    print("Demo kiosk: use the 'Mô phỏng' buttons to show the test VNeID code, approve the kiosk's login QR, "
          "show and lay down the demo chip card, and put papers in the feeder (clerk: CB-0001, PIN 246810).")
    return run_app(svc)
