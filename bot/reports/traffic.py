"""Conversations and patient messages per day, what patients asked (intents), and how much the assistant finished
without staff.

A conversation counts once per local day it had a patient message ("a conversation-day"); it was self-served that
day when no handoff to staff was opened in it that day. An intent counts once per patient message the engine read;
it was self-served when its conversation-day was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from bot.reports.periods import Period, local_day
from bot.reports.tables import Table, rate
from bot.store import ActivityEvent, Conversation, Handoff, Message
from bot.store.states import Author

INTENT_LABELS = {
    "book_appointment": "Book a visit", "reschedule_appointment": "Move a visit", "cancel_appointment": "Cancel a visit",
    "confirm_appointment": "Confirm a visit", "check_appointment": "When is my visit", "lab_results": "Lab results",
    "report_symptoms": "Symptoms (intake)", "prescription_refill": "Refill", "billing_question": "Billing",
    "clinic_info": "Hours, address, directions", "request_human": "Asked for a person", "join_waitlist": "Waitlist: join",
    "leave_waitlist": "Waitlist: leave", "greet": "Greeting", "goodbye": "Goodbye", "thank_you": "Thanks",
    "affirm": "Yes", "deny": "No", "inform": "Answer to a question", "nevermind": "Never mind",
    "out_of_scope": "Out of scope", "nlu_fallback": "Not understood",
}


def _by_channel(query: Any, conversation_column: Any, channel: str | None) -> Any:
    if channel is None:
        return query
    return query.join(Conversation, Conversation.id == conversation_column).where(Conversation.channel == channel)


def handed_days(period: Period, dialect: str, channel: str | None) -> Subquery:
    """(conversation, local day) pairs with a handoff opened that day: a subquery."""
    day = local_day(Handoff.created_at, period, dialect)
    query = select(Handoff.conversation_id.label("cid"), day.label("day")).where(
        Handoff.created_at >= period.lo, Handoff.created_at < period.hi).distinct()
    return _by_channel(query, Handoff.conversation_id, channel).subquery("handed")


def daily(session: Session, period: Period, dialect: str, channel: str | None) -> Table:
    """Per local day: conversations, patient messages, conversations handed to staff, self-served, the rate."""
    day = local_day(Message.created_at, period, dialect)
    in_period = and_(Message.author == Author.PATIENT, Message.created_at >= period.lo, Message.created_at < period.hi)
    messages: dict[str, int] = dict(session.execute(_by_channel(select(day, func.count()).where(in_period),
                                                Message.conversation_id, channel).group_by(day)).all())
    active = _by_channel(select(Message.conversation_id.label("cid"), day.label("day")).where(in_period),
                         Message.conversation_id, channel).distinct().subquery("active")
    handed = handed_days(period, dialect, channel)
    rows = session.execute(select(active.c.day, func.count(), func.count(handed.c.cid))
                           .select_from(active.outerjoin(handed, and_(handed.c.cid == active.c.cid,
                                                                      handed.c.day == active.c.day)))
                           .group_by(active.c.day)).all()
    conversations = {str(d): (int(n), int(h)) for d, n, h in rows}
    table = Table("daily", "Conversations and patient messages per day",
                  ("date", "conversations", "patient_messages", "handed_to_staff", "self_served", "self_service_rate"))
    for d in period.days:
        key = d.isoformat()
        total, handed_n = conversations.get(key, (0, 0))
        table.rows.append((key, total, int(messages.get(key, 0)), handed_n, total - handed_n,
                           rate(total - handed_n, total)))
    return table


def intents(session: Session, period: Period, dialect: str, channel: str | None) -> Table:
    """Each intent: how many patient messages asked it, and how many of those the assistant finished alone."""
    handed = handed_days(period, dialect, channel)
    day = local_day(ActivityEvent.at, period, dialect)
    self_served = func.sum(case((handed.c.cid.is_(None), 1), else_=0))
    query = (select(ActivityEvent.label, func.count(), self_served, func.count(distinct(ActivityEvent.conversation_id)))
             .select_from(ActivityEvent)
             .outerjoin(handed, and_(handed.c.cid == ActivityEvent.conversation_id, handed.c.day == day))
             .where(ActivityEvent.kind == "intent", ActivityEvent.at >= period.lo, ActivityEvent.at < period.hi)
             .group_by(ActivityEvent.label))
    if channel is not None:
        query = query.where(ActivityEvent.channel == channel)
    table = Table("intents", "What patients asked",
                  ("intent", "label", "messages", "conversations", "self_served", "self_service_rate"),
                  note="One row per patient message the assistant read; self-served: no staff that day.")
    found = sorted(session.execute(query).all(), key=lambda r: (-int(r[1]), str(r[0])))
    for label, count, served, conversations in found:
        table.rows.append((str(label), INTENT_LABELS.get(str(label), str(label).replace("_", " ").capitalize()),
                           int(count), int(conversations), int(served or 0), rate(int(served or 0), int(count))))
    return table
