"""SMS words read in context, over signed webhooks: a "yes" that answers a question is not an opt-in, a bare
"cancel" about an appointment is not an opt-out (and the patient hears their texts are still on), STOP always
opts out, and an emergency answer goes in the webhook's own TwiML, not a second time through the REST API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.engine.client import RasaClient
from bot.runtime.demo import DEMO_PHONE
from bot.runtime.gateway import create_app
from bot.settings import Settings
from bot.store import Message, SmsOptOut, session_scope
from tests.conftest import FakeRasa
from tests.fake_twilio import FakeTwilio
from tests.test_sms_webhook import post_signed, twilio_form

STROKE = "my dad's face is drooping on one side and he can't lift his arm"


@pytest.fixture
def client(sms_settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(create_app(sms_settings, engine)) as test_client:
        yield test_client


def opted_out(settings: Settings) -> bool:
    with session_scope(settings.database_url) as session:
        return session.get(SmsOptOut, DEMO_PHONE) is not None


def test_yes_answering_a_question_goes_to_the_assistant_not_the_opt_in(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    fake_rasa.active_loop = "intake_form"
    response = post_signed(client, twilio_form("yes"))
    assert "<Message>" not in response.text and "subscribed" not in response.text
    assert [r["message"] for r in fake_rasa.received] == ["yes"]
    assert fake_twilio.bodies() == ["echo: yes"]
    assert not opted_out(sms_settings)


def test_start_and_yes_opt_in_only_a_number_that_opted_out(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    post_signed(client, twilio_form("STOP"))
    assert opted_out(sms_settings)
    response = post_signed(client, twilio_form("Yes"))
    assert "subscribed to texts again" in response.text and not opted_out(sms_settings)
    assert fake_rasa.received == []


def test_cancel_right_after_an_appointment_question_cancels_the_appointment_not_the_texts(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    fake_rasa.active_loop = "cancel_form"
    fake_rasa.replies = lambda text: ["Your follow-up visit on Thu, Dec 3 at 10:00 am is cancelled."]
    response = post_signed(client, twilio_form("cancel"))
    assert "<Message>" not in response.text
    assert [r["message"] for r in fake_rasa.received] == ["cancel"]
    assert not opted_out(sms_settings)
    assert fake_twilio.bodies()[0].endswith("is cancelled.")
    assert "reply STOP" in fake_twilio.bodies()[-1]  # confirmed back: the texts are still on


def test_cancel_after_appointments_were_listed_is_about_them(
    client: TestClient, fake_rasa: FakeRasa, sms_settings: Settings
) -> None:
    fake_rasa.last_actions = ["action_show_appointments", "action_listen"]
    post_signed(client, twilio_form("Cancel"))
    assert [r["message"] for r in fake_rasa.received] == ["Cancel"] and not opted_out(sms_settings)


def test_cancel_out_of_context_and_stop_always_opt_out(
    client: TestClient, fake_rasa: FakeRasa, sms_settings: Settings
) -> None:
    fake_rasa.active_loop = "intake_form"  # not about an appointment
    assert "unsubscribed" in post_signed(client, twilio_form("cancel")).text
    assert opted_out(sms_settings)
    post_signed(client, twilio_form("START"))
    fake_rasa.active_loop = "cancel_form"  # even mid-cancellation, STOP is STOP
    assert "unsubscribed" in post_signed(client, twilio_form("STOP")).text
    assert opted_out(sms_settings) and fake_rasa.received == []


def test_an_emergency_answer_is_in_the_webhook_response_and_not_sent_again(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    fake_rasa.up = False  # the engine is down: the answer still comes at once
    response = post_signed(client, twilio_form(STROKE))
    assert response.status_code == 200 and "911" in response.text
    assert fake_twilio.attempts == 0  # not a second time through the REST API
    with session_scope(sms_settings.database_url) as session:
        [answer] = session.scalars(select(Message).where(Message.direction == "out")).all()
        assert "911" in answer.text and answer.status == "sent"
