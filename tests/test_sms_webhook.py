"""The Twilio SMS channel's HTTP contract: requests signed exactly as Twilio signs them, replies through a
local fake of Twilio's Messages API (a real HTTP server), STOP/START/HELP, duplicates and status callbacks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from itertools import count

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.engine.client import RasaClient
from bot.runtime.demo import DEMO_PHONE
from bot.runtime.gateway import create_app
from bot.settings import Settings
from bot.store import Conversation, Message, Patient, SmsOptOut, session_scope
from tests.conftest import SMS_PUBLIC_URL, FakeRasa
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

PUBLIC_URL = SMS_PUBLIC_URL
_sids = count(1)


@pytest.fixture
def client(sms_settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(create_app(sms_settings, engine)) as test_client:
        yield test_client


def twilio_form(body: str, sender: str = DEMO_PHONE, sid: str | None = None) -> dict[str, str]:
    """The fields Twilio posts for an inbound text."""
    return {"MessageSid": sid or f"SM{next(_sids):032d}", "SmsSid": sid or "", "AccountSid": ACCOUNT_SID,
            "From": sender, "To": FROM_NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1",
            "FromCity": "SPRINGFIELD", "FromState": "IL", "FromCountry": "US", "ApiVersion": "2010-04-01"}


def post_signed(client: TestClient, form: dict[str, str], path: str = "/sms/twilio",
                token: str = AUTH_TOKEN, url: str | None = None) -> httpx.Response:
    signature = RequestValidator(token).compute_signature(url or PUBLIC_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def texts_stored(settings: Settings) -> list[tuple[str, str, str]]:
    with session_scope(settings.database_url) as session:
        return [(m.author, m.text, m.status) for m in session.scalars(select(Message).order_by(Message.id))]


def test_a_signed_text_gets_empty_twiml_and_the_reply_by_rest(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    response = post_signed(client, twilio_form("What are your hours?"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Message>" not in response.text and "<Response>" in response.text
    assert fake_twilio.problems == []
    [sent] = fake_twilio.sent
    assert (sent["To"], sent["From"], sent["Body"]) == (DEMO_PHONE, FROM_NUMBER, "echo: What are your hours?")
    # the engine saw an opaque id, never the phone number
    assert DEMO_PHONE not in json.dumps(fake_rasa.received)
    with session_scope(sms_settings.database_url) as session:
        reply = session.scalars(select(Message).where(Message.direction == "out")).one()
        assert reply.status == "sent" and reply.provider_id and reply.provider_id.startswith("SM")


@pytest.mark.parametrize("forgery", ["missing", "wrong_token", "other_url", "tampered_body"])
def test_a_forged_or_unsigned_request_is_refused_and_ignored(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings, forgery: str
) -> None:
    form = twilio_form("Send me my results")
    if forgery == "missing":
        response = client.post("/sms/twilio", data=form)
    elif forgery == "wrong_token":
        response = post_signed(client, form, token="not-the-clinic-token")
    elif forgery == "other_url":
        response = post_signed(client, form, url="https://attacker.example/sms/twilio")
    else:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/sms/twilio", form)
        response = client.post("/sms/twilio", data={**form, "Body": "STOP"},
                               headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert fake_rasa.received == [] and fake_twilio.attempts == 0
    assert texts_stored(sms_settings) == []


def test_a_repeated_message_sid_is_processed_once(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio
) -> None:
    form = twilio_form("Can I book a physical?", sid="SM" + "d" * 32)
    first, again = post_signed(client, form), post_signed(client, form)
    assert first.status_code == again.status_code == 200
    assert len(fake_rasa.received) == 1
    assert fake_twilio.bodies() == ["echo: Can I book a physical?"]


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "CANCEL", "end", "Quit.", "STOPALL", "revoke",
                                  "OPTOUT"])
def test_stop_and_its_synonyms_opt_out_at_once_in_twiml(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings, word: str
) -> None:
    response = post_signed(client, twilio_form(word))
    assert response.status_code == 200
    assert "unsubscribed" in response.text and "START" in response.text
    assert sms_settings.clinic.name in response.text
    assert fake_rasa.received == [] and fake_twilio.attempts == 0
    with session_scope(sms_settings.database_url) as session:
        assert session.get(SmsOptOut, DEMO_PHONE) is not None
        patient = session.scalars(select(Patient).where(Patient.phone == DEMO_PHONE)).one()
        assert patient.sms_opted_out  # what reminders check per patient


def test_after_stop_nothing_is_sent_neither_replies_nor_staff_messages_until_start(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    post_signed(client, twilio_form("STOP"))
    assert "<Message>" not in post_signed(client, twilio_form("hello?")).text
    assert "<Message>" not in post_signed(client, twilio_form("HELP")).text  # not even help
    service = client.app.state.conversations  # type: ignore[attr-defined]
    conversation = service.find_conversation("sms", DEMO_PHONE)
    staff_note = asyncio.run(service.post_outbound(conversation.id, "Front desk here", author="staff"))
    assert fake_twilio.attempts == 0
    with session_scope(sms_settings.database_url) as session:
        assert session.scalars(select(Message.status).where(Message.id == staff_note.id)).one() == "opted_out"

    response = post_signed(client, twilio_form("START"))
    assert "subscribed to texts again" in response.text
    post_signed(client, twilio_form("hello again"))
    assert fake_twilio.bodies() == ["echo: hello again"]
    with session_scope(sms_settings.database_url) as session:
        assert session.get(SmsOptOut, DEMO_PHONE) is None


def test_help_names_the_clinic_and_its_phone(client: TestClient, sms_settings: Settings,
                                             fake_twilio: FakeTwilio) -> None:
    response = post_signed(client, twilio_form(" help "))
    assert sms_settings.clinic.name in response.text and sms_settings.clinic.phone in response.text
    assert "STOP" in response.text and fake_twilio.attempts == 0


def test_a_long_reply_goes_out_in_at_most_three_whole_sentence_segments(
    client: TestClient, fake_rasa: FakeRasa, fake_twilio: FakeTwilio
) -> None:
    sentences = [f"Sentence number {i} explains one more thing about the clinic and its visits." for i in range(12)]
    fake_rasa.replies = lambda text: [" ".join(sentences)]
    post_signed(client, twilio_form("tell me everything"))
    bodies = fake_twilio.bodies()
    assert 2 <= len(bodies) <= 3
    assert all(len(b) <= 160 for b in bodies)
    assert bodies[0].endswith(".") and bodies[0].startswith("Sentence number 0")
    assert bodies[-1].endswith("...")


def test_delivery_status_is_recorded_from_a_signed_callback(
    client: TestClient, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    post_signed(client, twilio_form("hi"))
    with session_scope(sms_settings.database_url) as session:
        sid = session.scalars(select(Message.provider_id).where(Message.direction == "out")).one()
    assert sid is not None
    callback = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID, "To": DEMO_PHONE}
    assert client.post("/sms/twilio/status", data=callback).status_code == 403
    assert post_signed(client, callback, path="/sms/twilio/status").status_code == 204
    with session_scope(sms_settings.database_url) as session:
        assert session.scalars(select(Message.status).where(Message.provider_id == sid)).one() == "delivered"


def test_carrier_opt_out_error_21610_is_not_retried_and_marks_the_number(
    client: TestClient, fake_twilio: FakeTwilio, sms_settings: Settings
) -> None:
    fake_twilio.script = [(400, 21610)]
    post_signed(client, twilio_form("hi"))
    assert fake_twilio.attempts == 1 and fake_twilio.sent == []
    with session_scope(sms_settings.database_url) as session:
        assert session.get(SmsOptOut, DEMO_PHONE) is not None
        assert session.scalars(select(Message.status).where(Message.direction == "out")).one() == "opted_out"


def test_an_unknown_number_gets_a_conversation_of_its_own(client: TestClient, sms_settings: Settings,
                                                          fake_twilio: FakeTwilio) -> None:
    post_signed(client, twilio_form("hi", sender="+15555550777"))
    with session_scope(sms_settings.database_url) as session:
        conversation = session.scalars(select(Conversation).where(Conversation.channel == "sms")).one()
        assert conversation.channel_user == "+15555550777" and conversation.id != "+15555550777"
    assert [m["To"] for m in fake_twilio.sent] == ["+15555550777"]


@pytest.mark.parametrize(("reply", "intent"), [("C", "confirm_appointment"), ("cancel", "cancel_appointment")])
def test_a_reply_to_a_reminder_acts_on_that_appointment_and_is_not_an_opt_out(
    client: TestClient, fake_rasa: FakeRasa, sms_settings: Settings, reply: str, intent: str
) -> None:
    from datetime import UTC, datetime

    from bot.store import Appointment, ReminderSend

    with session_scope(sms_settings.database_url) as session:
        jordan = session.scalars(select(Patient).where(Patient.phone == DEMO_PHONE)).one()
        visit = session.scalars(select(Appointment).where(Appointment.patient_id == jordan.id)).one()
        session.add(ReminderSend(appointment_id=visit.id, patient_id=jordan.id, rule_name="two_days_before",
                                 due_at=datetime.now(UTC), sent_at=datetime.now(UTC), status="sent"))
        visit_id = visit.id
    response = post_signed(client, twilio_form(reply))
    assert "<Message>" not in response.text  # not answered as a keyword
    [sent] = fake_rasa.received
    assert sent["message"].startswith(f"/{intent}") and str(visit_id) in sent["message"]
    with session_scope(sms_settings.database_url) as session:
        assert session.get(SmsOptOut, DEMO_PHONE) is None


def test_a_bare_cancel_without_a_recent_reminder_is_an_opt_out(
    client: TestClient, fake_rasa: FakeRasa, sms_settings: Settings
) -> None:
    response = post_signed(client, twilio_form("CANCEL"))
    assert "<Message>" in response.text and fake_rasa.received == []
    with session_scope(sms_settings.database_url) as session:
        assert session.get(SmsOptOut, DEMO_PHONE) is not None
