"""Identity checks: SMS by the number on file plus date of birth, web by name plus date of birth; three
failures lock for 15 minutes and every attempt is recorded; a verification lapses after 30 idle minutes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.identity import verification
from bot.runtime import demo
from bot.settings import Settings
from bot.store import AuditEvent, Conversation, VerificationAttempt, session_scope

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
WRONG = date(1981, 2, 3)


def _conversation(settings: Settings, cid: str, channel: str, user: str) -> None:
    with session_scope(settings.database_url) as session:
        session.add(Conversation(id=cid, channel=channel, channel_user=user))


def test_sms_patient_is_found_by_the_number_on_file_and_confirms_the_birth_date(seeded: Settings) -> None:
    _conversation(seeded, "sms-1", "sms", demo.DEMO_PHONE)
    with session_scope(seeded.database_url) as session:
        outcome = verification.attempt(session, "sms-1", dob=demo.DEMO_DOB, name=None, now=NOW)
        patient = demo.demo_patient(session)
        assert patient is not None and outcome.patient_id == patient.id
        audit = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == "sms-1")).one()
        assert (audit.action, audit.patient_id) == ("verification_passed", patient.id)
        assert session.get(Conversation, "sms-1").patient_id == patient.id  # type: ignore[union-attr]


def test_web_needs_the_name_and_the_birth_date_and_a_web_page_cannot_claim_to_be_sms(seeded: Settings) -> None:
    _conversation(seeded, "web-1", "web", "browser-1")
    with session_scope(seeded.database_url) as session:
        assert not verification.attempt(session, "web-1", dob=demo.DEMO_DOB, name=None, now=NOW).verified
        assert not verification.attempt(session, "web-1", dob=demo.DEMO_DOB, name="Jordan Smith", now=NOW).verified
        outcome = verification.attempt(session, "web-1", dob=demo.DEMO_DOB, name="my name is jordan demo",
                                       now=NOW + timedelta(seconds=5))
        assert outcome.verified
        assert verification.channel_of(session, "web-1").name == "web"


def test_three_failures_lock_for_fifteen_minutes_and_are_recorded(seeded: Settings) -> None:
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
        # the lock also holds for the same patient texting from a new conversation
        session.add(Conversation(id="sms-3", channel="web", channel_user="other-browser"))
        session.flush()
        assert verification.lock_until(session, "sms-3", [failed[0].patient_id or 0], NOW + timedelta(minutes=5))
        later = verification.attempt(session, "sms-2", dob=demo.DEMO_DOB, name=None, now=NOW + timedelta(minutes=18))
        assert later.verified


def test_a_verification_lapses_after_thirty_idle_minutes() -> None:
    t0 = 1_000_000.0
    assert verification.still_verified(t0, [t0 + 600, t0 + 1500, t0 + 2900], t0 + 2900)
    assert not verification.still_verified(t0, [t0 + 600, t0 + 600 + 1801], t0 + 600 + 1801)
    assert not verification.still_verified(None, [], t0)


def test_a_question_typed_when_the_name_is_asked_is_not_taken_for_a_name() -> None:
    assert verification.looks_like_name("Jordan Demo")
    assert verification.looks_like_name("my name is Mary-Ann O'Neil")
    assert not verification.looks_like_name("How much ibuprofen can I take?")
    assert not verification.looks_like_name("what does a high LDL mean")  # six words
    assert not verification.looks_like_name("Jordan")
    assert not verification.looks_like_name("Jordan Demo 1980")
