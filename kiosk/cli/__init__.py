"""`kiosk` — the command line for technicians, CI and demos.

`kiosk.cli.parser` builds the parser from a plain list of command modules (`kiosk.cli.parser.COMMANDS`); each
module (`kiosk/cli/<command>.py`) has `NAME` ("status", or "outbox list" for a sub-command), `HELP`,
`add_arguments(parser)` and `run(args) -> int`. Command modules import only the standard library at the top;
each `run` imports what it needs, so `kiosk status` never loads Kivy or OpenCV.

`kiosk/` never imports `screens`: the commands that show screens (`run`, `demo`, `simulate`) are added by the
composition root `screens.main`, which is what the installed `kiosk` script runs. `python -m kiosk.cli` and
`kiosk.cli.main()` offer the non-UI commands only.
"""
from __future__ import annotations

import argparse
import os
import sys
from types import ModuleType
from collections.abc import Sequence


#: The commands screens.main adds (kiosk/ cannot import them).
UI_COMMANDS = ("run", "demo", "simulate")


def build_parser(commands: Sequence[ModuleType] | None = None) -> argparse.ArgumentParser:
    """The `kiosk` parser with `commands` (default: every non-UI command)."""
    from kiosk.cli import parser

    return parser.build_parser(parser.COMMANDS if commands is None else commands)


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Parse `argv` with `parser` (default: the non-UI commands), set up logging and the config, run the command."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    if parser is None:
        given = sys.argv[1:] if argv is None else argv
        command = next((a for a in given if not a.startswith("-")), None)
        if command in UI_COMMANDS:  # an entry point generated before the script moved to screens.main
            print(f"kiosk: `{command}` shows screens and is not part of kiosk.cli; run `python -m screens.main "
                  f"{command}`, or reinstall (pip install -e .) so the `kiosk` script runs screens.main:main",
                  file=sys.stderr)
            return 2
    args = (parser or build_parser()).parse_args(argv)
    from kiosk.appliance.logs import setup_logging

    setup_logging(verbose=args.verbose)
    if args.config:
        os.environ["KIOSK_CONFIG"] = str(args.config)
    from kiosk.appliance.config import ConfigError

    try:
        return int(args.func(args) or 0)
    except ConfigError as e:
        print(f"kiosk: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


__all__ = ["build_parser", "main"]
