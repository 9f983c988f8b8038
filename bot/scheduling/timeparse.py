"""Day and time preferences as patients write them ("next tue afternoon", "tmrw morning", "any"), read in the
clinic's time zone. Weekdays, parts of the day and clock times are handled here; anything else that names a
date ("dec 3", "12/5", "in 2 weeks") goes to the maintained ``dateparser`` package.

"next <weekday>" means the first such weekday after today (what most patients mean by it); the offered
slots always show the full date, so a patient who meant the week after says so and gets new offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "tu": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "thr": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
PARTS_OF_DAY = {
    "early morning": (time(7, 0), time(9, 30)),
    "morning": (time(0, 0), time(12, 0)),
    "lunch": (time(11, 30), time(13, 30)),
    "late afternoon": (time(15, 0), time(23, 59)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(16, 30), time(23, 59)),
    "tonight": (time(16, 30), time(23, 59)),
}
_ABBREVIATIONS = [
    (r"\b(tmrw|tmr|tmrrw|tomoro|tomorow|tomm?orr?ow|2morrow|2moro|tom)\b", "tomorrow"),
    (r"\btdy\b", "today"),
    (r"\b(wk)\b", "week"),
    (r"\b(aft|aftn|afternoons|arvo)\b", "afternoon"),
    (r"\b(mornings|morn)\b", "morning"),
    (r"\bevenings\b", "evening"),
    (r"\b(nxt)\b", "next"),
    (r"\bnoon\b", "12:00"),
]
_ANY = re.compile(r"^(any|anytime|any time|whenever|no preference|doesn'?t matter|dont care|don'?t care|"
                  r"whatever works|earliest|soonest|asap|as soon as possible|first available|"
                  r"anything|any day|early as possible|the earliest)\b")
_CLOCK = re.compile(r"\b(?:at\s+|@\s*|around\s+|about\s+|by\s+)?(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?=\W|$)")
_AFTER = re.compile(r"\bafter\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b")
_BEFORE = re.compile(r"\bbefore\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b")
SEARCH_DAYS = 14  # how far ahead "any" and "next week" look


@dataclass(frozen=True)
class TimePreference:
    """A window to search for free slots in, and the time of day the patient asked for, if any."""

    earliest: datetime
    latest: datetime
    around: time | None = None
    any_time: bool = False

    def describe(self) -> str:
        if self.any_time:
            return "the first available times"
        return f"{self.earliest:%a %b} {self.earliest.day}" + (
            "" if self.latest - self.earliest <= timedelta(days=1) else f" to {self.latest:%a %b} {self.latest.day}")


def _clock(hour: int, minute: int, meridian: str | None) -> time | None:
    if meridian:
        meridian = meridian.replace(".", "")
    if hour > 23 or minute > 59:
        return None
    if meridian == "pm" and hour < 12:
        hour += 12
    elif meridian == "am" and hour == 12:
        hour = 0
    elif meridian is None and 1 <= hour <= 6:
        hour += 12  # "at 3" at a clinic means the afternoon
    return time(hour, minute)


def normalise(text: str) -> str:
    out = " " + text.lower().strip() + " "
    out = re.sub(r"[!?,;]", " ", out)
    for pattern, repl in _ABBREVIATIONS:
        out = re.sub(pattern, repl, out)
    return re.sub(r"\s+", " ", out).strip()


def _weekday_date(today: date, weekday: int, after: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and after:
        ahead = 7
    return today + timedelta(days=ahead)


def parse_preference(text: str, now: datetime, tz: ZoneInfo) -> TimePreference | None:
    """The window a patient's message asks for, or ``None`` when it names no day or time."""
    local_now = now.astimezone(tz)
    today = local_now.date()
    words = normalise(text)
    horizon = datetime.combine(today + timedelta(days=SEARCH_DAYS), time(23, 59), tzinfo=tz)
    if not words:
        return None

    day_from: date | None = None
    day_to: date | None = None
    window: tuple[time, time] | None = None
    around: time | None = None
    rest = words

    for name, span in PARTS_OF_DAY.items():
        if re.search(rf"\b{name}\b", rest):
            window = span
            rest = re.sub(rf"\b{name}\b", " ", rest)
            break
    after = _AFTER.search(rest)
    before = _BEFORE.search(rest)
    if after:
        start = _clock(int(after.group(1)), int(after.group(2) or 0), after.group(3))
        if start:
            window = (start, time(23, 59))
        rest = rest.replace(after.group(0), " ")
    if before:
        end = _clock(int(before.group(1)), int(before.group(2) or 0), before.group(3))
        if end:
            window = (window[0] if window else time(0, 0), end)
        rest = rest.replace(before.group(0), " ")

    if re.search(r"\btoday\b|\bthis (afternoon|morning|evening)\b|\btonight\b", words):
        day_from = day_to = today
    elif re.search(r"\bday after tomorrow\b", rest):
        day_from = day_to = today + timedelta(days=2)
    elif re.search(r"\btomorrow\b", rest):
        day_from = day_to = today + timedelta(days=1)
    elif re.search(r"\bnext week\b", rest):
        monday = today + timedelta(days=7 - today.weekday())
        day_from, day_to = monday, monday + timedelta(days=6)
    elif re.search(r"\b(this week|later this week|this wk)\b", rest):
        day_from, day_to = today, today + timedelta(days=6 - today.weekday())
    elif re.search(r"\b(weekend|this weekend)\b", rest):
        saturday = _weekday_date(today, 5, after=False)
        day_from, day_to = saturday, saturday + timedelta(days=1)
    else:
        for name, weekday in WEEKDAY_NAMES.items():
            if re.search(rf"\b{name}\b", rest):
                day_from = day_to = _weekday_date(today, weekday, after=True)
                rest = re.sub(rf"\b(next |this |on )?{name}\b", " ", rest)
                break
    rest = re.sub(r"\b(today|tomorrow|day after|next week|this week|on|the|a|an|is|works|good|fine|best|"
                  r"please|pls|plz|maybe|how about|what about|or|and|i|can|do|could|would|prefer|like|sometime|"
                  r"some time|any|time|day|ok|okay|around|next|this|for|me|in|morning|afternoon)\b", " ", rest)

    clock = None if after or before else _CLOCK.search(rest)
    if clock and (clock.group(2) or clock.group(3) or day_from is not None or re.search(r"\b(at|@)\b",
                                                                                        clock.group(0))):
        around = _clock(int(clock.group(1)), int(clock.group(2) or 0), clock.group(3))
        rest = rest.replace(clock.group(0), " ")

    if day_from is None and re.search(r"\d+\s*[/-]\s*\d+|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
                                      r"\b(weeks?|months?|days?)\b", rest.strip()):
        parsed = _dateparser(rest.strip(), local_now, tz)
        if parsed is not None:
            day_from = day_to = parsed
    if day_from is None and window is None and around is None:
        return TimePreference(local_now, horizon, any_time=True) if _ANY.match(words) else None
    if day_from is None or day_to is None:  # a time of day without a day: the next two weeks
        day_from, day_to = today, horizon.date()
    if day_from < today:
        return None
    lo = window[0] if window else time(0, 0)
    hi = window[1] if window else time(23, 59)
    earliest = max(datetime.combine(day_from, lo, tzinfo=tz), local_now)
    latest = datetime.combine(day_to, hi, tzinfo=tz)
    if around is not None and window is None:
        # a clock time: look from an hour before it to two hours after, that day (or every day)
        earliest = max(datetime.combine(day_from, _shift(around, -60), tzinfo=tz), local_now)
        latest = datetime.combine(day_to, _shift(around, 120), tzinfo=tz)
    if latest <= earliest:
        return None
    return TimePreference(earliest, latest, around=around)


def _shift(at: time, minutes: int) -> time:
    total = max(0, min(23 * 60 + 59, at.hour * 60 + at.minute + minutes))
    return time(total // 60, total % 60)


def _dateparser(text: str, local_now: datetime, tz: ZoneInfo) -> date | None:
    import dateparser  # imported on use: it loads language data

    parsed = dateparser.parse(text, languages=["en"], settings={
        "TIMEZONE": str(tz), "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None), "DATE_ORDER": "MDY"})
    return None if parsed is None else parsed.astimezone(tz).date()


def parse_date_of_birth(text: str, today: date) -> date | None:
    """A date of birth as typed: 01/01/1980, 1-1-80, jan 1 1980, 1980-01-01."""
    words = text.lower().strip()
    match = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", words)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _safe_date(year, month, day, today)
    match = re.search(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})\b", words)
    if match:
        month, day, year = (int(g) for g in match.groups())
        if year < 100:
            year += 1900 if year > today.year % 100 else 2000
        return _safe_date(year, month, day, today)
    if not re.search(r"\b(1[89]\d\d|20\d\d)\b", words):
        return None
    import dateparser

    cleaned = re.sub(r"\b(my|dob|birthday|birth|date|of|is|its|it's|born|on|was|i|am)\b|:", " ", words)
    parsed = dateparser.parse(cleaned, languages=["en"], settings={"DATE_ORDER": "MDY",
                                                                     "PREFER_DATES_FROM": "past"})
    return None if parsed is None else _safe_date(parsed.year, parsed.month, parsed.day, today)


def _safe_date(year: int, month: int, day: int, today: date) -> date | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    return value if date(1900, 1, 1) <= value <= today else None


_ORDINALS = {"1": 0, "one": 0, "first": 0, "1st": 0, "2": 1, "two": 1, "second": 1, "2nd": 1, "3": 2, "three": 2,
             "third": 2, "3rd": 2, "4": 3, "four": 3, "fourth": 3, "4th": 3, "5": 4, "fifth": 4, "5th": 4}
_YES = re.compile(r"^(yes|yeah|yep|yup|y|ok|okay|sure|that works|that one|perfect|great|fine|sounds good)\b")


def pick_option(text: str, starts: list[datetime], labels: list[str], tz: ZoneInfo) -> int | None:
    """Which of the listed options a reply names: "2", "the second one", "the 9:30 one", "tuesday", "last",
    a provider's name, or "yes" when there is only one. None when it names none (or several)."""
    words = normalise(text)
    if not starts:
        return None
    clock = re.search(r"\b(\d{1,2})(?::(\d{2}))\s*(am|pm)?\b|\b(\d{1,2})\s*(am|pm)\b", words)
    if clock:
        hour = int(clock.group(1) or clock.group(4))
        minute = int(clock.group(2) or 0)
        meridian = clock.group(3) or clock.group(5)
        wanted = _clock(hour, minute, meridian)
        hits = [i for i, s in enumerate(starts) if wanted is not None and
                (s.astimezone(tz).hour, s.astimezone(tz).minute) in {(wanted.hour, wanted.minute),
                                                                      (hour, minute)}]
        if len(hits) == 1:
            return hits[0]
    if re.search(r"\b(last|latest|later one)\b", words):
        return len(starts) - 1
    ordinal = re.search(r"\b(" + "|".join(k for k in _ORDINALS if k != "one") + r")\b", words)
    if words == "one":
        ordinal = re.search("one", words)
    if ordinal and not clock and _ORDINALS[ordinal.group(0)] < len(starts):
        return _ORDINALS[ordinal.group(0)]
    for name, weekday in WEEKDAY_NAMES.items():
        if len(name) >= 3 and re.search(rf"\b{name}\b", words):
            hits = [i for i, s in enumerate(starts) if s.astimezone(tz).weekday() == weekday]
            if len(hits) == 1:
                return hits[0]
    hits = [i for i, label in enumerate(labels)
            if any(len(w) > 3 and re.search(rf"\b{re.escape(w)}\b", words) for w in label.lower().split())]
    if len(set(hits)) == 1:
        return hits[0]
    if len(starts) == 1 and _YES.match(words):
        return 0
    return None
