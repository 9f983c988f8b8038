"""A gateway killed (SIGKILL) in the middle of a conversation's turn, for real: the patient's SMS it took is still
answered, once, by another gateway once the dead one's turn lease runs out, and a message that arrived while it
was down is answered after it, in order; with one gateway, the message is answered when the gateway is started
again. Gateways are real ``python -m bot.runtime.gateway`` processes on the run's backend (SQLite, or PostgreSQL
under ``make test-scale``); Twilio and the engine are local HTTP stand-ins, so the kill lands exactly while the
engine works on the message."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.settings import Settings
from bot.store import Conversation, Message, session_scope
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.scale.fake_engine import FakeEngine, answer_to
from tests.scale.processes import GatewayProcess, start_gateway, wait_up

pytestmark = pytest.mark.slow
PUBLIC_URL = "https://clinic.example.test"
LEASE_TTL_S = 3.0
FIRST, SECOND = "when do you open on monday", "and is there parking"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeTwilio, FakeEngine]]:
    twilio, engine = FakeTwilio().start(), FakeEngine(hold={FIRST}).start()
    yield twilio, engine
    engine.stop()
    twilio.stop()


@pytest.fixture
def gateways() -> Iterator[list[GatewayProcess]]:
    started: list[GatewayProcess] = []
    yield started
    for gateway in started:
        gateway.kill()


def env(twilio: FakeTwilio, engine: FakeEngine) -> dict[str, str]:
    return {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": FROM_NUMBER,
            "CLINICBOT_SMS__API_BASE_URL": twilio.url, "CLINICBOT_PUBLIC_URL": PUBLIC_URL,
            "CLINICBOT_SERVERS__RASA_PORT": str(engine.port), "CLINICBOT_GATEWAY__LEASE_TTL_S": str(LEASE_TTL_S),
            "CLINICBOT_GATEWAY__RETRY_PENDING_EVERY_S": "0.5"}


def text_in(gateway: GatewayProcess, phone: str, body: str, sid: str) -> None:
    """The patient's SMS, as Twilio posts it (signed) to the gateway's webhook."""
    form = {"MessageSid": sid, "From": phone, "To": FROM_NUMBER, "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}/sms/twilio", form)
    answer = httpx.post(f"{gateway.url}/sms/twilio", data=form, headers={"X-Twilio-Signature": signature},
                        timeout=30)
    assert answer.status_code == 200, answer.text


def texts_to(twilio: FakeTwilio, phone: str, count: int, timeout_s: float) -> list[str]:
    """The texts Twilio got for ``phone`` once there are ``count`` (or the time is up), and 2 s more for a
    duplicate to show up if there were one."""
    deadline = time.monotonic() + timeout_s
    while len([m for m in twilio.sent if m["To"] == phone]) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    return [m["Body"] for m in twilio.sent if m["To"] == phone]


def stored_statuses(settings: Settings, phone: str) -> list[tuple[str, str]]:
    with session_scope(settings.database_url) as session:
        return [(m.direction, m.text if m.direction == "out" else m.status) for m in session.scalars(
            select(Message).join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.channel_user == phone).order_by(Message.id))]


def test_a_gateway_killed_mid_turn_leaves_its_message_and_the_next_to_the_other_gateway_answered_once_in_order(
    store: Settings, tmp_path: Path, gateways: list[GatewayProcess], fakes: tuple[FakeTwilio, FakeEngine]
) -> None:
    twilio, engine = fakes
    phone = "+15555550142"
    a = start_gateway("a", tmp_path, env(twilio, engine))
    gateways.append(a)
    wait_up(a)
    text_in(a, phone, FIRST, "SM" + "1" * 32)
    engine.wait_for(FIRST)  # gateway a holds the conversation's turn and waits for the engine's answer
    # b starts only now: started beside a, b's retry of stored messages could take the turn first on a busy machine
    # (CI once saw b answer the first message while the test killed an idle a)
    b = start_gateway("b", tmp_path, env(twilio, engine))
    gateways.append(b)
    wait_up(b)
    a.kill()
    engine.release()
    killed_at = time.monotonic()
    text_in(b, phone, SECOND, "SM" + "2" * 32)  # arrives while a is down, its turn lease not yet run out

    texts = texts_to(twilio, phone, 2, timeout_s=LEASE_TTL_S + 30)
    assert texts == [answer_to(FIRST), answer_to(SECOND)], b.output()[-3000:]
    assert time.monotonic() - killed_at < LEASE_TTL_S + 20
    # the engine was asked again what the dead gateway never answered, then the next message: in order
    assert engine.messages() == [FIRST, FIRST, SECOND]
    # both stored as they arrived (the second while the first waited), each answered once
    assert stored_statuses(store, phone) == [("in", "answered"), ("in", "answered"),
                                             ("out", answer_to(FIRST)), ("out", answer_to(SECOND))]


def test_a_message_the_only_gateway_took_before_it_was_killed_is_answered_when_it_is_started_again(
    store: Settings, tmp_path: Path, gateways: list[GatewayProcess], fakes: tuple[FakeTwilio, FakeEngine]
) -> None:
    twilio, engine = fakes
    phone = "+15555550143"
    gateways.append(start_gateway("first-life", tmp_path, env(twilio, engine)))
    wait_up(gateways[0])
    text_in(gateways[0], phone, FIRST, "SM" + "3" * 32)
    engine.wait_for(FIRST)
    gateways[0].kill()
    engine.release()
    assert stored_statuses(store, phone) == [("in", "pending")]  # stored when Twilio posted it: not lost

    gateways.append(start_gateway("second-life", tmp_path, env(twilio, engine)))  # as the supervisor restarts it
    wait_up(gateways[1])
    assert texts_to(twilio, phone, 1, timeout_s=LEASE_TTL_S + 30) == [answer_to(FIRST)], gateways[1].output()[-3000:]
    assert engine.messages() == [FIRST, FIRST]
    assert stored_statuses(store, phone) == [("in", "answered"), ("out", answer_to(FIRST))]
