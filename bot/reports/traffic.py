"""Conversations and patient messages per day, what patients asked (intents), and how much the assistant finished
without staff.

A conversation counts once per local day it had a patient message ("a conversation-day"); it was self-served that
day when no handoff to staff was opened in it that day. An intent counts once per patient message the engine read;
it was self-served when its conversation-day was.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from bot.reports.periods import Period, local_day
from bot.reports.tables import Table, rate
from bot.store import ActivityEvent, Conversation, Handoff, Message
from bot.store.states import Author

SMALL_TALK = frozenset({"greet", "goodbye", "thank_you", "affirm", "deny", "inform", "nevermind"})
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


def handed_days(session: Session, period: Period, dialect: str, channel: str | None) -> set[tuple[str, str]]:
    """(conversation, local day) pairs with a handoff opened that day (a few per day: kept in memory)."""
    day = local_day(Handoff.created_at, period, dialect)
    query = select(Handoff.conversation_id, day).where(Handoff.created_at >= period.lo, Handoff.created_at < period.hi)
    return {(str(c), str(d)) for c, d in session.execute(_by_channel(query, Handoff.conversation_id, channel)).all()}


def _handed_conversations(period: Period) -> Any:
    """The conversations with a handoff in the period, for ``IN``: only their rows need a closer look."""
    return select(Handoff.conversation_id).where(Handoff.created_at >= period.lo, Handoff.created_at < period.hi)


def daily(session: Session, period: Period, dialect: str, channel: str | None) -> Table:
    """Per local day: conversations, patient messages, conversations handed to staff, self-served, the rate."""
    day = local_day(Message.created_at, period, dialect)
    in_period = and_(Message.author == Author.PATIENT, Message.created_at >= period.lo, Message.created_at < period.hi)
    counts = {str(d): (int(n), int(c)) for d, n, c in session.execute(_by_channel(
        select(day, func.count(), func.count(distinct(Message.conversation_id))).where(in_period),
        Message.conversation_id, channel).group_by(day)).all()}
    handed = handed_days(session, period, dialect, channel)
    pairs = session.execute(select(Message.conversation_id, day).where(
        in_period, Message.conversation_id.in_(_handed_conversations(period))).distinct()).all()
    handed_per_day = Counter(str(d) for c, d in pairs if (str(c), str(d)) in handed)
    table = Table("daily", "Conversations and patient messages per day",
                  ("date", "conversations", "patient_messages", "handed_to_staff", "self_served", "self_service_rate"))
    for d in period.days:
        key = d.isoformat()
        messages, total = counts.get(key, (0, 0))
        handed_n = handed_per_day.get(key, 0)
        table.rows.append((key, total, messages, handed_n, total - handed_n, rate(total - handed_n, total)))
    return table


def intents(session: Session, period: Period, dialect: str, channel: str | None) -> Table:
    """Each intent: how many patient messages asked it, and how many of those the assistant finished alone."""
    in_period = [ActivityEvent.kind == "intent", ActivityEvent.at >= period.lo, ActivityEvent.at < period.hi]
    if channel is not None:
        in_period.append(ActivityEvent.channel == channel)
    totals = session.execute(select(ActivityEvent.label, func.count()).where(*in_period)
                             .group_by(ActivityEvent.label)).all()
    handed = handed_days(session, period, dialect, channel)
    day = local_day(ActivityEvent.at, period, dialect)
    near_staff = session.execute(select(ActivityEvent.label, ActivityEvent.conversation_id, day).where(
        *in_period, ActivityEvent.conversation_id.in_(_handed_conversations(period)))).all()
    not_alone = Counter(str(label) for label, c, d in near_staff if (str(c), str(d)) in handed)
    table = Table("intents", "What patients asked",
                  ("intent", "label", "messages", "self_served", "self_service_rate"),
                  note="Patient messages the assistant read, requests first (then greetings, thanks and answers to "
                       "its questions); self-served: no staff in that conversation that day.")
    # requests first, most asked first; greetings, thanks and answers to the assistant's questions after them
    for label, count in sorted(totals, key=lambda r: (str(r[0]) in SMALL_TALK, -int(r[1]), str(r[0]))):
        served = int(count) - not_alone.get(str(label), 0)
        table.rows.append((str(label), INTENT_LABELS.get(str(label), str(label).replace("_", " ").capitalize()),
                           int(count), served, rate(served, int(count))))
    return table
