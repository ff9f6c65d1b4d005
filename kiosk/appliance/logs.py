"""Logging: one line per event to stderr (journald under systemd) and, when possible, a file.

Personal data must never reach a log. Code should not log it in the first place; as a second line of
defence a filter masks anything shaped like an ID-card number, an old CMND number or a phone number, and
`RedactingFormatter` (on every handler) does the same to the whole formatted line, tracebacks and stack
information included. An exception's message may quote anything (a name with diacritics cannot be told from
other words by its shape), so tracebacks show where it happened and the exception types, chained causes
too, but never their messages: `ValueError: [message withheld, 42 characters]`. A stable `code` attribute
(kiosk.errors.KioskError and drivers' DeviceError `kind`) is kept: it names the failure, not the person.
"""
from __future__ import annotations

import collections
import logging
import os
import re
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

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


_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _exception_line(exc: BaseException) -> str:
    try:
        size = len(str(exc))
    except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
        size = -1
    name = type(exc).__qualname__
    module = type(exc).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    code = getattr(exc, "code", None) or getattr(exc, "kind", None)
    tag = f" (code {code})" if isinstance(code, str) and _CODE.match(code) else ""
    withheld = f"[message withheld, {size} characters]" if size > 0 else "[no message]"
    return f"{name}{tag}: {withheld}\n"


def safe_traceback(exc: BaseException | None, tb: TracebackType | None = None) -> str:
    """A traceback with frames and exception types (causes and contexts too) but no exception messages."""
    if exc is None:
        return ""
    parts: list[str] = []
    seen: set[int] = set()

    def render(e: BaseException, tb: TracebackType | None) -> None:
        seen.add(id(e))
        if e.__cause__ is not None and id(e.__cause__) not in seen:
            render(e.__cause__, e.__cause__.__traceback__)
            parts.append("\nThe above exception was the direct cause of the following exception:\n\n")
        elif e.__context__ is not None and not e.__suppress_context__ and id(e.__context__) not in seen:
            render(e.__context__, e.__context__.__traceback__)
            parts.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        if tb is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(tb))
        parts.append(_exception_line(e))

    render(exc, tb if tb is not None else exc.__traceback__)
    return "".join(parts).rstrip("\n")


class RedactingFormatter(logging.Formatter):
    """Masks ID- and phone-shaped numbers in the whole line, and renders tracebacks without exception messages.
    Never reuses `record.exc_text` cached by another handler's formatter (it may hold the raw messages)."""

    def formatException(self, ei: Any) -> str:
        return redact(safe_traceback(ei[1], ei[2]))

    def formatStack(self, stack_info: str) -> str:
        return redact(stack_info)

    def format(self, record: logging.LogRecord) -> str:
        cached = record.exc_text
        record.exc_text = None
        try:
            return redact(super().format(record))
        finally:
            record.exc_text = cached


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: The last warnings and errors (already masked), for the technician screen.
RECENT: collections.deque[str] = collections.deque(maxlen=50)


class RecentErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(RedactingFormatter("%(asctime)s %(name)s: %(message)s", "%d/%m %H:%M:%S"))
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        RECENT.append(self.format(record))


def setup_logging(verbose: bool = False, log_dir: Path | None = None) -> None:
    root = logging.getLogger()
    if getattr(root, "_kiosk_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT))
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
    fh.setFormatter(RedactingFormatter(FORMAT))
    fh.addFilter(RedactingFilter())
    logging.getLogger().addHandler(fh)
    return path
