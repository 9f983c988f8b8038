"""Visits: appointments booked, moved, cancelled and confirmed through the assistant, the no-show rate by week,
reminders (sent, answered, not sent and why) and the waitlist (offers made, accepted, expired).

Reminders and waitlist offers go by text message: with the web chat filter they count only what happened in web
chats (joining the waitlist there). The no-show rate is the clinic's, over every visit that has happened.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from bot.reports.periods import Period, local_day, week_start
from bot.reports.tables import Table, rate
from bot.settings import Settings
from bot.store import ActivityEvent, Appointment, ReminderSend, WaitlistEntry
from bot.store.activity import APPOINTMENT_LABELS, WAITLIST_LABELS
from bot.store.states import AppointmentStatus, ReminderStatus, WaitlistStatus

QUIET_MOVED = timedelta(minutes=1)
REMINDER_OUTCOMES = (
    ("sent", "Sent"), ("outbox", "Kept in the outbox (no SMS provider set)"), ("failed", "Provider refused"),
    ("confirmed", "Answered: confirmed"), ("rescheduled", "Answered: asked to reschedule"),
    ("cancelled_by_reply", "Answered: cancelled"), ("opted_out", "Not sent: the number opted out"),
    ("held_quiet", "Held back by quiet hours (moved into the allowed hours)"),
    ("skipped_cap", "Not sent: over the daily or weekly cap"), ("cancelled", "Dropped: the visit was cancelled"),
)
OUTCOME_OF = {ReminderStatus.SENT: "sent", ReminderStatus.CLAIMED: "sent", ReminderStatus.OUTBOX: "outbox",
              ReminderStatus.FAILED: "failed", ReminderStatus.SKIPPED_OPT_OUT: "opted_out",
              ReminderStatus.SKIPPED_CAP: "skipped_cap", ReminderStatus.SKIPPED_QUIET: "held_quiet",
              ReminderStatus.CANCELLED: "cancelled"}
WAITLIST_TITLES = {"joined": "Patients joined", "left": "Left the list", "offered": "Offers texted",
                   "accepted": "Accepted (slot filled)", "declined": "Declined", "expired": "Expired unanswered",
                   "taken": "Answered after someone else took it"}


def _ledger(session: Session, kind: str, period: Period, channel: str | None) -> Counter[str]:
    query = select(ActivityEvent.label, func.count()).where(
        ActivityEvent.kind == kind, ActivityEvent.at >= period.lo, ActivityEvent.at < period.hi)
    if channel is not None:
        query = query.where(ActivityEvent.channel == channel)
    return Counter({str(k): int(v) for k, v in session.execute(query.group_by(ActivityEvent.label)).all()})


def appointment_changes(session: Session, period: Period, dialect: str, channel: str | None) -> tuple[Table, Table]:
    """Totals by change, and per local day (for the chart and the CSV)."""
    totals = _ledger(session, "appointment", period, channel)
    table = Table("appointments", "Appointments through the assistant", ("change", "count"),
                  [(label, totals.get(label, 0)) for label in APPOINTMENT_LABELS],
                  note="Booked, moved, cancelled and confirmed by patients in chat or by text, waitlist included.")
    day = local_day(ActivityEvent.at, period, dialect)
    query = select(day, ActivityEvent.label, func.count()).where(
        ActivityEvent.kind == "appointment", ActivityEvent.at >= period.lo, ActivityEvent.at < period.hi)
    if channel is not None:
        query = query.where(ActivityEvent.channel == channel)
    counts = {(str(d), str(label)): int(n) for d, label, n in session.execute(query.group_by(day, ActivityEvent.label))}
    daily = Table("appointments_daily", "Appointments through the assistant per day", ("date", *APPOINTMENT_LABELS))
    for d in period.days:
        daily.rows.append((d.isoformat(), *(counts.get((d.isoformat(), label), 0) for label in APPOINTMENT_LABELS)))
    return table, daily


def no_shows(session: Session, period: Period, dialect: str) -> Table:
    """Per week (Monday first): visits held, missed, and the share missed."""
    day = local_day(Appointment.start, period, dialect)
    done = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
    rows = session.execute(select(day, Appointment.status, func.count()).where(
        Appointment.start >= period.lo, Appointment.start < period.hi, Appointment.status.in_(done))
        .group_by(day, Appointment.status)).all()
    weeks: dict[date, Counter[str]] = {}
    for d, status, n in rows:
        weeks.setdefault(week_start(date.fromisoformat(str(d))), Counter())[str(status)] += int(n)
    table = Table("no_shows", "No-show rate by week", ("week_start", "completed", "no_show", "no_show_rate"),
                  note="Every visit in the week that has happened (completed or missed), however it was booked.")
    week = week_start(period.first)
    while week <= period.last:
        counts = weeks.get(week, Counter())
        held, missed = counts[AppointmentStatus.COMPLETED], counts[AppointmentStatus.NO_SHOW]
        table.rows.append((week.isoformat(), held, missed, rate(missed, held + missed)))
        week += timedelta(days=7)
    return table


def _hours_before(later: Any, earlier: Any, dialect: str) -> Any:
    """SQL for the hours from ``earlier`` to ``later`` (SQLite or PostgreSQL)."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def reminders(session: Session, settings: Settings, period: Period, dialect: str, channel: str | None) -> Table:
    """Reminders due in the period, by outcome (counted in SQL), and the answers to them. A reminder sent at
    another time than its rule's (``before_hours`` before the visit) was moved by the quiet hours."""
    counts: Counter[str] = Counter()
    if channel in (None, "sms"):
        lead = _hours_before(Appointment.start, ReminderSend.due_at, dialect)
        nominal = case(*[(or_(ReminderSend.rule_name == r.name, ReminderSend.rule_name.like(f"{r.name}@%")),
                          r.before_hours) for r in settings.reminders.rules], else_=None) \
            if settings.reminders.rules else literal(None)
        moved = case((func.abs(lead - nominal) > QUIET_MOVED.total_seconds() / 3600, 1), else_=0)
        rows = session.execute(select(ReminderSend.status, moved, func.count())
                               .join(Appointment, Appointment.id == ReminderSend.appointment_id)
                               .where(ReminderSend.due_at >= period.lo, ReminderSend.due_at < period.hi)
                               .group_by(ReminderSend.status, moved)).all()
        for status, was_moved, n in rows:
            outcome = OUTCOME_OF.get(ReminderStatus(str(status)), str(status))
            counts[outcome] += int(n)
            if was_moved and outcome in ("sent", "outbox"):
                counts["held_quiet"] += int(n)
        replies = _ledger(session, "reminder_reply", period, channel)
        counts["confirmed"] += replies.get("confirm", 0)
        counts["rescheduled"] += replies.get("reschedule", 0)
        counts["cancelled_by_reply"] += replies.get("cancel", 0)
    return Table("reminders", "Reminders", ("outcome", "label", "count"),
                 [(key, label, counts.get(key, 0)) for key, label in REMINDER_OUTCOMES],
                 note="By the time each reminder was due. Reminders go by text message only.")


def waitlist(session: Session, period: Period, channel: str | None) -> tuple[Table, int]:
    """Waitlist steps in the period; and how many patients are waiting now."""
    counts = _ledger(session, "waitlist", period, channel)
    table = Table("waitlist", "Waitlist", ("step", "label", "count"),
                  [(label, WAITLIST_TITLES[label], counts.get(label, 0)) for label in WAITLIST_LABELS],
                  note="Offers go by text message, in order of request; the first YES books the freed time.")
    query = select(func.count()).select_from(WaitlistEntry).where(WaitlistEntry.status == WaitlistStatus.WAITING)
    if channel is not None:
        query = query.where(WaitlistEntry.channel == channel)
    return table, int(session.scalar(query) or 0)
