"""Idempotency keys for the portal's calls whose repeat would duplicate something: a second text message
(POST /otp), a second queue number (POST /queue/tickets), a second rating, a second login session, a second
wrong-code attempt counted for one tap.

A POST under /api/v1/ with an `Idempotency-Key` header (8-128 printable ASCII characters) is handled once: its
answer (2xx or 4xx; never a 5xx, which a retry should redo) is kept in the store, and the same key on the same
method and path, with the same body, gets that first answer again, without the request being handled. The same
key with another body answers 409 `idempotency_conflict`. `POST /api/v1/dossiers` keeps its own rules (its
receipt says `duplicate: true`; see kiosk.sandbox.store) and test-only routes are left alone.

The middleware sits inside the fault injection, so a `lose_response` fault (the work done, the answer lost)
is exactly what it is for: the client's retry with the same key gets the answer it lost.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any

from kiosk.sandbox.faults import ASGIApp, Message, Receive, Scope, Send

HEADER = b"idempotency-key"
_KEY = re.compile(rb"[\x21-\x7e]{8,128}")
EXCLUDED = ("/api/v1/dossiers", "/api/v1/sandbox/")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/api/v1/")
                or scope["path"].startswith(EXCLUDED)):
            await self.app(scope, receive, send)
            return
        key = next((v for k, v in scope.get("headers", []) if k == HEADER), None)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _KEY.fullmatch(key):
            await _answer(send, 422, [(b"content-type", b"application/json")], json.dumps(
                {"error": "invalid_request", "detail": "Idempotency-Key: 8-128 printable ASCII characters"}).encode())
            return
        body = bytearray()
        while True:  # these calls carry small JSON bodies
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        digest = hashlib.sha256(bytes(body)).hexdigest()
        where = f"{scope['method']} {scope['path']}"
        lock = self._locks.setdefault((where, key.decode()), asyncio.Lock())
        async with lock:  # a retry racing the first try waits for its answer
            store = scope["app"].state.store
            kept = store.idempotent_reply(where, key.decode())
            if kept is not None:
                if kept["body_sha256"] != digest:
                    await _answer(send, 409, [(b"content-type", b"application/json")], json.dumps(
                        {"error": "idempotency_conflict",
                         "detail": "this Idempotency-Key was already used with another request"}).encode())
                else:
                    await _answer(send, kept["status"], kept["headers"] + [(b"idempotent-replay", b"true")],
                                  kept["body"])
                return
            status, headers, answer = await _run(self.app, scope, bytes(body))
            if status < 500:
                store.remember_reply(where, key.decode(), digest, status, headers, answer)
        await _answer(send, status, headers, answer)


async def _run(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, list[Any], bytes]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, headers, chunks = 500, [], []

    async def keep(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return status, headers, b"".join(chunks)


async def _answer(send: Send, status: int, headers: list[Any], body: bytes) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
