"""The gateway's check of every inbound message with the triage model under the rules (fake engine, scripted
model; the real 4-bit model through the gateway is in tests/test_triage_model.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.conversations.guard import Emergency, RedFlagGuard
from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings
from bot.store import Conversation, Handoff, session_scope
from bot.triage.model import ModelScore
from tests.conftest import FakeRasa
from tests.test_triage_combine import EMERGENCY, ScriptedScorer, ready_net, score

SENDER = "browser-triage-0001"
MISSED_BY_RULES = "my husband keeps saying goodbye to everyone and gave his dog to the neighbor"


class RecordingScorer(ScriptedScorer):
    """Notes whether each scoring ran on the event loop's thread (it must not: the model is CPU work)."""

    on_loop: list[bool]

    def score(self, text: str) -> ModelScore:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)
        return super().score(text)


@pytest.fixture
def scorer() -> RecordingScorer:
    s = RecordingScorer({MISSED_BY_RULES: score(EMERGENCY, "suicide", "suicide")})
    s.on_loop = []
    return s


@pytest.fixture
def guard(scorer: RecordingScorer) -> RedFlagGuard:
    g = RedFlagGuard("Maple Street Family Medicine", ready_net(scorer))
    scorer.on_loop.clear()  # the load's own first pass
    return g


@pytest.fixture
def client(seeded: Settings, fake_rasa: FakeRasa, guard: RedFlagGuard) -> Iterator[TestClient]:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(create_app(seeded, engine, guard=guard)) as test_client:
        yield test_client


def chat(client: TestClient, message: str) -> httpx.Response:
    return client.post("/api/chat", json={"sender": SENDER, "message": message})


def test_an_emergency_the_rules_miss_but_the_model_catches_is_answered_with_the_engine_down(
        client: TestClient, fake_rasa: FakeRasa, scorer: RecordingScorer) -> None:
    fake_rasa.up = False
    response = chat(client, MISSED_BY_RULES)
    assert response.status_code == 200
    [reply] = response.json()["messages"]
    assert "988" in reply["text"] and fake_rasa.received == []
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with session_scope(settings.database_url) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.channel_user == SENDER)).one()
        assert conversation.state == "waiting_staff" and conversation.flags["red_flags"] == ["suicide"]
        handoff = session.scalars(select(Handoff)).one()
        assert handoff.reason == "triage_flag" and handoff.summary["decided_by"] == "model"
    assert scorer.on_loop == [False]  # scored on the model's own thread, not on the event loop


def test_the_rules_still_answer_first_and_say_so(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.up = False
    [reply] = chat(client, "crushing chest pain and my left arm is numb").json()["messages"]
    assert "911" in reply["text"]
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Handoff)).one().summary["decided_by"] == "rules"


def test_a_message_neither_flags_goes_to_the_engine_as_usual(client: TestClient, fake_rasa: FakeRasa) -> None:
    response = chat(client, "can i move my appointment to friday")
    assert [m["text"] for m in response.json()["messages"]] == ["echo: can i move my appointment to friday"]


def test_the_gateway_builds_its_guard_from_settings_and_rules_alone_when_turned_off(seeded: Settings) -> None:
    assert RedFlagGuard.from_settings(seeded).net is None  # tests run with triage.model: none
    on = seeded.model_copy(update={"triage": seeded.triage.model_copy(update={"model": "local"})})
    net = RedFlagGuard.from_settings(on).net
    assert net is not None and not net.ready  # built, not loaded: loading starts with the app


class SlowGuard(RedFlagGuard):
    """A check as slow as the model on a busy machine."""

    async def check(self, text: str) -> Emergency | None:
        await asyncio.sleep(1.0)
        return await super().check(text)


def test_a_message_the_periodic_retry_answers_while_it_is_checked_is_answered_to_its_sender(
        seeded: Settings, fake_rasa: FakeRasa) -> None:
    """The retry of kept messages runs every 0.2 s here and takes the message during its 1 s red-flag check: the
    patient's own request still gets the answer (not 'the assistant is restarting')."""
    fast_retry = seeded.model_copy(update={"gateway": seeded.gateway.model_copy(
        update={"retry_pending_every_s": 0.2})})
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(create_app(fast_retry, engine, guard=SlowGuard("Maple Street Family Medicine"))) as test_client:
        response = chat(test_client, "can i move my appointment to friday")
    assert response.status_code == 200, response.text
    assert [m["text"] for m in response.json()["messages"]] == ["echo: can i move my appointment to friday"]
