"""The OpenAI-compatible HTTP backend: ``POST {base_url}/chat/completions`` (vLLM, llama.cpp server, ...)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from bot.llm.base import ChatMessage

log = logging.getLogger(__name__)


class LLMServerError(RuntimeError):
    """The model server failed or answered something we cannot use; the message says what happened."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def _error_detail(response: httpx.Response) -> str:
    """The server's own error message when the body has one (OpenAI shape or plain text)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)[:200]
        return str(err)[:200]
    return str(body)[:200]


class OpenAIChatLLM:
    """Talks to any server that speaks OpenAI's chat-completions API. Greedy (temperature 0)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        max_new_tokens: int = 120,
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.name = f"openai:{model}"
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_s, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def _payload(self, messages: list[ChatMessage], max_new_tokens: int | None, stream: bool) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_new_tokens or self.max_new_tokens,
            "temperature": 0,
            "stream": stream,
        }

    def _raise_for(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        if response.is_stream_consumed is False:
            response.read()
        detail = _error_detail(response)
        log.warning("llm.openai.error", extra={"status": response.status_code})
        raise LLMServerError(f"model server answered {response.status_code}: {detail}", response.status_code)

    def generate(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None,
                 deadline: float | None = None, copy_from: Sequence[str] | None = None) -> str:
        # copy_from is not sent: an OpenAI-compatible server decodes freely, and the answer check holds the draft
        # the reply budget: the request gives up at the deadline (the server may finish the draft; it is dropped)
        timeout = httpx.USE_CLIENT_DEFAULT if deadline is None else max(0.1, deadline - time.monotonic())
        try:
            response = self._client.post("chat/completions", json=self._payload(messages, max_new_tokens, False),
                                         timeout=timeout)
        except httpx.HTTPError as exc:
            raise LLMServerError(f"model server unreachable: {exc.__class__.__name__}") from exc
        self._raise_for(response)
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMServerError("model server answered without choices[0].message.content") from exc
        return str(content or "").strip()

    def stream(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None) -> Iterator[str]:
        payload = self._payload(messages, max_new_tokens, True)
        try:
            with self._client.stream("POST", "chat/completions", json=payload) as response:
                self._raise_for(response)
                for line in response.iter_lines():
                    chunk = _parse_sse_line(line)
                    if chunk is None:
                        break
                    if chunk:
                        yield chunk
        except httpx.HTTPError as exc:
            raise LLMServerError(f"model server unreachable: {exc.__class__.__name__}") from exc


def _parse_sse_line(line: str) -> str | None:
    """Text of one server-sent event line; ``""`` for lines without text, ``None`` at ``[DONE]``."""
    line = line.strip()
    if not line.startswith("data:"):
        return ""
    data = line[len("data:") :].strip()
    if data == "[DONE]":
        return None
    try:
        event = json.loads(data)
    except ValueError as exc:
        raise LLMServerError("model server sent a malformed stream event") from exc
    if isinstance(event, dict) and "error" in event:
        err = event["error"]
        raise LLMServerError(f"model server failed mid-stream: {err.get('message', err) if isinstance(err, dict) else err}")
    try:
        delta = event["choices"][0].get("delta") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return str(delta.get("content") or "")
