"""`kiosk outbox retry [--json]`: send everything waiting now; exit 1 while some remain undelivered."""
from __future__ import annotations

import argparse
import json

NAME = "outbox retry"
HELP = "send what is waiting now"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON document: delivered, pending, errors")


def run(args: argparse.Namespace) -> int:
    from kiosk.cli._outbox import open_configured
    from kiosk.outbox.store import DELIVERED
    from kiosk.portal.client import PortalClient, PortalError

    opened = open_configured(args, "retry", delivering=True)
    if opened is None:
        return 2
    outbox, settings = opened
    with outbox:
        outbox.retry_now()
        try:
            portal = PortalClient.from_settings(settings)
        except PortalError as e:
            print(json.dumps({"error": e.code}) if args.json else f"kiosk outbox retry: {e}")
            return 2
        with portal:
            delivered = outbox.deliver_due(portal, limit=100_000)
        left = outbox.depth()
        errors = sorted({it.last_error for it in outbox.items() if it.state != DELIVERED and it.last_error})
    result = {"delivered": delivered, "pending": left, "errors": errors}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"delivered {delivered}, still waiting {left}" + (f" ({', '.join(errors)})" if errors else ""))
    return 0 if left == 0 else 1
