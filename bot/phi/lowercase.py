"""First names that are everyday words, used as names in lower case.

Texting drops the capital that makes "rose" or "hope" a name. What still marks one is how the sentence
uses it: a person's verb after it ("grant called back"), a surname with it ("summer price and her
brother"), another first name beside it ("rose and faith both got the rash"), or the message's subject
that the rest calls "she" or "he" ("hope has a fever ... can she come in").
"""

from __future__ import annotations

import re

from bot.phi.lexicon import Lexicon
from bot.phi.tokens import Piece, joined

# Verbs that take a person: "Rose called", "Hope said", "Will texted".
PERSON_VERBS = frozenset(
    ["called", "calls", "calling", "said", "says", "texted", "texts", "asked", "asks", "wants", "wanted", "told", "tells", "came", "comes", "visited", "wrote", "emailed", "phoned", "brought", "picked", "dropped", "needs", "needed", "thinks", "thought"]
)
CLAUSE_OPENERS = frozenset(["and", "but", "so", "then", "because", "cause", "cuz", "ok", "okay", "also", "when", "if", "that", "said", "says", "hi", "hey"])


def lower_case_person(text: str, items: list[Piece], i: int, lex: Lexicon) -> bool:
    """Everyday words used as a name in lower case: "eval completed by bill." (after a participle and "by",
    ending the phrase); "summer price and her brother ..." (a first and a last name opening a clause,
    then a person's verb or "and" with a pronoun)."""
    before = items[i - 1].word if i else ""
    ends = i + 1 == len(items) or not joined(text, items[i], items[i + 1], r"[ \t]+")
    if before == "by" and i >= 2 and items[i - 2].word.endswith(("ed", "en", "ne", "wn")) and ends:
        return True
    if i + 1 >= len(items) or not (items[i].sentence_start or before in CLAUSE_OPENERS):
        return False
    surname = items[i + 1]
    after = [q.word for q in items[i + 2 : i + 4]]
    return (surname.word in lex.last_names and surname.word not in lex.plain and not surname.capitalised
            and joined(text, items[i], surname, r"[ \t]+") and bool(after)
            and (after[0] in PERSON_VERBS or after[:2] in (["and", w] for w in ("her", "his", "my", "their", "i"))))


_OPENS = frozenset(["has", "had", "is", "was", "got", "gets", "keeps", "kept", "cant", "can't", "wont", "won't", "isnt", "isn't"])
_THIRD_PERSON = re.compile(r"\b(?:she|he|her|him|his|hers)\b", re.IGNORECASE)


def paired(text: str, items: list[Piece], i: int, lex: Lexicon) -> bool:
    """"rose and faith both got the rash": two first names joined by "and" opening a clause, in lower case."""
    def second(k: int) -> bool:
        q = items[k]
        return q.word in lex.first_names and q.word not in lex.clinical and not q.capitalised

    def first(k: int) -> bool:  # the same, opening a clause
        return second(k) and (items[k].sentence_start or (k > 0 and items[k - 1].word in CLAUSE_OPENERS))

    if i + 2 < len(items) and items[i + 1].word == "and" and first(i) and second(i + 2):
        return joined(text, items[i], items[i + 1], r"[ \t]+") and joined(text, items[i + 1], items[i + 2], r"[ \t]+")
    if i >= 2 and items[i - 1].word == "and" and first(i - 2) and second(i):
        return joined(text, items[i - 2], items[i - 1], r"[ \t]+") and joined(text, items[i - 1], items[i], r"[ \t]+")
    return False


def subject(text: str, items: list[Piece], i: int) -> bool:
    """"hope has a fever since tues ... can she come in": a first name opening the message, then "has" or
    "is", and the message goes on about a "she" or a "he" (not "i hope the dose helps")."""
    return i == 0 and i + 1 < len(items) and items[i + 1].word in _OPENS and \
        joined(text, items[i], items[i + 1], r"[ \t]+") and bool(_THIRD_PERSON.search(text, items[i + 1].end))
