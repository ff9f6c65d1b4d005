"""Fault injection for the sandbox portal: the ways a real portal and the network between fail.

`FaultConfig` says how often and how; `FaultInjector` holds the current config (swappable while the server
runs) and decides per request; `FaultMiddleware` (pure ASGI, so it can drop connections and drip bodies)
acts on it. Faults never touch the sandbox's test-only endpoints (/api/v1/sandbox/...) nor /openapi.json,
so a test can always read back what the portal really holds.

Modes:
  500            answer 500 `server_error` without handling the request
  429            answer 429 `rate_limited` with Retry-After, without handling the request
  timeout        wait `hang_seconds` (past any sane client read timeout), then handle the request
  reset          drop the connection without an answer, without handling the request
  drip           handle the request, then send the body a few bytes at a time
  drip_headers   handle the request, then send the whole answer, status line and headers first, a few bytes
                 at a time (the server's socket does it: see kiosk.sandbox.server); a client whose deadline
                 covers only the body waits for ever
  badjson        answer 200 with a truncated JSON body, without handling the request
  lose_response  handle (and commit) the request, then drop the connection: proves idempotency
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Awaitable, Callable, MutableMapping

FAULT_MODES: tuple[str, ...] = ("500", "429", "timeout", "reset", "drip", "drip_headers", "badjson", "lose_response")
#: Connections (client host, port) whose next answer the server's socket drips from its first byte, with
#: (chunk bytes, delay seconds): filled by FaultMiddleware, emptied by kiosk.sandbox.server's transport.
HEADER_DRIPS: dict[tuple[str, int], tuple[int, float]] = {}
API_PREFIX = "/api/v1/"
EXEMPT_PREFIX = "/api/v1/sandbox/"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class FaultConfig:
    """How the sandbox misbehaves. The default misbehaves never."""

    fail_rate: float = 0.0            # share of eligible requests that fail (0..1)
    latency_ms: int = 0               # added to every eligible request
    modes: tuple[str, ...] = ("500",)  # one is picked at random for each failing request
    fail_first: int = 0               # the next N eligible requests fail whatever fail_rate says
    paths: tuple[str, ...] = ()       # only requests whose path starts with one of these; empty = all API paths
    methods: tuple[str, ...] = ()     # only these HTTP methods; empty = all
    hang_seconds: float = 60.0        # for `timeout`
    drip_delay: float = 0.2           # for `drip`: pause between chunks
    drip_chunk: int = 8               # for `drip`: bytes per chunk
    retry_after: int = 1              # for `429`
    seed: int | None = None           # for reproducible runs

    def __post_init__(self) -> None:
        unknown = [m for m in self.modes if m not in FAULT_MODES]
        if unknown:
            raise ValueError(f"unknown fault mode(s) {unknown}; choose from {', '.join(FAULT_MODES)}")
        if not self.modes:
            raise ValueError("at least one fault mode is needed")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.fail_first < 0 or self.hang_seconds < 0 or self.drip_delay < 0:
            raise ValueError("latency_ms, fail_first, hang_seconds and drip_delay must not be negative")
        if self.drip_chunk < 1:
            raise ValueError("drip_chunk must be at least 1")


@dataclass
class FaultInjector:
    """The live fault switch shared by the middleware and whoever drives the sandbox."""

    config: FaultConfig = field(default_factory=FaultConfig)
    injected: dict[str, int] = field(default_factory=dict)  # mode -> how many times it fired

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._forced = self.config.fail_first

    def configure(self, config: FaultConfig | None) -> None:
        with self._lock:
            self.config = config or FaultConfig()
            self._rng = random.Random(self.config.seed)
            self._forced = self.config.fail_first

    def applies_to(self, method: str, path: str) -> bool:
        cfg = self.config
        if not path.startswith(API_PREFIX) or path.startswith(EXEMPT_PREFIX):
            return False
        if cfg.paths and not any(path.startswith(p) for p in cfg.paths):
            return False
        return not cfg.methods or method.upper() in cfg.methods

    def pick(self) -> str | None:
        """The fault for one eligible request, or None to serve it normally."""
        with self._lock:
            cfg = self.config
            if self._forced > 0:
                self._forced -= 1
            elif not (cfg.fail_rate > 0 and self._rng.random() < cfg.fail_rate):
                return None
            mode = self._rng.choice(cfg.modes)
            self.injected[mode] = self.injected.get(mode, 0) + 1
            return mode


class DeliberateDrop(Exception):
    """Raised after the response started so the server closes the connection mid-answer."""


class DropLogFilter(logging.Filter):
    """Keep uvicorn from logging tracebacks for connections dropped on purpose or requests hung on
    purpose (cancelled when the sandbox stops)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, (DeliberateDrop, asyncio.CancelledError))


class FaultMiddleware:
    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.injector.applies_to(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        cfg = self.injector.config
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)
        mode = self.injector.pick()
        if mode is None:
            await self.app(scope, receive, send)
        elif mode == "500":
            await _send_json(send, 500, {"error": "server_error", "detail": "sandbox fault: 500"})
        elif mode == "429":
            await _send_json(send, 429, {"error": "rate_limited", "detail": "sandbox fault: 429",
                                         "retry_after": cfg.retry_after},
                             [(b"retry-after", str(cfg.retry_after).encode())])
        elif mode == "timeout":
            await asyncio.sleep(cfg.hang_seconds)
            await self.app(scope, receive, send)
        elif mode == "reset":
            await _drop(send)
        elif mode == "badjson":
            await _send_raw(send, 200, b'{"status": "ok", "dossier_code": "H38.01-', b"application/json")
        elif mode == "drip":
            status, headers, body = await _capture(self.app, scope, receive)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            for i in range(0, len(body), cfg.drip_chunk):
                await send({"type": "http.response.body", "body": body[i:i + cfg.drip_chunk], "more_body": True})
                await asyncio.sleep(cfg.drip_delay)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif mode == "drip_headers":
            status, headers, body = await _capture(self.app, scope, receive)
            client = scope.get("client")
            if client:
                HEADER_DRIPS[(str(client[0]), int(client[1]))] = (cfg.drip_chunk, cfg.drip_delay)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
        elif mode == "lose_response":
            await _capture(self.app, scope, receive)  # handled and committed; the answer is lost
            await _drop(send)


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Any], bytes]:
    status, headers, chunks = 500, [], []

    async def keep(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return status, headers, b"".join(chunks)


async def _send_raw(send: Send, status: int, body: bytes, content_type: bytes,
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())] + (extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _send_json(send: Send, status: int, payload: dict[str, Any],
                     extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await _send_raw(send, status, json.dumps(payload).encode(), b"application/json", extra)


async def _drop(send: Send) -> None:
    # ASGI has no "close the socket": start an answer that promises a body, then fail, and the server
    # closes the connection. The client sees the connection end without a complete answer.
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
    raise DeliberateDrop("sandbox fault: connection dropped")
