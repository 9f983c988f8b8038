"""Parsing the intake answers, deterministically, and what the answers add up to (for actions/triage.py).

Each ``parse_*`` takes what the patient typed and returns a canonical value that parses again to itself
("my son, 4" -> who "child", age "4 years"; "7/10" -> 7; "39.2c" -> "102.6"; "since yesterday" -> "1 day"),
or None when the answer says nothing usable, so the form asks again. :class:`Answers` reads the slots
leniently (raw or canonical) and composes the text :func:`bot.triage.triage` classifies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.scheduling.words import NO_WORDS, YES_WORDS, any_of
from bot.triage import detect_red_flags
from bot.triage.normalize import YEARS_PER_UNIT, body_temperature_f
from bot.triage.red_flags import normalize

# The form's slots in the order it asks them, each with the question the engine sends for it
# (bot/assistant/domain_intake.yml; the form's required_slots list the same slots in the same order).
QUESTIONS: dict[str, str] = {
    "intake_who": "utter_ask_intake_who",
    "intake_age": "utter_ask_intake_age",
    "intake_symptom": "utter_ask_intake_symptom",
    "intake_since": "utter_ask_intake_since",
    "intake_severity": "utter_ask_intake_severity",
    "intake_temperature": "utter_ask_intake_temperature",
    "intake_breathing": "utter_ask_intake_breathing",
    "intake_pregnant": "utter_ask_intake_pregnant",
}
INTAKE_SLOTS = tuple(QUESTIONS)

# -- parsing one answer -------------------------------------------------------------------------------------
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "couple": 2, "three": 3, "few": 3, "four": 4, "several": 4,
                 "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
                 "zero": 0}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNITS = {"day": "day", "days": "day", "d": "day", "week": "week", "weeks": "week", "wk": "week", "wks": "week",
          "w": "week", "month": "month", "months": "month", "mo": "month", "mos": "month", "m/o": "month",
          "year": "year", "years": "year", "yr": "year", "yrs": "year", "yo": "year", "y/o": "year", "y": "year",
          "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "h": "hour", "minute": "minute",
          "minutes": "minute", "min": "minute", "mins": "minute"}
_UNIT_RX = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_YEARS = YEARS_PER_UNIT
_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}
_AGE_MAX = {"day": 60, "week": 60, "month": 36, "year": 120}

_CHILD = re.compile(r"\b(?:son|daughter|kids?|child|children|baby|babies|infant|toddler|boy|girl|newborn|little one|"
                    r"grand(?:son|daughter|child|kid)|step(?:son|daughter)|teen(?:ager)?)\b")
_OTHER = re.compile(r"\b(?:mom|mum|mother|dad|father|wife|husband|partner|spouse|grand(?:ma|pa|mother|father)|"
                    r"brother|sister|friend|someone else|somebody else|another person|boyfriend|girlfriend|aunt|"
                    r"uncle|roommate|parent|fianc[eé]e?|neighbou?r)\b")
_SELF = re.compile(r"\b(?:me|myself|my ?self|i|i'm|mine|self|for me)\b")

_FEVER = re.compile(r"\bfever\w*|\btemp\b|\btemperature\b|\bhot\b|\bchills?\b|\bburning up\b|\bfebrile\b")
_BREATHING = re.compile(r"\bcough\w*|\bcold\b|\bflu\b|\bchest\b|\bwheez\w*|\basthma\b|\bbreath\w*|\bcongest\w*|"
                        r"\bcovid\b|\bcroup\b|\bbronch\w*|\bpneumonia\b|\bsore throat\b|\bsinus\w*|\bstuffy\b|"
                        r"\brunny nose\b|\bphlegm\b|\bmucus\b|\bsnot\b")
_PREGNANCY = re.compile(r"\bstomach\b|\bbelly\b|\babdom\w*|\bpelvi\w*|\bcramp\w*|\bbleed\w*|\bspott\w*|\bperiods?\b|"
                        r"\bnause\w*|\bvomit\w*|\bthrow\w* up|\bthrew up\b|\bpuk\w*|\bheadache\w*|\bmigraine\b|"
                        r"\bpee\b|\bpeeing\b|\burinat\w*|\buti\b|\bswell\w*|\bswollen\b|\bfever\w*|\bdizz\w*|"
                        r"\bfaint\w*|\bvaginal\b|\bdischarge\b|\bback pain\b")
# Words that make a first message a symptom (not just "I'd like to report symptoms").
_SYMPTOM_WORDS = re.compile(
    _FEVER.pattern + "|" + _BREATHING.pattern + "|" + _PREGNANCY.pattern +
    r"|\bpain\w*|\bache\w*|\bhurt\w*|\bsore\b|\brash\w*|\bitch\w*|\bhives\b|\bnumb\w*|\btingl\w*|\bdiarrhea\b|"
    r"\bbite\w*|\bsting\w*|\bcut\b|\bburn\w*|\bbruis\w*|\bsprain\w*|\btwist\w*|\binjur\w*|\bfell\b|\blump\b|\bbump\b|"
    r"\beyes?\b|\bears?\b|\bthroat\b|\bknee\b|\bankle\b|\bwrist\b|\bback\b|\bneck\b|\bbp\b|\bblood\b|\bsugar\b|"
    r"\bheart\b|\bracing\b|\btired\b|\bweak\w*|\binfect\w*|\bpink ?eye\b|\bsnot\b|\bwheez\w*"
)

_UNSURE = re.compile(r"\b(?:not sure|unsure|maybe|possibly|perhaps|might be|could be|don't know|idk|no idea|"
                     r"can't tell|not certain)\b")
_YES = re.compile(rf"\b(?:{any_of(YES_WORDS)}|correct|i am|i'm|she is|she's|he is|definitely|a little|"
                  r"a bit|kind of|kinda|some|sometimes|mild(?:ly)?|slightly|a lot|pregnant)\b")
_NO = re.compile(rf"\b(?:{any_of(NO_WORDS)}|not|none|never|negative|nothing|fine|normal|don't|doesn't|isn't|aren't)\b")


def _num(token: str) -> float:
    return float(_NUMBER_WORDS[token]) if token in _NUMBER_WORDS else float(token)


def _label(value: float, unit: str) -> str:
    return f"{value:g} {unit}{'' if value == 1 else 's'}"


def parse_age(text: str) -> str | None:
    """'my son, 4' -> '4 years'; '6 weeks' -> '6 weeks'; 'newborn' -> '2 weeks'; None when there is no age."""
    norm = normalize(text)
    for match in re.finditer(rf"\b{_NUM}\s*(?:-|\s)?({_UNIT_RX})?\b", norm):
        unit = _UNITS.get(match.group(2) or "year", "year")
        if unit in ("hour", "minute") or match.group(1) in ("a", "an", "few", "several", "couple"):
            continue
        value = _num(match.group(1))
        if 0 < value <= _AGE_MAX[unit]:
            return _label(value, unit)
    if re.search(r"\bnew ?born\b", norm):
        return "2 weeks"
    return None


def age_years(label: str | None) -> float | None:
    if not label:
        return None
    match = re.fullmatch(r"([\d.]+) (\w+?)s?", label)
    return float(match.group(1)) * _YEARS[match.group(2)] if match and match.group(2) in _YEARS else None


def parse_who(text: str) -> tuple[str | None, str | None]:
    """(self | child | other, age label): 'me, 34' -> ('self', '34 years'); '6 weeks' -> ('child', '6 weeks')."""
    norm = normalize(text)
    age = parse_age(text)
    if _CHILD.search(norm):
        who: str | None = "child"
    elif _OTHER.search(norm):
        who = "other"
    elif _SELF.search(norm):
        who = "self"
    elif age is not None:
        years = age_years(age)
        who = "child" if years is not None and years < 18 else "self"
    else:
        who = None
    return who, age


def parse_severity(text: str) -> int | None:
    """0-10 from '7', '7/10', 'seven', 'really bad' (8), 'mild' (3)."""
    norm = normalize(text)
    match = re.search(r"\b(10|\d)(?:\.\d+)?\s*(?:/|out of|of)\s*10\b", norm)
    if match:
        return int(match.group(1))
    numbers = re.findall(r"\b\d+(?:\.\d+)?\b", norm)
    if len(numbers) == 1 and 0 <= float(numbers[0]) <= 10:
        return min(10, int(float(numbers[0]) + 0.5))
    words = [w for w in re.findall(r"[a-z]+", norm) if w in _NUMBER_WORDS and w not in ("a", "an", "few", "couple",
                                                                                         "several")]
    if words:
        return min(10, int(_NUMBER_WORDS[words[0]]))
    for pattern, value in ((r"\bworst\b|\bunbearable\b|\bexcruciating\b|\bagon\w*", 10),
                           (r"\bnot (?:too |that |so )?bad\b|\bmild\b|\ba (?:little|bit)\b|\bslight\w*|\bminor\b", 3),
                           (r"\b(?:really|very|so|super|pretty) bad\b|\bterrible\b|\bhorrible\b|\bawful\b|"
                            r"\bsevere\b|\bextreme\b", 8),
                           (r"\bbad\b", 7),
                           (r"\bmoderate\b|\bmedium\b|\bso[- ]so\b|\bmanageable\b|\bok(?:ay)?\b|\bmiddle\b", 5),
                           (r"\bnone\b|\bno pain\b|\bnothing\b|\bfine\b", 0)):
        if re.search(pattern, norm):
            return value
    return None


def parse_since(text: str, today: date) -> str | None:
    """'since yesterday' -> '1 day'; '3 days' -> '3 days'; 'this morning' -> 'today'; 'since monday' -> days."""
    norm = normalize(text).replace("yday", "yesterday").replace("yest ", "yesterday ")
    match = re.search(rf"\b{_NUM}\s*(?:of\s+)?({_UNIT_RX})\b", norm)
    if match and match.group(2) not in ("d", "w", "y", "h"):
        unit = _UNITS[match.group(2)]
        value = _num(match.group(1))
        if unit in ("hour", "minute"):
            return "today" if value * _DAYS[unit] < 1 else _label(round(value * _DAYS[unit]), "day")
        return _label(value, unit) if value > 0 else "today"
    if re.search(r"\byesterday\b|\blast night\b|\bovernight\b", norm):
        return "1 day"
    if re.search(r"\btoday\b|\bthis (?:morning|afternoon|evening)\b|\btonight\b|\bjust now\b|\ball day\b|"
                 r"\bjust started\b|\bearlier\b|\ban hour\b|\bfew hours\b", norm):
        return "today"
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for index, day in enumerate(days):
        if re.search(rf"\b{day}|\b{day[:3]}\b", norm):
            return _label((today.weekday() - index) % 7 or 7, "day")
    for pattern, label in ((r"\blast week\b|\bfor weeks\b|\bweeks\b", "1 week"),
                           (r"\blast month\b|\bfor months\b|\bmonths\b", "1 month"),
                           (r"\blast year\b|\bfor years\b|\byears\b|\bforever\b|\bages\b", "1 year"),
                           (r"\bfor days\b|\bdays\b|\bcouple (?:of )?days\b", "2 days")):
        if re.search(pattern, norm):
            return label
    return None


def since_days(label: str | None) -> float | None:
    if not label:
        return None
    if label == "today":
        return 0.0
    match = re.fullmatch(r"([\d.]+) (\w+?)s?", label)
    return float(match.group(1)) * _DAYS[match.group(2)] if match and match.group(2) in _DAYS else None


def parse_temperature(text: str) -> str | None:
    """'102.5' -> '102.5' (°F); '39.2c' -> '102.6'; 'didn't check' -> 'not taken'; 'normal' -> 'normal'."""
    norm = normalize(text)
    match = re.search(r"\b(\d{2,3}(?:\.\d+)?)\s*(?:°|deg\w*)?\s*([fc])?\b", norm)
    if match:
        value = body_temperature_f(float(match.group(1)), match.group(2), celsius_up_to=43.5)
        return f"{value:g}" if value is not None else None
    if _UNSURE.search(norm) or re.search(r"\b(?:didn't|haven't|not|no) (?:\w+ )?(?:check|take|taken|measure|"
                                         r"thermometer)\w*|\bunknown\b|\bforgot\b|\bn/?a\b", norm):
        return "not taken"
    if re.search(r"\bnormal\b|\bno fever\b|\bnone\b|^no\b", norm):
        return "normal"
    return None


def temperature_f(value: str | None) -> float | None:
    if value == "normal":
        return 98.6
    try:
        return float(value) if value else None
    except ValueError:
        return None


def parse_yes_no(text: str) -> str | None:
    """'yes' | 'no' | 'unsure' (None when the answer says neither)."""
    norm = normalize(text)
    first = re.match(r"\W*(\w+)", norm)
    head = first.group(1) if first else ""
    if head in YES_WORDS:
        return "yes"
    if head in NO_WORDS and not _UNSURE.search(norm):
        return "no"
    if _UNSURE.search(norm):
        return "unsure"
    if _NO.search(norm):
        return "no"
    if _YES.search(norm):
        return "yes"
    return None


def is_unsure(text: str) -> bool:
    return bool(_UNSURE.search(normalize(text)))


def is_symptom(text: str) -> bool:
    return bool(_SYMPTOM_WORDS.search(normalize(text)))


# -- the answers so far -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answers:
    who: str | None = None
    age: str | None = None
    symptom: str | None = None
    since: str | None = None
    severity: int | None = None
    temperature: str | None = None
    breathing: str | None = None
    pregnant: str | None = None

    @classmethod
    def from_slots(cls, slots: dict[str, Any], today: date) -> Answers:
        """Read leniently: a slot may still hold the raw answer (before validation) or the canonical value."""
        def text(name: str) -> str | None:
            value = slots.get(name)
            return str(value).strip() if value not in (None, "") else None

        who_text, age_text, since_text = text("intake_who"), text("intake_age"), text("intake_since")
        severity_text, temp_text = text("intake_severity"), text("intake_temperature")
        breathing_text, pregnant_text = text("intake_breathing"), text("intake_pregnant")
        who, age_from_who = parse_who(who_text) if who_text else (None, None)
        age = (parse_age(age_text) if age_text and age_text != "unknown" else None) or age_from_who
        if who == "self" and age is not None and not age.endswith(("year", "years")):
            age = None  # "2 days" from someone texting about themselves is a duration (asked again), not a newborn
        return cls(
            who=who,
            age=age,
            symptom=text("intake_symptom"),
            since=parse_since(since_text, today) if since_text else None,
            severity=parse_severity(severity_text) if severity_text else None,
            temperature=parse_temperature(temp_text) if temp_text else None,
            breathing=parse_yes_no(breathing_text) if breathing_text else None,
            pregnant=parse_yes_no(pregnant_text) if pregnant_text else None,
        )

    @property
    def age_years(self) -> float | None:
        return age_years(self.age)

    @property
    def temperature_f(self) -> float | None:
        return temperature_f(self.temperature)

    @property
    def pregnant_flag(self) -> bool | None:
        """'not sure' counts as possibly pregnant: the safer advice."""
        return None if self.pregnant is None else self.pregnant in ("yes", "unsure")

    def fever_related(self) -> bool:
        return bool(self.symptom and _FEVER.search(normalize(self.symptom)))

    def breathing_related(self) -> bool:
        return bool(self.symptom and _BREATHING.search(normalize(self.symptom)))

    def pregnancy_relevant(self) -> bool:
        years = self.age_years
        if self.who == "child" and (years is None or years < 12):
            return False
        if years is not None and not 12 <= years <= 55:
            return False
        return bool(self.symptom and _PREGNANCY.search(normalize(self.symptom)))

    def triage_text(self) -> str:
        """The patient's words plus what the answers add, for :func:`bot.triage.triage`."""
        parts = [self.symptom or ""]
        days = since_days(self.since)
        if self.since == "today":
            parts.append("started today")
        elif self.since:
            parts.append(f"for {self.since}")
        if days is not None and days >= 3 and (self.fever_related() or (self.temperature_f or 0) >= 100.4):
            parts.append("fever for more than 3 days")
        if self.breathing in ("yes", "unsure"):
            parts.append("short of breath")
        return ". ".join(p for p in parts if p)

    def red_flags(self) -> list[str]:
        flags = detect_red_flags(self.triage_text(), age_years=self.age_years, pregnant=self.pregnant_flag,
                                 temperature_f=self.temperature_f)
        return [f.id for f in flags]

    def summary(self) -> dict[str, Any]:
        """What staff read: the answers in plain fields (no free text beyond the patient's own symptom words)."""
        fields: dict[str, Any] = {"for": self.who, "age": self.age, "symptom": self.symptom, "since": self.since,
                                  "severity": self.severity, "temperature_f": self.temperature,
                                  "trouble_breathing": self.breathing, "pregnant": self.pregnant}
        return {k: v for k, v in fields.items() if v is not None}
