"""Reminders exactly once: a process killed anywhere around the provider call leaves a send on record, which is
settled against the provider's own list (the local fake of Twilio's API, through the real twilio client) before
anything is sent again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.twilio_rest import TwilioSender
from bot import reminders
from bot.messaging.outbound import OutboxSender, SendResult
from bot.reminders.delivery import settle_unfinished
from bot.reminders.sends import send_deadline
from bot.runtime import demo
from bot.settings import ReminderRule, Settings
from bot.store import (
    Appointment,
    AppointmentType,
    Message,
    OutboundSend,
    Provider,
    ReminderSend,
    session_scope,
)
from bot.store.models import Patient
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

RULE = ReminderRule(name="soon", before_hours=1, template="{clinic_name}: see you at {time}. Reply STOP to opt out.")


class Killed(BaseException):
    """The process died here (nothing in the code under test catches it)."""


class DiesAfterTwilioTookIt:
    def __init__(self, real: TwilioSender) -> None:
        self.real = real
        self.provider_name = "twilio"

    def send(self, to: str, body: str) -> SendResult:
        self.real.send(to, body)
        raise Killed


class DiesBeforeTheCall:
    provider_name = "twilio"

    def send(self, to: str, body: str) -> SendResult:
        raise Killed


def midday_zone() -> str:
    offset = (14 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/GMT" + ("+" if offset <= 0 else "-") + str(abs(offset))


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    running = FakeTwilio().start()
    yield running
    running.stop()


@pytest.fixture
def clinic(store: Settings) -> Settings:
    settings = store.model_copy(deep=True)
    settings.clinic.timezone = midday_zone()
    settings.reminders.rules = [RULE]
    settings.sms.send_attempts, settings.sms.timeout_s = 1, 2.0
    return settings


def twilio(fake: FakeTwilio) -> TwilioSender:
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_base_url=fake.url, attempts=1, timeout_s=2)


def due_now(settings: Settings) -> int:
    """A visit an hour from now (so the one-hour reminder is due), booked yesterday."""
    start = datetime.now(UTC) + timedelta(hours=1)
    with session_scope(settings.database_url) as session:
        patient = session.scalars(select(Patient).where(Patient.phone == demo.DEMO_PHONE)).one()
        kind = session.scalars(select(AppointmentType).where(AppointmentType.code == "follow_up")).one()
        provider = session.scalars(select(Provider).where(Provider.key == "patel")).one()
        appointment = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type_id=kind.id,
                                  start=start, end=start + timedelta(minutes=20),
                                  created_at=datetime.now(UTC) - timedelta(days=1))
        session.add(appointment)
        session.flush()
        return appointment.id


def state(settings: Settings, appointment_id: int) -> tuple[str, str, str | None, bool]:
    """(reminder status, message status, provider sid on the message, settled from the provider's list)"""
    with session_scope(settings.database_url) as session:
        claim = session.scalars(select(ReminderSend).where(ReminderSend.appointment_id == appointment_id)).one()
        message = session.get(Message, claim.message_id)
        send = session.scalars(select(OutboundSend).where(OutboundSend.message_id == claim.message_id)).one()
        assert message is not None
        return claim.status, message.status, message.provider_id, send.reconciled


def later(settings: Settings) -> datetime:
    return datetime.now(UTC) + send_deadline(settings) + timedelta(seconds=1)


def test_killed_after_twilio_took_it_is_recorded_as_sent_not_sent_again(clinic: Settings, fake: FakeTwilio) -> None:
    appointment = due_now(clinic)
    with pytest.raises(Killed):
        reminders.deliver(clinic, appointment, "soon", datetime.now(UTC), DiesAfterTwilioTookIt(twilio(fake)))
    assert state(clinic, appointment)[:2] == ("claimed", "sending")
    # a live send could still be under way: nothing is touched before the deadline
    assert settle_unfinished(clinic, twilio(fake), datetime.now(UTC)) == 0
    assert settle_unfinished(clinic, twilio(fake), later(clinic)) == 1
    assert len(fake.sent) == 1 and fake.list_requests >= 1
    assert state(clinic, appointment) == ("sent", "sent", fake.records[0].sid, True)
    assert settle_unfinished(clinic, twilio(fake), later(clinic)) == 0  # settled once
    assert reminders.deliver(clinic, appointment, "soon", datetime.now(UTC), twilio(fake)).status == "already"
    assert len(fake.sent) == 1


def test_killed_before_the_call_is_sent_once_after_checking_twilio(clinic: Settings, fake: FakeTwilio) -> None:
    appointment = due_now(clinic)
    with pytest.raises(Killed):
        reminders.deliver(clinic, appointment, "soon", datetime.now(UTC), DiesBeforeTheCall())
    assert fake.sent == []
    assert settle_unfinished(clinic, twilio(fake), later(clinic)) == 1
    assert len(fake.sent) == 1 and "see you at" in fake.sent[0]["Body"]
    assert fake.list_requests >= 1  # Twilio was asked before sending again
    assert state(clinic, appointment)[:3] == ("sent", "sent", fake.records[0].sid)


def test_a_message_twilio_still_has_queued_is_found_without_a_sent_date(clinic: Settings, fake: FakeTwilio) -> None:
    fake.queued_s = 3600  # Twilio has not sent it yet: no date_sent, so the DateSent filter misses it
    appointment = due_now(clinic)
    with pytest.raises(Killed):
        reminders.deliver(clinic, appointment, "soon", datetime.now(UTC), DiesAfterTwilioTookIt(twilio(fake)))
    assert settle_unfinished(clinic, twilio(fake), later(clinic)) == 1
    assert len(fake.sent) == 1
    assert state(clinic, appointment)[0] == "sent"


def test_while_twilio_cannot_be_asked_nothing_is_sent_again(clinic: Settings, fake: FakeTwilio) -> None:
    appointment = due_now(clinic)
    with pytest.raises(Killed):
        reminders.deliver(clinic, appointment, "soon", datetime.now(UTC), DiesAfterTwilioTookIt(twilio(fake)))
    down = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_base_url="http://127.0.0.1:9", attempts=1,
                        timeout_s=1)
    assert settle_unfinished(clinic, down, later(clinic)) == 0
    assert state(clinic, appointment)[0] == "claimed" and len(fake.sent) == 1
    assert settle_unfinished(clinic, twilio(fake), later(clinic)) == 1
    assert len(fake.sent) == 1 and state(clinic, appointment)[0] == "sent"


def test_a_number_that_opted_out_meanwhile_gets_nothing(clinic: Settings, fake: FakeTwilio) -> None:
    appointment = due_now(clinic)
    with pytest.raises(Killed):
        reminders.deliver(clinic, appointment, "soon", datetime.now(UTC), DiesBeforeTheCall())
    with session_scope(clinic.database_url) as session:
        from bot.messaging.optouts import set_opt_out

        set_opt_out(session, demo.DEMO_PHONE, True)
    assert settle_unfinished(clinic, twilio(fake), later(clinic)) == 1
    assert fake.sent == [] and state(clinic, appointment)[0] == "skipped_opt_out"


def test_an_outbox_send_cut_short_is_simply_made_again(clinic: Settings) -> None:
    class DiesInTheOutbox(OutboxSender):
        def send(self, to: str, body: str) -> SendResult:
            raise Killed

    appointment = due_now(clinic)
    with pytest.raises(Killed):
        reminders.deliver(clinic, appointment, "soon", datetime.now(UTC), DiesInTheOutbox())
    assert settle_unfinished(clinic, OutboxSender(), later(clinic)) == 1
    assert state(clinic, appointment)[:2] == ("outbox", "outbox")
