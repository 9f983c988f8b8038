"""Identity checks: SMS by the number on file plus date of birth; web by name plus date of birth plus a one-time
code texted to the number on file; failures counted per conversation and per patient, where strangers' failures
never lock the patient out of a conversation that proved the phone, nor out of a staff member's check."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.identity import codes, verification
from bot.messaging.optouts import set_opt_out
from bot.messaging.outbound import OutboxSender, SendResult
from bot.messaging.sms_delivery import SmsDelivery
from bot.runtime import demo
from bot.settings import Settings
from bot.store import AuditEvent, Conversation, Message, VerificationAttempt, VerificationCode, session_scope
from bot.store.db import session_factory

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
WRONG = date(1981, 2, 3)
NAME = "Jordan Demo"


def _conversation(settings: Settings, cid: str, channel: str, user: str) -> None:
    with session_scope(settings.database_url) as session:
        session.add(Conversation(id=cid, channel=channel, channel_user=user))


def _jordan(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        return patient.id


def _code_sent(settings: Settings, patient_phone: str = demo.DEMO_PHONE) -> str:
    """The code in the newest text queued for this number (what the patient reads on their phone)."""
    with session_scope(settings.database_url) as session:
        texts = session.scalars(select(Message.text).join(Conversation, Conversation.id == Message.conversation_id)
                                .where(Conversation.channel == "sms", Conversation.channel_user == patient_phone)
                                .order_by(Message.id.desc())).all()
    found = re.search(r"\b(\d{6})\b", texts[0])
    assert found, texts[0]
    return found.group(1)


def test_sms_patient_is_found_by_the_number_on_file_and_confirms_the_birth_date(seeded: Settings) -> None:
    _conversation(seeded, "sms-1", "sms", demo.DEMO_PHONE)
    with session_scope(seeded.database_url) as session:
        outcome = verification.attempt(session, "sms-1", dob=demo.DEMO_DOB, name=None, now=NOW, web_code=True)
        patient = demo.demo_patient(session)
        assert patient is not None and outcome.patient_id == patient.id
        audit = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == "sms-1")).one()
        assert (audit.action, audit.patient_id, audit.detail["method"]) == ("verification_passed", patient.id,
                                                                            "sms_dob")
        assert session.get(Conversation, "sms-1").patient_id == patient.id  # type: ignore[union-attr]


def test_on_the_web_name_and_birth_date_only_lead_to_a_code_and_a_page_cannot_claim_to_be_sms(
    seeded: Settings,
) -> None:
    _conversation(seeded, "web-1", "web", "browser-1")
    with session_scope(seeded.database_url) as session:
        assert not verification.attempt(session, "web-1", dob=demo.DEMO_DOB, name=None, now=NOW).verified
        assert not verification.attempt(session, "web-1", dob=demo.DEMO_DOB, name="Jordan Smith", now=NOW).verified
        outcome = verification.attempt(session, "web-1", dob=demo.DEMO_DOB, name="my name is jordan demo",
                                       now=NOW + timedelta(seconds=5), web_code=True)
        assert not outcome.verified and outcome.code_for == demo.demo_patient(session).id  # type: ignore[union-attr]
        assert verification.channel_of(session, "web-1").name == "web"
        # where the owner allows name and date of birth alone, the same answer verifies
        allowed = verification.attempt(session, "web-1", dob=demo.DEMO_DOB, name="Jordan Demo",
                                       now=NOW + timedelta(seconds=6), web_code=False)
        assert allowed.verified


def test_three_failures_lock_the_conversation_for_fifteen_minutes_and_are_recorded(seeded: Settings) -> None:
    _conversation(seeded, "sms-2", "sms", demo.DEMO_PHONE)
    with session_scope(seeded.database_url) as session:
        outcomes = [verification.attempt(session, "sms-2", dob=WRONG, name=None, now=NOW + timedelta(minutes=i))
                    for i in range(3)]
        assert [o.verified for o in outcomes] == [False, False, False]
        assert outcomes[0].locked_until is None and outcomes[1].locked_until is None
        assert outcomes[2].locked_until == NOW + timedelta(minutes=2 + 15)
        # while locked even the right answer is refused, and not recorded as an attempt
        locked = verification.attempt(session, "sms-2", dob=demo.DEMO_DOB, name=None, now=NOW + timedelta(minutes=10))
        assert not locked.verified and locked.locked_until is not None
        assert session.query(VerificationAttempt).filter_by(conversation_id="sms-2").count() == 3
        failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "verification_failed")).all()
        assert len(failed) == 3
        later = verification.attempt(session, "sms-2", dob=demo.DEMO_DOB, name=None, now=NOW + timedelta(minutes=18))
        assert later.verified


def test_strangers_guessing_a_birth_date_cannot_lock_the_patient_out_of_their_own_phone_or_a_staff_check(
    seeded: Settings,
) -> None:
    jordan = _jordan(seeded)
    # the issue's attack: wrong birth dates for the patient's name from fresh web chats
    for i in range(verification.MAX_PATIENT_FAILURES):
        _conversation(seeded, f"web-x{i}", "web", f"attacker-{i}")
        with session_scope(seeded.database_url) as session:
            outcome = verification.attempt(session, f"web-x{i}", dob=WRONG, name=NAME, now=NOW + timedelta(seconds=i))
            assert not outcome.verified
    at = NOW + timedelta(minutes=1)
    # a new web chat naming the patient is locked (it has proved nothing) ...
    _conversation(seeded, "web-new", "web", "fresh-browser")
    with session_scope(seeded.database_url) as session:
        assert verification.attempt(session, "web-new", dob=demo.DEMO_DOB, name=NAME, now=at).locked_until
    # ... but the patient texting from the number on file is not
    _conversation(seeded, "sms-real", "sms", demo.DEMO_PHONE)
    with session_scope(seeded.database_url) as session:
        assert verification.attempt(session, "sms-real", dob=demo.DEMO_DOB, name=None, now=at).patient_id == jordan
    # nor is a web chat that took a code sent to that number earlier (its verification lapsed since)
    _conversation(seeded, "web-proved", "web", "patients-browser")
    with session_scope(seeded.database_url) as session:
        verification.record(session, "web-proved", jordan, True, NOW - timedelta(hours=2), "web", verification.CODE)
        assert verification.lock_until(session, "web-proved", [jordan], at) is None
    # and a staff member's check in the console always goes through, audited as theirs
    with session_scope(seeded.database_url) as session:
        verification.staff_check(session, "web-new", jordan, "dana", at)
        assert verification.staff_verified(session, "web-new") == (jordan, at)
        event = session.scalars(select(AuditEvent).where(AuditEvent.actor_type == "staff")).one()
        assert (event.actor_id, event.action, event.detail["conversation_id"]) == ("dana", "verification_passed",
                                                                                   "web-new")


def test_three_strangers_no_longer_lock_the_patient_anywhere(seeded: Settings) -> None:
    """The finding: three wrong birth dates from fresh web chats locked the real patient on every channel."""
    for i in range(3):
        _conversation(seeded, f"web-y{i}", "web", f"stranger-{i}")
        with session_scope(seeded.database_url) as session:
            verification.attempt(session, f"web-y{i}", dob=WRONG, name=NAME, now=NOW + timedelta(seconds=i))
    _conversation(seeded, "web-patient", "web", "the-patient")
    _conversation(seeded, "sms-patient", "sms", demo.DEMO_PHONE)
    with session_scope(seeded.database_url) as session:
        at = NOW + timedelta(minutes=1)
        assert verification.attempt(session, "web-patient", dob=demo.DEMO_DOB, name=NAME, now=at,
                                    web_code=True).code_for == _jordan(seeded)
        assert verification.attempt(session, "sms-patient", dob=demo.DEMO_DOB, name=None, now=at).verified


def test_a_code_goes_to_the_number_on_file_through_the_outbox_and_verifies_once(seeded: Settings) -> None:
    jordan = _jordan(seeded)
    _conversation(seeded, "web-c", "web", "browser-c")
    with session_scope(seeded.database_url) as session:
        issued = codes.issue(session, seeded, "web-c", jordan, NOW)
        assert issued.sent and issued.phone_ending == demo.DEMO_PHONE[-2:]
    code = _code_sent(seeded)
    with session_scope(seeded.database_url) as session:
        row = session.scalars(select(VerificationCode)).one()
        assert code not in row.code_hash and row.status == "pending"
        sent = session.scalars(select(AuditEvent).where(AuditEvent.action == "verification_code_sent")).one()
        assert (sent.actor_id, sent.patient_id) == ("web-c", jordan)
        message = session.get(Message, row.message_id)
        assert message is not None and message.status == "queued"

    # the gateway sends it (no Twilio credentials: it waits in the outbox, marked not sent), exactly once
    sessions: sessionmaker = session_factory(seeded.database_url)  # type: ignore[type-arg]
    delivery = SmsDelivery(sessions, OutboxSender(), 3)
    assert asyncio.run(codes.deliver_pending(sessions, delivery, NOW)) == 1
    assert asyncio.run(codes.deliver_pending(sessions, delivery, NOW)) == 0
    with session_scope(seeded.database_url) as session:
        assert session.get(Message, row.message_id).status == "outbox"  # type: ignore[union-attr]

    wrong = "000000" if code != "000000" else "111111"
    with session_scope(seeded.database_url) as session:
        assert codes.check(session, seeded, "web-c", wrong, NOW + timedelta(minutes=1)).status == "wrong"
        assert codes.check(session, seeded, "web-c", code, NOW + timedelta(minutes=2)).status == "ok"
        assert codes.check(session, seeded, "web-c", code, NOW + timedelta(minutes=2)).status == "none"  # once
        assert jordan in verification.proven_patients(session, "web-c")
        methods = [(a.method, a.success) for a in session.scalars(
            select(VerificationAttempt).where(VerificationAttempt.conversation_id == "web-c")
            .order_by(VerificationAttempt.id))]
        assert methods == [("code", False), ("code", True)]


def test_codes_expire_allow_three_wrong_tries_and_are_rate_limited(seeded: Settings) -> None:
    jordan = _jordan(seeded)
    _conversation(seeded, "web-e", "web", "browser-e")
    with session_scope(seeded.database_url) as session:
        assert codes.issue(session, seeded, "web-e", jordan, NOW).sent
    code = _code_sent(seeded)
    with session_scope(seeded.database_url) as session:
        late = NOW + timedelta(minutes=seeded.verification.code_minutes, seconds=1)
        assert codes.check(session, seeded, "web-e", code, late).status == "expired"
    with session_scope(seeded.database_url) as session:
        assert codes.issue(session, seeded, "web-e", jordan, NOW + timedelta(minutes=11)).sent
    wrong = "123456" if _code_sent(seeded) != "123456" else "654321"
    with session_scope(seeded.database_url) as session:
        results = [codes.check(session, seeded, "web-e", wrong, NOW + timedelta(minutes=12, seconds=i)).status
                   for i in range(3)]
        assert results == ["wrong", "wrong", "used_up"]
        # three wrong codes are three failures: the conversation is locked
        assert verification.lock_until(session, "web-e", [jordan], NOW + timedelta(minutes=13))
    with session_scope(seeded.database_url) as session:
        third = codes.issue(session, seeded, "web-e", jordan, NOW + timedelta(minutes=14))
        assert third.sent
        fourth = codes.issue(session, seeded, "web-e", jordan, NOW + timedelta(minutes=15))
        assert (fourth.sent, fourth.reason) == (False, "too_many")


def test_no_code_goes_to_a_number_that_opted_out(seeded: Settings) -> None:
    _conversation(seeded, "web-o", "web", "browser-o")
    with session_scope(seeded.database_url) as session:
        set_opt_out(session, demo.DEMO_PHONE, True)
    with session_scope(seeded.database_url) as session:
        issued = codes.issue(session, seeded, "web-o", _jordan(seeded), NOW)
        assert (issued.sent, issued.reason) == (False, "opted_out")
        assert session.scalars(select(VerificationCode)).first() is None


def test_a_code_reaches_the_sms_provider_with_the_number_on_file(seeded: Settings) -> None:
    sent: list[tuple[str, str]] = []

    class Recording:
        def send(self, to: str, body: str) -> SendResult:
            sent.append((to, body))
            return SendResult("sent", provider_id="SM1")

    _conversation(seeded, "web-r", "web", "browser-r")
    with session_scope(seeded.database_url) as session:
        codes.issue(session, seeded, "web-r", _jordan(seeded), NOW)
    sessions: sessionmaker = session_factory(seeded.database_url)  # type: ignore[type-arg]
    asyncio.run(codes.deliver_pending(sessions, SmsDelivery(sessions, Recording(), 3), NOW))
    [(to, body)] = sent
    assert to == demo.DEMO_PHONE and _code_sent(seeded) in body and "Maple Street Family Medicine" in body


def test_a_verification_lapses_after_thirty_idle_minutes() -> None:
    t0 = 1_000_000.0
    assert verification.still_verified(t0, [t0 + 600, t0 + 1500, t0 + 2900], t0 + 2900)
    assert not verification.still_verified(t0, [t0 + 600, t0 + 600 + 1801], t0 + 600 + 1801)
    assert not verification.still_verified(None, [], t0)


@pytest.mark.parametrize("text", ["How much ibuprofen can I take?", "what does a high LDL mean", "Jordan",
                                  "Jordan Demo 1980", "January first nineteen eighty", "march third 1980",
                                  "01/01/1980", "482913"])
def test_a_question_a_date_or_a_code_typed_when_the_name_is_asked_is_not_taken_for_a_name(text: str) -> None:
    assert not verification.looks_like_name(text)


@pytest.mark.parametrize("text", ["Jordan Demo", "my name is Mary-Ann O'Neil", "April May", "June Smith"])
def test_names_are_names(text: str) -> None:
    assert verification.looks_like_name(text)


@pytest.mark.parametrize(("typed", "name", "born"), [
    ("Jordan Demo 01/01/1980", "Jordan Demo", date(1980, 1, 1)),
    ("jordan demo, dob jan 1 1980", "jordan demo", date(1980, 1, 1)),
    ("1/1/1980 Jordan Demo", "Jordan Demo", date(1980, 1, 1)),
    ("my name is Ana Maria Lopez and my birthday is march 3 1975", "Ana Maria Lopez", date(1975, 3, 3)),
])
def test_a_name_and_a_date_of_birth_typed_together_are_both_read(typed: str, name: str, born: date) -> None:
    from bot.scheduling.timeparse import parse_date_of_birth

    def read(part: str) -> date | None:
        return parse_date_of_birth(part, date(2026, 11, 30))

    found = verification.name_and_date(typed, read)
    assert found is not None and found[0] == name and read(found[1]) == born


@pytest.mark.parametrize("typed", ["Jordan Demo", "01/01/1980", "how much ibuprofen can i take 200", "hi there"])
def test_a_name_alone_a_date_alone_or_a_question_is_not_split(typed: str) -> None:
    from bot.scheduling.timeparse import parse_date_of_birth

    assert verification.name_and_date(typed, lambda part: parse_date_of_birth(part, date(2026, 11, 30))) is None
