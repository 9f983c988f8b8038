"""Who is this? Identity checks before any PHI.

Over SMS the patient is found by the number on file (the conversation's number, never passed through the
engine) and confirms their date of birth; over web chat they give their name and date of birth. Every attempt
is stored; three failures in a row lock verification for 15 minutes, for the conversation and for the patient
the attempt named. A verification holds for the conversation until it has been idle for 30 minutes.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.conversations.rows import ensure_conversation
from bot.store import Conversation, Patient, VerificationAttempt
from bot.store import audit as audit_trail

log = logging.getLogger(__name__)

MAX_FAILURES = 3
LOCK_MINUTES = 15
IDLE_MINUTES = 30


@dataclass(frozen=True)
class Outcome:
    patient_id: int | None  # set when verified
    locked_until: datetime | None = None  # set when this attempt (or earlier ones) locked verification

    @property
    def verified(self) -> bool:
        return self.patient_id is not None


@dataclass(frozen=True)
class Channel:
    name: str  # web | sms
    phone: str | None  # E.164, sms only


def channel_of(session: Session, conversation_id: str) -> Channel:
    """The channel as the gateway recorded it (metadata from a web page cannot claim to be SMS)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None and conversation.channel == "sms":
        return Channel("sms", conversation.channel_user)
    return Channel("web", None)


def sms_patients(session: Session, phone: str) -> list[Patient]:
    return list(session.scalars(select(Patient).where(Patient.phone == phone).order_by(Patient.id)))


def named_patients(session: Session, name: str | None) -> list[Patient]:
    words = normalise_name(name or "").split()
    if len(words) < 2:
        return []
    found = session.scalars(select(Patient).where(Patient.first_name.ilike(words[0]),
                                                  Patient.last_name.ilike(words[-1])))
    return [p for p in found if name_matches(p, name or "")]


def lock_until(session: Session, conversation_id: str, patient_ids: Sequence[int], now: datetime) -> datetime | None:
    """When verification unlocks, if it is locked now: three failures since the last success, within 15
    minutes of each other, the latest less than 15 minutes ago."""
    scope = [VerificationAttempt.conversation_id == conversation_id]
    if patient_ids:
        scope.append(VerificationAttempt.patient_id.in_(list(patient_ids)))
    recent = list(session.scalars(select(VerificationAttempt).where(
        or_(*scope), VerificationAttempt.at >= now - timedelta(minutes=2 * LOCK_MINUTES))
        .order_by(VerificationAttempt.at.desc(), VerificationAttempt.id.desc())))
    failures: list[VerificationAttempt] = []
    for attempt in recent:
        if attempt.success:
            break
        failures.append(attempt)
    if len(failures) < MAX_FAILURES:
        return None
    latest, third = failures[0].at, failures[MAX_FAILURES - 1].at
    if latest - third > timedelta(minutes=LOCK_MINUTES):
        return None
    until = latest + timedelta(minutes=LOCK_MINUTES)
    return until if until > now else None


def _record(session: Session, conversation_id: str, patient_id: int | None, success: bool, now: datetime,
            channel: str) -> None:
    ensure_conversation(session, conversation_id)
    session.add(VerificationAttempt(conversation_id=conversation_id, patient_id=patient_id, success=success, at=now))
    audit_trail.record(session, at=now, actor_type="conversation", actor_id=conversation_id, patient_id=patient_id,
                       action="verification_passed" if success else "verification_failed",
                       detail={"channel": channel})
    if success:
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.patient_id = patient_id
    session.flush()
    log.info("verification.%s conversation_id=%s channel=%s", "passed" if success else "failed",
             conversation_id, channel)


def normalise_name(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\b(my name is|my names|my name's|name is|names|name's|this is|it's|its|it is|i am|i'm|im|"
                  r"full name is|full name|name)\b", " ", text)
    text = re.sub(r"[^a-z' -]", " ", text)
    return " ".join(text.replace("'", "").split())


def looks_like_name(text: str) -> bool:
    """A first and last name (2 to 5 words, no digits, not a question). "How much ibuprofen can I take?" typed
    while the assistant asks for a name is not taken for one."""
    if "?" in text or re.search(r"\d", text):
        return False
    return 2 <= len(normalise_name(text).split()) <= 5


def name_matches(patient: Patient, given: str) -> bool:
    words = normalise_name(given).split()
    first, last = normalise_name(patient.first_name), normalise_name(patient.last_name)
    return len(words) >= 2 and words[0] == first and words[-1] == last


def attempt(session: Session, conversation_id: str, *, dob: date | None, name: str | None, now: datetime
            ) -> Outcome:
    """Check one answer. ``name`` is required on the web; over SMS the conversation's number picks the patient."""
    channel = channel_of(session, conversation_id)
    candidates: list[Patient]
    if channel.name == "sms" and channel.phone:
        candidates = sms_patients(session, channel.phone)
        if name:
            candidates = [p for p in candidates if name_matches(p, name)] or candidates
    else:
        candidates = named_patients(session, name)
    named = [p.id for p in candidates]
    locked = lock_until(session, conversation_id, named, now)
    if locked is not None:
        return Outcome(None, locked)
    match = next((p for p in candidates if dob is not None and p.date_of_birth == dob), None)
    if match is not None:
        _record(session, conversation_id, match.id, True, now, channel.name)
        return Outcome(match.id)
    _record(session, conversation_id, named[0] if len(named) == 1 else None, False, now, channel.name)
    return Outcome(None, lock_until(session, conversation_id, named, now))


def still_verified(verified_at: float | None, user_message_times: Sequence[float], now: float) -> bool:
    """A verification made at ``verified_at`` (epoch seconds) lapses once the conversation sat idle for
    30 minutes: any gap between it, the patient's later messages, and now."""
    if verified_at is None:
        return False
    marks = [verified_at, *sorted(t for t in user_message_times if t > verified_at), now]
    return all(later - earlier <= IDLE_MINUTES * 60 for earlier, later in itertools.pairwise(marks))


def audit_viewed(session: Session, conversation_id: str, patient_id: int, appointment_ids: Sequence[int],
                 now: datetime, action: str = "appointment_viewed") -> None:
    audit_trail.record(session, at=now, actor_type="conversation", actor_id=conversation_id, patient_id=patient_id,
                       action=action, detail={"appointment_ids": list(appointment_ids)})
