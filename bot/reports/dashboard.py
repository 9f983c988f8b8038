"""The owner's dashboard in one call: every table for a period and a channel, and the headline figures.

Each table comes from a few SQL aggregates over the clinic store (``GROUP BY`` a local day, a reason, a label),
read by the indexes of migration 0004; nothing is loaded row by row except the handoffs (for reply-time
percentiles) and the period's reminders (to tell the ones the quiet hours moved). Counts and rates only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.reports import staff, traffic, visits
from bot.reports.periods import Period
from bot.reports.tables import Table, rate
from bot.settings import Settings

CHANNELS = {"web": "Web chat", "sms": "Text (SMS)"}


@dataclass
class Dashboard:
    period: Period
    channel: str | None
    tables: dict[str, Table] = field(default_factory=dict)
    figures: dict[str, float | int | None] = field(default_factory=dict)
    red_flags_by_day: dict[str, int] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        return self.tables[name]


def build(session: Session, settings: Settings, period: Period, channel: str | None = None) -> Dashboard:
    dialect = session.get_bind().dialect.name
    board = Dashboard(period, channel)
    daily = traffic.daily(session, period, dialect, channel)
    handoffs, replies = staff.handoffs(session, period, channel)
    triage, board.red_flags_by_day = staff.triage(session, period, dialect, channel)
    changes, changes_daily = visits.appointment_changes(session, period, dialect, channel)
    waitlist, waiting_now = visits.waitlist(session, period, channel)
    no_shows = visits.no_shows(session, period, dialect)
    for table in (daily, traffic.intents(session, period, dialect, channel), handoffs, triage, changes,
                  changes_daily, no_shows, visits.reminders(session, settings, period, dialect, channel), waitlist):
        board.tables[table.name] = table
    conversations, self_served = daily.total("conversations"), daily.total("self_served")
    held, missed = no_shows.total("completed"), no_shows.total("no_show")
    waitlist_counts = {str(row[0]): int(row[2] or 0) for row in waitlist.rows}
    board.figures = {
        "conversations": conversations,
        "patient_messages": daily.total("patient_messages"),
        "self_service_rate": rate(self_served, conversations),
        "handoffs": handoffs.total("handoffs"),
        "escalated": handoffs.total("escalated"),
        **replies,
        "red_flags": sum(board.red_flags_by_day.values()),
        "booked": dict((str(r[0]), int(r[1] or 0)) for r in changes.rows).get("booked", 0),
        "appointment_changes": changes.total("count"),
        "no_show_rate": rate(missed, held + missed),
        "reminders_sent": sum(int(r[2] or 0) for r in board.tables["reminders"].rows if r[0] in ("sent", "outbox")),
        "waitlist_offers": waitlist_counts.get("offered", 0),
        "waitlist_filled": waitlist_counts.get("accepted", 0),
        "waiting_now": waiting_now,
    }
    return board
