"""Request bodies are checked before any route sees them: size, UTF-8, and (for JSON) nesting depth, number size,
``NaN``/``Infinity`` and text that is not Unicode (an unpaired surrogate such as ``"\\ud800"``), so hostile input
gets a clear 4xx before anything is stored, instead of exhausting a parser or failing in the database."""

from __future__ import annotations

import json
import math
import re
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
_SURROGATE = re.compile("[\ud800-\udfff]")


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


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number in the JSON is too large")
    return value


def _text_problem(value: object) -> str | None:
    """An unpaired surrogate or a NUL anywhere in the parsed JSON's strings (keys included)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if _SURROGATE.search(item):
                return "the JSON has text that is not valid Unicode (an unpaired surrogate such as \\ud800)"
            if "\x00" in item:
                return "the JSON has text with a NUL character"
    return None


def content_problem(text: str) -> str | None:
    """Why well-formed JSON is refused: NaN or Infinity, a number too large for a float, text that is not
    Unicode. None when it is fine, or when it is not JSON at all (the route says so)."""
    try:
        parsed = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError:
        return None
    except ValueError as exc:
        return str(exc)
    return _text_problem(parsed)


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
            problem = json_problem(text) or content_problem(text)
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
