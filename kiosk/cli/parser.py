"""The `kiosk` argument parser, built from a plain list of command modules.

A command module has `NAME` (one word, or "group sub" for a sub-command such as "outbox list"), `HELP` (one
line), `add_arguments(parser)` and `run(args) -> int`. Groups (`qr`, `pages`, `catalog`, `outbox`) are made
from the names; their help is in `GROUPS`.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from types import ModuleType
from collections.abc import Sequence

from kiosk import __version__
from kiosk.cli import (appointment, catalog_list, catalog_search, doctor, outbox_list, outbox_purge_delivered,
                       outbox_retry, pages_pack, provision, qr_decode, sandbox, status)

#: Every command `kiosk/` provides, in the order `kiosk --help` lists them (screens.main puts run/demo/simulate first).
COMMANDS: list[ModuleType] = [sandbox, status, doctor, qr_decode, pages_pack, catalog_search, catalog_list,
                              appointment, outbox_list, outbox_retry, outbox_purge_delivered, provision]

GROUPS = {
    "qr": "QR code tools",
    "pages": "scanned-page tools",
    "catalog": "procedure catalogue",
    "outbox": "dossiers waiting to be sent",
}


def build_parser(commands: Sequence[ModuleType] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="DVC Kiosk: self-service public-service kiosk")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}",
                        help="print the version and exit")
    parser.add_argument("--config", type=Path,
                        help="site config file (default: $KIOSK_CONFIG or /etc/dvc-kiosk/kiosk.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")
    groups: dict[str, argparse._SubParsersAction] = {}
    for command in commands:
        *group, name = command.NAME.split()
        target = sub
        if group:
            (group_name,) = group
            if group_name not in groups:
                help = GROUPS[group_name]
                groups[group_name] = sub.add_parser(group_name, help=help, description=help).add_subparsers(
                    dest=f"{group_name}_command", required=True, metavar="SUB", help=f"{group_name} command")
            target = groups[group_name]
        p = target.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


__all__ = ["COMMANDS", "GROUPS", "build_parser"]
