"""Which of spaCy's entities are PHI here.

spaCy's small English model calls many capitalised drug and test names people or organisations
("Eliquis 5 mg", "CBC", "Zyrtec"), and any time expression a DATE ("today", "2 days", "last week").
An entity is kept as PHI unless it is clinical text (see :func:`bot.phi.names.not_a_name`, and every
word a clinical term of the lexicon), a short all-capitals abbreviation of known words, or a DATE
that names no calendar day (no month, no year, no numeric date).
"""

from __future__ import annotations

import re

from bot.phi.lexicon import Lexicon
from bot.phi.names import not_a_name
from bot.phi.recognizers import MONTH
from bot.phi.spelled import SPELLED_YEAR
from bot.phi.tokens import CODE

# a year in words counts too: spaCy's DATE over "nineteen forty-one" hides the date recognizers' own
CALENDAR = re.compile(rf"\b{MONTH}(?!\w)|\b{SPELLED_YEAR}\b|\b(?:19|20)\d\d\b|\b\d{{1,2}}[/-]\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)\b",
                      re.IGNORECASE)
# "may" is also a verb and "march" a walk: a month word counts with a number, "of" or capitals.
AMBIGUOUS_MONTHS = re.compile(r"^(?:may|march|june|august)$", re.IGNORECASE)


def not_phi(text: str, entity: str, start: int, end: int, lex: Lexicon) -> bool:
    """True when a spaCy entity span is clinical or ordinary text rather than an identifier."""
    span = text[start:end]
    words = re.findall(r"[^\W\d_][^\W_]*", span.lower())
    if entity == "DATE":
        unit = re.match(r"\s*([a-z/%]+)", text[end:].lower())
        if re.fullmatch(r"[\d,.]+", span.strip()) and unit and unit.group(1) in lex.units:
            return True  # "2000 iu", "1000 mg": a dose, not a year
        if not CALENDAR.search(span):
            return True
        fraction = re.fullmatch(r"\s*(\d{1,3})/(\d{1,3})\s*", span)
        if fraction and (int(fraction.group(1)) > 12 or int(fraction.group(2)) > 31):
            return True  # "bp was 88/50": no month, no day
        return bool(AMBIGUOUS_MONTHS.match(span.strip())) and not span[0].isupper()
    if not words:
        return True
    if entity == "LOCATION" and span[:1].isupper() and all(w in lex.places for w in words):
        return False  # a capitalised place name ("Normal, IL"), even when it is also a clinical word
    # medical abbreviations in capitals ("DOE x3 days", "PO BID", "AFIB ON ELIQUIS") count as clinical words
    capitals = {w.lower() for w in re.findall(r"[^\W_]+", span) if w.isupper() and w.lower() in lex.abbreviations}
    everyday = {w for w in words if w in lex.safe and not lex.is_name(w) and w not in lex.places}
    if capitals and not re.search(r"\d{4}", span) and all(w in lex.clinical or w in capitals or w in everyday for w in words):
        return True  # "DNR ON FILE", "MOD MR", "HEARING AID L EAR": an abbreviation among everyday words
    # single letters ("q" of "Chg q M/W/F", the days of "M/W/F") neither make nor break a clinical span
    if not re.search(r"\d{4}", span) and any(len(w) > 1 for w in words) and all(
        w in lex.clinical or w in capitals or CODE.fullmatch(w) or len(w) == 1 for w in words) and not any(
        lex.is_name(w) and w not in lex.safe and w not in capitals for w in words
    ):
        return True
    if len(words) == 1 and words[0] in lex.safe and not lex.is_name(words[0]) and words[0] not in lex.places:
        return True  # one everyday or clinical word ("COPD", "Hgb"): the name and place lists decide those
    if span.islower() and all(w in lex.safe or w in lex.abbreviations for w in words) and any(w in lex.clinical for w in words):
        return True  # "frank blood in the urine", "tol reg diet": everyday and clinical words in lower case
    if span.islower() and len(words) == 1 and words[0] in lex.safe:
        return True  # "brown stuff", "flank pain", "stung by bee": spaCy's guess on one everyday word in lower case
        # (the name and place lists and the cue words judge those, with their context)
    if entity == "PERSON":
        if all(w in lex.safe and not lex.is_name(w) and w not in lex.places for w in words):
            return True  # "Hx COPD": no word of it is a name anyone has
        return not_a_name(text, start, end)
    return span.isupper() and len(span) <= 5 and all(w in lex.safe for w in words)  # ER, ICU, SOB, CHF
