"""The OpenAI-compatible backend against a fake server (httpx MockTransport): requests, streams, errors."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.llm.base import ChatMessage
from bot.llm.openai_http import LLMServerError, OpenAIChatLLM

MESSAGES: list[ChatMessage] = [
    {"role": "system", "content": "You are the clinic's assistant."},
    {"role": "user", "content": "Context:\n[Hours]\nOpen 8-5.\n\nQuestion: When are you open?"},
]


def _llm(handler: object, **kwargs: object) -> OpenAIChatLLM:
    return OpenAIChatLLM(
        "http://llm.test/v1", "clinicbot", transport=httpx.MockTransport(handler), **kwargs  # type: ignore[arg-type]
    )


def test_generate_posts_chat_completion_and_returns_the_reply() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": " Open 8-5. "}}]})

    reply = _llm(handler, api_key="sk-test", max_new_tokens=50).generate(MESSAGES)

    assert reply == "Open 8-5."
    request = seen[0]
    assert request.url == "http://llm.test/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "clinicbot"
    assert body["messages"] == MESSAGES
    assert body["max_tokens"] == 50 and body["temperature"] == 0 and body["stream"] is False


def test_stream_yields_deltas_until_done() -> None:
    events = [
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [{"delta": {"content": "Open "}}]},
        {"choices": [{"delta": {"content": "8-5."}}]},
    ]
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    body += 'data: {"choices": [{"delta": {"content": "after done"}}]}\n\n'

    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    assert list(_llm(handler).stream(MESSAGES)) == ["Open ", "8-5."]


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (400, {"error": {"message": "max_tokens is too large", "type": "invalid_request_error"}}, "max_tokens is too large"),
        (404, {"detail": "model clinicbot not found"}, "model clinicbot not found"),
        (503, "upstream overloaded", "upstream overloaded"),
    ],
)
def test_error_bodies_become_readable_errors(status: int, payload: object, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(payload, str):
            return httpx.Response(status, text=payload)
        return httpx.Response(status, json=payload)

    with pytest.raises(LLMServerError) as caught:
        _llm(handler).generate(MESSAGES)
    assert caught.value.status_code == status
    assert expected in str(caught.value)

    with pytest.raises(LLMServerError) as streamed:
        list(_llm(handler).stream(MESSAGES))
    assert expected in str(streamed.value)


def test_error_event_mid_stream_raises() -> None:
    body = 'data: {"choices": [{"delta": {"content": "Open"}}]}\n\ndata: {"error": {"message": "out of memory"}}\n\n'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=body)

    chunks: list[str] = []
    with pytest.raises(LLMServerError, match="out of memory"):
        for chunk in _llm(handler).stream(MESSAGES):
            chunks.append(chunk)
    assert chunks == ["Open"]


def test_unreachable_server_and_malformed_reply_raise_llm_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(LLMServerError, match="unreachable"):
        _llm(refuse).generate(MESSAGES)

    def malformed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "chat.completion"})

    with pytest.raises(LLMServerError, match="choices"):
        _llm(malformed).generate(MESSAGES)
