"""Days and times as patients write them, read to the clinic's written conventions (README, "Days and times"):
weeks run Monday to Sunday, a bare weekday is the next one after today, "this"/"next" weekdays, explicit dates
without a year from tomorrow on, bare hours 1-7 pm / 8-11 am / 12 noon, parts of the day, ranges, and turns
that combine. The phrases are the project's own (tests/data/scheduling_phrases.jsonl), never the blind set's.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.timeparse import Preference, add_turn, parse_preference, pick_option

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)  # Mon Nov 23 2026
WEDNESDAY = datetime(2026, 12, 2, 14, 30, tzinfo=CHICAGO)
SUNDAY = datetime(2026, 12, 27, 10, 0, tzinfo=CHICAGO)
PHRASES = Path(__file__).parent / "data" / "scheduling_phrases.jsonl"


def days(text: str, now: datetime = MONDAY) -> tuple[date | None, date | None]:
    pref = parse_preference(text, now, CHICAGO)
    assert pref is not None, text
    return pref.date_from, pref.date_to


def window(text: str, now: datetime = MONDAY) -> tuple[object, object]:
    pref = parse_preference(text, now, CHICAGO)
    assert pref is not None, text
    return pref.time_from, pref.time_to


def d(month: int, day: int, year: int = 2026) -> tuple[date, date]:
    return date(year, month, day), date(year, month, day)


def test_the_complaints_in_the_issue_are_read_as_meant() -> None:
    # moving a visit on a Monday: "next tuesday" is next week's Tuesday, not tomorrow
    assert parse_preference("next tuesday afternoon", MONDAY, CHICAGO) == Preference(
        date(2026, 12, 1), date(2026, 12, 1), time(12, 0), time(17, 0))
    assert parse_preference("dec 8 at 2pm", MONDAY, CHICAGO) == Preference(
        date(2026, 12, 8), date(2026, 12, 8), time(14, 0), time(14, 0))
    assert parse_preference("2:00 pm on the 8th", MONDAY, CHICAGO) == Preference(
        date(2026, 12, 8), date(2026, 12, 8), time(14, 0), time(14, 0))


@pytest.mark.parametrize(("text", "now", "expected"), [
    ("tuesday", MONDAY, d(11, 24)),  # a bare weekday: the next one after today
    ("monday", MONDAY, d(11, 30)),  # said on that weekday: next week's
    ("this tuesday", MONDAY, d(11, 24)),  # this week's, still ahead
    ("this tuesday", WEDNESDAY, d(12, 8)),  # this week's has passed: next week's
    ("this wednesday", WEDNESDAY, d(12, 9)),  # today is not "ahead"
    ("next tuesday", MONDAY, d(12, 1)),  # the next calendar week's
    ("next friday", WEDNESDAY, d(12, 11)),
    ("next monday", SUNDAY, d(12, 28)),  # the next week starts tomorrow
    ("the tuesday after next", MONDAY, d(12, 8)),
    ("tuesday next week", WEDNESDAY, d(12, 8)),
])
def test_weekdays_follow_the_clinic_convention(text: str, now: datetime, expected: tuple[date, date]) -> None:
    assert days(text, now) == expected


@pytest.mark.parametrize(("text", "now", "expected"), [
    ("this week", MONDAY, (date(2026, 11, 24), date(2026, 11, 29))),  # tomorrow to Sunday
    ("next week", WEDNESDAY, (date(2026, 12, 7), date(2026, 12, 13))),
    ("the week after next", MONDAY, (date(2026, 12, 7), date(2026, 12, 13))),
    ("early next week", MONDAY, (date(2026, 11, 30), date(2026, 12, 2))),  # Mon-Wed
    ("late next week", MONDAY, (date(2026, 12, 3), date(2026, 12, 6))),  # Thu-Sun
    ("tomorrow", MONDAY, d(11, 24)),
    ("the day after tomorrow", MONDAY, d(11, 25)),
    ("in 3 days", MONDAY, d(11, 26)),
    ("in two weeks", WEDNESDAY, d(12, 16)),  # exactly 14 days later
    ("next week but not monday", MONDAY, (date(2026, 12, 1), date(2026, 12, 6))),
    ("mon-wed next week", WEDNESDAY, (date(2026, 12, 7), date(2026, 12, 9))),
    ("tuesday or wednesday", MONDAY, (date(2026, 11, 24), date(2026, 11, 25))),
])
def test_weeks_and_relative_days(text: str, now: datetime, expected: tuple[date, date]) -> None:
    assert days(text, now) == expected


@pytest.mark.parametrize(("text", "now", "expected"), [
    ("dec 8", MONDAY, d(12, 8)),
    ("12/8", MONDAY, d(12, 8)),  # US order: month first
    ("december 8th", MONDAY, d(12, 8)),
    ("the 8th of december", MONDAY, d(12, 8)),
    ("jan 5", MONDAY, d(1, 5, 2027)),
    ("nov 23", MONDAY, d(11, 23, 2027)),  # today's date without a year: next year's
    ("11/24", MONDAY, d(11, 24)),  # tomorrow counts
    ("the 8th", MONDAY, d(12, 8)),
    ("the 2nd", WEDNESDAY, d(1, 2, 2027)),  # today is the 2nd: next month's
    ("the 31st", datetime(2027, 2, 2, 9, 0, tzinfo=CHICAGO), d(3, 31, 2027)),  # February has none
    ("dec 8-10", MONDAY, (date(2026, 12, 8), date(2026, 12, 10))),
    ("the 8th or 9th", MONDAY, (date(2026, 12, 8), date(2026, 12, 9))),
])
def test_explicit_dates_without_a_year_are_the_next_from_tomorrow(text: str, now: datetime,
                                                                   expected: tuple[date, date]) -> None:
    assert days(text, now) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2pm", (time(14), time(14))), ("2:00 pm", (time(14), time(14))), ("14:00", (time(14), time(14))),
    ("at 2", (time(14), time(14))), ("at 7", (time(19), time(19))), ("at 8", (time(8), time(8))),
    ("at 11", (time(11), time(11))), ("at 12", (time(12), time(12))),  # bare hours: 1-7 pm, 8-11 am, 12 noon
    ("at 7 in the morning", (time(7), time(7))),  # unless the message says otherwise
    ("around 2", (time(13, 30), time(14, 30))), ("2ish", (time(13, 30), time(14, 30))),
    ("after 3", (time(15), "close")), ("3 or later", (time(15), "close")),
    ("before noon", ("open", time(12))), ("no later than 3", ("open", time(15))),
    ("between 1 and 3", (time(13), time(15))), ("11-1", (time(11), time(13))), ("1-3pm", (time(13), time(15))),
    ("morning", ("open", time(12))), ("afternoon", (time(12), time(17))), ("evening", (time(17), "close")),
    ("after work", (time(17), "close")), ("lunchtime", (time(11, 30), time(13, 30))),
    ("first thing", ("open", time(9))), ("end of day", (time(15), "close")), ("late", (time(15), "close")),
    ("afternoon after 3", (time(15), time(17))),  # side by side: both hold
    ("morning or afternoon", ("open", time(17))),  # either
])
def test_times_and_parts_of_the_day(text: str, expected: tuple[object, object]) -> None:
    assert window(text) == expected
    assert days(text) == (None, None)  # a time alone leaves the day open


def test_ranges_and_combinations_in_one_message() -> None:
    pref = parse_preference("any day next week after 3", WEDNESDAY, CHICAGO)
    assert pref == Preference(date(2026, 12, 7), date(2026, 12, 13), time(15), "close")
    pref = parse_preference("thursday or friday next week before noon", MONDAY, CHICAGO)
    assert pref == Preference(date(2026, 12, 3), date(2026, 12, 4), "open", time(12))
    assert parse_preference("tonight", MONDAY, CHICAGO) == Preference(
        date(2026, 11, 23), date(2026, 11, 23), time(17), "close")


def test_what_is_not_a_day_or_time_is_not_read_as_one() -> None:
    for text in ["my knee hurts", "2", "the dr said to come back", "yes please", ""]:
        assert parse_preference(text, MONDAY, CHICAGO) is None, text
    anything = parse_preference("whenever works", MONDAY, CHICAGO)
    assert anything is not None and anything.any_day and anything.any_time and not anything.has_day


def test_a_day_and_a_time_said_in_separate_turns_combine() -> None:
    turns = add_turn(None, "next tuesday")
    turns = add_turn(turns, "2pm")
    assert parse_preference(turns, MONDAY, CHICAGO) == Preference(date(2026, 12, 1), date(2026, 12, 1),
                                                                  time(14), time(14))
    # a new day replaces the day and keeps the time
    turns = add_turn(turns, "how about wednesday")
    assert parse_preference(turns, MONDAY, CHICAGO) == Preference(date(2026, 11, 25), date(2026, 11, 25),
                                                                  time(14), time(14))
    # a new time replaces the time and keeps the day
    turns = add_turn(turns, "actually after 4")
    assert parse_preference(turns, MONDAY, CHICAGO) == Preference(date(2026, 11, 25), date(2026, 11, 25),
                                                                  time(16), "close")
    # "any day" frees the day, keeps the time; "whenever" frees both
    assert parse_preference(add_turn(turns, "any day"), MONDAY, CHICAGO) == Preference(
        None, None, time(16), "close")
    cleared = parse_preference(add_turn(turns, "whenever"), MONDAY, CHICAGO)
    assert cleared is not None and not cleared.has_day and not cleared.has_time


def test_aware_utc_now_is_read_in_the_clinic_zone() -> None:
    late_sunday_utc = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # still Sunday Nov 29 in Chicago
    assert days("tomorrow", late_sunday_utc) == d(11, 30)


def test_a_reply_picks_one_of_the_offered_times() -> None:
    starts = [datetime(2026, 11, 24, 13, 0, tzinfo=CHICAGO), datetime(2026, 11, 24, 14, 20, tzinfo=CHICAGO),
              datetime(2026, 11, 25, 9, 30, tzinfo=CHICAGO)]
    labels = ["Dr. Anika Patel", "Dr. Anika Patel", "Lena Nguyen"]
    picks = {t: pick_option(t, starts, labels, CHICAGO, MONDAY) for t in
             ["2", "the first one", "the 9:30 one", "1 pm", "wednesday", "last one", "lena", "hmm",
              "tuesday at 2:20", "11/25", "dec 3", "friday", "tuesday"]}
    assert picks == {"2": 1, "the first one": 0, "the 9:30 one": 2, "1 pm": 0, "wednesday": 2, "last one": 2,
                     "lena": 2, "hmm": None, "tuesday at 2:20": 1, "11/25": 2,
                     "dec 3": None, "friday": None,  # a day none of them is on: a new preference, not option 3
                     "tuesday": None}  # two of them: which one is not said


def test_describe_says_what_was_asked() -> None:
    def said(text: str) -> str:
        pref = parse_preference(text, MONDAY, CHICAGO)
        assert pref is not None
        return pref.describe()

    assert said("dec 8 at 2pm") == "on Tue, Dec 8 at 2 pm"
    assert said("next week after 3") == "between Mon, Nov 30 and Sun, Dec 6 after 3 pm"
    assert said("before 11") == "before 11 am"
    assert said("before noon") == "in the morning"  # the same window
    assert said("next tuesday afternoon") == "on Tue, Dec 1 in the afternoon"
    assert said("any") == ""


def _phrases() -> list[dict[str, str | None]]:
    return [json.loads(line) for line in PHRASES.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("case", _phrases(), ids=lambda c: f"{c['now'][:10]} {c['text']}")
def test_the_projects_own_phrases_are_read_exactly(case: dict[str, str | None]) -> None:
    now = datetime.fromisoformat(str(case["now"])).replace(tzinfo=CHICAGO)
    pref = parse_preference(str(case["text"]), now, CHICAGO)
    assert pref is not None

    def shown(value: object) -> str | None:
        return None if value is None else value if isinstance(value, str) else (
            value.isoformat() if isinstance(value, date) else f"{value:%H:%M}")

    got = [shown(pref.date_from), shown(pref.date_to), shown(pref.time_from), shown(pref.time_to)]
    assert got == [case["date_from"], case["date_to"], case["time_from"], case["time_to"]]
