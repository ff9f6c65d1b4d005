"""What the `kiosk outbox ...` commands share: opening the configured outbox, the table."""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any
from collections.abc import Iterator


def open_configured(args: argparse.Namespace, command: str, *, delivering: bool = False) -> tuple[Any, Any] | None:
    """(the configured outbox, the settings), or None after telling the technician why it cannot be opened.
    `delivering`: with the kiosk's preparation step (OCR text layer, seal), as the kiosk itself delivers."""
    from kiosk.appliance import config
    from kiosk.outbox.store import Outbox, OutboxError

    settings = config.load()
    try:
        if delivering:
            from kiosk.appliance.services import outbox_preparer

            return Outbox(settings.kiosk.data_dir, preparer=outbox_preparer(settings)), settings
        return Outbox(settings.kiosk.data_dir), settings
    except (OutboxError, PermissionError) as e:
        code = getattr(e, "code", "permission_denied")
        if args.json:
            print(json.dumps({"error": code}))
        else:
            print(f"kiosk outbox {command}: cannot open the outbox in {settings.kiosk.data_dir} ({code}); "
                  "run it as the kiosk user", file=sys.stderr)
        return None


def human_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def iter_table(items: list, now: float | None = None) -> Iterator[str]:
    now = time.time() if now is None else now
    yield f"{'REFERENCE':<24} {'STATE':<10} {'TRIES':>5} {'DOSSIER CODE':<22} {'AGE':>8}  LAST ERROR"
    for it in items:
        yield (f"{it.ref:<24} {it.state:<10} {it.attempts:>5} {it.dossier_code or '-':<22} "
               f"{human_age(now - it.created_at):>8}  {it.last_error}")
