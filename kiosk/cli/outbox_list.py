"""`kiosk outbox list [--json]`: every dossier in the outbox, a table or one JSON array (`[]` when empty)."""
from __future__ import annotations

import argparse
import json

NAME = "outbox list"
HELP = "list the outbox"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON array of the dossiers ([] when empty)")


def run(args: argparse.Namespace) -> int:
    from kiosk.cli._outbox import iter_table, open_configured
    from kiosk.outbox.store import DELIVERED

    opened = open_configured(args, "list")
    if opened is None:
        return 2
    outbox, _ = opened
    with outbox:
        items = outbox.items()
    if args.json:
        print(json.dumps([it.as_dict() for it in items], ensure_ascii=False))
    else:
        for line in iter_table(items):
            print(line)
        print(f"{len(items)} dossiers, {sum(it.state != DELIVERED for it in items)} not delivered")
    return 0
