"""Day and time preferences as patients write them, read in the clinic's time zone, and merged across turns.

One message is read by the scheduling grammar (bot/scheduling/grammar.py, on top of ``dateparser``) into a
:class:`Preference`: a range of days and a window of time, each ``None`` when not said. The clinic's
conventions (README, "Days and times") are in bot/scheduling/words.py and bot/scheduling/days.py.

Across turns (the rule): each message is read on its own, then laid over what the earlier turns of the same
booking or move said. A day named in the new message replaces the earlier day, a time replaces the earlier
time, and what the new message leaves out is kept: "next tuesday" then "2pm" is next Tuesday at 2 pm; then
"how about wednesday" is Wednesday at 2 pm; then "any day" keeps 2 pm on any day, "anytime" keeps the day at
any time, and "whenever" drops both. The turns are kept as lines of the ``time_pref`` slot and read again,
one after the other, each time offers are made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.scheduling.grammar import read
from bot.scheduling.timefmt import clock
from bot.scheduling.words import AGREE_WORDS, CLOSE, OPEN, PARTS, WEEKDAYS, Bound, any_of

MAX_TURNS = 8  # turns kept in the slot: older ones are covered by newer ones anyway


@dataclass(frozen=True)
class Preference:
    """The days (``date_from``..``date_to``) and the time window (``time_from``..``time_to``, a clock time or
    ``"open"``/``"close"``: the clinic's hours that day) a patient asked for; ``None`` = not constrained."""

    date_from: date | None = None
    date_to: date | None = None
    time_from: Bound | None = None
    time_to: Bound | None = None
    any_day: bool = False  # said "any day" / "whenever": an earlier day is dropped when turns are merged
    any_time: bool = False

    @property
    def has_day(self) -> bool:
        return self.date_from is not None

    @property
    def has_time(self) -> bool:
        return self.time_from is not None

    @property
    def exact(self) -> time | None:
        """The one clock time asked for ("2pm"), if any."""
        return self.time_from if isinstance(self.time_from, time) and self.time_from == self.time_to else None

    @property
    def target(self) -> time | None:
        """The time the nearest offers are measured from: an exact time, or the middle of "around 2"."""
        if not (isinstance(self.time_from, time) and isinstance(self.time_to, time)):
            return None
        lo = self.time_from.hour * 60 + self.time_from.minute
        hi = self.time_to.hour * 60 + self.time_to.minute
        if hi - lo > 60:
            return None
        middle = (lo + hi) // 2
        return time(middle // 60, middle % 60)

    def then(self, later: Preference) -> Preference:
        """This preference with a later turn laid over it (the rule in the module's docstring)."""
        out = self
        if later.has_day or later.any_day:
            out = replace(out, date_from=later.date_from, date_to=later.date_to)
        if later.has_time or later.any_time:
            out = replace(out, time_from=later.time_from, time_to=later.time_to)
        return replace(out, any_day=later.any_day and not later.has_day and not self.has_day,
                       any_time=later.any_time and not later.has_time and not self.has_time)

    def describe(self) -> str:
        """'on Tue, Dec 8 at 2 pm', 'between Mon, Dec 7 and Sun, Dec 13 after 3 pm', '' when unconstrained."""
        words = []
        if self.date_from is not None:
            if self.date_to == self.date_from:
                words.append(f"on {_day(self.date_from)}")
            elif self.date_to is None:
                words.append(f"from {_day(self.date_from)} on")
            else:
                words.append(f"between {_day(self.date_from)} and {_day(self.date_to)}")
        if self.time_from is not None and self.time_to is not None:
            lo, hi = self.time_from, self.time_to
            named = _PART_NAMES.get((lo, hi))
            if named:
                words.append(named)
            elif self.exact:
                words.append(f"at {clock(self.exact, short=True)}")
            elif lo == OPEN and isinstance(hi, time):
                words.append(f"before {clock(hi, short=True)}")
            elif hi == CLOSE and isinstance(lo, time):
                words.append(f"after {clock(lo, short=True)}")
            elif isinstance(lo, time) and isinstance(hi, time):
                words.append(f"between {clock(lo, short=True)} and {clock(hi, short=True)}")
        return " ".join(words)


_PART_NAMES = {PARTS[part]: words for part, words in (
    ("morning", "in the morning"), ("afternoon", "in the afternoon"), ("evening", "in the evening"),
    ("lunch", "around lunchtime"))}


def _day(day: date) -> str:
    return f"{day:%a, %b} {day.day}"


def parse_preference(text: str, now: datetime, tz: ZoneInfo) -> Preference | None:
    """The days and time one message (or several turns, one per line) asks for; ``None`` when it names no day
    or time and is not an "any"."""
    local_now = now.astimezone(tz) if now.tzinfo else now.replace(tzinfo=tz)
    merged: Preference | None = None
    for line in text.splitlines():
        reading = read(line, local_now.date())
        if not reading.said:
            continue
        turn = Preference(reading.date_from, reading.date_to, reading.time_from, reading.time_to,
                          reading.any_day, reading.any_time)
        merged = turn if merged is None else merged.then(turn)
    return merged


def add_turn(earlier: str | None, text: str) -> str:
    """The ``time_pref`` slot after one more turn: the turns so far, one per line, newest last."""
    lines = [*(earlier or "").splitlines(), " ".join(text.split())]
    return "\n".join(line for line in lines[-MAX_TURNS:] if line)


def parse_date_of_birth(text: str, today: date) -> date | None:
    """A date of birth as typed: 01/01/1980, 1-1-80, jan 1 1980, 1980-01-01, 01011980."""
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
    match = re.fullmatch(r"(\d{2})(\d{2})(\d{4})", re.sub(r"\D", "", words)) if re.fullmatch(
        r"[\sa-z:]*\d{8}[\s.]*", words) else None
    if match:  # 01011980: month, day and year run together (what a phone keypad makes of a date)
        month, day, year = (int(g) for g in match.groups())
        return _safe_date(year, month, day, today)
    if not re.search(r"\b(1[89]\d\d|20\d\d)\b", words):
        return None
    import dateparser  # imported on use: it loads its language data

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
             "third": 2, "3rd": 2, "4": 3, "four": 3, "fourth": 3, "4th": 3, "5": 4, "five": 4, "fifth": 4, "5th": 4}
_OPTION = re.compile(r"^(?:option |number |no\.? |# ?)?(?:the )?(?P<n>" + "|".join(_ORDINALS) +
                     r")(?: one| option| slot| time)?(?: please| pls)?$")
_YES = re.compile(rf"^({any_of([*AGREE_WORDS, 'that works', 'that one', 'perfect', 'great', 'fine', 'sounds good'])})\b")


def pick_option(text: str, starts: list[datetime], labels: list[str], tz: ZoneInfo,
                now: datetime | None = None) -> int | None:
    """Which of the listed options a reply names: "2", "the second one", "the 9:30 one", "tuesday", "dec 8 at
    2pm", "last", a provider's name, or "yes" when there is only one. None when it names none (or several)."""
    words = " ".join(re.sub(r"[!?,;.]+(\s|$)", " ", text.lower()).split())
    if not starts:
        return None
    option = _OPTION.match(words)
    if option and _ORDINALS[option.group("n")] < len(starts):
        return _ORDINALS[option.group("n")]
    local = [s.astimezone(tz) for s in starts]
    reading = read(words, (now or datetime.now(tz)).astimezone(tz).date())
    weekdays = {WEEKDAYS[w] for w in re.findall(r"[a-z]+", words) if w in WEEKDAYS}
    if reading.date_from is not None or reading.time_from is not None:
        hits = [i for i, at in enumerate(local)
                if (at.weekday() in weekdays if weekdays else _in_days(at.date(), reading.date_from, reading.date_to))
                and _in_window(at.time(), reading.time_from, reading.time_to)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            return None  # a day or time none of the offers has: a new preference
    if re.search(r"\b(last|latest|later one)\b", words):
        return len(starts) - 1
    hits = [i for i, label in enumerate(labels)
            if any(len(w) > 3 and re.search(rf"\b{re.escape(w)}\b", words) for w in label.lower().split())]
    if len(set(hits)) == 1:
        return hits[0]
    if len(starts) == 1 and _YES.match(words):
        return 0
    return None


def _in_days(day: date, first: date | None, last: date | None) -> bool:
    return first is None or (first <= day and (last is None or day <= last))


def _in_window(at: time, lo: Bound | None, hi: Bound | None) -> bool:
    if lo is None or hi is None:
        return True
    if lo == hi:
        return at == lo
    return (lo == OPEN or (isinstance(lo, time) and lo <= at)) and (hi == CLOSE or (isinstance(hi, time) and at < hi))
