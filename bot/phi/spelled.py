"""Dates and ages written in words, and long digit runs whatever their checksum.

"the ninth of march, 1961", "jan second", "March 3rd", "june 2024"; "ninety-two years old",
"in her nineties", "a 94 yo"; any 13-19 digit run (a card or account number, Luhn or not) and any
run of 9 or more digits.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from bot.phi.recognizers import DAY, ICASE, MONTH, YEAR, LabelledRecognizer, rule
from bot.phi.tokens import CODE, ORDINAL, SCALE_BEFORE, UNIT_AFTER, date_like

_ORDINAL_WORDS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
    "fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth"
)
ORDINAL_WORD = rf"(?:(?:twenty|thirty)[\s-]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|{_ORDINAL_WORDS})"
SPELLED_DAY = rf"(?:{DAY}|{ORDINAL_WORD})"
_UNITS = "one|two|three|four|five|six|seven|eight|nine"
OVER_89_WORDS = rf"(?:ninety(?:[\s-]?(?:{_UNITS}))?|(?:a|one)\s+hundred(?:\s+(?:and\s+)?(?:{_UNITS}|ten|eleven))?)"
AGE_NOUN = r"(?:years?|yrs?|y/?o\b|y\.o\.|yo\b|-?year-old|year\s+old)"

SPELLED_DATE_RULES = [
    # 2/18 on its own ("plan for cath 2/18"); month/two-digit year ("since 3/80")
    rule(r"(?<![\d/.])\d{1,2}/\d{1,2}(?!\d|/|\.\d)", 0.5, 0, date_like),
    rule(r"(?<![\d/.])(?:0?[1-9]|1[0-2])/[3-9]\d(?!\d|/|\.\d|%)", 0.5, 0,
         lambda text, m: not UNIT_AFTER.match(text, m.end()) and not SCALE_BEFORE.search(text[: m.start()][-24:])),
    # the ninth of march, 1961 / 9th of March / second of june
    rule(rf"\b(?:the\s+)?{SPELLED_DAY}\s+(?:day\s+)?of\s+{MONTH}(?:,?\s+{YEAR})?\b", 0.8, ICASE),
    # jan second, March the 3rd, march ninth 1961
    rule(rf"\b{MONTH}\s+(?:the\s+)?{SPELLED_DAY}(?:,?\s+{YEAR})?\b", 0.8, ICASE),
    # Tuesday the 4th, on the 3rd, to the eighteenth (not "the 2nd dose", "the 4th floor")
    rule(rf"(?i:\b(?:on|since|by|until|till|before|after|to|from|monday|tuesday|wednesday|thursday|friday|"
         rf"saturday|sunday)\s+)(?P<v>the\s+(?:(?:[12]?\d|3[01])(?:st|nd|rd|th)|{ORDINAL_WORD}))\b"
         r"(?!\s+(?!(?:of|at|in|for|and|or|at|around|after|before)\b)[A-Za-z])", 0.7, ICASE),
    # june 2024, March of 1961, 03/2024
    rule(rf"\b{MONTH}\s+(?:of\s+)?{YEAR}\b", 0.75, ICASE),
    rule(rf"\b(?:0?[1-9]|1[0-2])/{YEAR}\b", 0.7),
    # 12-Mar-1961, 3-mar
    rule(rf"\b\d{{1,2}}-{MONTH}(?:-(?:{YEAR}|\d\d))?\b", 0.7, ICASE),
]
SPELLED_AGE_RULES = [
    rule(rf"\b(?P<v>{OVER_89_WORDS})[\s-]*{AGE_NOUN}", 0.85, ICASE),
    rule(rf"\b(?i:age|aged)\s+(?P<v>{OVER_89_WORDS})\b", 0.85, ICASE),
    rule(r"\b(?i:in\s+(?:his|her|their|my|the)\s+(?:(?:early|mid|late)[\s-]+)?)(?P<v>(?i:nineties|90s|90's|hundreds))\b",
         0.8),
    rule(r"\b(?i:(?:early|mid|late)[\s-]+)(?P<v>(?i:nineties|90s|90's))\b", 0.8),
    rule(r"\b(?P<v>9\d|1[01]\d)\s*-?\s*(?i:yo|y/o|y\.o\.|yr|yrs|y)\b", 0.85),
    rule(r"\b(?i:nonagenarian|centenarian)s?\b", 0.8),
    # "grandpa, 96, fell", "pt (94) seen", "her 90th birthday"
    rule(r"\b(?i:mom|mother|dad|father|grandma|grandmother|grandpa|grandfather|husband|wife|aunt|uncle|patient|"
         r"pt|he|she|neighbor|neighbour|resident)\s*[,(]\s*(?P<v>9\d|1[01]\d)\s*[,)]", 0.8),
    rule(r"\b(?P<v>(?:9\d|1[01]\d)(?:st|nd|rd|th))\s+(?i:birthday|bday|b-day)\b", 0.8),
]
LONG_NUMBER_RULES = [
    # 13-19 digits, with or without spaces or dashes, whatever the checksum
    rule(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])", 0.85),
    rule(r"(?<!\d)\d{9,}(?!\d)", 0.8),
    # 560-40-78-5: one number in dashed groups (not a date, a phone number or an SSN, found as those)
    rule(r"(?<![\w-])\d+(?:-\d+){2,}(?![\w-])", 0.5, 0,
         lambda _t, m: len(re.sub(r"\D", "", m.group(0))) >= 7
         and not re.fullmatch(r"\d{4}-\d\d-\d\d|\d{3}-\d{3}-\d{4}|\d{3}-\d{2}-\d{4}|1-\d{3}-\d{3}-\d{4}", m.group(0))),
    # last four of my card is 6789, pin 4821, ending in 0042
    rule(r"(?i:\b(?:last\s+(?:4|four)(?:\s+digits)?|ending\s+(?:in|with)|pin|passcode|pass\s+code|security\s+code|"
         r"access\s+code|code)\b)(?:\W+(?:of|for|on|to|my|the|your|card|account|portal|number|is|was|are)){0,5}"
         r"\W+(?P<v>\d{3,8})\b", 0.8),
    # pager 84710, ext 2231, beeper #4471
    rule(r"(?i:\b(?:pager|beeper|ext|extension|badge|employee\s+(?:id|number|#)))\.?\s*#?\s*(?P<v>\d{3,8})\b", 0.8),
]


class CodeRecognizer(LabelledRecognizer):
    """Letters and digits mixed ("FB59", "XW277", "S530X") that are no clinical code ("a1c", "b12")."""

    def __init__(self) -> None:
        super().__init__("OTHER_ID", [rule(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d]{4,}(?:/\d+)?\b", 0.6)],
                         name="CodeRecognizer")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        from bot.phi.lexicon import load

        lex = load()
        results = []
        for r in super().analyze(text, entities, None):
            word = text[r.start : r.end].lower().split("/")[0]
            glued = re.fullmatch(r"[\d.]+([a-z/%]+)", word)
            if word in lex.safe or word in lex.clinical or CODE.fullmatch(word) or ORDINAL.fullmatch(word):
                continue
            if glued and glued.group(1) in lex.units:
                continue  # 500mg, 10ml, 3pm
            results.append(r)
        return results


def spelled_recognizers() -> list[LabelledRecognizer]:
    return [
        CodeRecognizer(),
        LabelledRecognizer("DATE", SPELLED_DATE_RULES, name="SpelledDateRecognizer"),
        LabelledRecognizer("AGE", SPELLED_AGE_RULES, name="SpelledAgeRecognizer"),
        LabelledRecognizer("ACCOUNT", LONG_NUMBER_RULES, name="LongNumberRecognizer"),
    ]
