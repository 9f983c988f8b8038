"""Strict mode: after every recognizer, a word stays only if it is known to be safe.

Philter's approach (UCSF): instead of finding every kind of identifier, keep only what is known
not to be one. A word survives when it is a common English word or a clinical term (the lexicon),
and is not used as a name there (the recognizers have already taken those); a number survives when
it is a clinical value in its context (a dose with its unit, a lab value after the test's name, a
decimal, a time, a small count, a blood pressure or a pain score); a mix of letters and digits
survives when it is a clinical code ("a1c", "b12", "500mg", "q6h"). Everything else is replaced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.phi.around import after_drug
from bot.phi.lexicon import Lexicon
from bot.phi.names import STOP_WORDS
from bot.phi.tokens import (
    CODE,
    DIMENSIONS,
    ORDINAL,
    PLACEHOLDER,
    SCALE_BEFORE,
    TITLES,
    UNIT_AFTER,
    Piece,
    capital_runs,
    date_like,
    duration,
    joined,
    mostly_title,
    mostly_upper,
    pieces,
)
from bot.phi.venues import FUNCTION_WORDS

# Lines a traceback is made of: code locations, not data.
FRAME_LINE = re.compile(r'^\s*File "[^"\n]+\.py", line \d+, in [\w<>.]+\s*$', re.MULTILINE)
# An exception's dotted type ("rasa.utils.endpoints.ClientResponseError"): code, not data.
EXCEPTION_PATH = re.compile(r"\b[a-z_]\w*(?:\.[a-z_]\w*)+\.[A-Z]\w*(?:Error|Exception|Warning|Timeout|Rejection|Exit)\b")
# A source file's path ("/srv/venv/lib/python3.10/site-packages/rasa/core/processor.py:994").
SOURCE_PATH = re.compile(r"(?<![\w/])(?:/[\w.+-]+)+\.py\b(?::\d+)?")
# A logger's or a module's dotted name ("rasa.core.processor", "sqlalchemy.engine.Engine") and a logging
# level in capitals: the software's own words, kept when the head is a package the lexicon knows.
DOTTED_NAME = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?![\w.])")
JOINED_ABBREVIATION = re.compile(r"(?<![\w/&])[A-Za-z0-9]{1,4}(?:[/&][A-Za-z0-9]{1,4})+(?![\w/&])")
LEVEL_NAME = re.compile(r"\b(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|NOTSET)\b")
AGE_AFTER = re.compile(r"\s*-?\s*(?:y|yo|y/o|y\.o\.|yr|yrs|year|years|-year-old|year-old)\b", re.IGNORECASE)
AGE_BEFORE = frozenset(["age", "aged", "is", "turned", "turns", "turning"])
DATE_CUES = frozenset(["on", "since", "from", "until", "till", "by", "before", "after", "dated", "due", "born", "dob", "date"])
SCALE_CUES = frozenset(["pain", "rated", "rate", "rating", "scale", "score", "level", "vision"])
# how often a dose is taken: "metformin 1000 BID", "ASA 81 daily" make the number before them a dose
FREQUENCIES = frozenset(["bid", "tid", "qid", "qd", "qod", "qhs", "qam", "qpm", "hs", "prn", "daily", "nightly", "weekly"])
# words a stage or a grade follows ("stage 3a"); a disease's abbreviation in capitals does too ("CKD 3a")
STAGED = frozenset(["stage", "grade", "type", "class", "level", "tier"])
# a clinic's own places: "Bed 12B", "rm 3", "bay 4A" number a bed or a room, no person ("apt 3B" does)
CLOCK = re.compile(r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:am|pm|a|p|h|hrs)?", re.IGNORECASE)
DECADE = re.compile(r"(\d{2,3})['’]?s")  # "200s", "120s", "two 58s", "90s"
DECADE_OWNERS = frozenset(["his", "her", "their", "my", "your", "early", "mid", "late", "in"])
CARD_CODES = frozenset(["cvv", "cvc", "cvv2", "cvc2", "csc", "cid"])
ROOM_WORDS = frozenset(["bed", "room", "rm", "bay", "exam", "pod", "station", "floor"])


def _number_ok(text: str, items: list[Piece], i: int, lex: Lexicon) -> str | None:
    """None when the number is a clinical value or a count; else the entity it is taken as."""
    p = items[i]
    raw = p.text
    before_char = text[p.start - 1 : p.start]
    after = text[p.end : p.end + 2]
    nxt = items[i + 1] if i + 1 < len(items) and joined(text, p, items[i + 1], r"\s*-?\s*") else None
    unit_after = nxt is not None and (nxt.word in lex.units or nxt.lower.split("/")[0] in lex.units
                                      or nxt.word in FREQUENCIES)
    prev_words = [items[k].word for k in range(max(0, i - 3), i)]
    measured = any(w in lex.measures for w in prev_words[-2:])
    if DIMENSIONS.fullmatch(raw) or CLOCK.fullmatch(raw):
        return None  # a wound's size: 2x3cm, 1.5x2x0.5; a time: 8:52am
    decade = DECADE.fullmatch(raw)
    if decade:  # "sugars in the 200s", "BG 120s"; "in her 90s" is an old person's age
        return "AGE" if int(decade.group(1)) >= 90 and prev_words and prev_words[-1] in DECADE_OWNERS else None
    if re.search(r"\d[A-Za-z]", raw):  # glued letters: 500mg, 3pm, 2nd, 1EG4
        digits, letters = re.match(r"([\d.,]+)(.*)", raw).groups()  # type: ignore[union-attr]
        if ORDINAL.fullmatch(raw.lower()) or letters.lower() in lex.units or CODE.fullmatch(raw.lower()) or \
                re.fullmatch(r"(?:m|cm|mm|km)[23]", letters.lower()):  # 1.73m2: an area
            return None
        if prev_words and prev_words[-1] in ROOM_WORDS and len(raw) <= 4:
            return None  # "Bed 12B"
        if re.fullmatch(r"\d{1,3}[MF]", raw):
            return "AGE" if int(digits) >= 90 else None  # "34M", "72F": a note's age and sex
        if re.fullmatch(r"\d[a-dA-D]", raw) and i > 0 and (prev_words[-1] in STAGED or (
                items[i - 1].upper and prev_words[-1] in lex.abbreviations)):
            return None  # "CKD 3a", "stage 2b", "type 1a": a stage, no house
        return "OTHER_ID"
    if ":" in raw or before_char == "$" or after[:1] == "%":
        return None
    if text[p.end : p.end + 1] == "/" or before_char == "/":
        return _fraction(text, items, i, lex)
    chain = re.match(r"[\d-]*", text[p.start : p.start + 40])
    back = re.search(r"[\d-]*$", text[max(0, p.start - 40) : p.start])
    dashed = (back.group(0) if back else "") + (chain.group(0) if chain else "")
    if dashed.count("-") >= 1 and len(re.sub(r"\D", "", dashed)) >= 6 and (
            not re.match(r"\d+-\d+$", dashed) or re.search(r"-0|\d{5}", dashed)):
        return "OTHER_ID"  # 560-40-78-5, 4417-9921-33, 24-008812: pieces of one number (280-300 is a range)
    if _spaced_identifier(text, p.start, lex):
        return "OTHER_ID"  # "BCX 882 104 557": one identifier written in groups
    digits = re.sub(r"\D", "", raw)
    if "." in raw:
        return None if raw.count(".") == 1 and len(raw.split(".")[0]) <= 4 else "OTHER_ID"
    if len(digits) >= 9:
        return "OTHER_ID"
    if len(digits) == 5 and _procedure_code(items, i):
        return None  # "CPT 99214", "93306 echo with modifier 26": a billing code, the same for every patient
    if "," in raw or len(digits) >= 4:
        if unit_after or (measured and len(digits) <= 6):
            return None
        return "DATE" if re.fullmatch(r"(?:19|20)\d\d", raw) else "OTHER_ID"
    if prev_words and prev_words[-1] in CARD_CODES:
        return "OTHER_ID"  # "CVV 372": a card's security code
    if before_char == "#":
        return None  # "#90" after a dose: a count dispensed, no age (a store's "#4471" is the name lists')
    if int(digits) >= 90 and (AGE_AFTER.match(text, p.end) or (prev_words and prev_words[-1] in AGE_BEFORE
                                                                  and not unit_after and not measured)):
        return "AGE"
    if 90 <= int(digits) <= 119 and not unit_after and not measured and not _valued(text, items, i, lex):
        return "AGE"  # "Wendell Ashby, 92, was a foreman": a number of an old person's years, nothing measured
    return None


# procedure and billing codes: five digits beside these words
CODE_CUES = frozenset(["cpt", "hcpcs", "procedure", "proc", "code", "codes", "coded", "modifier", "billed", "bill", "e/m"])


def _procedure_code(items: list[Piece], i: int) -> bool:
    near = [items[k].word for k in range(max(0, i - 2), min(len(items), i + 4)) if k != i]
    return any(w in CODE_CUES for w in near)


_SPELLED_UNITS = frozenset(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
_COUNTED = re.compile(r"[\s-]*(?:dollars?|bucks|cents|percent|pounds?|lbs?|degrees?|seconds?|minutes?|mins?|hours?|"
                      r"hrs?|days?|weeks?|months?|times|over|out|/|%)\b", re.IGNORECASE)


def _spelled_age(text: str, items: list[Piece], i: int, lex: Lexicon) -> str | None:
    """"ninety", "ninety-four", "Ninety one": a number in words is judged as the same number in digits is, so
    90 and over with nothing measured or counted is an old person's age ("now ninety-four", "Ninety-one and
    still working"), while "ninety minutes", "ninety over sixty" and "heart rate ninety" stay."""
    p = items[i]
    if p.lower in _SPELLED_UNITS and i > 0 and items[i - 1].lower == "ninety" and joined(text, items[i - 1], p, r"[\s-]"):
        return _spelled_age(text, items, i - 1, lex)  # the "four" of "ninety-four"
    if p.lower != "ninety" or (i > 0 and items[i - 1].lower in _SPELLED_UNITS | {"hundred"}):
        return None
    end = i + 1 if i + 1 < len(items) and items[i + 1].lower in _SPELLED_UNITS and \
        joined(text, p, items[i + 1], r"[\s-]") else i
    nxt = items[end + 1] if end + 1 < len(items) else None
    if _COUNTED.match(text, items[end].end) or (nxt is not None and (nxt.word in lex.units or nxt.word in lex.measures)):
        return None
    if any(items[k].word in lex.measures for k in range(max(0, i - 2), i)):
        return None
    return "AGE"


# the groups end where a digit does not follow; a full stop or a comma that ends the sentence may ("KSH 447 019 822.")
_SPACED_GROUPS = re.compile(r"(?<![\d.,/])(?:\d{2,5} ){2,}\d{2,5}(?!\d|[.,/]\d)")


def _spaced_identifier(text: str, at: int, lex: Lexicon) -> bool:
    """The number at ``at`` is one group of an identifier written in groups of digits (9 digits or more in all),
    not a list of readings after a measure ("glucose 110 120 135")."""
    for m in _SPACED_GROUPS.finditer(text, max(0, at - 24), min(len(text), at + 30)):
        if m.start() <= at < m.end():
            before = re.findall(r"[a-z0-9]+", text[max(0, m.start() - 30) : m.start()].lower())[-2:]
            return len(re.sub(r"\D", "", m.group(0))) >= 9 and not any(
                w in lex.measures or w.rstrip("s") in lex.measures for w in before)
    return False


def _valued(text: str, items: list[Piece], i: int, lex: Lexicon) -> bool:
    """A number with a clinical word or another number in the same phrase ("a fever of 102", "102
    fever", "110 over 70"); commas end the phrase ("Wendell Ashby, 92, was a foreman" is an age)."""
    def clinical(q: Piece) -> bool:
        return q.digits or (q.word in lex.clinical and q.word not in STOP_WORDS and q.word not in AGE_BEFORE
                            and not lex.is_name(q.word))

    k = i
    while k > 0 and i - k < 3 and joined(text, items[k - 1], items[k], r"[ \t]+|[ \t]*[:=][ \t]*"):
        k -= 1
        if clinical(items[k]):
            return True
    return i + 1 < len(items) and joined(text, items[i], items[i + 1], r"[ \t]+") and clinical(items[i + 1])


def _fraction(text: str, items: list[Piece], i: int, lex: Lexicon) -> str | None:
    """3/12 and 3/80 are dates, 7/10 a pain score, 1/2 a tablet, 120/80 a blood pressure."""
    p = items[i]
    chain = None
    for m in re.finditer(r"[\w-]+(?:/[\w-]+)+", text[max(0, p.start - 24) : p.end + 24]):
        offset = max(0, p.start - 24)
        if m.start() + offset <= p.start < m.end() + offset:
            chain = (m, offset)
            break
    if chain is None:
        return None
    m, offset = chain
    parts = m.group(0).split("/")
    if not all(x.isdigit() for x in parts) or len(parts) != 2 or any(len(x) > 3 for x in parts):
        # not a fraction ("XW277/90683"): judge the number alone
        return _number_ok(text.replace("/", " "), items, i, lex) if len(p.text) >= 4 else None
    a, b = (int(x) for x in parts)
    whole = FRACTION.match(text, m.start() + offset)
    assert whole is not None
    if date_like(text, whole) and not after_drug(text, whole.start(), lex):  # "Suboxone 8/2" is a dose
        return "DATE"
    if 1 <= a <= 12 and b >= 32 and len(parts[1]) == 2 and not UNIT_AFTER.match(text, whole.end()) and not \
            SCALE_BEFORE.search(text[: whole.start()][-24:]) and not duration(text, whole.start(), whole.end()):
        return "DATE"  # month and two-digit year: "since 3/80"
    return None


FRACTION = re.compile(r"\d+/\d+")


CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


WEEKDAYS_MONTHS = frozenset(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
)


def _word_ok(p: Piece, lex: Lexicon, plain: bool = False) -> str | None:
    """``plain``: the text is written in ordinary case, so a capital in mid-sentence marks a name."""
    w = p.lower
    if p.word in lex.clinical or (p.upper and p.word in lex.abbreviations):
        return None  # "DOE" (dyspnea on exertion) and "HA" in capitals are abbreviations, not names
    if plain and p.capitalised and not p.upper and not p.sentence_start and p.alpha and len(p.word) > 2 \
            and p.word not in STOP_WORDS and p.word not in WEEKDAYS_MONTHS and p.word not in TITLES \
            and not w.startswith("i'") and p.text[1:].islower():
        # "fell at Walgreens", "works for Amazon": a capital in mid-sentence on a word that is no
        # clinical term is a name of someone or something, whatever else the word means.
        return "PERSON" if lex.is_name(p.word) else "LOCATION" if p.word in lex.places else "REDACTED"
    if (p.capitalised or p.upper) and len(p.word) > 2 and p.word not in STOP_WORDS and p.word not in lex.plain and (
        lex.is_name(p.word) or p.word in lex.places
    ):
        # A capitalised word that is also a name or a place goes, even at the start of a sentence or in
        # a note written in capitals ("Rose called", "WIFE JOY AT BEDSIDE"): a log loses "Will" or "Hope"
        # at the head of a sentence, and no name slips through as an everyday word. Surnames that are
        # very common words stay there ("PT STATES", "Went home"); a cue or a name beside them still counts.
        return "LOCATION" if p.word in lex.places and not lex.is_name(p.word) else "PERSON"
    if w in lex.safe or p.word in lex.safe:
        return None
    parts = CAMEL.findall(p.text)
    if len(parts) > 1 and "".join(parts) == p.text and all(x.lower() in lex.safe for x in parts):
        return None  # ClientResponseError, HTTPException: code, made of safe words
    if "'" in w:
        base, _, suffix = w.partition("'")
        if suffix in ("s", "t", "m", "re", "ll", "ve", "d") and (base in lex.safe or w.replace("'", "") in lex.safe):
            return None
    if any(c.isdigit() for c in w):
        return None if CODE.fullmatch(w) else "OTHER_ID"
    if len(w) == 1:
        return None
    if lex.is_name(p.word):
        return "PERSON"
    if p.word in lex.places:
        return "LOCATION"
    return "REDACTED"


EVERYDAY_ZIPF = 4.0  # wordfreq: "long" 5.6, "page" 5.0; "metformin" and "tylenol" under 3


def _surname(text: str, items: list[Piece], i: int, taken: Sequence[tuple[int, int, str]],
             found: Sequence[tuple[int, int]], lex: Lexicon) -> str | None:
    """"Faith Long", "Grace Page": a capitalised word right after a forename already taken (by a recognizer or as a
    name here) is its surname, even when it is an everyday word (Philter's lists leave such surnames out); not a
    function word ("Joy Will call"), a drug or other clinical term that is no everyday word, or an abbreviation."""
    p = items[i]
    if i == 0 or not p.capitalised or p.upper or not p.alpha or len(p.word) < 2 or p.word in FUNCTION_WORDS \
            or p.word in lex.abbreviations:
        return None
    forename = items[i - 1]
    if text[forename.end : p.start] != " " or not forename.capitalised or forename.word not in lex.first_names:
        return None
    if not ((taken and taken[-1][2] == "PERSON" and taken[-1][1] == forename.end)
            or any(a <= forename.start and forename.end <= b for a, b in found)):
        return None
    from wordfreq import zipf_frequency

    # an everyday word is a surname there even when the clinical list has it ("long", "page"); a drug is not
    return None if p.word in lex.clinical and zipf_frequency(p.word, "en") < EVERYDAY_ZIPF else "PERSON"


def _title_runs(text: str, items: list[Piece], lex: Lexicon) -> list[tuple[int, int]]:
    """Capitalised words in a row in the middle of a sentence, none of them clinical: a name of some
    organisation or place ("Summit Orthopedics", "Swift Freight") even when each word is everyday."""
    if mostly_upper(text) or mostly_title(items):
        return []
    return [(run[0].start, run[-1].end) for run in capital_runs(text, items, r" ")
            if len(run) >= 2 and not run[0].sentence_start and not any(p.word in lex.clinical for p in run)]


def _covered(text: str, span: tuple[int, int], found: Sequence[tuple[int, int]]) -> bool:
    """Every word of ``span`` is inside one of the ``found`` spans."""
    words = [(span[0] + m.start(), span[0] + m.end()) for m in re.finditer(r"\w+", text[span[0] : span[1]])]
    return all(any(a <= start and end <= b for a, b in found) for start, end in words)


_AFTER_SEPARATOR = re.compile(r"\s[-–—|]\s+$")


def code_spans(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """Logger and module names whose head is an installed or pinned package, logging levels, and the
    medical abbreviations written with "/" or "&" ("N/V", "A&O", "s/p")."""
    spans = [m.span() for m in DOTTED_NAME.finditer(text) if m.group(1) in lex.code]
    spans += [m.span() for m in JOINED_ABBREVIATION.finditer(text) if m.group(0).lower() in lex.abbreviations]
    return spans + [m.span() for m in LEVEL_NAME.finditer(text)]


def strict_spans(
    text: str, found: Sequence[tuple[int, int]], allowed: Sequence[tuple[int, int]], lex: Lexicon
) -> list[tuple[int, int, str]]:
    """Spans the strict pass removes, outside those already ``found`` and the ``allowed`` ones
    (the allow-list, traceback lines)."""
    items = pieces(text)
    plain = not (mostly_upper(text) or mostly_title(items))
    runs = [r for r in _title_runs(text, items, lex) if not any(a < r[1] and r[0] < b for a, b in allowed)
            and not _covered(text, r, found)]  # "Leopold Haines", found as a name, stays a <NAME>
    protected = sorted([*found, *allowed, *runs, *(m.span() for m in FRAME_LINE.finditer(text)),
                        *(m.span() for m in PLACEHOLDER.finditer(text))])
    out: list[tuple[int, int, str]] = [(start, end, "ORG") for start, end in runs]
    k = 0
    for i, p in enumerate(items):
        while k < len(protected) and protected[k][1] <= p.start:
            k += 1
        if k < len(protected) and protected[k][0] < p.end:
            continue
        # a log line's message starts after its separator ("rasa.core.processor  - Failed to run ..."): its
        # first word is capitalised as a sentence's is, not as a name is
        opens = plain and not _AFTER_SEPARATOR.search(text, max(0, p.start - 4), p.start)
        if p.text[0].isdigit():
            entity = _number_ok(text, items, i, lex)
        else:
            entity = _spelled_age(text, items, i, lex) or _word_ok(p, lex, opens) or _surname(text, items, i, out, found, lex)
        if entity:
            if out and out[-1][2] == entity and re.fullmatch(r"[\s.,'’/-]*", text[out[-1][1] : p.start]):
                out[-1] = (out[-1][0], p.end, entity)
            else:
                out.append((p.start, p.end, entity))
    return out
