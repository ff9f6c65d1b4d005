"""`kiosk sandbox`: serve the sandbox portal in the foreground until Ctrl-C."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

NAME = "sandbox"
HELP = "the sandbox portal (FastAPI + SQLite) for demos, training and tests"

log = logging.getLogger("kiosk.sandbox")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    p.add_argument("--db", type=Path, default=Path("sandbox.sqlite3"), help="SQLite file (default sandbox.sqlite3)")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of requests answered with a fault (0..1)")
    p.add_argument("--latency-ms", type=int, default=0, help="added latency per request")
    p.add_argument("--fault", action="append", default=[],
                   help="fault mode used for failing requests: 500, 429, timeout, reset, drip, badjson, "
                        "lose_response (repeatable)")


def run(args: argparse.Namespace) -> int:
    from kiosk.sandbox import NEEDS_EXTRA, missing_library

    if (missing := missing_library()) is not None:
        print(f"kiosk sandbox: {missing} is not installed; {NEEDS_EXTRA}", file=sys.stderr)
        return 2
    import uvicorn

    from kiosk.sandbox.app import create_app
    from kiosk.sandbox.faults import FaultConfig, FaultInjector
    from kiosk.sandbox.server import _uvicorn_config
    from kiosk.sandbox.store import SandboxStore

    modes = tuple(args.fault) or ("500",)
    try:
        faults = FaultConfig(fail_rate=args.fail_rate, latency_ms=args.latency_ms, modes=modes)
    except ValueError as e:
        print(f"kiosk sandbox: {e}", file=sys.stderr)
        return 2
    store = SandboxStore(args.db)
    injector = FaultInjector(faults)
    app = create_app(store, faults=injector)
    log.info("sandbox portal on http://%s:%d (db %s, fail rate %.2f, modes %s, latency %d ms)",
             args.host, args.port, args.db, faults.fail_rate, ",".join(faults.modes), faults.latency_ms)
    try:
        uvicorn.Server(_uvicorn_config(app, grace=2.0, host=args.host, port=args.port, log_level="info")).run()
    finally:
        store.close()
    return 0
