"""Request bodies are checked before any route sees them: size, UTF-8, and (for JSON) nesting depth and number
size, so hostile input gets a clear 4xx instead of exhausting a parser."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.gateway.errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARS = 100


def json_problem(text: str) -> str | None:
    """Why this JSON text is refused before parsing (too deep, a number too long), or None."""
    depth = 0
    digits = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
        elif ch in "]}":
            depth -= 1
        if ch.isdigit() or (ch in "+-.eE" and digits):
            digits += 1
            if digits > MAX_NUMBER_CHARS:
                return f"a number in the JSON is longer than {MAX_NUMBER_CHARS} characters"
        else:
            digits = 0
    return None


class BodyLimits:
    """ASGI middleware: 413 over ``max_bytes``; for JSON bodies 400 on invalid UTF-8, too deep or huge numbers."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, 413, "body_too_large", f"the request body is over {self.max_bytes // 1024} KB")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, "body_too_large", f"the request body is over {self.max_bytes // 1024} KB")
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if "json" in headers.get("content-type", ""):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                await _refuse(send, 400, "invalid_encoding", "the body must be UTF-8 encoded JSON")
                return
            problem = json_problem(text)
            if problem:
                await _refuse(send, 400, "invalid_json", problem)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps(error_body(code, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
