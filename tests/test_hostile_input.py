"""No 5xx from any input: each request a hostile user sent against the running stack gets a clear 4xx, and
nothing is stored for a refused message; websockets refuse binary and oversized frames politely and are bounded
per page and per address; every page carries a content security policy with no inline script."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from adapters import live
from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import PROJECT_ROOT, Settings
from bot.store import Conversation, Message, session_scope
from tests.conftest import FakeRasa
from tests.console_helpers import add_staff, sign_in

SENDER = "hostile-page-0001"


@pytest.fixture
def client(seeded: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(create_app(seeded, engine), raise_server_exceptions=False) as test_client:
        yield test_client


def stored(settings: Settings) -> tuple[int, int]:
    with session_scope(settings.database_url) as session:
        return (session.scalar(select(func.count()).select_from(Conversation)) or 0,
                session.scalar(select(func.count()).select_from(Message)) or 0)


def post_raw(client: TestClient, body: str) -> httpx.Response:
    return client.post("/api/chat", content=body.encode(), headers={"Content-Type": "application/json"})


NESTED = '{"a":' * 2000 + "1" + "}" * 2000


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (f'{{"sender": "{SENDER}", "message": "hi", "metadata": {NESTED}}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "hi \\ud800"}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "\\udc00 low one"}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "hi", "metadata": {{"\\ud800": "key"}}}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "hi", "metadata": {{"x": {"9" * 5000}}}}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "hi", "metadata": {{"locale": 1e999}}}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "hi", "metadata": {{"locale": NaN}}}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "hi", "metadata": {{"page": -Infinity}}}}', "invalid_json"),
        (f'{{"sender": "{SENDER}", "message": "nul \\u0000 inside"}}', "invalid_json"),
        (json.dumps({"sender": SENDER, "message": "hi", "metadata": {"page": "x" * 300}}), "invalid_request"),
        (json.dumps({"sender": SENDER, "message": "hi", "metadata": {f"k{i}": i for i in range(40)}}),
         "invalid_request"),
        (json.dumps({"sender": SENDER, "message": "hi", "metadata": {"page": ["a", "list"]}}), "invalid_request"),
        (json.dumps({"sender": SENDER, "message": "hi", "metadata": {"page": {"nested": 1}}}), "invalid_request"),
    ],
)
def test_hostile_bodies_get_a_4xx_and_nothing_is_stored(client: TestClient, seeded: Settings, fake_rasa: FakeRasa,
                                                        body: str, code: str) -> None:
    response = post_raw(client, body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == code
    assert stored(seeded) == (0, 0)  # refused before a conversation or a message row exists
    assert fake_rasa.received == []


def test_a_proper_pair_of_surrogates_is_an_ordinary_emoji(client: TestClient) -> None:
    response = post_raw(client, f'{{"sender": "{SENDER}", "message": "thanks \\ud83d\\ude00"}}')
    assert response.status_code == 200
    assert response.json()["messages"][0]["text"] == "echo: thanks \U0001f600"


@pytest.mark.parametrize("after", ["1" * 23, "9" * 5000, "-1", "1e3", "0x10"])
def test_bounded_query_parameters(client: TestClient, after: str) -> None:
    response = client.get("/api/chat/messages", params={"sender": SENDER, "after": after})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    assert client.get("/api/chat/messages", params={"sender": "x" * 5000}).status_code == 422


def test_the_consoles_transcript_query_is_bounded_too(client: TestClient, seeded: Settings) -> None:
    add_staff(seeded.database_url, "dana", "correct horse battery")
    sign_in(client, "dana", "correct horse battery")
    assert client.get("/console/conversations/abc/messages", params={"after": "1" * 23}).status_code == 422
    assert client.get("/console/conversations/abc", params={"error": "x" * 500}).status_code == 422


def test_csrf_tokens_that_are_not_ascii_are_refused_not_crashed_on(client: TestClient, seeded: Settings) -> None:
    page = client.get("/console/login")
    assert page.status_code == 200
    forged = client.post("/console/login", data={"username": "dana", "password": "x", "csrf_token": "é" * 10})
    assert forged.status_code == 403
    add_staff(seeded.database_url, "dana", "correct horse battery")
    sign_in(client, "dana", "correct horse battery")
    assert client.post("/console/conversations/x/claim", data={"csrf_token": "ünïcode"}).status_code == 403
    assert client.post("/console/logout", data={"csrf_token": "ünïcode"}, follow_redirects=False).status_code == 303


def test_every_page_has_a_content_security_policy_without_inline_script(client: TestClient) -> None:
    for path in ("/", "/console/login"):
        page = client.get(path)
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "ws://testserver" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
    api = client.post("/api/chat", json={"sender": SENDER, "message": "hi"})
    assert api.headers["cache-control"] == "no-store" and api.headers["content-security-policy"].startswith(
        "default-src 'none'")


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    for path in sorted((PROJECT_ROOT / "adapters" / "static").glob("*.html")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path.name
        assert "<style" not in text and not re.search(r"\sstyle=", text), path.name
        assert not re.search(r"\son[a-z]+=", text), path.name
        assert "javascript:" not in text, path.name


def test_the_openapi_document_describes_every_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    chat = document["paths"]["/api/chat"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert chat["$ref"].endswith("/ChatRequest")
    fields = document["components"]["schemas"]["ChatRequest"]["properties"]
    assert {"sender", "message", "metadata", "message_id"} <= set(fields)
    for path, operations in document["paths"].items():
        if "post" in operations and not path.startswith("/sms/"):  # Twilio's webhooks: Twilio's own form
            assert "requestBody" in operations["post"], path


# -- websockets -------------------------------------------------------------------------------------------------
def test_a_binary_or_oversized_frame_gets_an_error_event_and_the_socket_stays(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?sender={SENDER}") as socket:
        assert socket.receive_json()["type"] == "hello"
        socket.send_bytes(b"\x00\x01binary")
        assert socket.receive_json() == {"type": "error", "code": "unsupported_frame",
                                         "message": "binary frames are not supported: send JSON text"}
        socket.send_text("x" * (live.MAX_FRAME_CHARS + 1))
        assert socket.receive_json()["message"] == "the message is too long"
        socket.send_text("ping")
        assert socket.receive_json() == {"type": "pong"}


def test_sockets_are_bounded_per_chat_page_and_per_address(client: TestClient) -> None:
    def opened(sender: str, count: int, stack: contextlib.ExitStack) -> list[str]:
        kinds = []
        for _ in range(count):
            socket = stack.enter_context(client.websocket_connect(f"/ws/chat?sender={sender}"))
            kinds.append(socket.receive_json()["type"])
        return kinds

    with contextlib.ExitStack() as stack:
        kinds = opened(SENDER, live.MAX_PER_SENDER + 6, stack)
        assert kinds == ["hello"] * live.MAX_PER_SENDER + ["error"] * 6
    with contextlib.ExitStack() as stack:
        kinds = [k for i in range(live.MAX_PER_ADDRESS // 2 + 1) for k in opened(f"page-{i:04d}-abc", 2, stack)]
        assert kinds.count("hello") == live.MAX_PER_ADDRESS and kinds.count("error") == 2
    with client.websocket_connect(f"/ws/chat?sender={SENDER}") as socket:  # all closed: room again
        assert socket.receive_json()["type"] == "hello"


def test_a_refused_socket_is_told_why_and_closed(client: TestClient) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(live.MAX_PER_SENDER):
            stack.enter_context(client.websocket_connect(f"/ws/chat?sender={SENDER}")).receive_json()
        with client.websocket_connect(f"/ws/chat?sender={SENDER}") as extra:
            event = extra.receive_json()
            assert event["code"] == "too_many_connections" and "tabs" in event["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                extra.receive_json()
            assert closed.value.code == 1008


def test_a_flood_of_frames_closes_the_socket(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?sender={SENDER}") as socket:
        socket.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(live.MAX_FRAMES_PER_MINUTE + 5):
                socket.send_text("ping")
                socket.receive_json()
        assert closed.value.code == 1008
