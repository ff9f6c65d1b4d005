"""`kiosk catalog search QUERY [--limit N]`: ranked procedure matches, one JSON line each."""
from __future__ import annotations

import argparse
import json
import sys

NAME = "catalog search"
HELP = "ranked procedure matches as JSON lines"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help="what a citizen would type (accents and Telex optional)")
    p.add_argument("--limit", type=int, default=10, help="at most this many matches (default 10)")
    p.add_argument("--lang", choices=("vi", "en"), default="vi",
                   help="the language shown: 'en' also finds English words and prints the English name")


def configured_catalog():
    """The catalogue the kiosk uses (the cached portal catalogue, else the configured file), as
    kiosk.appliance.services loads it; None after telling the technician why it cannot be read."""
    from kiosk.appliance.config import load
    from kiosk.domain.catalog import CatalogError, CatalogStore

    settings = load()
    try:
        return CatalogStore(settings.kiosk.data_dir, settings.catalog.path).current()
    except CatalogError as e:
        print(f"kiosk catalog: cannot load the procedure catalogue: {e}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    catalog = configured_catalog()
    if catalog is None:
        return 2
    for hit in catalog.search(args.query, limit=args.limit, lang=args.lang):
        line = {"code": hit.procedure.code, "name": hit.procedure.name, "score": hit.score}
        if args.lang == "en":
            line["name_en"] = getattr(hit.procedure.en, "name", None)  # null: this catalogue has no English name
        print(json.dumps(line, ensure_ascii=False))
    return 0
