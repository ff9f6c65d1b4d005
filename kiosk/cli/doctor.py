"""`kiosk doctor`: check every configured device and the portal. 0 when nothing failed, 1 otherwise.

Progress goes to stderr as the checks start and finish (and tells the technician when to show a QR code);
the table or the JSON document goes to stdout. Run as root on a kiosk whose data folder belongs to the kiosk
user, every file the checks created there is handed back to that folder's owner.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

NAME = "doctor"
HELP = "check every configured device and the portal"

ROOT_UID = 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON document on stdout (progress stays on stderr)")
    p.add_argument("--no-print", action="store_true", help="skip the test slip")
    p.add_argument("--no-read", action="store_true", help="do not wait for a code at the reader")
    p.add_argument("--read-timeout", type=float, default=5.0, help="seconds to wait for a code (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _say(line: str) -> None:
    print(f"kiosk doctor: {line}", file=sys.stderr, flush=True)


def _owner_of(folder: Path) -> tuple[int, int] | None:
    try:
        st = folder.stat()
    except OSError:
        return None
    return st.st_uid, st.st_gid


def hand_back(folder: Path, uid: int) -> list[Path]:
    """Give every file under `folder` owned by `uid` (the user running the doctor) to the folder's owner, when
    that is someone else; returns what was changed. Errors are ignored (the folder may be on a read-only disk)."""
    owner = _owner_of(folder)
    if owner is None or owner[0] == uid:
        return []
    changed = []
    for path in folder.rglob("*"):
        try:
            if path.lstat().st_uid == uid:
                os.chown(path, *owner, follow_symlinks=False)
                changed.append(path)
        except OSError:
            continue
    return changed


def run(args: argparse.Namespace) -> int:
    from kiosk.appliance import config
    from kiosk.appliance import doctor
    from kiosk.appliance import services as services_module

    report = None if getattr(args, "quiet", False) else _say
    settings = config.load()
    data_dir = Path(settings.kiosk.data_dir)
    as_root = os.geteuid() == ROOT_UID
    try:
        try:
            services = services_module.build(settings, **doctor._build_devices(settings))
        except Exception as error:  # noqa: BLE001 - e.g. data_dir not writable: still a report, not a traceback
            checks = [doctor.Check("services", doctor.FAILED,
                                   f"cannot start the kiosk services: {doctor._describe(error)}")]
        else:
            try:
                checks = doctor.run_checks(services, print_slip=not args.no_print, read_code=not args.no_read,
                                           read_timeout=float(args.read_timeout or 5.0), report=report)
            finally:
                doctor._close_within(services, doctor.LOCAL_CHECK_TIMEOUT)
    finally:
        if as_root:
            hand_back(data_dir, ROOT_UID)
    if args.json:
        document = {"ok": all(c.ok for c in checks), "blocking": doctor.blocking_failure(checks),
                    "checks": [c.as_dict() for c in checks]}
        print(json.dumps(document, ensure_ascii=False))
    else:
        print(doctor.format_table(checks))
    return 0 if all(c.ok for c in checks) else 1
