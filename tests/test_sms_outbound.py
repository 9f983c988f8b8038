"""Outbound SMS: the twilio client against a local fake of Twilio's API (retries, refusals, the outbox),
and splitting long replies into segments."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from adapters.twilio_rest import TwilioSender, sender_for
from bot.messaging.outbound import OutboxSender
from bot.messaging.sms_budget import segment_count, split_for_sms
from bot.messaging.sms_delivery import SmsDelivery
from bot.settings import Settings
from bot.store import Conversation, Message, session_scope
from bot.store.db import session_factory
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

PATIENT = "+15555550142"


def sender(fake: FakeTwilio, attempts: int = 3) -> tuple[TwilioSender, list[float]]:
    sleeps: list[float] = []
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_base_url=fake.url, attempts=attempts,
                        backoff_s=0.5, sleep=sleeps.append), sleeps


def test_a_text_reaches_twilio_with_auth_to_from_and_body(fake_twilio: FakeTwilio) -> None:
    result = sender(fake_twilio)[0].send(PATIENT, "Your visit is tomorrow at 9 am.")
    assert result.status == "sent" and result.provider_id and result.provider_id.startswith("SM")
    assert fake_twilio.problems == []
    assert fake_twilio.sent[0]["To"] == PATIENT and fake_twilio.sent[0]["Body"] == "Your visit is tomorrow at 9 am."


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_with_growing_backoff(fake_twilio: FakeTwilio, status: int) -> None:
    fake_twilio.script = [(status, 20429 if status == 429 else None)] * 2
    twilio, sleeps = sender(fake_twilio, attempts=3)
    result = twilio.send(PATIENT, "hello")
    assert result.status == "sent"
    assert fake_twilio.attempts == 3 and len(fake_twilio.sent) == 1
    assert sleeps == [0.5, 1.0]


def test_gives_up_after_the_last_attempt(fake_twilio: FakeTwilio) -> None:
    fake_twilio.script = [(500, None)] * 5
    result = sender(fake_twilio, attempts=3)[0].send(PATIENT, "hello")
    assert result.status == "failed" and fake_twilio.attempts == 3 and fake_twilio.sent == []


@pytest.mark.parametrize(("code", "status"), [(21610, "opted_out"), (21211, "failed")])
def test_refusals_are_final(fake_twilio: FakeTwilio, code: int, status: str) -> None:
    fake_twilio.script = [(400, code)]
    twilio, sleeps = sender(fake_twilio)
    result = twilio.send(PATIENT, "hello")
    assert (result.status, result.error) == (status, str(code))
    assert fake_twilio.attempts == 1 and sleeps == []


def test_without_credentials_messages_stay_in_the_outbox_marked_not_sent(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    outbox = sender_for(seeded)
    assert isinstance(outbox, OutboxSender)
    sessions = session_factory(seeded.database_url)
    with session_scope(seeded.database_url) as session:
        conversation = Conversation(channel="sms", channel_user=PATIENT)
        session.add(conversation)
        session.flush()
        message = Message(conversation_id=conversation.id, direction="out", author="staff", text="hi",
                          status="queued")
        session.add(message)
        session.flush()
        message_id = message.id
    status = asyncio.run(SmsDelivery(sessions, outbox, 3).deliver(PATIENT, message_id, "hi"))
    assert status == "outbox"
    with session_scope(seeded.database_url) as session:
        assert session.scalars(select(Message.status).where(Message.id == message_id)).one() == "outbox"


def test_credentials_from_the_environment_select_twilio(seeded: Settings, monkeypatch: pytest.MonkeyPatch,
                                                        fake_twilio: FakeTwilio) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_PHONE_NUMBER", FROM_NUMBER)
    seeded.sms.api_base_url = fake_twilio.url
    chosen = sender_for(seeded)
    assert isinstance(chosen, TwilioSender)
    assert chosen.send(PATIENT, "hi").status == "sent" and fake_twilio.problems == []


def test_short_text_is_one_part() -> None:
    assert split_for_sms("See you Tuesday at 9 am.", 3) == ["See you Tuesday at 9 am."]


def test_parts_break_between_sentences_and_fit_one_segment_each() -> None:
    text = ("Your lab results are ready. " * 3 + "Please call the office to talk them over with your doctor. ") * 2
    parts = split_for_sms(text, 3)
    assert 1 < len(parts) <= 3
    assert all(segment_count(p) == 1 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == " ".join(text.split())  # nothing lost when it fits


def test_what_does_not_fit_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = " ".join(f"Point {i} is about parking, forms and insurance cards at the front desk." for i in range(20))
    parts = split_for_sms(text, 3)
    assert len(parts) == 3 and parts[-1].endswith("...")
    assert all(segment_count(p) == 1 for p in parts)


def test_unicode_text_uses_the_smaller_ucs2_segment() -> None:
    text = "Cita confirmada 🙂. " * 10
    parts = split_for_sms(text, 5)
    assert all(len(p) <= 70 for p in parts)
    assert segment_count("a" * 160) == 1 and segment_count("a" * 161) == 2 and segment_count("é🙂" * 40) == 2
