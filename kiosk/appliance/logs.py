"""Logging: one line per event to stderr (journald under systemd) and, when possible, a file.

Personal data must never reach a log. Code should not log it in the first place; as a second line of
defence a filter masks anything shaped like an ID-card number, an old CMND number or a phone number.
"""
from __future__ import annotations

import collections
import logging
import os
import re
import sys
from pathlib import Path

_PII = re.compile(r"(?<!\d)(?:\d{12}|\d{9}|0\d{9}|\+84\d{9})(?!\d)")


def redact(text: str) -> str:
    return _PII.sub(lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 2), text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: The last warnings and errors (already masked), for the technician screen.
RECENT: collections.deque[str] = collections.deque(maxlen=50)


class RecentErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%d/%m %H:%M:%S"))
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        RECENT.append(self.format(record))


def setup_logging(verbose: bool = False, log_dir: Path | None = None) -> None:
    root = logging.getLogger()
    if getattr(root, "_kiosk_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.addHandler(RecentErrors())
    log_dir = log_dir or (Path(os.environ["KIOSK_LOG_DIR"]) if os.environ.get("KIOSK_LOG_DIR") else None)
    if log_dir is not None:
        add_file_handler(log_dir)
    for noisy in ("httpx", "httpcore", "PIL", "uvicorn.access", "multipart", "pikepdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._kiosk_configured = True  # type: ignore[attr-defined]


def add_file_handler(log_dir: Path) -> Path | None:
    """Also log to `log_dir/kiosk.log`; returns the path, or None when the folder cannot be written."""
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "kiosk.log"
        fh = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    fh.setFormatter(logging.Formatter(FORMAT))
    fh.addFilter(RedactingFilter())
    logging.getLogger().addHandler(fh)
    return path
