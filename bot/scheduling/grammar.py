"""A small grammar for the days and times in a patient's message, on top of the maintained ``dateparser``.

    text -> tokens -> lexemes (bot/scheduling/words.py: a category for each word or fixed phrase)
         -> productions, read left to right: a day, a time, "any" -> fragments -> one Reading

Fragments joined by "or", "and", "to" or a dash cover both ("tue or wed", "1-3pm", "morning or afternoon");
fragments side by side narrow each other ("next week" + "tuesday" = next week's Tuesday, "afternoon" + "after
3" = 3-5 pm). ``dateparser`` reads calendar dates ("dec 8", "12/8", "8th of december", "2026-12-08", with
its month names, numeric orders and validity checks); the grammar reads what the clinic's convention defines
and dateparser reads otherwise (weekdays with this/next, weeks, parts of the day, bare hours, "the 8th").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from bot.scheduling import clock as time_clock
from bot.scheduling import days as time_days
from bot.scheduling.clock import Times
from bot.scheduling.days import Days
from bot.scheduling.words import AMBIGUOUS_MONTHS, CLOSE, DAY_MODIFIER_PART, OPEN, PARTS, Bound, Lexeme, lex

_CONNECTORS = {"or": "set", "and": "set", "to": "span", "until": "span"}
_SAME = {"later": "late", "earlier": "early"}


@dataclass
class Reading:
    """What one message says: a day range and a time window (None: not said), and whether it said "any"."""

    date_from: date | None = None
    date_to: date | None = None
    time_from: Bound | None = None
    time_to: Bound | None = None
    any_day: bool = False
    any_time: bool = False
    said: bool = False  # anything at all was understood


@dataclass
class _Parser:
    lx: list[Lexeme]
    today: date
    days: list[Days] = field(default_factory=list)
    times: list[Times] = field(default_factory=list)
    any: set[str] = field(default_factory=set)
    used: set[int] = field(default_factory=set)
    hint: tuple[Bound, Bound] | None = None

    def cat(self, i: int) -> str:
        return self.lx[i].cat if 0 <= i < len(self.lx) else ""

    def val(self, i: int) -> Any:
        return self.lx[i].value if 0 <= i < len(self.lx) else None

    def run(self) -> Reading:
        parts = [PARTS[str(x.value)] for x in self.lx if x.cat == "part"]
        self.hint = parts[0] if parts else (PARTS["evening"] if any(x.cat == "tonight" for x in self.lx) else None)
        i = 0
        while i < len(self.lx):
            j = self.any_words(i) or self.day_expr(i) or self.time_expr(i)
            if j:
                self.used.update(range(i, j))
            i = j or i + 1
        return self.reading()

    # -- "any" --------------------------------------------------------------------------------------
    def any_words(self, i: int) -> int | None:
        if self.cat(i) != "any":
            return None
        self.any.add(str(self.val(i)))
        return i + 1

    # -- days -------------------------------------------------------------------------------------
    def day_expr(self, i: int) -> int | None:
        c = self.cat(i)
        if c in ("after", "before", "by", "until", "not") or (c == "word" and self.val(i) == "starting"):
            found = self.day_atom(i + 1 + (self.cat(i + 1) == "the"))
            if found is None:
                return None
            days, j = found
            self.days.append(time_days.bounded(days, c if c != "word" else "starting", self.today, at=i))
            return j
        found = self.day_atom(i)
        if found is None:
            return None
        days, j = found
        if self.cat(j) == "after_post" or (self.cat(j) == "and" and self.cat(j + 1) == "after"):
            days = time_days.bounded(days, "starting", self.today, at=days.at)
            j += 1 if self.cat(j) == "after_post" else 2
        self.days.append(days)
        return j

    def day_atom(self, i: int) -> tuple[Days, int] | None:
        start = i
        if self.cat(i) in ("the", "in") and self.cat(i + 1) not in ("num",):
            i += 1
        mod = None
        if self.cat(i) == "mod":
            mod, i = str(self.val(i)), i + 1
            i += self.cat(i) == "the"
        qual = ""
        if self.cat(i) == "qual":
            qual, i = str(self.val(i)), i + 1
        c, v = self.cat(i), self.val(i)
        t = self.today
        if c == "week_after_next" or (c == "unit" and v == "week" and qual) or (c == "unit" and v == "week"
                                                                               and mod):
            which = "after next" if c == "week_after_next" else (qual or "this")
            return Days(*time_days.week(t, which, mod), at=start), i + 1
        if c == "unit" and v == "week" and self.cat(i + 1) == "of":
            found = self.explicit_date(i + 2)
            if found:
                return Days(*time_days.week_of(found[0].first or t), at=start), found[1]
        if c == "midweek":
            return Days(*time_days.week(t, qual or "this", "mid"), at=start), i + 1
        if c == "weekend":
            return Days(*time_days.weekend(t, qual or "this"), at=start), i + 1
        if c == "unit" and v == "month" and (qual or mod):
            return Days(*time_days.month(t, qual or "this", None, mod), at=start), i + 1
        if c == "month" and self.cat(i + 1) not in ("num", "ord") and self.cat(i - 1) not in ("num", "ord", "of"):
            if self.lx[i].text in AMBIGUOUS_MONTHS and not (mod or self.cat(start) == "in"):
                return None
            return Days(*time_days.month(t, "", int(v), mod), at=start), i + 1
        if c == "rel" and not qual:
            self.mod_part(mod, start)
            day = t + timedelta(days=int(v))
            return Days(day, day, at=start), i + 1
        if c == "tonight":
            self.times.append(Times(*PARTS["evening"], at=i))
            return Days(t, t, at=start), i + 1
        if c == "qual" or (qual == "this" and c == "part"):
            return None if c == "qual" else (Days(t, t, at=start), i)
        if c == "wd":
            return self.weekdays(i, qual, mod, start)
        if qual == "next" and c in ("num", "a"):
            span = self.offset(i)
            if span:
                return Days(t + timedelta(days=1), t + span[0], at=start), span[1]
        if c == "within":
            span = self.offset(i + 1)
            if span:
                return Days(t + timedelta(days=1), t + span[0], at=start), span[1]
        found = self.relative(i) or self.explicit_date(i)
        if found:
            self.mod_part(mod, start)
            return found[0], found[1]
        return None

    def mod_part(self, mod: str | None, at: int) -> None:
        if mod in DAY_MODIFIER_PART:
            self.times.append(Times(*PARTS[DAY_MODIFIER_PART[mod]], at=at))

    def weekdays(self, i: int, qual: str, mod: str | None, start: int) -> tuple[Days, int]:
        days, span = [int(self.val(i))], False
        i += 1
        while self.cat(i) in ("or", "and", "to") and self.cat(i + 1) == "wd":
            span = span or self.cat(i) == "to"
            days.append(int(self.val(i + 1)))
            i += 2
        if self.cat(i) == "after" and self.cat(i + 1) == "qual" and self.val(i + 1) == "next":
            qual, i = "after next", i + 2
        self.mod_part(mod, start)
        return Days(weekdays=tuple(days), qualifier=qual, span=span, at=start), i

    def offset(self, i: int) -> tuple[timedelta, int] | None:
        """'3 days', 'a week', 'two weeks', 'a couple of days' -> (length, next index)."""
        n = 1 if self.cat(i) == "a" else (int(self.val(i)) if self.cat(i) == "num" else None)
        if n is None or n > 400:
            return None
        j = i + 1 + (self.cat(i + 1) == "of")
        if self.cat(j) == "a" and self.val(i) == 2:  # "a couple of days"
            j += 1
        if self.cat(j) != "unit":
            return None
        unit = self.val(j)
        if unit == "month":
            return time_days.add_months(self.today, n) - self.today, j + 1
        return timedelta(days=n * {"day": 1, "week": 7, "fortnight": 14}[str(unit)]), j + 1

    def relative(self, i: int) -> tuple[Days, int] | None:
        """'in 3 days', 'two weeks from now', 'a week from tuesday', '2 weeks' -> one day."""
        start = i
        i += self.cat(i) == "in"
        span = self.offset(i)
        if span is None:
            return None
        length, j = span
        anchor = self.today
        if self.cat(j) == "from":
            if self.cat(j + 1) == "now":
                j += 2
            else:
                found = self.day_atom(j + 1)
                if found:
                    resolved = time_days.resolve([found[0]], self.today)
                    anchor, j = (resolved[0] or self.today), found[1]
        elif self.cat(j) == "word" and self.val(j) in ("time", "out"):
            j += 1
        day = anchor + length
        return Days(day, day, at=start), j

    def explicit_date(self, i: int) -> tuple[Days, int] | None:
        """'dec 8', 'december 8th 2026', '8th of dec', '12/8', 'the 8th', 'dec 8-10', 'the 8th or 9th'."""
        start = i
        i += self.cat(i) in ("the", "on")
        c = self.cat(i)
        first: date | None = None
        if c == "date":
            first, i = time_days.calendar_date(str(self.val(i)), self.today), i + 1
        elif c == "month" and self.cat(i + 1 + (self.cat(i + 1) == "the")) in ("num", "ord"):
            month, i = self.lx[i], i + 1 + (self.cat(i + 1) == "the")
            if (self.cat(i) == "num" and self.cat(i + 1) in ("mer", "oclock")) or self.cat(i + 1) == "hm":
                return None
            day, i = self.lx[i], i + 1
            year, i = self.year(i)
            first = time_days.calendar_date(f"{month.text} {day.value}{year}", self.today)
        elif c in ("num", "ord") and self.cat(i + 1 + (self.cat(i + 1) == "of")) == "month":
            day, i = self.lx[i], i + 1 + (self.cat(i + 1) == "of")
            month, i = self.lx[i], i + 1
            year, i = self.year(i)
            first = time_days.calendar_date(f"{day.value} {month.text}{year}", self.today)
        elif c == "ord" and (self.lx[i].text[0].isdigit() or start < i) and int(self.val(i)) <= 31:
            first, i = time_days.day_of_month(int(self.val(i)), self.today), i + 1
        if first is None:
            return None
        last = first
        k = i + (self.cat(i) in ("or", "to", "and")) + (self.cat(i + 1) == "the")
        if k > i and self.cat(k) in ("num", "ord") and 1 <= int(self.val(k)) <= 31 and self.cat(k + 1) not in (
                "mer", "oclock", "unit", "month") and int(self.val(k)) > first.day:
            last, i = first.replace(day=min(int(self.val(k)), calendar.monthrange(first.year, first.month)[1])), k + 1
        return Days(first, last, at=start), i

    def year(self, i: int) -> tuple[str, int]:
        if self.cat(i) == "num" and 1900 <= int(self.val(i)) <= 2200:
            return f" {self.val(i)}", i + 1
        return "", i

    # -- times ------------------------------------------------------------------------------------
    def time_expr(self, i: int) -> int | None:
        c = self.cat(i)
        if c == "around":
            clock = self.clock(i + 1, True)
            if clock:
                self.times.append(time_clock.around(clock[0], i))
                return clock[1]
            return None  # "around lunch": the part itself
        if c in ("after", "before", "by", "until"):
            clock = self.clock(i + 1, True)
            if clock is None:
                return None
            lo, hi = (clock[0], CLOSE) if c == "after" else (OPEN, clock[0])
            self.times.append(Times(lo, hi, at=i, from_clock=True, one_sided=True))
            return clock[1]
        if c in ("between", "from"):
            pair = self.clock_range(i + 1)
            if pair:
                return pair
            clock = self.clock(i + 1, True)
            if clock and c == "from":
                self.times.append(Times(clock[0], CLOSE, at=i, from_clock=True, one_sided=True))
                return clock[1]
            return None
        if c == "mod":  # "late afternoon", "later in the afternoon", "early" (first thing)
            k = next(k for k in range(i + 1, len(self.lx) + 1) if self.cat(k) not in ("in", "the"))
            name = f"{_SAME.get(self.val(i), self.val(i))} {self.val(k)}"
            if self.cat(k) == "part" and name in PARTS:
                self.times.append(Times(*PARTS[name], at=i))
                return k + 1
            self.mod_part(str(self.val(i)), i)
            return i + 1 if self.val(i) in DAY_MODIFIER_PART else None
        if c == "part":
            self.times.append(Times(*PARTS[str(self.val(i))], at=i))
            return i + 1
        if c == "mer":
            self.times.append(Times(*PARTS["morning" if self.val(i) == "am" else "afternoon"], at=i))
            return i + 1
        pair = self.clock_range(i)
        if pair:
            return pair
        clock = self.clock(i + (c == "at"), c == "at" or self.follows_day(i) or self.follows_time(i))
        if clock is None:
            return None
        at, j, ish = clock
        if ish:
            self.times.append(time_clock.around(at, i))
            return j
        if self.cat(j) == "after_post":
            self.times.append(Times(at, CLOSE, at=i, from_clock=True, one_sided=True))
            return j + 1
        if self.cat(j) == "before_post":
            self.times.append(Times(OPEN, at, at=i, from_clock=True, one_sided=True))
            return j + 1
        self.times.append(Times(at, at, at=i, from_clock=True))
        return j

    def follows_day(self, i: int) -> bool:
        return bool(self.days) and self.days[-1].at < i and (i - 1) in self.used and self.cat(i - 1) != "the"

    def follows_time(self, i: int) -> bool:
        return bool(self.times) and self.cat(i - 1) in ("or", "and") and (i - 2) in self.used

    def clock_range(self, i: int) -> int | None:
        """'1-3pm', '1 to 3', '10am-2', '1 and 3' (after "between"), '9:30-11'."""
        first = self.raw_clock(i)
        if first is None or self.cat(first[1]) not in ("to", "and", "until"):
            return None
        if self.cat(first[1]) == "and" and self.cat(i - 1) != "between":
            return None
        second = self.raw_clock(first[1] + 1)
        if second is None:
            return None
        end = time_clock.resolve(second[0], None)
        start = time_clock.resolve(first[0], None, before=end)
        if first[0][2] and not second[0][2]:
            end = time_clock.resolve(second[0], None, after=start)
        if start >= end:
            return None
        self.times.append(Times(start, end, at=i, from_clock=True))
        return second[1]

    def raw_clock(self, i: int) -> tuple[tuple[int, int, str, bool], int] | None:
        """(hour, minute, meridian or '', fixed) and the next index, for a clock time as typed."""
        c, v = self.cat(i), self.val(i)
        if c == "past" and self.cat(i + 1) == "num" and 1 <= int(self.val(i + 1)) <= 12:
            hour, minute = int(self.val(i + 1)), int(v)
            if minute < 0:
                hour, minute = (hour - 1) or 12, 60 + minute
            return self.meridian((hour, minute), i + 2)
        if c == "clock":
            return (v.hour, v.minute, "", True), i + 1
        if c == "hm":
            return self.meridian(v, i + 1)
        if c == "num" and 0 <= int(v) <= 24 and self.lx[i].text != "a":
            minute, j = 0, i + 1
            if self.cat(j) == "num" and int(self.val(j)) in (15, 30, 45) and int(v) <= 12:
                minute, j = int(self.val(j)), j + 1
            return self.meridian((int(v), minute), j)
        if c == "num" and 100 <= int(v) <= 2359 and int(v) % 100 < 60 and (
                self.cat(i - 1) == "at" or self.lx[i].text.startswith("0")):
            return self.meridian((int(v) // 100, int(v) % 100), i + 1)
        return None

    def meridian(self, hm: tuple[int, int], j: int) -> tuple[tuple[int, int, str, bool], int]:
        mer = ""
        if self.cat(j) == "mer":
            mer, j = str(self.val(j)), j + 1
        if self.cat(j) == "oclock":
            j += 1
        return (hm[0], hm[1], mer, False), j

    def clock(self, i: int, context: bool) -> tuple[time, int, bool] | None:
        """A clock time at i: (the time, the next index, said with "ish"). A bare number is a time only where
        the words around it make it one ("at 2", "after 3", "tuesday 2", "2 or 3pm")."""
        raw = self.raw_clock(i)
        if raw is None:
            return None
        (hour, _, mer, fixed), j = raw
        ish = self.cat(j) == "ish"
        typed = (bool(fixed or mer or ish) or self.cat(i) in ("hm", "past") or self.cat(j - 1) == "oclock"
                 or re.fullmatch(r"0\d{3}", self.lx[i].text) is not None)
        following = self.raw_clock(j + 1) if self.cat(j) in ("or", "to") else None
        bounded = self.cat(j) in ("after_post", "before_post")
        if not (typed or context or bounded or (following is not None and following[0][2])):
            return None
        if not typed and not (1 <= hour <= 12 or (13 <= hour <= 23 and context)):
            return None
        return time_clock.resolve(raw[0], self.hint), j + ish, ish

    # -- combining fragments ------------------------------------------------------------------------
    def joined(self, a: int, b: int) -> str:
        """How two fragments at lexeme indexes a < b are joined: "set", "span" or "" (side by side)."""
        how = ""
        for k in range(a + 1, b):
            if k not in self.used and self.cat(k) in _CONNECTORS:
                how = _CONNECTORS[self.cat(k)]
        if self.cat(a - 1) == "between" or self.cat(a - 1) == "from":
            how = "span" if how else how
        return how

    def reading(self) -> Reading:
        out = Reading(said=bool(self.days or self.times or self.any))
        out.any_day = bool(self.any & {"day", "both"}) and not self.days
        out.any_time = bool(self.any & {"time", "both"}) and not self.times
        if self.days:
            out.date_from, out.date_to = time_days.combine(self.days, self.joined, self.today)
        if self.times:
            out.time_from, out.time_to = time_clock.combine(self.times, self.joined)
        return out


def read(text: str, today: date) -> Reading:
    """The day range and time window one message asks for (see the module's docstring)."""
    return _Parser(lex(text), today).run()
