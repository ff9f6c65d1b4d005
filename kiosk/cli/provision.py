"""`kiosk provision`: turn this machine into a kiosk (see kiosk.appliance.provision for the steps).
0 nothing failed, 1 a step failed, 2 the answers are invalid or missing."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

NAME = "provision"
HELP = "turn this machine into a kiosk (config, user, units)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from kiosk.appliance.provision import KIOSK_USER, QUESTIONS  # standard library only

    p.add_argument("--root", type=Path, default=Path("/"), help="write everything under this folder instead of /")
    p.add_argument("--from-file", type=Path, help="a kiosk.toml with the answers (plus an optional [provision] table)")
    p.add_argument("--non-interactive", action="store_true",
                   help="never ask; fail (exit 2) naming every answer that is missing")
    for q in QUESTIONS:
        if q.flag:
            p.add_argument(q.flag, metavar=q.key.upper(), help=f"{q.dotted}")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="any other setting")
    p.add_argument("--enrolment-code", help="one-time code from the portal admin (only when not yet enrolled)")
    p.add_argument("--technician-pin-stdin", action="store_true", help="read the technician PIN from stdin")
    p.add_argument("--kiosk-user", help=f"the unprivileged user the kiosk runs as (default {KIOSK_USER})")
    p.add_argument("--kiosk-bin", help="path of the installed `kiosk` command (default: this installation's)")
    p.add_argument("--no-self-test", action="store_true", help="skip `kiosk doctor`'s quick checks")
    p.add_argument("--json", action="store_true", help="results as JSON")


def run(args: argparse.Namespace) -> int:
    from kiosk.appliance.provision import ProvisionError, build_plan, format_results, provision

    try:
        plan = build_plan(args)
    except ProvisionError as e:
        print(f"kiosk provision: {e}", file=sys.stderr)
        return 2
    if plan.real_system and os.geteuid() != 0:
        print("kiosk provision: run as root (sudo), or pass --root DIR to prepare an image", file=sys.stderr)
        return 2
    results = provision(plan)
    if getattr(args, "json", False):
        print(json.dumps({"ok": all(r.status != "failed" for r in results), "root": str(plan.root),
                          "steps": [r.as_dict() for r in results]}, ensure_ascii=False))
    else:
        print(format_results(results))
    return 1 if any(r.status == "failed" for r in results) else 0
