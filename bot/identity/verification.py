"""Who is this? Identity checks before any PHI.

Over SMS the patient is found by the number on file (the conversation's number, never passed through the
engine) and confirms their date of birth. Over web chat they give their name and date of birth, and then type a
one-time code texted to the number on file (``codes``); name and date of birth alone verify a web chat only
where the owner allows it (``verification.web_name_and_dob_only``). A staff member can also check a patient in
the console (``staff_check``).

Every attempt is stored and counted twice, with different effects:
- per conversation: three failures in a row lock that conversation for 15 minutes;
- per patient (the patient a failure named): five failures in a row, from any conversations, lock the patient
  for 15 minutes, but only in conversations that have not proved the patient's phone. A conversation from the
  number on file (SMS), a web chat that took a code sent to it, and a staff member's check are never locked
  out by what other conversations did, so strangers guessing a date of birth cannot lock the patient out.
A verification holds for the conversation until it has been idle for 30 minutes.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.conversations.rows import ensure_conversation
from bot.store import Conversation, Patient, VerificationAttempt
from bot.store import audit as audit_trail

log = logging.getLogger(__name__)

MAX_FAILURES = 3  # per conversation
MAX_PATIENT_FAILURES = 5  # per patient, across the conversations that have not proved the phone
LOCK_MINUTES = 15
IDLE_MINUTES = 30
NAME_DOB, SMS_DOB, CODE, STAFF = "name_dob", "sms_dob", "code", "staff"
PROVES_PHONE = (CODE, STAFF)  # a success by these means this conversation is the patient's


@dataclass(frozen=True)
class Outcome:
    patient_id: int | None  # set when verified
    locked_until: datetime | None = None  # set when this attempt (or earlier ones) locked verification
    code_for: int | None = None  # web: name and date of birth matched this patient; a code must follow

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


def _run_lock(attempts: Sequence[VerificationAttempt], max_failures: int, now: datetime) -> datetime | None:
    """Given attempts newest first: locked until when, if ``max_failures`` in a row since the last success,
    within 15 minutes of each other, the latest less than 15 minutes ago."""
    failures: list[VerificationAttempt] = []
    for attempt in attempts:
        if attempt.success:
            break
        failures.append(attempt)
    if len(failures) < max_failures:
        return None
    latest, oldest = failures[0].at, failures[max_failures - 1].at
    if latest - oldest > timedelta(minutes=LOCK_MINUTES):
        return None
    until = latest + timedelta(minutes=LOCK_MINUTES)
    return until if until > now else None


def proven_patients(session: Session, conversation_id: str) -> set[int]:
    """The patients whose phone this conversation has proved: texting from the number on file, or a code sent to
    it (or a staff member's check) that succeeded here."""
    channel = channel_of(session, conversation_id)
    proven = {p.id for p in sms_patients(session, channel.phone)} if channel.phone else set()
    proven.update(p for p in session.scalars(select(VerificationAttempt.patient_id).where(
        VerificationAttempt.conversation_id == conversation_id, VerificationAttempt.success.is_(True),
        VerificationAttempt.method.in_(PROVES_PHONE))) if p is not None)
    return proven


def lock_until(session: Session, conversation_id: str, patient_ids: Sequence[int], now: datetime) -> datetime | None:
    """When verification unlocks for this conversation asking about these patients, if it is locked now."""
    since = now - timedelta(minutes=2 * LOCK_MINUTES)
    own = list(session.scalars(select(VerificationAttempt).where(
        VerificationAttempt.conversation_id == conversation_id, VerificationAttempt.at >= since)
        .order_by(VerificationAttempt.at.desc(), VerificationAttempt.id.desc())))
    locks = [_run_lock(own, MAX_FAILURES, now)]
    exposed = sorted(set(patient_ids) - proven_patients(session, conversation_id))
    for patient_id in exposed:
        theirs = list(session.scalars(select(VerificationAttempt).where(
            VerificationAttempt.patient_id == patient_id, VerificationAttempt.at >= since,
            or_(VerificationAttempt.method != STAFF, VerificationAttempt.success.is_(True)))
            .order_by(VerificationAttempt.at.desc(), VerificationAttempt.id.desc())))
        locks.append(_run_lock(theirs, MAX_PATIENT_FAILURES, now))
    found = [lock for lock in locks if lock is not None]
    return max(found) if found else None


def record(session: Session, conversation_id: str, patient_id: int | None, success: bool, now: datetime,
           channel: str, method: str, staff: str | None = None) -> None:
    """Store one attempt (counted toward the locks) and audit it: by the conversation, or by the staff member
    who checked."""
    ensure_conversation(session, conversation_id)
    session.add(VerificationAttempt(conversation_id=conversation_id, patient_id=patient_id, success=success, at=now,
                                    method=method))
    detail: dict[str, object] = {"channel": channel, "method": method}
    if staff:
        detail["conversation_id"] = conversation_id
    audit_trail.record(session, at=now, actor_type="staff" if staff else "conversation",
                       actor_id=staff or conversation_id, patient_id=patient_id,
                       action="verification_passed" if success else "verification_failed", detail=detail)
    if success:
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.patient_id = patient_id
    session.flush()
    log.info("verification.%s conversation_id=%s channel=%s method=%s", "passed" if success else "failed",
             conversation_id, channel, method)


def normalise_name(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\b(my name is|my names|my name's|name is|names|name's|this is|it's|its|it is|i am|i'm|im|"
                  r"full name is|full name|name)\b", " ", text)
    text = re.sub(r"[^a-z' -]", " ", text)
    return " ".join(text.replace("'", "").split())


_NUMBER_WORDS = frozenset((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty",
    "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "first", "second", "third", "fourth",
    "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
    "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth", "thirtieth"))


def says_a_number(text: str) -> bool:
    """Digits or number words ("January first nineteen eighty"): a date or a code, never a name."""
    words = re.findall(r"[a-z]+", text.lower())
    return bool(re.search(r"\d", text)) or any(w in _NUMBER_WORDS for w in words)


def looks_like_name(text: str) -> bool:
    """A first and last name (2 to 5 words, no digits or number words, not a question). "How much ibuprofen can I
    take?" or "January first nineteen eighty" typed while the assistant asks for a name is not taken for one."""
    if "?" in text or says_a_number(text):
        return False
    return 2 <= len(normalise_name(text).split()) <= 5


_LEAD = re.compile(r"^(?:(?:my )?name(?:'s| is)|i am|i'm|this is|it's)\s+", re.IGNORECASE)
_TAIL = re.compile(r"[\s,;:]*(?:(?:and )?(?:my )?(?:dob|d\.o\.b\.?|born(?: on)?|date of birth|birthday)(?: is)?)?"
                   r"[\s,;:]*$", re.IGNORECASE)


def name_and_date(text: str, read_date: Callable[[str], object | None]) -> tuple[str, str] | None:
    """A name and a date of birth typed together ("Jordan Demo 01/01/1980", "jordan demo, dob jan 1 1980",
    "1/1/1980 Jordan Demo"): the two parts, else None. ``read_date`` reads a date of birth (None if it is not one)."""
    words = text.split()
    for cut in range(1, len(words)):
        for name_words, date_words in ((words[:cut], words[cut:]), (words[cut:], words[:cut])):
            name = _TAIL.sub("", _LEAD.sub("", " ".join(name_words))).strip()
            born = " ".join(date_words).strip(" ,;:")
            if looks_like_name(name) and read_date(born) is not None:
                return name, born
    return None


def name_matches(patient: Patient, given: str) -> bool:
    words = normalise_name(given).split()
    first, last = normalise_name(patient.first_name), normalise_name(patient.last_name)
    return len(words) >= 2 and words[0] == first and words[-1] == last


def attempt(session: Session, conversation_id: str, *, dob: date | None, name: str | None, now: datetime,
            web_code: bool = False) -> Outcome:
    """Check a date of birth. ``name`` is required on the web; over SMS the conversation's number picks the
    patient. With ``web_code`` a web match is not a verification yet: the outcome names the patient a one-time
    code must go to (``codes.issue``)."""
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
    method = SMS_DOB if channel.name == "sms" else NAME_DOB
    match = next((p for p in candidates if dob is not None and p.date_of_birth == dob), None)
    if match is not None and channel.name != "sms" and web_code:
        return Outcome(None, code_for=match.id)
    if match is not None:
        record(session, conversation_id, match.id, True, now, channel.name, method)
        return Outcome(match.id)
    record(session, conversation_id, named[0] if len(named) == 1 else None, False, now, channel.name, method)
    return Outcome(None, lock_until(session, conversation_id, named, now))


def staff_check(session: Session, conversation_id: str, patient_id: int, staff: str, now: datetime) -> None:
    """A staff member checked who the patient is (by phone, in person) and says so in the console. Never
    refused by a lock: a person made the check."""
    record(session, conversation_id, patient_id, True, now, channel_of(session, conversation_id).name, STAFF,
           staff=staff)


def staff_verified(session: Session, conversation_id: str) -> tuple[int, datetime] | None:
    """The patient a staff member last checked in this conversation, and when."""
    row = session.scalars(select(VerificationAttempt).where(
        VerificationAttempt.conversation_id == conversation_id, VerificationAttempt.success.is_(True),
        VerificationAttempt.method == STAFF).order_by(VerificationAttempt.at.desc())).first()
    return (row.patient_id, row.at) if row is not None and row.patient_id is not None else None


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
