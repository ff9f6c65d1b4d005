"""python-escpos reads its printer database (capabilities.json, ~1 MB) with PyYAML's pure-Python parser when it
is first imported: about half a second of CPU at every kiosk start. It keeps the parsed database as a pickle, but
by default in a new temporary folder each time, so the pickle is never found again.

Importing this module before anything from `escpos` points python-escpos at a pickle in the user's cache
(``$XDG_CACHE_HOME/dvc-kiosk/escpos``, else ``~/.cache/...``) and writes it once, atomically, from the same
JSON file (read with the json module, which reads that file in milliseconds and gives the same data). When the
package's file is newer than the pickle (an upgrade), the pickle is written again. Nothing here is needed for
correctness: if the folder cannot be written, python-escpos parses its file as it always did.
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import platform
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"  # python-escpos's own setting for the pickle's folder


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dvc-kiosk" / "escpos"


def pickle_path(folder: Path) -> Path:
    """Where python-escpos (3.x, escpos/capabilities.py) looks for its pickle in `folder`."""
    return folder / f"{platform.python_version()}.capabilities.pickle"


def prepare(folder: Path | None = None) -> Path | None:
    """Make sure `folder` holds an up-to-date pickle of the capabilities and tell python-escpos to use it.
    Returns the pickle's path, or None when the cache cannot be used (python-escpos then parses its file)."""
    if os.environ.get(ENV) or os.environ.get("ESCPOS_CAPABILITIES_FILE"):
        return None  # set by whoever runs us: theirs to manage
    folder = folder or cache_dir()
    target = pickle_path(folder)
    try:
        source = resources.files("escpos") / "capabilities.json"
        with resources.as_file(source) as json_path:
            if not target.exists() or os.path.getmtime(json_path) > os.path.getmtime(target):
                data = json.loads(json_path.read_text(encoding="utf-8"))
                folder.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
                with tmp.open("wb") as f:
                    pickle.dump(data, f, protocol=2)
                os.replace(tmp, target)  # another process reading it sees the old file or the new one, whole
    except (OSError, ValueError, ModuleNotFoundError) as e:
        log.info("escpos capabilities cache not used (%s): the printer database is parsed at start", type(e).__name__)
        return None
    os.environ[ENV] = str(folder)
    return target


prepare()
