"""A patient's own number, placed in the band the lab documents define: "my a1c is 5.9" -> "An A1c result of 5.9 %
is in the prediabetes range, 5.7 % to 6.4 %." Nothing is generated and nothing is diagnosed.

The test is the one the question names (the documents' vocabulary, knowledge/vocabulary.py); the number is the one
nearest after it (else before it). Ages, durations, times, dates and numbers in the units of other things are not
results ("a psa test at 60", "fasting 8 hours", "rides 30 miles"). A number the documents have no band for, one in
another unit, or one ten times past every bound is not interpreted: the question then goes the usual way. A value in
the clinic's critical range is not placed at all: the question goes to the care team.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.ranges import TestRange
from knowledge.sentences import PEOPLE_WORDS, asking_sentences
from knowledge.vocabulary import Vocabulary

# A number joined by a dash to the next is no result: the low end of a reference range pasted from a report ("AST 41 H
# [8-33 U/L]", "(7-20)", "target 2.0-3.0") or part of a name ("25-hydroxy", "24-hour urine"); nor a dipstick's grade
# ("leukocyte esterase 2+").
_NUMBER = re.compile(r"(?<![\w.,/:\-–])(\d+(?:\.\d+)?)(?![\w/:+\-–]|\.\d)\s*(%|[a-zµ]+/[a-z0-9.]+|[a-z]+)?", re.I)
# A number followed by the unit of something else is no result either: a distance, a duration, a weight, a count of
# doses, drinks or steps ("rides his bike 30 miles", "drank 3 cups of coffee", "lost 12 lbs", "2 capsules").
_NOT_A_RESULT_AFTER = re.compile(
    r"^(years?|yrs?|yo|y/o|year-old|months?|mos?|weeks?|wks?|days?|nights?|hours?|hrs?|h|minutes?|mins?|seconds?|secs?|"
    r"am|pm|a\.m|p\.m|times|x|"
    r"pills?|tablets?|capsules?|caps|softgels?|gumm(y|ies)|doses?|shots?|puffs?|drops|mg|mcg|units?|iu|ml|"
    r"kids?|children|lbs?|pounds|kg|kilos?|oz|ounces?|stones?|"
    r"miles?|mi|km|kms|kilomet(er|re)s?|met(er|re)s?|feet|ft|laps?|blocks?|steps?|floors?|flights?|reps?|sets?|"
    r"cups?|glasses|bottles?|cans?|drinks?|beers?|servings?|cigarettes?|cigs|packs?|degrees?|bpm)$", re.I)
# ... nor a number that names a kind or a step: "type 2 diabetes", "stage 3 kidney disease"; nor a bound asked about:
# "what does it mean if egfr is under 60" asks what under 60 means (it was placed as "an eGFR of 60 is within the
# typical adult range"), and "a1c over 7" is no value to place in a band either.
_NOT_A_RESULT_BEFORE = re.compile(r"(\b(at|age|aged|since|in|for|after|every|past|last|over the last|type|stage|grade|"
                                  r"class|phase|step|under|below|above|over|less than|more than|greater than|"
                                  r"higher than|lower than|at least|at most)|[<>≤≥]=?)\s*$", re.I)
# ... nor a bound the report or the clinician set: "target 2.0 to 3.0", "ref: 30", "goal is 7", "(<4.0)".
_BOUND_BEFORE = re.compile(r"\b(target|goal|ref|reference|normal range|typical range)\b[\s:=]*((is|of|range|was|=)[\s:]*)?$",
                           re.I)
_RANGE_BETWEEN = re.compile(r"\s*(-|–|to)\s*", re.I)
_FROM, _TO = re.compile(r"\bfrom\s*$", re.I), re.compile(r"\s*(%|[a-zµ]+/[a-z0-9.]+)?\s*(to|->|→|=>)\s*", re.I)
_SENTENCE_END = re.compile(r"[.!?](?!\d)|\s/\s")  # a full stop (not a decimal point), or " / " between two questions
# A number said of a person before the test is named is their age: "i'm 52 and my a1c", "my husband is 67, his ldl".
_OF_A_PERSON = r"i am|i'm|im|(he|she|they) (is|are)|(he|she)'s"
_AGE_BEFORE = re.compile(rf"\b({_OF_A_PERSON}|"
                         r"my (?!(result|level|number|reading|value|score|lab|test)s?\b)\w+ (is|turned|just turned))\s*$", re.I)
# ... and a whole number said of a person anywhere is their age: "my ALP came back high but im 16", "he is 8".
_PERSON_BEFORE = re.compile(rf"\b({_OF_A_PERSON}|i’m|(i|he|she) (just )?turned)\s*$", re.I)


def _unit_after(match: re.Match[str]) -> str:
    """The word after a number of :data:`_NUMBER`: "16 ng/mL." ends a sentence, and the unit is "ng/mL"."""
    return (match.group(2) or "").strip().rstrip(".")


def _counts_something(match: re.Match[str]) -> bool:
    """A number of :data:`_NUMBER` followed by the unit of something else: no result. "41 H" is a report's flag for
    high, not hours."""
    after = _unit_after(match)
    return after != "H" and bool(_NOT_A_RESULT_AFTER.match(after))


def counts_only(text: str) -> bool:
    """Every number in ``text`` counts or times something ("we just moved here with 3 kids", "my 7 yo", "2 days ago"):
    none of them can be a result."""
    return all(_counts_something(m) for m in _NUMBER.finditer(text))


@dataclass(frozen=True)
class Reading:
    code: str
    written: str  # the number as the patient wrote it ("5.9")
    value: float
    unit: str  # the unit the patient wrote, "" when none
    qualifier: str = ""  # the qualifier of the test's table the patient said of themselves ("for women"), else ""


def readings(question: str, vocabulary: Vocabulary, ranges: Mapping[str, TestRange]) -> list[Reading]:
    """Each test the question names with a number that is its result, in the order they appear."""
    mentions = [m for m in vocabulary.test_mentions(question) if m.term.code in ranges]
    if not mentions:
        return []
    numbers, bound_end = [], -1
    for match in _NUMBER.finditer(question):
        if any(m.start <= match.start() < m.end for m in mentions):
            continue  # the 12 of "B12", the 4 of "T4"
        unit_word, hours = _unit_after(match), _counts_something(match)
        said_before = question[: match.start()]
        measured = "/" in unit_word  # "came back at 16 ng/mL": a number in a lab's unit is a result, whatever is before it
        if _BOUND_BEFORE.search(said_before) or (bound_end >= 0 and _RANGE_BETWEEN.fullmatch(
                question[bound_end:match.start()])):  # "ref range 30 - 100": the 100 ends the bound the 30 began
            bound_end = match.end(1)
            continue
        if hours or (_NOT_A_RESULT_BEFORE.search(said_before) and not measured) or (
                "." not in match.group(1) and _PERSON_BEFORE.search(said_before)):
            continue
        unit = unit_word if ("/" in unit_word or unit_word == "%") else ""
        numbers.append((match.start(), match.group(1), unit))
    found: list[Reading] = []
    used: set[int] = set()
    fewer = len(numbers) < len({m.term.code for m in mentions})  # not a list ("hdl and ldl are 45 and 130")
    for mention in mentions:
        # with fewer numbers than tests, a number after another test's name is that test's: "my cholesterol ... my
        # triglycerides were 290"
        after = [n for n in numbers if n[0] >= mention.end and n[0] not in used
                 and not (fewer and any(mention.end <= m.start and m.end <= n[0] and m.term.code != mention.term.code
                                        for m in mentions))]
        # a number before the name is its result only in the same sentence: not "Dad is 80 ... can that affect his B12?"
        before = [n for n in numbers if n[0] < mention.start and n[0] not in used
                  and not _SENTENCE_END.search(question[n[0] + len(n[1]):mention.start])]
        before = [n for n in before if not _AGE_BEFORE.search(question[: n[0]])]  # "my dad is 74 and his psa ..."
        pick = after[0] if after else (before[-1] if before else None)
        if pick is None or any(r.code == mention.term.code for r in found):
            continue
        later = after[1] if len(after) > 1 and after[0] is pick else None
        if later is not None and _FROM.search(question[: pick[0]]) and _TO.fullmatch(
                question[pick[0] + len(pick[1]):later[0]]):  # "went from 2.4 to 3.4": the 3.4 is now
            used.add(pick[0])
            pick = later
        used.add(pick[0])
        found.append(Reading(mention.term.code, pick[1], float(pick[1]), pick[2]))
    return found


def stated_qualifier(question: str, test: TestRange) -> str:
    """The one qualifier of the test's table whose words the question says, in the documents' words for people
    (knowledge/sentences.py: PEOPLE_WORDS): "hdl 44, im a woman" -> "for women"; "" when it says none, or more."""
    said = {PEOPLE_WORDS.get(w, w) for w in re.findall(r"[a-z]+", question.lower())}
    found = [q for q in test.groups() if q and _words_of(q) <= said]
    return found[0] if len(found) == 1 else ""


def for_another(text: str, test: TestRange, qualifier: str) -> bool:
    """Whether a sentence speaks of another qualifier of the test's table than ``qualifier`` and not of it ("For men,
    an HDL under 40 mg/dL is low ..." to a woman); False when ``qualifier`` is ""."""
    said = set(re.findall(r"[a-z]+", text.lower()))
    others = [q for q in test.groups() if q and q != qualifier and _words_of(q) <= said]
    return bool(qualifier) and bool(others) and not _words_of(qualifier) <= said


def _words_of(qualifier: str) -> set[str]:
    return set(re.findall(r"[a-z]+", qualifier.lower())) - {"for"}


def interpretable(reading: Reading, test: TestRange) -> bool:
    if reading.unit and not test.measures_in(reading.unit):
        return False
    return test.plausible(reading.value)


def is_critical(reading: Reading, critical: Mapping[str, Mapping[str, float]]) -> bool:
    limits = critical.get(reading.code) or {}
    low, high = limits.get("low"), limits.get("high")
    return (low is not None and reading.value <= low) or (high is not None and reading.value >= high)


def _article(name: str) -> str:
    """'An A1c', 'A potassium', 'An LDL', 'An HDL'; 'Triglycerides' take none."""
    first = name.split()[0]
    if first.lower().endswith("s") and not first.isupper():
        return ""
    if first[:2].isupper() or (first[:1].isupper() and any(c.isdigit() for c in first)):
        return "An " if first[0] in "AEFHILMNORSX" else "A "
    if re.match(r"u[nr]i|use|eu", first, re.I):
        return "A "  # "a urine", "a unit"
    return "An " if first[0].lower() in "aeiou" else "A "


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _with_unit(written: str, unit: str) -> str:
    return f"{written} {unit}".strip() if unit else written


def describe(reading: Reading, test: TestRange) -> str:
    """One plain sentence placing the value in the document's band (or against its typical range)."""
    article = _article(test.name)
    subject = f"{article}{test.name if article else test.name[:1].upper() + test.name[1:]} of " \
              f"{_with_unit(reading.written, test.unit)}"
    verb = "are" if not article else "is"
    placements = test.place(reading.value, reading.qualifier)
    if test.banded:
        band = placements[0].band
        label = band.label.rstrip(".")
        if label.lower().endswith("range"):
            return f"{subject} {verb} in the {_lower(label)}, {_lower(band.written)}."
        return f"{subject} {verb} in the {_lower(band.written)} range: {_lower(label)}."
    parts: list[str] = []
    previous = ""
    for placement in placements:
        band = placement.band
        where = {"low": "below", "high": "above"}.get(placement.flag or "", "within")
        qualifier = f"{band.qualifier} " if band.qualifier else ""
        if not parts:
            parts.append(f"{where} the {test.kind} {qualifier}({_lower(band.written)})")
        else:
            parts.append(f"{'' if where == previous else where + ' it '}{qualifier}({_lower(band.written)})")
        previous = where
    return f"{subject} {verb} {' and '.join(parts)}."


# What a patient asks of their own number when they only ask where it falls: "is that bad", "should I be worried
# about that", "is that considered a healthy level", "it is good or not good?". Every word of the asking sentence
# must be one of these (after the test's names and the number are taken out).
_WHERE_IT_FALLS = frozenset([
    "is", "it", "that", "this", "bad", "ok", "okay", "normal", "healthy", "good", "high", "low", "too", "considered",
    "a", "level", "range", "should", "i", "we", "be", "worried", "worry", "concerned", "concerning", "about", "or",
    "not", "what", "does", "do", "mean", "so", "still", "really", "very", "fine", "of",
    # the number given in the same sentence: "my potassium was 5.2 is that bad", "his sugar came back 140, ok?"
    "my", "his", "her", "was", "were", "came", "back", "result", "reading", "level's", "levels"
])


def asks_where_it_falls(question: str, names: Sequence[str]) -> bool:
    """The question gives a number and asks only where it falls or whether to worry about it: each sentence that
    asks (ends in "?", or the last one) is made of those words alone once the test's ``names`` and the numbers are
    taken out. Other sentences say something ("I'm 72.", "fasting sugar was 104 this morning.")."""
    asking = asking_sentences(question)
    for sentence in asking:
        text = sentence.lower()
        for name in sorted(names, key=len, reverse=True):
            text = re.sub(rf"(?<![a-z0-9]){re.escape(name.lower())}(?![a-z0-9])", " ", text)
        words = re.findall(r"[a-z']+", re.sub(r"\d+(\.\d+)?", " ", text))
        if not words or any(w not in _WHERE_IT_FALLS for w in words):
            return False
    return bool(asking)
