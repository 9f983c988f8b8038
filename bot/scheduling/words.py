"""The words of the scheduling grammar (bot/scheduling/grammar.py): what each word or fixed phrase a patient uses for a
day or a time means, and the clinic's conventions for parts of the day.

The windows below are the clinic's written conventions (README, "Days and times"): ``OPEN`` and ``CLOSE`` stand
for the clinic's opening and closing time on the day in question, looked up in the settings when slots are
searched, never written here.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import time
from typing import Any

OPEN = "open"
CLOSE = "close"
Bound = time | str  # a clock time, or OPEN / CLOSE
AROUND_MINUTES = 30  # "around 2" = 1:30-2:30

# Parts of the day and their windows (the clinic's convention).
PARTS: dict[str, tuple[Bound, Bound]] = {
    "morning": (OPEN, time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), CLOSE),
    "lunch": (time(11, 30), time(13, 30)),
    "first thing": (OPEN, time(9, 0)),
    "end of day": (time(15, 0), CLOSE),
    "after lunch": (time(13, 30), CLOSE),
    "before lunch": (OPEN, time(11, 30)),
    # an early / mid / late part of a part of the day
    "early morning": (OPEN, time(9, 0)),
    "mid morning": (time(9, 0), time(11, 0)),
    "late morning": (time(10, 0), time(12, 0)),
    "early afternoon": (time(12, 0), time(15, 0)),
    "mid afternoon": (time(13, 0), time(16, 0)),
    "late afternoon": (time(15, 0), time(17, 0)),
    "early evening": (time(17, 0), CLOSE),
    "late evening": (time(17, 0), CLOSE),
}
# "early" / "late" said of a day ("early tuesday", "tuesday late") mean these parts.
DAY_MODIFIER_PART = {"early": "first thing", "late": "end of day"}
# Early / mid / late in a week (weekday numbers, Monday = 0) and in a month (days of the month).
WEEK_PART = {"early": (0, 2), "mid": (1, 3), "late": (3, 6)}
MONTH_PART = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}

WEEKDAYS = {
    "monday": 0, "mon": 0, "mondays": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "tuesdays": 1,
    "wednesday": 2, "wed": 2, "weds": 2, "wednesdays": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "thursdays": 3,
    "friday": 4, "fri": 4, "fridays": 4,
    "saturday": 5, "sat": 5, "saturdays": 5,
    "sunday": 6, "sun": 6, "sundays": 6,
}
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
AMBIGUOUS_MONTHS = frozenset({"may", "mar", "jun", "jan"})  # a month only next to a day number
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "couple": 2, "few": 3,
}
ORDINAL_WORDS = {
    word: n for n, word in enumerate(
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"], start=1)
} | {"thirtieth": 30}

# Single words: (category, value). Categories are what the grammar's productions look for.
WORDS: dict[str, tuple[str, object]] = {
    **{w: ("wd", n) for w, n in WEEKDAYS.items()},
    **{w: ("month", n) for w, n in MONTHS.items()},
    **{w: ("num", n) for w, n in NUMBER_WORDS.items()},
    **{w: ("ord", n) for w, n in ORDINAL_WORDS.items()},
    "today": ("rel", 0), "tdy": ("rel", 0), "tomorrow": ("rel", 1), "tmrw": ("rel", 1), "tmr": ("rel", 1),
    "tmrrw": ("rel", 1), "tmw": ("rel", 1), "2morrow": ("rel", 1), "2moro": ("rel", 1), "tomoz": ("rel", 1),
    "tonight": ("tonight", None), "tonite": ("tonight", None),
    "now": ("now", None),
    "this": ("qual", "this"), "upcoming": ("qual", "this"),
    "next": ("qual", "next"), "nxt": ("qual", "next"), "coming": ("qual", "next"), "following": ("qual", "next"),
    "week": ("unit", "week"), "weeks": ("unit", "week"), "wk": ("unit", "week"), "wks": ("unit", "week"),
    "day": ("unit", "day"), "days": ("unit", "day"), "month": ("unit", "month"), "months": ("unit", "month"),
    "fortnight": ("unit", "fortnight"),
    "weekend": ("weekend", None), "weekends": ("weekend", None), "wkend": ("weekend", None),
    "morning": ("part", "morning"), "mornings": ("part", "morning"), "morn": ("part", "morning"),
    "afternoon": ("part", "afternoon"), "afternoons": ("part", "afternoon"), "aft": ("part", "afternoon"),
    "aftn": ("part", "afternoon"), "arvo": ("part", "afternoon"),
    "evening": ("part", "evening"), "evenings": ("part", "evening"), "eve": ("part", "evening"),
    "night": ("part", "evening"), "nights": ("part", "evening"),
    "lunch": ("part", "lunch"), "lunchtime": ("part", "lunch"),
    "noon": ("clock", time(12, 0)), "midday": ("clock", time(12, 0)), "midnight": ("clock", time(0, 0)),
    "am": ("mer", "am"), "pm": ("mer", "pm"), "p": ("mer", "pm"), "oclock": ("oclock", None),
    "early": ("mod", "early"), "earlier": ("mod", "earlier"), "late": ("mod", "late"), "later": ("mod", "later"),
    "mid": ("mod", "mid"), "middle": ("mod", "mid"), "midweek": ("midweek", None),
    "after": ("after", None), "past": ("after", None), "onwards": ("after_post", None),
    "onward": ("after_post", None),
    "before": ("before", None), "by": ("by", None), "until": ("until", None), "till": ("until", None),
    "til": ("until", None), "untill": ("until", None),
    "around": ("around", None), "about": ("around", None), "approximately": ("around", None),
    "approx": ("around", None), "roughly": ("around", None), "circa": ("around", None), "ish": ("ish", None),
    "~": ("around", None),
    "between": ("between", None), "from": ("from", None), "starting": ("from", None),
    "and": ("and", None), "or": ("or", None), "to": ("to", None), "through": ("to", None), "thru": ("to", None),
    "-": ("to", None), "at": ("at", None), "in": ("in", None), "within": ("within", None), "of": ("of", None),
    "the": ("the", None), "a": ("a", None), "an": ("a", None),
    "not": ("not", None), "except": ("not", None), "but": ("but", None),
    "any": ("any", "both"), "anytime": ("any", "time"), "whenever": ("any", "both"), "asap": ("any", "both"),
    "soonest": ("any", "both"), "earliest": ("any", "both"), "flexible": ("any", "both"),
    "either": ("any", "both"), "whatever": ("any", "both"), "whenever's": ("any", "both"),
}
# Fixed phrases, read as one word (longest first wins).
PHRASES: dict[tuple[str, ...], tuple[str, object]] = {
    ("day", "after", "tomorrow"): ("rel", 2),
    ("week", "after", "next"): ("week_after_next", None),
    ("first", "thing"): ("part", "first thing"),
    ("end", "of", "day"): ("part", "end of day"), ("end", "of", "the", "day"): ("part", "end of day"),
    ("close", "of", "business"): ("part", "end of day"), ("eod",): ("part", "end of day"),
    ("late", "in", "the", "day"): ("part", "end of day"), ("later", "in", "the", "day"): ("part", "end of day"),
    ("after", "work"): ("part", "evening"), ("after", "school"): ("part", "end of day"),
    ("before", "work"): ("part", "first thing"),
    ("after", "lunch"): ("part", "after lunch"), ("before", "lunch"): ("part", "before lunch"),
    ("lunch", "time"): ("part", "lunch"), ("lunch", "break"): ("part", "lunch"),
    ("any", "time"): ("any", "time"), ("any", "day"): ("any", "day"),
    ("as", "soon", "as", "possible"): ("any", "both"), ("soon", "as", "possible"): ("any", "both"),
    ("as", "early", "as", "possible"): ("any", "both"),
    ("first", "available"): ("any", "both"), ("next", "available"): ("any", "both"),
    ("first", "opening"): ("any", "both"), ("next", "opening"): ("any", "both"),
    ("no", "preference"): ("any", "both"), ("doesn't", "matter"): ("any", "both"),
    ("doesnt", "matter"): ("any", "both"), ("don't", "care"): ("any", "both"), ("dont", "care"): ("any", "both"),
    ("whatever", "works"): ("any", "both"), ("whichever", "works"): ("any", "both"),
    ("up", "to", "you"): ("any", "both"), ("all", "day"): ("any", "time"),
    ("o", "clock"): ("oclock", None), ("o'clock",): ("oclock", None),
    ("half", "past"): ("past", 30), ("quarter", "past"): ("past", 15), ("quarter", "after"): ("past", 15),
    ("quarter", "to"): ("past", -15), ("quarter", "til"): ("past", -15),
    ("no", "later", "than"): ("before", None), ("not", "later", "than"): ("before", None),
    ("not", "after"): ("before", None), ("earlier", "than"): ("before", None),
    ("at", "the", "latest"): ("before_post", None), ("or", "earlier"): ("before_post", None),
    ("or", "before"): ("before_post", None),
    ("no", "earlier", "than"): ("after", None), ("not", "earlier", "than"): ("after", None),
    ("not", "before"): ("after", None), ("later", "than"): ("after", None),
    ("at", "the", "earliest"): ("after_post", None), ("or", "later"): ("after_post", None),
    ("or", "after"): ("after_post", None), ("and", "later"): ("after_post", None),
    ("end", "of"): ("mod", "late"), ("end", "of", "the"): ("mod", "late"),
    ("beginning", "of"): ("mod", "early"), ("beginning", "of", "the"): ("mod", "early"),
    ("start", "of"): ("mod", "early"), ("start", "of", "the"): ("mod", "early"),
    ("middle", "of"): ("mod", "mid"), ("middle", "of", "the"): ("mod", "mid"),
    ("this", "coming"): ("qual", "this"), ("in", "the", "next"): ("within", None),
    ("over", "the", "next"): ("within", None),
    ("right", "now"): ("rel", 0),
}
# Words spelled many ways: a word that is not in the lexicon is matched to the closest of these if close enough.
FUZZY_TARGETS = tuple(
    [w for w in WEEKDAYS if len(w) > 5] + [w for w in MONTHS if len(w) > 5]
    + ["tomorrow", "morning", "afternoon", "evening", "weekend", "tonight", "lunchtime"])

_TOKEN = re.compile(r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})|(?P<numdate>\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
                    r"|(?P<hm>\d{1,2}[:.]\d{2})(?=\D|$)|(?P<ord>\d{1,2})(?:st|nd|rd|th)\b|(?P<num>\d+)"
                    r"|(?P<word>[a-z]+(?:'[a-z]+)?)|(?P<sym>[-~])")


@dataclass(frozen=True)
class Lexeme:
    """A word or fixed phrase with its category ("wd", "month", "num", "part", ...) and value."""

    cat: str
    value: Any
    text: str


def lex(text: str) -> list[Lexeme]:
    words = text.lower().replace("a.m.", "am").replace("p.m.", "pm").replace("@", " at ").replace("&", " and ")
    words = re.sub(r"[–—]", "-", words).replace("-ish", "ish")
    tokens: list[Lexeme] = []
    for m in _TOKEN.finditer(words):
        kind = m.lastgroup or ""
        raw = m.group(0)
        if kind == "num" and len(raw) <= 4:
            tokens.append(Lexeme("num", int(raw), raw))
        elif kind == "ord":
            tokens.append(Lexeme("ord", int(m.group("ord")), raw))
        elif kind == "hm":
            hour, minute = (int(x) for x in re.split(r"[:.]", raw))
            if hour < 24 and minute < 60:
                tokens.append(Lexeme("hm", (hour, minute), raw))
        elif kind in ("iso", "numdate"):
            tokens.append(Lexeme("date", raw, raw))
        elif kind in ("word", "sym"):
            tokens.append(Lexeme("word", raw, raw))
    return _phrases(tokens)


def _phrases(tokens: list[Lexeme]) -> list[Lexeme]:
    out: list[Lexeme] = []
    i = 0
    longest = max(len(k) for k in PHRASES)
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            key = tuple(str(t.value) for t in tokens[i:i + size])
            if size > 1 and key in PHRASES:
                cat, value = PHRASES[key]
                out.append(Lexeme(cat, value, " ".join(key)))
                i += size
                break
        else:
            out.append(_word(tokens[i]))
            i += 1
    return out


def _word(token: Lexeme) -> Lexeme:
    if token.cat != "word":
        return token
    word = str(token.value)
    key = (word,) if (word,) in PHRASES else None
    if key:
        cat, value = PHRASES[key]
        return Lexeme(cat, value, word)
    if word.endswith("ish") and len(word) > 3 and word[:-3] in WORDS:
        word = word[:-3]
    if word not in WORDS and len(word) >= 6:
        close = difflib.get_close_matches(word, FUZZY_TARGETS, n=1, cutoff=0.84)
        word = close[0] if close else word
    cat, value = WORDS.get(word, ("word", word))
    return Lexeme(cat, value, token.text)


# -- yes and no: the one list of the short answers every flow accepts (each flow adds its own phrases) -----------
YES_WORDS = ("yes", "yeah", "yea", "yep", "yup", "ya", "y", "sure")
AGREE_WORDS = (*YES_WORDS, "ok", "okay")  # agreeing to an offer; not an answer to "any trouble breathing?"
NO_WORDS = ("no", "nope", "nah", "n")


def any_of(words: tuple[str, ...] | list[str]) -> str:
    """A regex alternation of ``words`` (escaped, longest first)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
