"""`kiosk` — the command line for technicians, CI and demos.

Each subcommand's arguments are declared here; its work lives in the module named by its handler and is
imported only when that subcommand runs (so `kiosk status` never loads Kivy or OpenCV). The commands that
show screens (`run`, `demo`, `simulate`) hand over to the `screens` package.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path


def _handler(target: str):
    def run(args: argparse.Namespace) -> int:
        module, func = target.split(":")
        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run


def _add(sub, name: str, target: str, help: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=help)
    p.set_defaults(func=_handler(target))
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="DVC Kiosk: self-service public-service kiosk")
    parser.add_argument("--config", type=Path, help="site config file (default: $KIOSK_CONFIG or /etc/dvc-kiosk/kiosk.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _add(sub, "run", "screens.launch:run_command", "run the kiosk with the configured devices and portal")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen (for bench tests)")

    p = _add(sub, "demo", "screens.demo:demo_command", "the kiosk with simulated devices and an embedded sandbox portal")
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="where a headless demo writes screenshots")
    p.add_argument("--headless", action="store_true", help="run the scripted session even when a display exists")

    p = _add(sub, "simulate", "screens.simulate:simulate_command", "one whole citizen session through the real screens, headless")
    p.add_argument("--portal", required=True, help="portal base URL, e.g. http://127.0.0.1:8765")
    p.add_argument("--out", type=Path, required=True, help="output folder (screens/, receipt.bin, ticket.bin, session.json)")
    p.add_argument("--procedure", default="1.001193", help="procedure code (default: birth registration)")
    p.add_argument("--size", default="1920x1080", help="window size WxH (1080x1920 for portrait kiosks)")
    p.add_argument("--login-code", default="VNEID-TEST-0001", help="the sandbox login code the simulated citizen shows")
    p.add_argument("--scanner-fault", default="", help="fake scanner fault, e.g. jam_at:2 (the citizen clears it and goes on)")
    p.add_argument("--printer-fault", default="", help="fake printer fault from the moment the citizen confirms, e.g. paper_out")
    p.add_argument("--portal-down-at-submit", action="store_true",
                   help="the sandbox portal fails from the moment the citizen confirms (offline receipt), then recovers")

    p = _add(sub, "sandbox", "kiosk.sandbox.server:sandbox_command", "the sandbox portal (FastAPI + SQLite) for demos, training and tests")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--db", type=Path, default=Path("sandbox.sqlite3"))
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of requests answered with a fault (0..1)")
    p.add_argument("--latency-ms", type=int, default=0, help="added latency per request")
    p.add_argument("--fault", action="append", default=[],
                   help="fault mode used for failing requests: 500, 429, timeout, reset, drip, badjson, lose_response (repeatable)")

    p = _add(sub, "status", "kiosk.portal.client:status_command", "the portal's view of one dossier")
    p.add_argument("code", help="dossier code (or the text of the receipt QR)")
    p.add_argument("--portal", help="portal base URL (default: from config)")
    p.add_argument("--json", action="store_true")

    p = _add(sub, "doctor", "kiosk.appliance.doctor:doctor_command", "check every configured device and the portal")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-print", action="store_true", help="skip the test slip")
    p.add_argument("--no-read", action="store_true", help="do not wait for a code at the reader")
    p.add_argument("--read-timeout", type=float, default=5.0, help="seconds to wait for a code (default 5)")

    qr = sub.add_parser("qr", help="QR code tools").add_subparsers(dest="qr_command", required=True, metavar="SUB")
    p = _add(qr, "decode", "drivers.qrdecode:decode_command", "decode QR codes in images with the kiosk's decoder (JSON lines)")
    p.add_argument("files", nargs="+", type=Path)

    pages = sub.add_parser("pages", help="scanned-page tools").add_subparsers(dest="pages_command", required=True, metavar="SUB")
    p = _add(pages, "pack", "kiosk.domain.pages:pack_command", "pack scanned pages into the PDF the kiosk uploads")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("pages", nargs="+", type=Path)
    p.add_argument("--dpi", type=int, default=0, help="resolution of the pages when the files do not say (default 300)")

    cat = sub.add_parser("catalog", help="procedure catalogue").add_subparsers(dest="catalog_command", required=True, metavar="SUB")
    p = _add(cat, "search", "kiosk.domain.catalog:search_command", "ranked procedure matches as JSON lines")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p = _add(cat, "list", "kiosk.domain.catalog:list_command", "every procedure in the catalogue")
    p.add_argument("--json", action="store_true")

    p = _add(sub, "appointment", "kiosk.domain.appointment:appointment_command", "the appointment date for a dossier received at a time")
    p.add_argument("--procedure", required=True)
    p.add_argument("--received", required=True, help="ISO date-time, e.g. 2026-11-23T15:30 (Asia/Ho_Chi_Minh when naive)")
    p.add_argument("--json", action="store_true")

    out = sub.add_parser("outbox", help="dossiers waiting to be sent").add_subparsers(dest="outbox_command", required=True, metavar="SUB")
    for name, help in (("list", "list the outbox"), ("retry", "send what is waiting now"),
                       ("purge-delivered", "remove delivered dossiers from disk")):
        p = _add(out, name, f"kiosk.outbox.store:{name.replace('-', '_')}_command", help)
        p.add_argument("--json", action="store_true")

    p = _add(sub, "provision", "kiosk.appliance.provision:provision_command", "turn this machine into a kiosk (config, user, units)")
    from kiosk.appliance.provision import add_arguments as provision_arguments  # standard library only

    provision_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    args = build_parser().parse_args(argv)
    from kiosk.appliance.logs import setup_logging

    setup_logging(verbose=args.verbose)
    if args.config:
        os.environ["KIOSK_CONFIG"] = str(args.config)
    from kiosk.appliance.config import ConfigError

    try:
        return args.func(args)
    except ConfigError as e:
        print(f"kiosk: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


