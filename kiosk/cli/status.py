"""`kiosk status CODE`: the portal's view of one dossier. 0 found, 1 no such dossier, 2 portal unreachable or
broken. Loads httpx and pydantic, never Kivy or OpenCV (a test checks)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

NAME = "status"
HELP = "the portal's view of one dossier"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", help="dossier code (or the text of the receipt QR)")
    p.add_argument("--portal", help="portal base URL (default: from config)")
    p.add_argument("--json", action="store_true", help="one JSON document instead of a table")


def _table(view) -> str:
    from kiosk.domain.clock import to_centre
    from kiosk.portal.client import STATUS_LABELS

    received = to_centre(view.received_at).strftime("%d/%m/%Y %H:%M") + " (UTC+7)"
    rows = [
        ("dossier", view.dossier_code),
        ("status", f"{view.status.value} — {STATUS_LABELS.get(view.status, '')}"),
        ("procedure", f"{view.procedure_code} {view.procedure_name}".strip()),
        ("received", received),
        ("appointment", view.appointment_date.strftime("%d/%m/%Y") if view.appointment_date else "-"),
        ("documents", str(view.documents)),
        ("pages", str(view.pages)),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def run(args: argparse.Namespace) -> int:
    from kiosk.portal.client import STATUS_LABELS, PortalClient, PortalError, lookup_dossier

    timeouts: dict[str, Any] = {}
    portal_url, kiosk_id, ca_file = args.portal, "kiosk-cli", None
    if not portal_url:
        from kiosk.appliance.config import load

        settings = load()
        portal_url, kiosk_id, ca_file = settings.portal.url, settings.kiosk.id, settings.portal.ca_file or None
        timeouts = {"connect_timeout": settings.portal.connect_timeout, "read_timeout": settings.portal.read_timeout}
    as_json = bool(getattr(args, "json", False))
    try:
        with PortalClient(portal_url, kiosk_id=kiosk_id, ca_file=ca_file, **timeouts) as client:
            view = lookup_dossier(client, args.code)
    except PortalError as e:
        unknown = e.code == "dossier_unknown"
        if as_json:
            print(json.dumps({"error": e.code, "detail": e.detail}, ensure_ascii=False))
        else:
            what = "no such dossier" if unknown else f"portal {portal_url} failed"
            print(f"kiosk status: {what} ({e.code}: {e.detail})", file=sys.stderr)
        return 1 if unknown else 2
    if as_json:
        data = view.model_dump(mode="json")
        data["status_label"] = STATUS_LABELS.get(view.status, "")
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(_table(view))
    return 0
