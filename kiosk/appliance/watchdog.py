"""systemd readiness and watchdog notifications (sd_notify), spoken over $NOTIFY_SOCKET with the socket module.

dvc-kiosk.service is Type=notify with WatchdogSec: systemd considers the kiosk started only after READY=1, and
restarts it when WATCHDOG=1 stops arriving. The pings must come from the UI loop (a Kivy Clock callback), not a
thread of their own, so that a frozen screen, and not only a dead process, gets the kiosk restarted.

Outside systemd (development, tests, `kiosk demo`) $NOTIFY_SOCKET is unset and every call is a cheap no-op.

    notify("READY=1")            -> bool (True when a datagram was sent)
    ready(), stopping(), status(text)
    Watchdog()                   .ping() sends WATCHDOG=1 at most every half watchdog interval
"""
from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger("kiosk.appliance.watchdog")


def _address(raw: str) -> str | bytes | None:
    """The socket address in $NOTIFY_SOCKET: a path, or '@name' for the abstract namespace."""
    if raw.startswith("@"):
        return b"\0" + raw[1:].encode()
    if raw.startswith("/"):
        return raw
    return None  # vsock and other forms are not used by a local service


def notify(*assignments: str) -> bool:
    """Send `KEY=VALUE` lines to systemd. Never raises: a lost notification must not take the kiosk down."""
    raw = os.environ.get("NOTIFY_SOCKET", "")
    address = _address(raw) if raw else None
    if address is None or not assignments:
        return False
    message = "\n".join(assignments).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message)
        return True
    except OSError as e:
        log.warning("sd_notify to %s failed: %s", raw, e.strerror or e)
        return False


def ready(status_text: str = "") -> bool:
    """Tell systemd the kiosk is up (the first screen is on)."""
    return notify("READY=1", *([f"STATUS={status_text}"] if status_text else []))


def stopping(status_text: str = "") -> bool:
    """Tell systemd the kiosk is shutting down on purpose (flushing the outbox), so slowness is not a hang."""
    return notify("STOPPING=1", *([f"STATUS={status_text}"] if status_text else []))


def status(text: str) -> bool:
    """A one-line status shown by `systemctl status dvc-kiosk` (no personal data)."""
    return notify(f"STATUS={text}")


def watchdog_interval() -> float | None:
    """The watchdog period systemd expects pings within (seconds), or None when there is no watchdog for us."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        # Set for another process of the service (cage, the session script): not ours. NotifyAccess=all in the
        # unit still lets us ping, so keep going with the period anyway.
        log.debug("WATCHDOG_PID %s is not this process", pid)
    return int(usec) / 1_000_000


class Watchdog:
    """Rate-limited WATCHDOG=1 pings for the UI loop: call `ping()` every frame or tick, it sends at most every
    half period. Without systemd's watchdog (or when $WATCHDOG_USEC is unset) it never sends."""

    def __init__(self, interval: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        period = interval if interval is not None else watchdog_interval()
        self.period = period
        self._every = (period / 2) if period else None
        self._clock = clock
        self._last = float("-inf")

    @property
    def enabled(self) -> bool:
        return self._every is not None

    def ping(self) -> bool:
        """Send WATCHDOG=1 if half the period has passed since the last ping; True when one was sent."""
        if self._every is None:
            return False
        now = self._clock()
        if now - self._last < self._every:
            return False
        self._last = now
        return notify("WATCHDOG=1")


__all__ = ["notify", "ready", "stopping", "status", "watchdog_interval", "Watchdog"]
