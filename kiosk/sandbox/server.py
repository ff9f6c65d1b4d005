"""Running the sandbox portal: `kiosk sandbox` in the foreground, or embedded on a loopback port.

`start_sandbox()` serves the real app with uvicorn on a background thread, on a real socket, so the
kiosk's HTTP client (timeouts, dropped connections and all) is exercised exactly as against a portal.
"""
from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from collections.abc import Callable

import asyncio
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from kiosk.sandbox.app import create_app
from kiosk.sandbox.faults import FAULT_MODES, HEADER_DRIPS, DropLogFilter, FaultConfig, FaultInjector
from kiosk.sandbox.store import SandboxStore

log = logging.getLogger(__name__)
_STARTUP_TIMEOUT = 10.0


class _DripTransport:
    """The connection's transport, able to send an answer a few bytes at a time from its very first byte (the
    `drip_headers` fault: ASGI itself cannot split a status line and headers)."""

    def __init__(self, inner: asyncio.Transport) -> None:
        self._inner = inner
        self._pending = bytearray()
        self._drip: tuple[int, float] | None = None
        self._close_when_sent = False
        peer = inner.get_extra_info("peername")
        self._peer = (str(peer[0]), int(peer[1])) if isinstance(peer, (tuple, list)) and len(peer) >= 2 else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def write(self, data: bytes) -> None:
        if self._drip is None and self._peer is not None and self._peer in HEADER_DRIPS:
            self._drip = HEADER_DRIPS.pop(self._peer)
            self._pending += data
            self._step()
        elif self._drip is not None:
            self._pending += data
        else:
            self._inner.write(data)

    def _step(self) -> None:
        if self._inner.is_closing():
            self._pending.clear()
            return
        chunk, delay = self._drip or (len(self._pending), 0.0)
        self._inner.write(bytes(self._pending[:chunk]))
        del self._pending[:chunk]
        if self._pending:
            asyncio.get_running_loop().call_later(delay, self._step)
            return
        self._drip = None
        if self._close_when_sent:
            self._inner.close()

    def close(self) -> None:
        if self._drip is not None and self._pending:
            self._close_when_sent = True
        else:
            self._inner.close()


class _Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_DripTransport(transport))  # type: ignore[arg-type]


def _uvicorn_config(app, *, grace: float, **kwargs) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(DropLogFilter())
    return uvicorn.Config(app, http=_Protocol, ws="none", lifespan="off", access_log=False, log_config=None,
                          timeout_graceful_shutdown=grace,  # type: ignore[arg-type]  # declared int; seconds work
                          **kwargs)


class SandboxHandle:
    """A running embedded sandbox. Use as a context manager, or call `stop()`."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str, app: FastAPI,
                 faults: FaultInjector) -> None:
        self._server, self._thread, self._app = server, thread, app
        self.url = url
        self.faults = faults

    @property
    def store(self) -> SandboxStore:
        """The state behind the running server (tests read it, move its clock)."""
        return self._app.state.store

    def set_faults(self, config: FaultConfig | None) -> None:
        """Switch fault injection while the server runs (None: behave)."""
        self.faults.configure(config)

    def reset(self, db_path: Path | str) -> None:
        """Start over with an empty portal in `db_path` and no faults, without restarting the server
        (a fresh training portal; in tests, isolation for the price of an SQLite file)."""
        old = self.store
        self._app.state.store = SandboxStore(db_path, agency_code=old.agency_code, clock=old.clock)
        self.faults.configure(None)
        old.close()

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self.store.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_sandbox(db_path: Path | str, host: str = "127.0.0.1", port: int = 0,
                  faults: FaultConfig | None = None, *, catalog_path: Path | None = None,
                  clock: Callable[[], dt.datetime] | None = None) -> SandboxHandle:
    """Serve the sandbox on `host:port` (port 0: a free one) in a daemon thread; returns once it accepts."""
    store = SandboxStore(db_path, clock=clock)
    injector = FaultInjector(faults or FaultConfig())
    app = create_app(store, faults=injector, catalog_path=catalog_path)
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on such sockets, and without it every
    # answer (headers and body written apart) waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        store.close()
        raise
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(_uvicorn_config(app, grace=0.25, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sandbox-portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            store.close()
            raise RuntimeError("the sandbox portal did not start")
        time.sleep(0.01)
    url_host = f"[{host}]" if ":" in host else host
    return SandboxHandle(server, thread, f"http://{url_host}:{bound_port}", app, injector)


__all__ = ["FAULT_MODES", "FaultConfig", "SandboxHandle", "start_sandbox"]
