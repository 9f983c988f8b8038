"""Pieces of text the name and strict passes judge one by one, with the context they need.

A piece is a word (``rose``, ``o'neil``), a number (``101.3``, ``250,000``, ``10:30``) or a mix of
letters and digits (``a1c``, ``500mg``, ``MS000100``). Each knows whether it starts a sentence,
is capitalised, and which pieces stand before and after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

PIECE = re.compile(r"\d+(?:[.,:]\d+)*[^\W_]*|[^\W\d_][^\W_]*(?:['’][^\W\d_]+)*")
PLACEHOLDER = re.compile(r"<[A-Z_*]+>")
SENTENCE_END = re.compile(r"(?:[.!?:;]|\n|^)\s*[\"'(\[-]*\s*$")
TITLES = frozenset(["mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "nurse", "rn", "np", "pa", "md", "prof", "sister", "brother", "father", "mother"])
RELATIVES = frozenset(
    ["son", "daughter", "wife", "husband", "mom", "mother", "mum", "dad", "father", "brother", "sister", "grandson", "granddaughter", "grandma", "grandmother", "grandpa", "grandfather", "aunt", "uncle", "niece", "nephew", "cousin", "baby", "partner", "boyfriend", "girlfriend", "fiance", "fiancee", "child", "kid", "stepson", "stepdaughter", "stepmom", "stepdad", "granddad", "grandchild", "spouse", "caregiver", "roommate", "neighbor", "neighbour", "friend", "pt", "patient", "sibling", "twin", "bro", "sis", "hubby"]
)
# "my name is", "this is", "signed", ... : the next words are a name in any case.
STRONG_CUES = (
    ("name", "is"), ("names", "are"), ("name",), ("named",), ("this", "is"), ("signed",), ("regards",),
    ("sincerely",), ("attn",), ("spoke", "with"), ("spoke", "to"), ("talked", "to"), ("seen", "by"),
    ("per",), ("cc",), ("ask", "for"), ("care", "of"), ("c", "o"),
)
# Weaker cues: the next word is a name only when it is capitalised.
WEAK_CUES = (("i", "m"), ("im",), ("i", "am"), ("it", "s"), ("its",), ("from",), ("call",), ("with",), ("and",),
             ("thanks",), ("thx",), ("love",), ("by",), ("to",), ("for",), ("called",), ("visit",))
PLACE_CUES = frozenset(["in", "from", "to", "at", "near", "of", "moved", "lives", "live", "living", "visiting", "drove", "outside", "around"])


@dataclass
class Piece:
    start: int
    end: int
    text: str
    lower: str
    index: int
    sentence_start: bool
    capitalised: bool
    upper: bool

    @property
    def alpha(self) -> bool:
        return self.text.replace("'", "").replace("’", "").isalpha()

    @property
    def digits(self) -> bool:
        return self.text[0].isdigit()

    @property
    def word(self) -> str:
        """The word without a possessive ("rose's" -> "rose")."""
        return re.sub(r"['’]s$", "", self.lower)


def pieces(text: str) -> list[Piece]:
    out: list[Piece] = []
    for match in PIECE.finditer(text):
        raw = match.group(0)
        before = text[max(0, match.start() - 12) : match.start()]
        out.append(
            Piece(
                match.start(),
                match.end(),
                raw,
                raw.lower().replace("’", "'"),
                len(out),
                bool(SENTENCE_END.search(before)) or match.start() == 0,
                raw[0].isupper(),
                raw.isupper() and len(raw) > 1,
            )
        )
    return out


def mostly_upper(text: str) -> bool:
    """Notes written in capitals: capitalisation says nothing there."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6


def mostly_title(items: list[Piece]) -> bool:
    """A heading or a line where most words are capitalised."""
    words = [p for p in items if p.alpha and len(p.text) > 2]
    return len(words) >= 4 and sum(p.capitalised for p in words) / len(words) > 0.6


def joined(text: str, left: Piece, right: Piece, allow: str = r"\s*[,.]?\s*") -> bool:
    """Only spaces (and at most a comma or a dot) between two pieces on one line."""
    gap = text[left.end : right.start]
    return "\n" not in gap and re.fullmatch(allow, gap) is not None


def capital_runs(text: str, items: list[Piece], gap: str) -> Iterator[list[Piece]]:
    """Runs of capitalised words (not all capitals) in a row, each joined to the next by ``gap``."""
    i = 0
    while i < len(items):
        j = i
        while j < len(items) and items[j].alpha and items[j].capitalised and not items[j].upper and \
                (j == i or joined(text, items[j - 1], items[j], gap)):
            j += 1
        if j > i:
            yield items[i:j]
        i = max(j, i + 1)


def words_before(items: list[Piece], index: int, n: int) -> tuple[str, ...]:
    return tuple(p.word for p in items[max(0, index - n) : index])


def after_cue(items: list[Piece], index: int, cues: tuple[tuple[str, ...], ...]) -> bool:
    """A cue ends just before the piece (a title like "Mr." may stand between)."""
    at = index
    if at > 0 and items[at - 1].word in TITLES:
        at -= 1
    return any(words_before(items, at, len(cue)) == cue for cue in cues)


# numbers that are clinical, not dates or ids (shared by the strict filter and the spelled-date recognizers)
ORDINAL = re.compile(r"\d{1,2}(?:st|nd|rd|th)")
DIMENSIONS = re.compile(r"\d+(?:\.\d+)?(?:[xX]\d+(?:\.\d+)?){1,2}(?:cm|mm|in)?")  # a wound's size: 2x3cm
# a1c, b12, t4; a dosing interval (q6h, q2wk, q3d, q4hr); a count of times (3x); insulin units (10u)
CODE = re.compile(r"[a-z]\d{1,2}[a-z]?|q\d{1,2}(?:h|hr|hrs|d|w|wk|wks|mo)|\d{1,2}x|\d{1,3}u")
SCALE_BEFORE = re.compile(r"(?i:\b(?:pain|rated?|rating|scale|score|level|vision|bp|pressure|take|took|taking)\W*"
                          r"(?:\w+\W+)?)$")
UNIT_AFTER = re.compile(r"(?i:\s*(?:tabs?|tablets?|pills?|caps?|capsules?|cups?|doses?|strength|pain|scale|"
                        r"mg|ml|teaspoons?|tsp|of\s+a))\b")


# British notes count days, weeks and months as sevenths, fifty-seconds and twelfths: "dysuria x3/7",
# "Review 4/52", "recheck U&E in 3/12", "3/7 ago"
_DURATION = re.compile(r"(\d{1,2})/(7|52|12)(?![\d/]|\.\d)")
_DURATION_BEFORE = re.compile(r"(?i:(?:\bx|\b(?:for|over|past|last|within|after)\s+)\s*)$")
_DURATION_AFTER = re.compile(r"(?i:\s*(?:ago|hx|history|old|post|duration)\b)")
_DATE_CUE_BEFORE = re.compile(r"(?i:\b(?:on|since|from|until|till|by|dated|born|dob|in)\W*)$")


def duration(text: str, start: int, end: int) -> bool:
    """The fraction at [start, end) is a length of time in the British notation: after "x", "for", "over" or before
    "ago" for any of n/7, n/52, n/12; n/52 (weeks) also alone, a month and a year '52 being rare beside it, unless a
    date word stands before it ("since 4/52")."""
    m = _DURATION.fullmatch(text, start, end)
    if m is None or int(m.group(1)) == 0:
        return False
    if _DURATION_BEFORE.search(text[max(0, start - 12) : start]) or _DURATION_AFTER.match(text, end):
        return True
    return m.group(2) == "52" and int(m.group(1)) <= 52 and not _DATE_CUE_BEFORE.search(text[max(0, start - 12) : start])


def date_like(text: str, match: re.Match[str]) -> bool:
    """3/12 is a day, and so is 14/10 (day first, as most of the world writes it); 7/10 after "pain", 1/2 tablet,
    120/80 and a duration ("x3/7") are not."""
    month, day = (int(x) for x in match.group(0).split("/"))
    if 13 <= month <= 31 and 1 <= day <= 12:
        month, day = day, month  # 14/10, 28/10: the 14th of October
    if not (1 <= month <= 12 and 1 <= day <= 31) or duration(text, match.start(), match.end()):
        return False
    if SCALE_BEFORE.search(text[max(0, match.start() - 24) : match.start()]) or UNIT_AFTER.match(text, match.end()):
        return False
    return day != 10 or bool(re.search(r"(?i:\b(?:on|since|from|until|by|due|dated)\s*)$", text[: match.start()]))
