"""Identifiers as British notes and most of the world write them.

The US shapes are in :mod:`bot.phi.recognizers`; a clinic's inbox also gets dates written day first
("14/03/1957", "22.01.2025", "on 09.09"), postcodes ("RG4 7HN") and the town before them, addresses
whose street ends in a British word ("27b Kingfisher Close", "5 Meadow View") and the town after them,
registration plates ("KX19 RTF"), a patient written as the register writes one: "Pt O'NEILL,
Siobhan", "Pt D. SUMMERS", "Pt PATEL R.", a reference written in groups of digits after its label ("UBRN
0001 2345 6789", "booking ref 482 119 0034") and a card by its last four digits ("card ending 4417"). The British notation for a length of time ("x3/7",
"Review 4/52") is a duration, not a date (:func:`bot.phi.tokens.duration`).
"""

from __future__ import annotations

import re

from bot.phi.recognizers import NUM_DAY, NUM_MONTH, SEP, YEAR, LabelledRecognizer, preceded_by, rule
from bot.phi.tokens import TITLES, UNIT_AFTER

# outward and inward code: "SL7 2QT", "RG4 7HN", "EC1A 1BB", "M1 1AE"
POSTCODE = r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)[ \t]?\d[ABD-HJLNP-UW-Z]{2}\b"
# street words British addresses end in, written with their capital (the US list is recognizers.STREET_SUFFIX)
STREET_END = (r"(?:Close|View|Mews|Rise|Gardens|Grove|Walk|Green|Parade|Croft|Crescent|Way|Lane|Road|Rd|Street|St|"
              r"Avenue|Ave|Drive|Court|Place|Terrace|Row|Hill|Square)")
STREET = rf"(?<![\d)(/.-])\b\d{{1,5}}[A-Za-z]?[ \t]+(?:[A-Z][a-z'’-]+[ \t]+){{1,3}}{STREET_END}\b"
TOWN = r"(?P<v>[A-Z][a-z]+(?:[ \t][A-Z][a-z]+)?)"
SURNAME = r"[A-Z][A-Z'’]+(?:-[A-Z][A-Z'’]+)?"
FORENAME = r"[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?"
PATIENT_CUE = r"\b(?i:pt|patient|mr|mrs|ms|miss|mx|re|nok)\.?:?[ \t]+"


def _town(_text: str, match: re.Match[str]) -> bool:
    from bot.phi.lexicon import load

    lex = load()
    return all(w.lower() not in TITLES and w.lower() not in lex.clinical for w in match.group("v").split())


def _register_name(_text: str, match: re.Match[str]) -> bool:
    """"O'NEILL, Siobhan": the forename after the comma is one the lists know."""
    from bot.phi.lexicon import load

    forename = match.group("v").split(",")[1].strip().split("-")[0].lower()
    return load().is_name(forename)


def _initial_name(_text: str, match: re.Match[str]) -> bool:
    """"D. SUMMERS", "PATEL R.": the word in capitals is a name and no clinical term ("R. ARM")."""
    from bot.phi.lexicon import load

    lex = load()
    word = re.sub(r"[^a-z'’-]", "", match.group("s").lower())
    return lex.is_name(word) and word not in lex.clinical


def _no_unit(text: str, match: re.Match[str]) -> bool:
    return not UNIT_AFTER.match(text, match.end())


DATE_RULES = [
    # 14/03/1957, 22.01.2025, 3-11-88: day first (the month-first shape is recognizers.DATE_RULES')
    rule(rf"\b{NUM_DAY}([/.-]){NUM_MONTH}\1(?:{YEAR}|\d\d)\b(?![/.-]\d)", 0.75),  # under a DOB of the same span
    # "on 09.09", "since 01.03": day and month with a dot after a date word
    rule(r"(?i:\b(?:on|since|until|till|dated)[ \t]+)(?P<v>(?:0[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2]))(?![\d.]\d)",
         0.7, 0, _no_unit),
]
ZIP_RULES = [rule(POSTCODE, 0.8)]
TOWN_RULES = [
    # "..., Marlow SL7 2QT": the town before a postcode
    rule(rf",[ \t]+{TOWN},?[ \t]+{POSTCODE}", 0.7, 0, _town),
    # "14 Harvest Rd, Tilehurst.": the town after a street, ending the clause
    rule(rf"{STREET}\.?,[ \t]+{TOWN}(?=[ \t]*(?:[,.;)]|$))", 0.6, re.MULTILINE, _town),
]
ADDRESS_RULES = [
    rule(STREET, 0.7),
    # "Hillside Farm, Long Lane, Sandy": a street without its number, between commas
    rule(rf"(?<=,[ \t])(?P<v>[A-Z][a-z]+[ \t]{STREET_END})(?=[ \t]*,)", 0.6),
    # "Flat 3, 41 Gay Street": the flat before the house number
    rule(r"\b(?i:flat|apartment|apt)[ \t]+\d{1,4}[A-Za-z]?,?(?=[ \t]+\d{1,5}[A-Za-z]?[ \t]+[A-Z])", 0.7),
]
PLATE_RULES = [
    # the current British shape: two letters, two digits, three letters ("KX19 RTF")
    rule(r"\b[A-Z]{2}\d{2}[ \t]?[A-Z]{3}\b", 0.8),
    rule(rf"(?i:\b(?:reg|registration)(?:\s+(?:no|number|plate|mark))?){SEP}"
         r"(?P<v>(?=[A-Z0-9 ]*\d)[A-Z0-9]{2,4}[ \t]?[A-Z0-9]{3})\b", 0.9),
]
PERSON_RULES = [
    rule(rf"{PATIENT_CUE}(?P<v>{SURNAME},[ \t]+{FORENAME})\b", 0.85, 0, _register_name),
    rule(rf"{PATIENT_CUE}(?P<v>[A-Z]\.[ \t]?(?P<s>{SURNAME}))\b", 0.85, 0, _initial_name),
    rule(rf"{PATIENT_CUE}(?P<v>(?P<s>{SURNAME})[ \t]+[A-Z]\.)", 0.85, 0, _initial_name),
]


# a number's label: a word that names a reference, or an acronym in capitals ("UBRN", "NHS", "PID")
REFERENCE_WORDS = frozenset(["number", "no", "num", "ref", "reference", "id", "identifier", "booking", "case", "claim",
                             "policy", "account", "acct", "membership", "member", "order", "tracking", "confirmation",
                             "receipt", "registration", "code", "#"])


def _labelled_groups(text: str, match: re.Match[str]) -> bool:
    """Nine digits or more in groups, just after a label, and no measure before them ("glucose 110 120 135")."""
    from bot.phi.lexicon import load

    if len(re.sub(r"\D", "", match.group(0))) < 9:
        return False
    lex = load()
    before = re.findall(r"[A-Za-z]+|#", text[max(0, match.start() - 30) : match.start()])[-3:]
    if any(w.lower() in lex.measures or w.lower().rstrip("s") in lex.measures for w in before):
        return False
    return any(w.lower() in REFERENCE_WORDS or (w.isupper() and 2 <= len(w) <= 6 and w.lower() not in lex.units)
               for w in before)


ID_RULES = [rule(r"(?<![\d.,/])(?:\d{2,5}[ \t]){2,}\d{2,5}(?!\d|[.,/]\d)", 0.8, 0, _labelled_groups)]
# "card ending 4417", "Visa ending in 0093", "last four digits 5521": a card's last digits name the card
CARD_RULES = [
    rule(r"(?i:\b(?:ending|ends)(?:[ \t]+(?:in|with))?)[ \t]*:?[ \t]*(?P<v>\d{4})\b(?![.,/:]\d)", 0.85, 0,
         preceded_by("card|visa|amex|mastercard|debit|credit|account|acct", 40)),
    rule(r"(?i:\blast[ \t]+(?:four|4)(?:[ \t]+digits)?)[ \t]*:?[ \t]*(?P<v>\d{4})\b(?![.,/:]\d)", 0.85),
]


def british_recognizers() -> list[LabelledRecognizer]:
    return [
        LabelledRecognizer("DATE", DATE_RULES, name="DayFirstDateRecognizer"),
        LabelledRecognizer("ZIP", ZIP_RULES, name="PostcodeRecognizer"),
        LabelledRecognizer("LOCATION", TOWN_RULES, name="BritishTownRecognizer"),
        LabelledRecognizer("ADDRESS", ADDRESS_RULES, name="BritishAddressRecognizer"),
        LabelledRecognizer("PLATE", PLATE_RULES, name="BritishPlateRecognizer"),
        LabelledRecognizer("PERSON", PERSON_RULES, name="RegisterNameRecognizer"),
        LabelledRecognizer("OTHER_ID", ID_RULES, name="GroupedReferenceRecognizer"),
        LabelledRecognizer("CREDIT_CARD", CARD_RULES, name="CardEndingRecognizer"),
    ]
