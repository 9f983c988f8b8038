"""Live web chat over the websocket: staff replies and typing reach the page without a reload."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings
from tests.console_helpers import HandoffRasa, add_staff, csrf_from, sign_in

SENDER = "live-page-000001"
PASSWORD = "correct horse battery"


@pytest.fixture
def client(seeded: Settings) -> Iterator[TestClient]:
    rasa = HandoffRasa(database_url=seeded.database_url)
    add_staff(seeded.database_url, "dana", PASSWORD)
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook", transport=httpx.MockTransport(rasa.handler))
    with TestClient(create_app(seeded, engine)) as test_client:
        yield test_client


def next_of(socket: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(10):
        event: dict[str, Any] = socket.receive_json()
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event")


def test_the_page_gets_the_assistants_typing_and_reply_events(client: TestClient) -> None:
    with client.websocket_connect(f"/ws/chat?sender={SENDER}") as socket:
        assert socket.receive_json()["type"] == "hello"
        client.post("/api/chat", json={"sender": SENDER, "message": "hello"})
        assert next_of(socket, "typing")["on"] is True
        message = next_of(socket, "message")["message"]
        assert (message["author"], message["text"]) == ("bot", "echo: hello")
        assert next_of(socket, "typing")["on"] is False


def test_a_staff_reply_and_staff_typing_reach_the_open_page(client: TestClient) -> None:
    client.post("/api/chat", json={"sender": SENDER, "message": "I need a person"})
    conversation = client.app.state.conversations.find_conversation("web", SENDER)  # type: ignore[attr-defined]
    sign_in(client, "dana", PASSWORD)
    page = client.get(f"/console/conversations/{conversation.id}")
    csrf = csrf_from(page.text)
    client.post(f"/console/conversations/{conversation.id}/claim", data={"csrf_token": csrf})
    with client.websocket_connect(f"/ws/chat?sender={SENDER}") as patient, \
            client.websocket_connect("/ws/console") as console:
        patient.receive_json()
        console.send_json({"type": "typing", "conversation_id": conversation.id, "on": True})
        typing = next_of(patient, "typing")
        assert typing == {"type": "typing", "on": True, "who": "staff"}
        client.post(f"/console/conversations/{conversation.id}/reply",
                    data={"csrf_token": csrf, "text": "Dana here, how can I help?"})
        message = next_of(patient, "message")["message"]
        assert (message["author"], message["text"]) == ("staff", "Dana here, how can I help?")
        # the console hears about the conversation too
        assert next_of(console, "queue")["conversation_id"] == conversation.id


def test_a_reminder_or_late_message_posted_by_the_clinic_is_pushed(client: TestClient) -> None:
    service = client.app.state.conversations  # type: ignore[attr-defined]
    conversation = service.open_conversation("web", SENDER)
    with client.websocket_connect(f"/ws/chat?sender={SENDER}") as socket:
        socket.receive_json()
        post = functools.partial(service.post_outbound, conversation.id, "Reminder: visit tomorrow 9 am",
                                 author="system")
        assert client.portal is not None
        client.portal.call(post)
        assert next_of(socket, "message")["message"]["text"] == "Reminder: visit tomorrow 9 am"
        socket.send_text("ping")
        assert next_of(socket, "pong")["type"] == "pong"


def test_a_bad_sender_or_a_signed_out_console_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/chat?sender=x") as socket:
        socket.receive_json()
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/console") as socket:
        socket.receive_json()
