"""`kiosk appointment --procedure CODE --received ISO [--json]`: the appointment date for a dossier received
at a time. 0 ok, 1 unknown procedure, 2 bad input or unreadable catalogue/holiday file."""
from __future__ import annotations

import argparse
import json
import logging
import sys

NAME = "appointment"
HELP = "the appointment date for a dossier received at a time"

log = logging.getLogger("kiosk.cli.appointment")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--procedure", required=True, help="procedure code, e.g. 1.001193")
    p.add_argument("--received", required=True,
                   help="ISO date-time, e.g. 2026-11-23T15:30 (Asia/Ho_Chi_Minh when naive)")
    p.add_argument("--json", action="store_true", help="one JSON document instead of the date")


def run(args: argparse.Namespace) -> int:
    import datetime as dt

    from kiosk.appliance.config import load as settings
    from kiosk.domain.appointment import HolidayCalendar, HolidayFileError, appointment_date, format_vietnamese_date
    from kiosk.domain.clock import to_centre

    try:
        received = dt.datetime.fromisoformat(args.received)
    except ValueError:
        print(f"kiosk appointment: --received {args.received!r} is not an ISO date-time; "
              "use e.g. 2026-11-23T15:30", file=sys.stderr)
        return 2
    try:
        from kiosk.domain.catalog import load_catalog

        procedure = load_catalog(settings().catalog.path).get(args.procedure)
    except Exception:
        log.exception("catalogue could not be loaded")
        print("kiosk appointment: cannot load the procedure catalogue; check the catalogue file "
              "(catalog.path in the config)", file=sys.stderr)
        return 2
    if procedure is None:
        print(f"kiosk appointment: unknown procedure {args.procedure} (see `kiosk catalog list`)", file=sys.stderr)
        return 1
    try:
        calendar = HolidayCalendar.from_file(settings().holidays.path)
        due = appointment_date(procedure.processing, received, calendar)
    except HolidayFileError as e:
        print(f"kiosk appointment: cannot read the holiday calendar ({e}); check holidays.toml", file=sys.stderr)
        return 2
    years = range(to_centre(received).year, due.year + 1)
    derived_years = [year for year in years if not calendar.is_official(year)]
    calendar_kind = "statutory" if derived_years else "official"
    if args.json:
        print(json.dumps({
            "procedure": args.procedure,
            "name": procedure.name,
            "received": to_centre(received).isoformat(),
            "appointment_date": due.isoformat(),
            "display": format_vietnamese_date(due),
            "same_day": procedure.processing.same_day,
            "working_days": procedure.processing.working_days,
            "calendar": calendar_kind,
        }, ensure_ascii=False))
    else:
        print(format_vietnamese_date(due))
        if calendar_kind == "statutory":
            print(f"kiosk appointment: note: holidays.toml has no official decision for {derived_years[-1]}; "
                  "the date uses the Labour Code's statutory holidays and may change", file=sys.stderr)
    return 0

