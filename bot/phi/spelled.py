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
from bot.phi.tokens import CODE, DIMENSIONS, ORDINAL, SCALE_BEFORE, UNIT_AFTER, date_like, duration

_ORDINAL_WORDS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
    "fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth"
)
ORDINAL_WORD = rf"(?:(?:twenty|thirty)[\s-]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|{_ORDINAL_WORDS})"
SPELLED_DAY = rf"(?:{DAY}|{ORDINAL_WORD})"
_UNITS = "one|two|three|four|five|six|seven|eight|nine"
OVER_89_WORDS = rf"(?:ninety(?:[\s-]?(?:{_UNITS}))?|(?:a|one)\s+hundred(?:\s+(?:and\s+)?(?:{_UNITS}|ten|eleven))?)"
AGE_NOUN = r"(?:years?|yrs?|y/?o\b|y\.o\.|yo\b|-?year-old|year\s+old)"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TWO_DIGITS = rf"(?:(?:{_TENS})(?:[\s-]?(?:{_UNITS}))?|{_TEENS}|(?:oh|o)[\s-]?(?:{_UNITS}))"
# nineteen fifty two, nineteen hundred and six, two thousand and three, twenty twenty-one
SPELLED_YEAR = (rf"(?:nineteen[\s-]+(?:hundred(?:\s+and)?\s+(?:{_UNITS}|{_TWO_DIGITS})|{_TWO_DIGITS})|"
                rf"two\s+thousand(?:\s+(?:and\s+)?(?:{_UNITS}|{_TWO_DIGITS}))?|twenty[\s-]+(?:{_TWO_DIGITS}))")
ANY_YEAR = rf"(?:{YEAR}|{SPELLED_YEAR})"
_ORDINAL_OVER_89 = (r"(?:ninetieth|ninety[\s-](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
                    r"(?:one\s+)?hundredth|(?:one\s+)?hundred\s+and\s+(?:first|second|third|fourth|fifth|\w+th))")

WEEKDAY = r"(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day)?"

SPELLED_DATE_RULES = [
    # 2/18 on its own ("plan for cath 2/18"); month/two-digit year ("since 3/80")
    rule(r"(?<![\d/.])\d{1,2}/\d{1,2}(?!\d|/|\.\d)", 0.5, 0, date_like),
    rule(r"(?<![\d/.])(?:0?[1-9]|1[0-2])/[3-9]\d(?!\d|/|\.\d|%)", 0.5, 0,
         lambda text, m: not UNIT_AFTER.match(text, m.end()) and not SCALE_BEFORE.search(text[: m.start()][-24:])
         and not duration(text, m.start(), m.end())),
    # the ninth of march, 1961 / 9th of March / second of june
    rule(rf"\b(?:the\s+)?{SPELLED_DAY}\s+(?:day\s+)?of\s+{MONTH}(?:,?\s+{ANY_YEAR})?\b", 0.8, ICASE),
    # nineteenth Aug 1962: a day in words before its month needs the year without "of"
    rule(rf"\b(?:the\s+)?{ORDINAL_WORD}\s+{MONTH},?\s+{ANY_YEAR}\b", 0.8, ICASE),
    # jan second, March the 3rd, march ninth 1961
    rule(rf"\b{MONTH}\s+(?:the\s+)?{SPELLED_DAY}(?:,?\s+{ANY_YEAR})?\b", 0.8, ICASE),
    # Tuesday the 4th, on the 3rd, to the eighteenth (not "the 2nd dose", "the 4th floor")
    rule(rf"(?i:\b(?:on|since|by|until|till|before|after|to|from|monday|tuesday|wednesday|thursday|friday|"
         rf"saturday|sunday)\s+)(?P<v>the\s+(?:(?:[12]?\d|3[01])(?:st|nd|rd|th)|{ORDINAL_WORD}))\b"
         r"(?!\s+(?!(?:of|at|in|for|and|or|at|around|after|before)\b)[A-Za-z])", 0.7, ICASE),
    # the weekday goes with its day of the month: "thurs the 9th", "Sat, the 3rd", "Wednesday the twelfth",
    # "tues 4/9", "Mon 4/15"
    rule(rf"(?i:\b{WEEKDAY}\.?,?\s+the\s+(?:(?:[12]?\d|3[01])(?:st|nd|rd|th)|{ORDINAL_WORD}))\b", 0.7),
    rule(rf"(?i:\b{WEEKDAY}\.?,?\s+)(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?:/(?:\d{{4}}|\d\d))?(?![\d/]|\.\d)", 0.7, 0,
         lambda text, m: not UNIT_AFTER.match(text, m.end())),
    # a holiday and its year: "on valentines day 1950", "since New Year's Eve 2019"
    rule(r"(?i:\b(?:on|since|from|by|until|till|before|after|of)\s+)(?P<v>(?:[A-Za-z]+['’]?s?\s+){1,2}(?i:day|eve)"
         r"\s*,?\s+(?:of\s+)?(?:19|20)\d\d)\b", 0.75),
    # june 2024, March of 1961, 03/2024
    rule(rf"\b{MONTH}\s+(?:of\s+)?{ANY_YEAR}\b", 0.75, ICASE),
    # a year in words after a date word: "born in nineteen forty-one", "since two thousand and nine"
    rule(rf"(?i:\b(?:in|since|from|until|born|year|of)\s+)(?P<v>{SPELLED_YEAR})\b", 0.7, ICASE),
    rule(rf"\b(?:0?[1-9]|1[0-2])/{YEAR}\b", 0.7),
    # 12-Mar-1961, 3-mar
    rule(rf"\b\d{{1,2}}-{MONTH}(?:-(?:{YEAR}|\d\d))?\b", 0.7, ICASE),
]
SPELLED_AGE_RULES = [
    rule(rf"\b(?P<v>{OVER_89_WORDS})[\s-]*{AGE_NOUN}", 0.85, ICASE),
    rule(rf"\b(?i:age|aged)\s+(?P<v>{OVER_89_WORDS})\b", 0.85, ICASE),
    rule(r"\b(?i:in\s+(?:his|her|their|my|the)\s+(?:(?:early|mid|late)[\s-]+)?)(?P<v>(?i:nineties|90s|90's|hundreds))\b",
         0.8),
    rule(r"\b(?i:(?:early|mid|late)[\s-]+(?:nineties|90s|90's))\b", 0.8),
    # "the twins turned 91", "esperanza is 96": a birthday verb, or a name before "is"
    rule(r"(?i:\b(?:turned|turns|turning)\s+)(?P<v>9\d|1[01]\d)\b(?![.,]\d)"
         r"(?![\s-]*(?i:degrees?|percent|%|mg|units?|pounds?|lbs?|kg|over|/|minutes?|mins?|times))", 0.8),
    rule(r"(?i:\b(?P<n>[a-z][a-z'’-]+)\s+(?:is|was|'s|’s)\s+(?:now\s+|almost\s+|nearly\s+)?)(?P<v>9\d|1[01]\d)\b"
         r"(?![.,]\d)(?![\s-]*(?i:degrees?|percent|%|mg|units?|pounds?|lbs?|kg|over|/|bpm|mmhg))", 0.8, 0,
         lambda _t, m: _name_word(m.group("n"))),
    # "im 91 and", "i'm ninety-three"
    rule(rf"(?i:\b(?:im|i['’]m|i\s+am)\s+(?:now\s+|almost\s+|nearly\s+)?)(?P<v>9\d|1[01]\d|{OVER_89_WORDS})\b"
         r"(?![\s-]*(?i:dollars?|percent|pounds?|lbs?|degrees?|minutes?|mins?|hours?|days?|weeks?|months?|"
         r"times|mg|units?|over|/|%|\.\d|miles?|steps?))", 0.8, ICASE),
    rule(r"\b(?P<v>9\d|1[01]\d)\s*-?\s*(?i:yo|y/o|y\.o\.|yr|yrs|y)\b", 0.85),
    rule(r"\b(?i:nonagenarian|centenarian)s?\b", 0.8),
    # "grandma turned ninety-six", "he will be a hundred and one", "she's ninety" (not "is ninety dollars")
    rule(rf"(?i:\b(?:turned|turns|turning|is|was|be|am|'s|’s|'m|’m)\s+(?:now\s+|nearly\s+|almost\s+|just\s+)?)"
         rf"(?P<v>{OVER_89_WORDS})\b(?![\s-]*(?i:dollars?|bucks|cents|percent|pounds?|lbs?|degrees?|minutes?|"
         r"mins?|hours?|days?|weeks?|months?|times|mg|units?|over|/|%))", 0.8, ICASE),
    # "he'll be 100 on the 4th", "she will turn ninety-two"
    rule(rf"(?i:\b(?:will|'ll|’ll|gonna|going\s+to)\s+(?:be|turn)\s+)(?P<v>9\d|1[01]\d|{OVER_89_WORDS})\b"
         r"(?![\s-]*(?i:dollars?|bucks|percent|pounds?|lbs?|degrees?|minutes?|mins?|hours?|days?|weeks?|months?|"
         r"times|mg|units?|over|/|%|\.\d))", 0.8, ICASE),
    # "her ninetieth birthday", "the hundredth year"
    rule(rf"\b(?P<v>{_ORDINAL_OVER_89})\s+(?i:birthday|bday|b-day|year)\b", 0.8, ICASE),
    # "grandpa, 96, fell", "pt (94) seen", "her 90th birthday"
    rule(r"\b(?i:mom|mother|dad|father|grandma|grandmother|grandpa|grandfather|husband|wife|aunt|uncle|patient|"
         r"pt|he|she|neighbor|neighbour|resident)\s*[,(]\s*(?P<v>9\d|1[01]\d)\s*[,)]", 0.8),
    rule(r"\b(?P<v>(?:9\d|1[01]\d)(?:st|nd|rd|th))\s+(?i:birthday|bday|b-day)\b", 0.8),
    # "Wendell Ashby, 92, was a foreman", "Mrs. Okafor (ninety-one)": a name, then the age alone
    rule(rf"(?i:\b(?P<n>[a-z][a-z'’-]+)\s*[,(]\s*(?P<v>9\d|1[01]\d|{OVER_89_WORDS})\s*(?:[,)]|\.(?!\d)|$))", 0.8, 0,
         lambda _t, m: _name_word(m.group("n"))),
]
def _name_word(word: str) -> bool:
    from bot.phi.lexicon import load

    lex = load()
    word = re.sub(r"['’]s$", "", word.lower())
    return lex.is_name(word) or (word not in lex.safe and word not in lex.clinical)


def _bare_year(text: str, match: re.Match[str]) -> bool:
    """A year on its own ("Prior MI 2011", "since 1987"), not a count with its unit ("2000 iu", "1500 steps")."""
    from bot.phi.lexicon import load

    lex = load()
    after = re.match(r"[\s-]*([a-z/%]+)", text[match.end() :].lower())
    before = re.findall(r"[a-z0-9]+", text[max(0, match.start() - 20) : match.start()].lower())[-2:]
    if text[match.end() : match.end() + 1] in ("%", ".") and text[match.end() + 1 : match.end() + 2].isdigit():
        return False
    return not (after and after.group(1) in lex.units) and not any(w in lex.measures for w in before) \
        and text[match.start() - 1 : match.start()] not in ("$", "#")


YEAR_RULES = [rule(r"(?<![\d.,/:-])(?:19[2-9]\d|20[0-3]\d)(?![\d,:/]|\.\d)", 0.5, 0, _bare_year)]
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


def _whole_number(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened over the digits, dots and x's around it ("5x2x0" of "1.5x2x0.5")."""
    while start > 0 and (text[start - 1].isdigit() or text[start - 1] in ".xX"):
        start -= 1
    while end < len(text) and (text[end].isdigit() or (text[end] in ".xX" and text[end + 1 : end + 2].isdigit())):
        end += 1  # a full stop after "3x2cm" ends the sentence
    return start, end


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
            if DIMENSIONS.fullmatch(text, *_whole_number(text, r.start, r.end)):
                continue  # a wound's size: 2x3cm, 1.5x2x0.5
            results.append(r)
        return results


_NINETY = re.compile(rf"\b(?i:ninety(?:[\s-]?(?:{_UNITS}))?)\b")


class NinetyRecognizer(LabelledRecognizer):
    """"now ninety-four", "Ninety-one and still working": a number of ninety and over in words, nothing
    measured or counted, is an old person's age; the strict pass judges it so (bot.phi.strict._spelled_age)
    and preview now does too ("ninety minutes", "ninety over sixty", "heart rate ninety" stay)."""

    def __init__(self) -> None:
        super().__init__("AGE", [rule(_NINETY.pattern, 0.7)], name="NinetyRecognizer")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        from bot.phi.lexicon import load
        from bot.phi.strict import _spelled_age
        from bot.phi.tokens import pieces

        if "AGE" not in entities or "ninety" not in text.lower():
            return []
        lex = load()
        items = pieces(text)
        results = []
        for r in super().analyze(text, entities, nlp_artifacts):
            first = next((p for p in items if p.start == r.start), None)
            if first is not None and _spelled_age(text, items, first.index, lex):
                results.append(r)
        return results


def spelled_recognizers() -> list[LabelledRecognizer]:
    return [
        CodeRecognizer(),
        LabelledRecognizer("DATE", SPELLED_DATE_RULES, name="SpelledDateRecognizer"),
        LabelledRecognizer("DATE", YEAR_RULES, name="YearRecognizer"),
        LabelledRecognizer("AGE", SPELLED_AGE_RULES, name="SpelledAgeRecognizer"),
        NinetyRecognizer(),
        LabelledRecognizer("ACCOUNT", LONG_NUMBER_RULES, name="LongNumberRecognizer"),
    ]
