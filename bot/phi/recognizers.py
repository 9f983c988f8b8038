"""Custom Presidio recognizers for the identifiers patients put in messages.

Most identifiers in a clinic's inbox are only recognisable by the label in front of them
("MRN: 00123456", "member id XJH123456789", "plate KJX 4821"). :class:`LabelledRecognizer`
matches a label and a value in one regular expression and reports only the value (the named
group ``v``), so the label and the words around it survive. Shapes that need no label (SSNs,
phone numbers, emails, Medicare numbers, addresses) are matched on their own.

Entity names are this module's; :data:`PLACEHOLDERS` maps each to the typed placeholder the
scrubber writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from bot.phi.phones import WorldPhoneRecognizer

PLACEHOLDERS: dict[str, str] = {
    "PERSON": "<NAME>",
    "DOB": "<DOB>",
    "DATE": "<DATE>",
    "AGE": "<AGE>",
    "PHONE": "<PHONE>",
    "EMAIL": "<EMAIL>",
    "SSN": "<SSN>",
    "MRN": "<MRN>",
    "MEMBER_ID": "<MEMBER_ID>",
    "MBI": "<MBI>",
    "ADDRESS": "<ADDRESS>",
    "ZIP": "<ZIP>",
    "URL": "<URL>",
    "IP_ADDRESS": "<IP>",
    "ACCOUNT": "<ACCOUNT>",
    "CREDIT_CARD": "<CARD>",
    "LICENSE": "<LICENSE>",
    "PLATE": "<PLATE>",
    "ORG": "<ORG>",
    "LOCATION": "<LOCATION>",
    "REDACTED": "<REDACTED>",
    "OTHER_ID": "<ID>",
    "USERNAME": "<USERNAME>",
}

Validator = Callable[[str, re.Match[str]], bool]

ICASE = re.IGNORECASE
# A separator between a label and its value: "MRN: 1", "mrn#1", "id is 1", "no. 1".
SEP = r"\s*(?:(?:is|was|number|num|no\.?|#|:|=)\s*){0,3}"
# Value shapes.
ID_VALUE = r"(?P<v>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,24}[A-Za-z0-9])"
DIGITS_VALUE = r"(?P<v>\d[\d -]{3,22}\d)"


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    score: float
    validator: Validator | None = None


def rule(pattern: str, score: float, flags: int = 0, validator: Validator | None = None) -> Rule:
    return Rule(re.compile(pattern, flags), score, validator)


class LabelledRecognizer(LocalRecognizer):
    """Reports the ``v`` group (or the whole match) of each rule as one entity."""

    def __init__(self, entity: str, rules: Sequence[Rule], name: str | None = None) -> None:
        self.rules = list(rules)
        self.label = name or f"{entity.title()}Recognizer"
        super().__init__(supported_entities=[entity], name=self.label)
        self.entity = entity

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if self.entity not in entities:
            return results
        for r in self.rules:
            for match in r.regex.finditer(text):
                if r.validator is not None and not r.validator(text, match):
                    continue
                group = "v" if "v" in r.regex.groupindex and match.group("v") else 0
                start, end = match.span(group)
                if end > start:
                    results.append(self._result(start, end, r.score))
        return results

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.entity,
            start=start,
            end=end,
            score=score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


# --- validators --------------------------------------------------------------------------------


def luhn_ok(_text: str, match: re.Match[str]) -> bool:
    digits = [int(c) for c in match.group(0) if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def preceded_by(words: str, window: int = 40) -> Validator:
    """The match counts only when one of ``words`` (a regex) appears just before it."""
    cue = re.compile(rf"\b(?:{words})\b[^\n]*$", ICASE)

    def check(text: str, match: re.Match[str]) -> bool:
        return bool(cue.search(text[max(0, match.start() - window) : match.start()]))

    return check


def _clinical(word: str) -> bool:
    from bot.phi.lexicon import load

    return word.lower() in load().clinical


# --- dates -------------------------------------------------------------------------------------

MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
MESES = r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)"
NUM_MONTH = r"(?:0?[1-9]|1[0-2])"
NUM_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
YEAR = r"(?:19\d\d|20\d\d)"
DOB_CUE = r"dob|d\.o\.b\.?|birth|born|birthday|bday|b-day"
DATE_CUE = (
    r"on|since|from|until|till|by|before|after|last|next|date|dated|dob|d\.o\.b\.?|born|birthday|"
    r"admitted|discharged|appt|appointment|seen|visit|surgery"
)

DATE_RULES = [
    # 1/1/80, 03/14/2015, 11-02-1988, 12.24.1990
    rule(rf"\b{NUM_MONTH}([/.-]){NUM_DAY}\1(?:{YEAR}|\d\d)\b(?![/.-]\d)", 0.8),
    # 1962-05-09
    rule(rf"\b{YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0.85),
    # jan 1 1980, March 3, 1975, sept 30 2024, october 12, 2023
    rule(rf"\b{MONTH}\s+{DAY}(?:,?\s+{YEAR})?\b", 0.7, ICASE),
    # Spanish, as patients write it: "el 9 de mayo", "15 de enero de 1950"
    rule(rf"\b{DAY}\s+de\s+{MESES}(?:\s+(?:de\s+|del\s+)?{YEAR})?\b", 0.7, ICASE),
    # 4 July 1969, 4th of july
    rule(rf"\b{DAY}\s+(?:of\s+)?{MONTH}(?:,?\s+{YEAR})?\b", 0.7, ICASE),
    # 3/4 on its own is a date only after a date word ("since 3/4"), never a score like 7/10.
    rule(rf"\b{NUM_MONTH}/{NUM_DAY}\b(?![/.\d])", 0.6, 0, preceded_by(DATE_CUE, 14)),
]


class DateRecognizer(LabelledRecognizer):
    """Full dates; a date with a birth cue just before it becomes DOB."""

    _dob = re.compile(rf"\b(?:{DOB_CUE})\b", ICASE)

    def __init__(self) -> None:
        super().__init__("DATE", DATE_RULES, name="ClinicDateRecognizer")
        self.supported_entities = ["DATE", "DOB"]

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = super().analyze(text, ["DATE"], nlp_artifacts)
        # "May" alone is also a verb: keep "may 5" only when capitalised or with a year.
        results = [r for r in results if not re.fullmatch(r"may\s+\d{1,2}", text[r.start : r.end])]
        previous_end = 0
        for r in sorted(results, key=lambda r: r.start):
            # The birth cue must sit between this date and the one before it.
            if self._dob.search(text[max(previous_end, r.start - 30) : r.start]):
                r.entity_type = "DOB"
            previous_end = max(previous_end, r.end)
        return [r for r in results if r.entity_type in entities]


# --- numbers with a shape ----------------------------------------------------------------------

US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
    "NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)
STREET_SUFFIX = (
    r"street|st|avenue|ave|av|road|rd|drive|dr|lane|ln|court|ct|boulevard|blvd|way|place|pl|"
    r"circle|cir|terrace|ter|parkway|pkwy|highway|hwy|trail|trl|route|rte|square|sq|loop|row|pike|"
    r"crescent|cres|mews|gardens|gdns|grove|parade|croft|close"  # British and Australian streets
)
NOT_STREET_WORD = r"(?!(?:with|at|to|and|on|for|is|my|the|see|pm|am|of|or|in|from|min|mins|minutes|days|hours|weeks|times|mg|ml|units|attn|ext|x)\b)"
UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|room|rm|fl|floor|lot|space|trlr|#)\.?\s*#?\s*[A-Za-z0-9-]{1,6}\b)"
ADDRESS_RULES = [
    rule(
        rf"(?<![\d)(/.-])\b\d{{1,6}}\s+(?:[NSEW]\.?\s+|north\s+|south\s+|east\s+|west\s+)?"
        rf"(?:{NOT_STREET_WORD}(?:[A-Za-z0-9][A-Za-z0-9'-]*|[A-Za-z]{{1,3}}\.)\s+){{1,3}}?"  # "St. Kilda", not "Aleve. Can"
        rf"(?:{STREET_SUFFIX})\b\.?(?:\s+\d{{1,5}}\b)?{UNIT}?",
        0.75,
        ICASE,
    ),
    # suffixes that are everyday words too ("a 5 mile run"): only after capitalised names, "6 Quail Run, Lot 14"
    rule(r"(?<![\d)(/.-])\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z'-]+\s+){1,3}(?:Run|Pass|Path|Point|Ridge|Crossing|"
         rf"Cove|Bend|Glen|Hollow|Knoll|Landing|Meadows|Plaza|Vista|Crescent|Commons|Heights|Estates)\b(?i:{UNIT})?", 0.7),
    rule(r"\b(?:p\.?\s?o\.?\s+box|post office box)\s+\d{1,6}\b", 0.8, ICASE),
    # a house number, a street's name without its suffix and a unit: "44 Marigold apt 3B"
    rule(rf"(?<![\d)(/.-])\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:{NOT_STREET_WORD}[A-Za-z][A-Za-z'-]+\s+){{1,3}}?"
         r"(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[A-Za-z0-9-]{1,6}\b", 0.7, ICASE),
    # a crossing: "the corner of 5th and magnolia", "corner of Elm St & Park Ave", "on maple and 3rd"
    rule(r"\b(?i:on|at|off)\s+(?P<v>(?!(?i:the|my|a|and)\b)[A-Za-z][\w'.-]*\s+(?:and|&)\s+\d{1,3}(?i:st|nd|rd|th)\b)", 0.7),
    # the same crossing numbered street first: "the pharmacy on 5th and maple" (not "on 2nd and 3rd")
    rule(r"\b(?i:on|at|off)\s+(?P<v>\d{1,3}(?i:st|nd|rd|th)\s+(?:and|&)\s+(?!(?i:the|my|a|an|last|final|next|then)\b)"
         r"[A-Za-z][A-Za-z'-]*)\b(?!\s+(?i:dose|doses|day|days|week|weeks|time|times|floor|floors|shift|shifts|grade|trimester)\b)", 0.7),
    rule(r"(?i:\bcorner\s+of\s+)(?P<v>(?!(?i:the|my|a)\b)[\w'.-]+(?:\s+[\w'.-]+)?\s+(?:and|&)\s+[\w'.-]+"
         rf"(?:\s+(?i:{STREET_SUFFIX})\b\.?)?)", 0.7),
    # a house number, a compass point and a street's name without its suffix: "2210 n lakeshore", "40 W Elm"
    rule(r"(?<![\d)(/.-])\b\d{1,6}\s+(?:[NSEW]\.?|north|south|east|west)\s+(?!(?i:coli|of|and|at|on|in|to|side)\b)"
         r"(?P<street>[A-Za-z][A-Za-z'-]{2,})(?:\s+[A-Z][A-Za-z'-]+)?", 0.6, ICASE,
         lambda _t, m: not _clinical(m.group("street"))),
    # a street without a number: "lives on elm street", "FELL ON MAIN ST", "off Birchwood Ave."
    rule(
        r"\b(?i:on|at|off|near|along|down|up|onto|from)\s+"
        r"(?P<v>(?!(?i:the|my|his|her|your|our|their|a|an|this|that)\b)(?:[A-Za-z][A-Za-z'-]*\s+){1,2}"
        r"(?i:street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|terrace|parkway|pkwy|highway|hwy|drive)\b\.?)",
        0.6,
    ),
]
ZIP_RULES = [
    rule(rf"(?i:\bzip(?:\s*code)?|\bpostal code){SEP}(?P<v>\d{{5}}(?:-\d{{4}})?)\b", 0.9),
    rule(
        rf"\b(?i:{US_STATES}|illinois|indiana|missouri|iowa|wisconsin)\.?,?\s+(?P<v>\d{{5}}(?:-\d{{4}})?)\b",
        0.8,
    ),
    # "springfield 62701", "... in 62711": a 5-digit number shortly after an address word.
    rule(
        r"\b\d{5}(?:-\d{4})?\b(?![.\d])",
        0.6,
        0,
        preceded_by(rf"{STREET_SUFFIX}|apt|unit|address|live|lives|zip|city|town|in", 45),
    ),
]
# the town of an address, between a comma and its ZIP code: "..., Brackton 02911", "..., Halcott Springs, CO 80951"
TOWN_RULES = [
    rule(r",[ \t]+(?P<v>[A-Z][a-z]+(?:[ \t][A-Z][a-z]+){0,2}),?[ \t]+(?:[A-Z]{2}\.?,?[ \t]+)?\d{5}(?:-\d{4})?\b(?![.,/-]?\d)",
         0.6),
]
SSN_RULES = [
    rule(
        rf"(?i:\b(?:ssn|ss#|ss\s*no|social(?:\s+security)?(?:\s+(?:number|no|#))?)){SEP}(?P<v>\d{{3}}[- ]?\d{{2}}[- ]?\d{{4}})\b",
        0.95,
    ),
    # Any 3-2-4 group, including the test and invalid ranges (000-, 666-, 9xx-) Presidio refuses.
    rule(r"\b\d{3}-\d{2}-\d{4}\b", 0.7),
    rule(r"\b\d{3} \d{2} \d{4}\b", 0.5),
]
PHONE_RULES = [
    rule(
        r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\s*[2-9]\d{2}\s*\)\s*|[2-9]\d{2}[\s.-]?)[2-9]\d{2}[\s.-]?\d{4}"
        r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?!\w)",
        0.8,
        ICASE,
    ),
    rule(r"(?<![\w-])[2-9]\d{2}-\d{4}\b(?!-)", 0.5),  # 555-0188
]
EMAIL_RULES = [rule(r"\b[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", 0.95)]
URL_RULES = [
    rule(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]", 0.9, ICASE),
    rule(
        r"(?<![@\w.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|edu|gov|io|ly|co|us|info|me|app|health)"
        r"(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)])?(?![\w@])",
        0.6,
        ICASE,
    ),
]
MBI = r"[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}"
MBI_RULES = [
    rule(rf"\b{MBI}\b", 0.85),
    rule(rf"(?i:\b(?:medicare|mbi|hicn)(?:\s+(?:id|card|beneficiary))?){SEP}{ID_VALUE}", 0.9),
]
MRN_LABEL = (
    r"mrn|medical\s+record(?:\s+(?:number|no|num))?|med\s*rec(?:ord)?(?:\s+(?:number|no))?|"
    r"record|chart(?:\s+(?:number|no|id))?|patient\s*(?:id|number|no)|pt\s*(?:id|#)|patient\s*#|mr"
)
MRN_RULES = [rule(rf"(?i:\b(?:{MRN_LABEL})){SEP}{ID_VALUE}", 0.9)]
MEMBER_LABEL = (
    r"member(?:ship)?(?:\s+(?:id|number|no|#))?|mbr|subscriber(?:\s+(?:id|number))?|"
    r"insurance(?:\s+(?:id|number|member\s+id))?|ins\s+(?:member\s+)?id|policy(?:\s+(?:id|number|no))?|"
    r"medicaid(?:\s+(?:id|number))?|hmo(?:\s+member)?(?:\s+(?:id|number))?|"
    r"group(?:\s+(?:id|number|no))?|grp|plan\s+id|id\s+card"
)
MEMBER_RULES = [
    rule(rf"(?i:\b(?:{MEMBER_LABEL})){SEP}{ID_VALUE}", 0.92),
    # the same number written in groups, a plan's letters first: "member ID KSH 447 019 822"
    rule(rf"(?i:\b(?:{MEMBER_LABEL})){SEP}(?P<v>(?:[A-Za-z]{{1,4}}[ -])?\d{{2,5}}(?:[ -]\d{{2,5}}){{1,4}})(?![\w-]|[.,/]\d)",
         0.92, 0, lambda _t, m: sum(c.isdigit() for c in m.group("v")) >= 6),
]
LICENSE_RULES = [
    rule(
        r"(?i:\b(?:driver'?s?\s+licen[cs]e|licen[cs]e|dl|state\s+id|id\s+card))"
        rf"{SEP}(?P<v>(?=[A-Z0-9 -]*\d)[A-Z0-9][A-Z0-9 -]{{3,18}}[0-9])\b",
        0.9,
    )
]
PLATE_RULES = [
    rule(
        rf"(?i:\b(?:licen[cs]e\s+)?(?:plate|tag)){SEP}(?:(?i:{US_STATES})\s+)?"
        r"(?P<v>(?=[A-Z0-9 -]*\d)[A-Z0-9]{1,4}[ -]?[A-Z0-9]{1,5})\b",
        0.93,
    )
]
ACCOUNT_RULES = [
    rule(
        rf"(?i:\b(?:acct|account|bank\s+acct|bank\s+account|routing|aba|iban|statement|invoice|claim|order|"
        rf"check|cheque|confirmation|reference|ref|ticket|case|tracking|receipt|transaction|rx|prescription)"
        rf"(?:\s+(?:number|no|num|#))?){SEP}(?P<v>\d[\d-]{{3,20}}\d)\b",
        0.9,
    )
]
CARD_RULES = [
    rule(r"\b\d{4}[ -]?\d{4,6}[ -]?\d{4,5}(?:[ -]?\d{1,4})?\b", 0.9, 0, luhn_ok),
    rule(
        r"(?i:\b(?:card|visa|amex|mastercard|master\s+card|discover|cc|credit|debit))\D{0,14}?"
        r"(?P<v>\d{4}[ -]?\d{4,6}[ -]?\d{4,5}(?:[ -]?\d{1,4})?)\b",
        0.9,
    ),
]
AGE_RULES = [
    rule(r"\b(?i:age|aged)\s*:?\s*(?P<v>9\d|1[01]\d)\b(?![.\d%])", 0.9),
    rule(r"\b(?P<v>9\d|1[01]\d)\s*(?i:years?|yrs?|y/?o\b|y\.o\.|year-old|-year-old)", 0.9),
    rule(
        r"(?:\b(?i:he|she|i|mom|mother|dad|father|grandma|grandpa|grandmother|grandfather|husband|wife|"
        r"patient|pt|aunt|uncle)|\b[A-Z][a-z]+)\s*(?i:is|'s|’s|am|'m|just\s+turned|turned|turns|turning)\s+"
        r"(?P<v>9\d|1[01]\d)\b(?![.\d%/°])(?!\s*(?i:lbs?|pounds|kg|%|percent|degrees|bpm|mg|over)\b)",
        0.85,
    ),
]
USERNAME_RULES = [
    # a social handle anywhere ("my insta is @brown.eyed.kayla"), not an e-mail's domain
    rule(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,38}[A-Za-z0-9_])?(?![\w@])", 0.8),
    rule(
        rf"(?i:\b(?:user\s*name|user\s*id|login(?:\s+id)?|handle|screen\s*name)){SEP}"
        r"(?P<v>(?=[\w.@-]*[\d_.])@?[A-Za-z0-9][\w.-]{2,40}[A-Za-z0-9])",
        0.85,
    )
]
# A long number nobody labelled is still an identifier ("any other unique number").
OTHER_ID_RULES = [
    rule(r"(?<![\d.,/])\d{7,}(?![\d.,/]\d)", 0.45),
    rule(r"\b(?=[A-Za-z0-9-]*[A-Za-z])(?=(?:[A-Za-z-]*\d){5})[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b", 0.45),
    # a device's hardware (MAC) address: six hexadecimal pairs, "3C:5A:B4:19:E2:07", "3c-5a-b4-19-e2-07"
    rule(r"(?<![\w:-])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])", 0.8),
]


def pattern_recognizers() -> list[LocalRecognizer]:
    """Every shape- and label-based recognizer (names are in :mod:`bot.phi.names`)."""
    return [
        DateRecognizer(),
        LabelledRecognizer("ADDRESS", ADDRESS_RULES),
        LabelledRecognizer("ZIP", ZIP_RULES),
        LabelledRecognizer("LOCATION", TOWN_RULES, name="TownRecognizer"),
        LabelledRecognizer("SSN", SSN_RULES),
        LabelledRecognizer("PHONE", PHONE_RULES),
        LabelledRecognizer("EMAIL", EMAIL_RULES),
        LabelledRecognizer("URL", URL_RULES),
        LabelledRecognizer("MBI", MBI_RULES),
        LabelledRecognizer("MRN", MRN_RULES),
        LabelledRecognizer("MEMBER_ID", MEMBER_RULES),
        LabelledRecognizer("LICENSE", LICENSE_RULES),
        LabelledRecognizer("PLATE", PLATE_RULES),
        LabelledRecognizer("ACCOUNT", ACCOUNT_RULES),
        LabelledRecognizer("CREDIT_CARD", CARD_RULES),
        LabelledRecognizer("AGE", AGE_RULES),
        LabelledRecognizer("USERNAME", USERNAME_RULES),
        LabelledRecognizer("OTHER_ID", OTHER_ID_RULES),
        WorldPhoneRecognizer(),
    ]
