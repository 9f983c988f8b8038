"""Every state answers, and never with a mixed signal: after an emergency answer each later message gets the
emergency step again until staff take it; while staff hold a conversation the assistant acknowledges at most
once per interval and never right after a staff reply; handing back tells the patient the assistant is back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import bot.conversations.notices
from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings
from bot.store import Conversation, session_scope
from bot.store.models import utcnow
from tests.console_helpers import HandoffRasa, add_staff, csrf_from, sign_in

SENDER = "patient-page-states-01"
PASSWORD = "correct horse battery"
STROKE = "my wife's face is drooping on the left and her speech is slurred"


@pytest.fixture
def rasa(seeded: Settings) -> HandoffRasa:
    return HandoffRasa(database_url=seeded.database_url)


@pytest.fixture
def client(seeded: Settings, rasa: HandoffRasa) -> Iterator[TestClient]:
    add_staff(seeded.database_url, "dana", PASSWORD)
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook", transport=httpx.MockTransport(rasa.handler))
    with TestClient(create_app(seeded, engine)) as test_client:
        yield test_client


def say(client: TestClient, text: str) -> list[str]:
    response = client.post("/api/chat", json={"sender": SENDER, "message": text})
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["messages"]]


def seen(client: TestClient) -> list[tuple[str, str]]:
    messages = client.get("/api/chat/messages", params={"sender": SENDER}).json()["messages"]
    return [(m["author"], m["text"]) for m in messages]


def staff_post(client: TestClient, action: str, **data: str) -> None:
    conversation = client.app.state.conversations.find_conversation("web", SENDER)  # type: ignore[attr-defined]
    page = client.get(f"/console/conversations/{conversation.id}")
    done = client.post(f"/console/conversations/{conversation.id}/{action}",
                       data={"csrf_token": csrf_from(page.text), **data}, follow_redirects=False)
    assert done.status_code == 303 and "error" not in done.headers["location"]


def test_after_an_emergency_every_message_gets_the_emergency_step_until_staff_take_it(
    client: TestClient, rasa: HandoffRasa
) -> None:
    [first] = say(client, STROKE)
    assert "911" in first
    [again] = say(client, "ok called 911. what should i do while we wait")
    assert "911" in again and "care team has been alerted" in again
    assert rasa.received == []  # the engine is not asked: nothing else comes first

    sign_in(client, "dana", PASSWORD)
    staff_post(client, "claim")
    held = client.post("/api/chat", json={"sender": SENDER, "message": "they are here now"}).json()
    assert held["status"] == "with_staff"
    staff_post(client, "handback")
    assert "back with" in seen(client)[-1][1]  # the patient hears the assistant is back
    assert say(client, "thanks") == ["echo: thanks"]  # and the assistant answers normally again


def test_while_staff_hold_it_one_acknowledgement_per_interval_and_none_after_a_staff_reply(
    client: TestClient, seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.conversations.notices, "is_open", lambda clinic, at: False)  # closed: the worst case
    say(client, "can I talk to a person")
    sign_in(client, "dana", PASSWORD)
    staff_post(client, "claim")

    say(client, "hello? anyone there")
    say(client, "still waiting")
    acks = [t for a, t in seen(client) if a == "system"]
    assert len(acks) == 1 and "front desk" in acks[0]  # once per interval, not once per message

    staff_post(client, "reply", text="Hi, this is Dana. Checking your refill now.")
    with session_scope(seeded.database_url) as session:  # the interval has passed since the acknowledgement
        conversation = session.scalars(select(Conversation).where(Conversation.channel_user == SENDER)).one()
        conversation.flags = {**conversation.flags, "staff_ack_at": (utcnow() - timedelta(hours=2)).isoformat()}
    say(client, "thank you!")
    after_reply = seen(client)[-2:]
    assert after_reply[0] == ("staff", "Hi, this is Dana. Checking your refill now.")
    assert after_reply[1] == ("patient", "thank you!")  # no "the office is closed" right after a staff reply


def test_without_a_recent_staff_reply_the_next_interval_gets_one_acknowledgement(
    client: TestClient, seeded: Settings
) -> None:
    say(client, "can I talk to a person")
    sign_in(client, "dana", PASSWORD)
    staff_post(client, "claim")
    say(client, "hello?")
    with session_scope(seeded.database_url) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.channel_user == SENDER)).one()
        conversation.flags = {**conversation.flags, "staff_ack_at": (utcnow() - timedelta(hours=2)).isoformat()}
    say(client, "hello again?")
    assert len([t for a, t in seen(client) if a == "system"]) == 2



def test_right_after_a_handoff_the_assistant_no_longer_says_type_person(client: TestClient, rasa: HandoffRasa) -> None:
    say(client, "can i talk to a person")  # the engine opens a handoff, as action_request_human does
    rasa.replies = lambda text: ['Sorry, I\'m not sure I understood. Or type "person" to reach our staff at '
                                 'Maple Street Family Medicine.']
    [reply] = say(client, "whats the wifi password")
    assert 'type "person"' not in reply
    assert "Our staff have your conversation and will reply here." in reply
