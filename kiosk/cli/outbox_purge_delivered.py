"""`kiosk outbox purge-delivered [--json]`: drop the reference -> dossier code rows of delivered dossiers."""
from __future__ import annotations

import argparse
import json

NAME = "outbox purge-delivered"
HELP = "remove delivered dossiers from disk"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON document: how many were purged")


def run(args: argparse.Namespace) -> int:
    from kiosk.cli._outbox import open_configured

    opened = open_configured(args, "purge-delivered")
    if opened is None:
        return 2
    outbox, _ = opened
    with outbox:
        n = outbox.purge_delivered()
    print(json.dumps({"purged": n}) if args.json else f"purged {n} delivered dossiers")
    return 0
