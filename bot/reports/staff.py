"""What reached staff: handoffs by reason, how soon a person first replied (median and 90th percentile), the
handoffs left unclaimed until they escalated, and red flags and triage levels.

Time to first reply runs from the handoff to the first staff message in that conversation within a week (wall-clock
time, nights included); a handoff staff opened themselves ("staff_opened") has no waiting patient and is left out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversations.handoffs import REASONS
from bot.reports.periods import Period, local_day
from bot.reports.tables import Table, middle, percentile
from bot.store import ActivityEvent, Conversation, Handoff, Message
from bot.store.states import Author

REPLY_WINDOW = timedelta(days=7)
TRIAGE_LABELS = {"red_flag": "Red flag: emergency answer sent at once", "emergency": "Intake: emergency",
                 "urgent": "Intake: urgent (same day)", "routine": "Intake: routine visit",
                 "self_care": "Intake: self-care"}
TRIAGE_ORDER = ("red_flag", "emergency", "urgent", "routine", "self_care")


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 60


def first_replies(session: Session, period: Period, channel: str | None) -> list[tuple[str, datetime, float | None]]:
    """(reason, opened at, minutes to the first staff reply or None) for each handoff opened in the period."""
    first = (select(func.min(Message.created_at)).where(
        Message.conversation_id == Handoff.conversation_id, Message.author == Author.STAFF,
        Message.created_at >= Handoff.created_at).correlate(Handoff).scalar_subquery())
    query = select(Handoff.reason, Handoff.created_at, first).where(
        Handoff.created_at >= period.lo, Handoff.created_at < period.hi)
    if channel is not None:
        query = query.join(Conversation, Conversation.id == Handoff.conversation_id).where(
            Conversation.channel == channel)
    out = []
    for reason, opened, replied in session.execute(query).all():
        replied_at = _aware(replied)
        if replied_at is not None and replied_at - opened > REPLY_WINDOW:
            replied_at = None
        out.append((str(reason), opened, _minutes(opened, replied_at)))
    return out


def _aware(value: object) -> datetime | None:
    """``MIN()`` over a column comes back as the database gives it (SQLite: text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def handoffs(session: Session, period: Period, channel: str | None) -> tuple[Table, dict[str, float | None]]:
    """Handoffs by reason with their first-reply times; and the overall median and 90th percentile (minutes)."""
    replies = first_replies(session, period, channel)
    escalated_query = select(Handoff.reason, func.count()).where(
        Handoff.escalated_at.is_not(None), Handoff.created_at >= period.lo, Handoff.created_at < period.hi)
    if channel is not None:
        escalated_query = escalated_query.join(Conversation, Conversation.id == Handoff.conversation_id).where(
            Conversation.channel == channel)
    escalated = dict(session.execute(escalated_query.group_by(Handoff.reason)).all())
    by_reason: dict[str, list[float | None]] = {}
    for reason, _, minutes in replies:
        by_reason.setdefault(reason, []).append(minutes)
    table = Table("handoffs", "Handoffs to staff by reason",
                  ("reason", "label", "handoffs", "escalated", "answered", "median_first_reply_min",
                   "p90_first_reply_min"),
                  note="Escalated: left unclaimed past the console's escalation time. Reply times in minutes.")
    for reason, times in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        answered = [t for t in times if t is not None]
        patient_waited = reason != "staff_opened"
        table.rows.append((reason, REASONS.get(reason, reason.replace("_", " ").capitalize()), len(times),
                           int(escalated.get(reason, 0)), len(answered),
                           middle(answered) if patient_waited else None,
                           percentile(answered, 90) if patient_waited else None))
    waited = [m for reason, _, m in replies if reason != "staff_opened" and m is not None]
    overall = {"median_first_reply_min": middle(waited), "p90_first_reply_min": percentile(waited, 90),
               "unanswered": float(sum(1 for r, _, m in replies if r != "staff_opened" and m is None))}
    return table, overall


def triage(session: Session, period: Period, dialect: str, channel: str | None) -> tuple[Table, dict[str, int]]:
    """Triage levels (the gateway's red flags and the intake's levels), and red flags per local day."""
    in_period = (ActivityEvent.kind == "triage", ActivityEvent.at >= period.lo, ActivityEvent.at < period.hi)
    query = select(ActivityEvent.label, func.count()).where(*in_period)
    day = local_day(ActivityEvent.at, period, dialect)
    per_day = select(day, func.count()).where(*in_period, ActivityEvent.label == "red_flag")
    if channel is not None:
        query = query.where(ActivityEvent.channel == channel)
        per_day = per_day.where(ActivityEvent.channel == channel)
    counts = dict(session.execute(query.group_by(ActivityEvent.label)).all())
    table = Table("triage", "Red flags and triage levels", ("level", "label", "count"),
                  note="Red flags are answered at once with the emergency message and sent to staff.")
    for level in (*TRIAGE_ORDER, *sorted(set(counts) - set(TRIAGE_ORDER))):
        table.rows.append((level, TRIAGE_LABELS.get(level, level), int(counts.get(level, 0))))
    return table, {str(d): int(n) for d, n in session.execute(per_day.group_by(day)).all()}
