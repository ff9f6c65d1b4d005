"""`kiosk catalog list [--json]`: every procedure in the catalogue, a table for people, JSON lines for machines."""
from __future__ import annotations

import argparse
import json

NAME = "catalog list"
HELP = "every procedure in the catalogue"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON line per procedure instead of a table")


def run(args: argparse.Namespace) -> int:
    from kiosk.cli.catalog_search import configured_catalog
    from kiosk.domain.catalog import fee_for
    from kiosk.domain.text import fold

    catalog = configured_catalog()
    if catalog is None:
        return 2
    procedures = sorted(catalog.procedures, key=lambda p: (fold(p.field), -p.popularity))
    if args.json:
        for p in procedures:
            print(json.dumps({"code": p.code, "name": p.name, "field": p.field, "fee": fee_for(p).text_vi,
                              "popularity": p.popularity}, ensure_ascii=False))
        return 0
    width = max((len(p.code) for p in procedures), default=0)
    for p in procedures:
        print(f"{p.code:<{width}}  {p.field:<12}  {p.name}")
    return 0
