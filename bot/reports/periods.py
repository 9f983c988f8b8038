"""The dashboard's period (whole days in the clinic's zone) and how a stored UTC time becomes a local day in SQL.

SQLite keeps no time zone, so a row's local day is its UTC time shifted by the clinic's UTC offset; the offset
changes at daylight-saving transitions, so the shift is a ``CASE`` over the period's stretches of one offset (two
or three for a year). Counting then stays in the database: ``GROUP BY`` a local day, however many rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

PRESETS = (7, 30, 90)
MAX_DAYS = 400  # a custom range is capped a little over a year


@dataclass(frozen=True)
class Period:
    first: date  # local days, both included
    last: date
    tz: ZoneInfo

    @property
    def lo(self) -> datetime:
        return datetime.combine(self.first, time(0, 0), tzinfo=self.tz).astimezone(UTC)

    @property
    def hi(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0, 0), tzinfo=self.tz).astimezone(UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def describe(self) -> str:
        return f"{self.first:%b} {self.first.day}, {self.first.year} - {self.last:%b} {self.last.day}, {self.last.year}"


def last_days(days: int, today: date, tz: ZoneInfo) -> Period:
    """The last ``days`` days, today included."""
    return Period(today - timedelta(days=days - 1), today, tz)


def custom(first: date, last: date, tz: ZoneInfo) -> Period:
    """A range as asked, put in order and capped at ``MAX_DAYS``."""
    first, last = min(first, last), max(first, last)
    return Period(max(first, last - timedelta(days=MAX_DAYS - 1)), last, tz)


def offset_stretches(period: Period) -> list[tuple[datetime, int]]:
    """(until, UTC offset in minutes) for each stretch of one offset in the period, in order (``until`` is UTC)."""
    def offset(at: datetime) -> int:
        delta = at.astimezone(period.tz).utcoffset() or timedelta(0)
        return int(delta.total_seconds() // 60)

    stretches: list[tuple[datetime, int]] = []
    current = offset(period.lo)
    at = period.lo
    while at < period.hi:
        step = min(at + timedelta(days=1), period.hi)
        if offset(step) != current:  # a transition in this day: find its hour
            cursor = at
            while offset(cursor) == current:
                cursor += timedelta(hours=1)
            stretches.append((cursor, current))
            current = offset(cursor)
        at = step
    stretches.append((period.hi, current))
    return stretches


def local_day(column: Any, period: Period, dialect: str) -> ColumnElement[str]:
    """SQL for the 'YYYY-MM-DD' local day of a stored UTC time (SQLite or PostgreSQL)."""
    def shifted(minutes: int) -> ColumnElement[str]:
        if dialect == "postgresql":
            moved = column + literal_column(f"interval '{int(minutes)} minutes'")
            return func.to_char(moved, "YYYY-MM-DD")
        return cast(func.date(column, f"{int(minutes):+d} minutes"), String)

    stretches = offset_stretches(period)
    if len(stretches) == 1:
        return shifted(stretches[0][1])
    whens = [(column < until, shifted(minutes)) for until, minutes in stretches[:-1]]
    return case(*whens, else_=shifted(stretches[-1][1]))


def week_start(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())
