"""Replies to a reminder: "C"/"confirm" and "R"/"reschedule" from a number that got one act on that appointment.

A bare "cancel" is also an SMS opt-out keyword; it is claimed here (cancel the appointment, not the texts) only when
the number got a reminder in the last 48 hours, otherwise it stays an opt-out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.scheduling.slots import ACTIVE_STATUSES
from bot.store import Appointment, Patient, ReminderSend
from bot.store import activity as activity_ledger
from bot.store.states import ReminderStatus

CANCEL_REPLY_WINDOW = timedelta(hours=48)
_REPLIES = {"c": "confirm_appointment", "confirm": "confirm_appointment", "confirmed": "confirm_appointment",
            "r": "reschedule_appointment", "reschedule": "reschedule_appointment", "cancel": "cancel_appointment"}


@dataclass(frozen=True)
class ReminderReply:
    """What a reply to a reminder asks for: the intent and the appointment it is about."""

    intent: str  # confirm_appointment | reschedule_appointment | cancel_appointment
    appointment_id: int


def reminder_reply(session: Session, phone: str, text: str, now: datetime | None = None) -> ReminderReply | None:
    """The reminder this SMS answers and what it asks for; None when it is not a reply to a reminder."""
    word = re.sub(r"[^a-z]", "", text.lower())
    intent = _REPLIES.get(word)
    if intent is None:
        return None
    now = now or datetime.now(UTC)
    row = session.execute(
        select(ReminderSend.appointment_id, ReminderSend.sent_at)
        .join(Appointment, Appointment.id == ReminderSend.appointment_id)
        .join(Patient, Patient.id == ReminderSend.patient_id)
        .where(Patient.phone == phone, ReminderSend.status.in_((ReminderStatus.SENT, ReminderStatus.OUTBOX)),
               ReminderSend.sent_at.is_not(None), Appointment.start > now,
               Appointment.status.in_(ACTIVE_STATUSES))
        .order_by(ReminderSend.sent_at.desc(), func.coalesce(ReminderSend.id, 0).desc())).first()
    if row is None:
        return None
    appointment_id, sent_at = row
    if word == "cancel" and (sent_at is None or sent_at < now - CANCEL_REPLY_WINDOW):
        return None
    return ReminderReply(intent, int(appointment_id))



def note_reply(session: Session, reply: ReminderReply, conversation_id: str) -> None:
    """Count the reply for the owner's dashboard (confirm, reschedule or cancel; no text)."""
    activity_ledger.record(session, "reminder_reply", reply.intent.removesuffix("_appointment"), channel="sms",
                           conversation_id=conversation_id, ref=reply.appointment_id)
