"""Opening hours in words, and when the clinic is next staffed (from the clinic's settings)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from bot.scheduling.timefmt import clock
from bot.scheduling.words import WEEKDAYS as WEEKDAY_WORDS
from bot.settings import WEEKDAYS, ClinicProfile

_DAY_NAMES = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}
_FULL_DAY = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}


def describe_hours(clinic: ClinicProfile) -> str:
    """'Mon-Tue 8 am-5 pm, Wed 8 am-7 pm, ...; closed Sat-Sun', grouping runs of equal days."""
    groups: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        span = clinic.hours.get(day, "closed")
        if groups and groups[-1][1] == span:
            groups[-1][0].append(day)
        else:
            groups.append(([day], span))
    open_parts, closed_days = [], []
    for days, span in groups:
        label = _DAY_NAMES[days[0]] if len(days) == 1 else f"{_DAY_NAMES[days[0]]}-{_DAY_NAMES[days[-1]]}"
        if span == "closed":
            closed_days.append(label)
            continue
        opens, closes = clinic.opening_hours(days[0]) or (time(0), time(0))
        open_parts.append(f"{label} {clock(opens, short=True)}-{clock(closes, short=True)}")
    text = ", ".join(open_parts)
    return f"{text}; closed {', '.join(closed_days)}" if closed_days else text


_WORD = re.compile(r"[a-z0-9]+")
_RELATIVE = {"today": 0, "tdy": 0, "tonight": 0, "tonite": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "tmw": 1,
             "2morrow": 1, "2moro": 1}


def days_named(text: str, today: datetime) -> list[int]:
    """The weekdays (Monday = 0) a message names, in order: day names and their short forms, "weekend", "today"
    and "tomorrow" (``today`` in the clinic's time zone)."""
    days: list[int] = []
    for word in _WORD.findall(text.lower()):
        found = ([WEEKDAY_WORDS[word]] if word in WEEKDAY_WORDS else [5, 6] if word in {"weekend", "weekends"}
                 else [(today.weekday() + _RELATIVE[word]) % 7] if word in _RELATIVE else [])
        days.extend(d for d in found if d not in days)
    return days


def describe_day(clinic: ClinicProfile, weekday: int) -> str:
    """'On Saturday we're closed.' or 'On Friday we're open 8 am to 3 pm.'"""
    day = WEEKDAYS[weekday]
    span = clinic.opening_hours(day)
    if span is None:
        return f"On {_FULL_DAY[day]} we're closed."
    return f"On {_FULL_DAY[day]} we're open {clock(span[0], short=True)} to {clock(span[1], short=True)}."


def is_open(clinic: ClinicProfile, at: datetime) -> bool:
    local = at.astimezone(clinic.tz)
    span = clinic.opening_hours(WEEKDAYS[local.weekday()])
    return span is not None and span[0] <= local.time() < span[1]


def next_opening(clinic: ClinicProfile, after: datetime) -> datetime | None:
    """The next moment the clinic opens after ``after`` (aware, clinic time), or None if never open."""
    local = after.astimezone(clinic.tz)
    for offset in range(0, 8):
        day = (local + timedelta(days=offset)).date()
        span = clinic.opening_hours(WEEKDAYS[day.weekday()])
        if span is None:
            continue
        opens = datetime.combine(day, span[0], tzinfo=clinic.tz)
        if opens > local:
            return opens
    return None


def staff_reply_eta(clinic: ClinicProfile, now: datetime) -> str:
    """Words for when a person will answer: 'shortly' in hours, else the next opening."""
    if is_open(clinic, now):
        return "shortly, during office hours"
    opens = next_opening(clinic, now)
    if opens is None:
        return "as soon as the office is staffed"
    local_now = now.astimezone(clinic.tz)
    if opens.date() == local_now.date():
        day = "today"
    elif opens.date() == (local_now + timedelta(days=1)).date():
        day = "tomorrow"
    else:
        day = _FULL_DAY[WEEKDAYS[opens.weekday()]]
    return f"when we open at {clock(opens.time(), short=True)} {day}"
