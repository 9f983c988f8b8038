"""Days as the clinic counts them (README, "Days and times"), for the scheduling grammar (bot/scheduling/grammar.py).

Weeks run Monday to Sunday. A bare weekday is the nearest such day after today; "this <weekday>" is that day
of the current week if it is still ahead, else next week's; "next <weekday>" is that day of the next calendar
week. "this week" is tomorrow to Sunday, "next week" next Monday to Sunday. A calendar date without a year is
the next such date on or after tomorrow, month first ("12/8" is December 8).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from bot.scheduling.words import MONTH_PART, WEEK_PART

_WHICH_WEEK = {"this": 0, "next": 1, "after next": 2}
_SAME = {"later": "late", "earlier": "early"}


@dataclass(frozen=True)
class Days:
    """A day fragment: concrete days (``last`` None = open-ended), or weekdays not yet placed in a week."""

    first: date | None = None
    last: date | None = None
    weekdays: tuple[int, ...] = ()
    qualifier: str = ""  # "", "this", "next", "after next"
    span: bool = False  # the weekdays are a span ("mon-wed"), not a choice ("mon or wed")
    excluded: bool = False  # "not monday"
    open_end: bool = False
    at: int = 0  # where in the message it was said


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekday_date(today: date, weekday: int, qualifier: str) -> date:
    if qualifier in _WHICH_WEEK:
        day = monday_of(today) + timedelta(days=7 * _WHICH_WEEK[qualifier] + weekday)
        return day if qualifier != "this" or day > today else day + timedelta(days=7)
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def week(today: date, which: str, mod: str | None) -> tuple[date, date]:
    start = monday_of(today) + timedelta(days=7 * _WHICH_WEEK.get(which, 1))
    first, last = start, start + timedelta(days=6)
    part = WEEK_PART.get(_SAME.get(mod or "", mod or ""))
    if part:
        first, last = start + timedelta(days=part[0]), start + timedelta(days=part[1])
    if which == "this":
        first = max(first, today + timedelta(days=1))
        if first > last:
            return week(today, "next", mod)
    return first, last


def week_of(day: date) -> tuple[date, date]:
    return monday_of(day), monday_of(day) + timedelta(days=6)


def weekend(today: date, which: str) -> tuple[date, date]:
    start = monday_of(today) + timedelta(days=7 * _WHICH_WEEK.get(which, 0))
    first, last = max(start + timedelta(days=5), today + timedelta(days=1)), start + timedelta(days=6)
    return (first, last) if first <= last else weekend(today, "next")


def add_months(day: date, n: int) -> date:
    year, month = divmod(day.month - 1 + n, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month(today: date, qualifier: str, number: int | None, mod: str | None) -> tuple[date, date]:
    """A month ("next month", "december", "early december", "the end of the month") from tomorrow on."""
    if number is None:
        year, number = divmod(today.month - 1 + (qualifier == "next"), 12)
        year, number = today.year + year, number + 1
    else:
        year = today.year if number >= today.month else today.year + 1
    end = calendar.monthrange(year, number)[1]
    lo, hi = MONTH_PART.get(_SAME.get(mod or "", mod or ""), (1, end))
    first, last = date(year, number, lo), date(year, number, min(hi, end))
    first = max(first, today + timedelta(days=1))
    if first > last:
        return month(date(year, number, end), "next", None, mod) if number == today.month else (first, first)
    return first, last


def calendar_date(text: str, today: date) -> date | None:
    """A calendar date as typed, read by dateparser (month names, numeric dates month first); without a year,
    the next such date on or after tomorrow."""
    import dateparser  # imported on use: it loads its language data

    tomorrow = today + timedelta(days=1)
    parsed = dateparser.parse(text, languages=["en"], settings={
        "DATE_ORDER": "MDY", "PREFER_DATES_FROM": "future", "REQUIRE_PARTS": ["day", "month"],
        "RELATIVE_BASE": datetime.combine(tomorrow, time(0, 0))})
    if parsed is None:
        return None
    if re.search(r"\b\d{4}\b|\d+/\d+/\d+", text):
        return parsed.date()
    for year in range(tomorrow.year, tomorrow.year + 9):
        try:
            day = date(year, parsed.month, parsed.day)
        except ValueError:  # February 29
            continue
        if day >= tomorrow:
            return day
    return None


def day_of_month(n: int, today: date) -> date | None:
    """'the 8th': the next 8th on or after tomorrow."""
    tomorrow = today + timedelta(days=1)
    for ahead in range(0, 13):
        first = add_months(tomorrow.replace(day=1), ahead)
        if n <= calendar.monthrange(first.year, first.month)[1] and first.replace(day=n) >= tomorrow:
            return first.replace(day=n)
    return None


def _weekday_span(days: Days) -> list[int]:
    if not days.span:
        return list(days.weekdays)
    first, last = days.weekdays[0], days.weekdays[-1]
    return [(first + k) % 7 for k in range((last - first) % 7 + 1)]


def resolve(frags: list[Days], today: date) -> tuple[date | None, date | None]:
    """The days a group of fragments joined by "or" / "to" covers, from the first to the last."""
    firsts: list[date] = []
    lasts: list[date | None] = []
    for days in frags:
        if days.weekdays:
            start = weekday_date(today, days.weekdays[0], days.qualifier)
            if days.span:
                firsts.append(start)
                lasts.append(start + timedelta(days=(days.weekdays[-1] - days.weekdays[0]) % 7))
            else:
                dates = [weekday_date(today, w, days.qualifier) for w in days.weekdays]
                firsts.append(min(dates))
                lasts.append(max(dates))
        elif days.first is not None:
            firsts.append(days.first)
            lasts.append(days.last)
    if not firsts:
        return None, None
    return min(firsts), (None if any(x is None for x in lasts) else max(d for d in lasts if d is not None))


def bounded(days: Days, how: str, today: date, at: int) -> Days:
    """'after tuesday', 'before the 8th', 'by friday', 'starting monday', 'not monday'."""
    if how == "not":
        return replace(days, excluded=True)
    first, last = resolve([days], today)
    if first is None:
        return days
    tomorrow = today + timedelta(days=1)
    if how == "after":
        return Days((last or first) + timedelta(days=1), None, open_end=True, at=at)
    if how == "before":
        return Days(tomorrow, max(tomorrow, first - timedelta(days=1)), at=at)
    if how in ("by", "until"):
        return Days(tomorrow, max(tomorrow, last or first), at=at)
    return Days(first, None, open_end=True, at=at)


def _group(frags: list[Days], how: str) -> Days | None:
    """Weekdays joined by "or"/"to" stay weekdays (placed later, maybe in a week said elsewhere)."""
    if not all(f.weekdays for f in frags):
        return None
    qualifiers = {f.qualifier for f in frags} - {""}
    if len(qualifiers) > 1:
        return None
    weekdays = tuple(w for f in frags for w in f.weekdays)
    return Days(weekdays=weekdays, qualifier=next(iter(qualifiers), ""), span=how == "span" or frags[0].span,
                at=frags[0].at)


def combine(frags: list[Days], joined: Callable[[int, int], str], today: date) -> tuple[date | None, date | None]:
    """One day range from a message's day fragments: joined ones cover both, side-by-side ones narrow."""
    excluded = [f for f in frags if f.excluded]
    groups: list[tuple[list[Days], str]] = []
    for frag in (f for f in frags if not f.excluded):
        how = joined(groups[-1][0][-1].at, frag.at) if groups else ""
        if how:
            groups[-1][0].append(frag)
            groups[-1] = (groups[-1][0], "span" if "span" in (how, groups[-1][1]) else how)
        else:
            groups.append(([frag], how))
    ranges: list[tuple[date, date | None]] = []
    weekday_sets: list[Days] = []
    for members, how in groups:
        as_weekdays = _group(members, how)
        if as_weekdays is not None and not as_weekdays.qualifier:
            weekday_sets.append(as_weekdays)
            continue
        first, last = resolve([as_weekdays] if as_weekdays else members, today)
        if first is not None:
            ranges.append((first, last))
    span = _intersect(ranges)
    if weekday_sets and span is not None:
        allowed = {w for s in weekday_sets for w in _weekday_span(s)}
        inside = [d for d in _days(span, 60) if d.weekday() in allowed]
        span = (inside[0], inside[-1]) if inside else span
    elif weekday_sets:
        span = resolve(weekday_sets, today)  # type: ignore[assignment]
    if span is None or span[0] is None:
        return None, None
    return _trim(span, excluded, today)


def _days(span: tuple[date, date | None], limit: int) -> list[date]:
    last = span[1] or span[0] + timedelta(days=limit)
    return [span[0] + timedelta(days=k) for k in range(min(limit, (last - span[0]).days) + 1)]


def _intersect(ranges: list[tuple[date, date | None]]) -> tuple[date, date | None] | None:
    if not ranges:
        return None
    first, last = ranges[0]
    for lo, hi in ranges[1:]:
        new_lo = max(first, lo)
        new_hi = hi if last is None else (last if hi is None else min(last, hi))
        if new_hi is None or new_lo <= new_hi:
            first, last = new_lo, new_hi
        elif last == first and hi == lo:  # two single days side by side ("dec 8, dec 9"): either
            first, last = min(first, lo), max(first, lo)
        elif hi is not None and (last is None or (hi - lo) <= (last - first)):
            first, last = lo, hi  # they cannot both hold: the narrower one
    return first, last


def _trim(span: tuple[date, date | None], excluded: list[Days], today: date) -> tuple[date, date | None]:
    first, last = span
    if not excluded:
        return first, last
    weekdays = {w for f in excluded for w in _weekday_span(f)}
    dates = {resolve([f], today)[0] for f in excluded if not f.weekdays}
    while (first.weekday() in weekdays or first in dates) and (last is None or first < last):
        first += timedelta(days=1)
    while last is not None and (last.weekday() in weekdays or last in dates) and last > first:
        last -= timedelta(days=1)
    return first, last
