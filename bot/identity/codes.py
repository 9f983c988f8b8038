"""One-time codes: the second factor of a web chat verification.

When a web chat's name and date of birth match a patient, a 6-digit code is texted to the patient's number on
file. The text is stored as an outbound message of that number's SMS conversation, ``queued``; the gateway sends
it within seconds through the SMS sender (``deliver_pending``), so without Twilio credentials it waits in the
outbox, marked not sent, like every other text. Only an HMAC of the code is kept with the code's row.

A code expires after ``verification.code_minutes`` and allows three wrong entries; each wrong entry counts as a
failed verification (``bot.identity.verification``). A conversation gets at most three codes an hour and a
patient five, so nobody can flood a patient's phone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.rows import find_or_create_conversation, record_outbound
from bot.identity import verification
from bot.messaging.optouts import is_opted_out
from bot.messaging.sms_delivery import SmsDelivery
from bot.settings import Settings
from bot.store import Conversation, Message, Patient, VerificationCode
from bot.store import audit as audit_trail
from bot.store.states import Author, Channel, MessageStatus

log = logging.getLogger(__name__)
DIGITS = 6
MAX_TRIES = 3  # wrong entries of one code
PER_CONVERSATION_HOUR = 3
PER_PATIENT_HOUR = 5
PENDING, USED, VOID = "pending", "used", "void"
KIND = "verification_code"


@dataclass(frozen=True)
class Issued:
    sent: bool
    reason: str = ""  # no_phone | opted_out | too_many
    phone_ending: str = ""  # the last two digits of the number the code went to


@dataclass(frozen=True)
class Checked:
    status: str  # ok | wrong | used_up | expired | none
    patient_id: int | None = None
    locked_until: datetime | None = None


def _digest(settings: Settings, conversation_id: str, code: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"{conversation_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_text(settings: Settings, code: str) -> str:
    return (f"{settings.clinic.name}: your verification code is {code}. It expires in "
            f"{settings.verification.code_minutes} minutes. Don't share it with anyone.")


def _count(session: Session, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(VerificationCode).where(*where)) or 0)


def issue(session: Session, settings: Settings, conversation_id: str, patient_id: int, now: datetime) -> Issued:
    """Create a code for this conversation and queue its text to the patient's number (audited)."""
    patient = session.get(Patient, patient_id)
    if patient is None or not patient.phone:
        return Issued(False, "no_phone")
    if patient.sms_opted_out or is_opted_out(session, patient.phone):
        return Issued(False, "opted_out")
    hour_ago = now - timedelta(hours=1)
    if (_count(session, VerificationCode.conversation_id == conversation_id,
               VerificationCode.created_at >= hour_ago) >= PER_CONVERSATION_HOUR
            or _count(session, VerificationCode.patient_id == patient_id,
                      VerificationCode.created_at >= hour_ago) >= PER_PATIENT_HOUR):
        log.warning("verification.code_refused conversation_id=%s reason=too_many", conversation_id)
        return Issued(False, "too_many")
    session.execute(update(VerificationCode).where(VerificationCode.conversation_id == conversation_id,
                                                   VerificationCode.status == PENDING).values(status=VOID))
    code = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
    thread = find_or_create_conversation(session, Channel.SMS, patient.phone)
    message = record_outbound(session, thread.id, code_text(settings, code), author=Author.SYSTEM,
                              status=MessageStatus.QUEUED, meta={"kind": KIND})
    row = VerificationCode(conversation_id=conversation_id, patient_id=patient_id,
                           code_hash=_digest(settings, conversation_id, code), created_at=now,
                           expires_at=now + timedelta(minutes=settings.verification.code_minutes), tries=0,
                           status=PENDING, message_id=message.id)
    session.add(row)
    session.flush()
    audit_trail.record(session, at=now, actor_type="conversation", actor_id=conversation_id, patient_id=patient_id,
                       action="verification_code_sent",
                       detail={"channel": "sms", "code_id": row.id, "message_id": message.id})
    log.info("verification.code_issued conversation_id=%s code_id=%s message_id=%s", conversation_id, row.id,
             message.id)
    return Issued(True, phone_ending=patient.phone[-2:])


def pending(session: Session, conversation_id: str) -> VerificationCode | None:
    return session.scalars(select(VerificationCode).where(
        VerificationCode.conversation_id == conversation_id, VerificationCode.status == PENDING)
        .order_by(VerificationCode.id.desc())).first()


def check(session: Session, settings: Settings, conversation_id: str, typed: str, now: datetime) -> Checked:
    """Check a code typed in this conversation. A right one verifies the patient (method ``code``: this
    conversation has proved the phone); a wrong one counts as a failed verification."""
    row = pending(session, conversation_id)
    if row is None:
        return Checked("none")
    if row.expires_at <= now:
        row.status = VOID
        return Checked("expired", row.patient_id)
    channel = verification.channel_of(session, conversation_id).name
    if hmac.compare_digest(row.code_hash, _digest(settings, conversation_id, typed.strip())):
        row.status = USED
        verification.record(session, conversation_id, row.patient_id, True, now, channel, verification.CODE)
        return Checked("ok", row.patient_id)
    row.tries += 1
    if row.tries >= MAX_TRIES:
        row.status = VOID
    verification.record(session, conversation_id, row.patient_id, False, now, channel, verification.CODE)
    locked = verification.lock_until(session, conversation_id, [row.patient_id], now)
    return Checked("used_up" if row.status == VOID else "wrong", row.patient_id, locked)


async def deliver_pending(sessions: sessionmaker[Session], delivery: SmsDelivery, now: datetime) -> int:
    """Send the code texts waiting to go (the gateway calls this every few seconds). Each is claimed first, so
    two gateways never send one twice. Returns how many were handed to the sender."""
    claimed = await asyncio.to_thread(_claim_pending, sessions, now)  # database calls: off the event loop
    for phone, message_id, text in claimed:
        await delivery.deliver(phone, message_id, text)
    return len(claimed)


def _claim_pending(sessions: sessionmaker[Session], now: datetime) -> list[tuple[str, int, str]]:
    with sessions() as session:
        waiting = list(session.scalars(select(VerificationCode.id).where(
            VerificationCode.status == PENDING, VerificationCode.sending_at.is_(None),
            VerificationCode.expires_at > now, VerificationCode.message_id.is_not(None))))
        claimed: list[tuple[str, int, str]] = []
        for code_id in waiting:
            taken = session.execute(update(VerificationCode).where(
                VerificationCode.id == code_id, VerificationCode.sending_at.is_(None)).values(sending_at=now))
            session.commit()
            if not getattr(taken, "rowcount", 0):
                continue
            found = session.execute(select(Message.id, Message.text, Conversation.channel_user)
                                    .join(Conversation, Conversation.id == Message.conversation_id)
                                    .join(VerificationCode, VerificationCode.message_id == Message.id)
                                    .where(VerificationCode.id == code_id)).first()
            if found is not None:
                claimed.append((found.channel_user, found.id, found.text))
    return claimed
