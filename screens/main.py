"""The composition root of the `kiosk` command: the technician/CI commands from kiosk.cli plus the commands that
show screens (`run`, `demo`, `simulate`), which kiosk/ may not import. `[project.scripts] kiosk` points here;
`python -m screens.main` (or `python -m screens`) is the same."""
from __future__ import annotations

import argparse
import sys
from types import ModuleType

from kiosk import cli
from kiosk.cli import parser as kiosk_parser
from screens import demo, launch, simulate

#: The commands that show screens; each has NAME, HELP, add_arguments(parser) and run(args) like kiosk.cli's.
UI_COMMANDS: list[ModuleType] = [launch, demo, simulate]


def build_parser() -> argparse.ArgumentParser:
    return kiosk_parser.build_parser([*UI_COMMANDS, *kiosk_parser.COMMANDS])


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, parser=build_parser())


if __name__ == "__main__":
    sys.exit(main())
