"""An organisation's or a place's name runs on to its last word in the same case.

spaCy and the name lists often find the head of a name but not all of it: "(<ORG> ELECTRIC)" from
"PORTLAND GENERAL ELECTRIC", "<ORG> CENTER" from "ST VINCENT MERCY MEDICAL CENTER", "<LOCATION>
AIRLINES" from "SOUTHWEST AIRLINES". The words written right after such a span in the same case (all
capitals after capitals, capitalised after capitalised) belong to the name, until a short common word,
a clinical term that is no organisation word, a day or a month, or punctuation ends it: each of those
words is an everyday word, so the strict pass would keep it and leave part of the name behind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.phi.lexicon import Lexicon
from bot.phi.namelist import ORG_WORDS
from bot.phi.names import STOP_WORDS
from bot.phi.tokens import TITLES, Piece, joined
from bot.phi.venues import FUNCTION_WORDS, ORG_ENDS, SPECIALTY_ENDS, department_of

NAME_ENTITIES = frozenset(["ORG", "LOCATION"])
MAX_MORE = 3  # words a name runs on by
CALENDAR = frozenset(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "today", "tomorrow", "yesterday"]
)


def _same_case(last: Piece, q: Piece) -> bool:
    if last.upper:
        return q.upper
    return q.capitalised and not q.upper and q.text[1:].islower()


def _ends(q: Piece, lex: Lexicon) -> bool:
    w = q.word
    return (not q.alpha or w in STOP_WORDS or w in FUNCTION_WORDS or w in CALENDAR or w in TITLES
            or (w in lex.clinical and w not in ORG_WORDS) or (q.upper and w in lex.abbreviations and w not in ORG_WORDS))


def _closing(text: str, q: Piece, words: int, lex: Lexicon) -> bool:
    """"(PORTLAND GENERAL ELECTRIC)": after two words of a name, an everyday word that a clinic's documents
    use too ("electric", "power") still ends the name when a bracket, a comma or the line's end follows."""
    return (q.alpha and words >= 2 and q.word in lex.clinical and q.word not in lex.abbreviations
            and q.word not in STOP_WORDS and q.word not in FUNCTION_WORDS and q.word not in CALENDAR
            and re.match(r"[ \t]*(?:[),;]|$)", text[q.end :]) is not None)


def inside(items: Sequence[Piece], start: int, end: int) -> list[Piece]:
    """The pieces of ``items`` within [start, end)."""
    return [p for p in items if start <= p.start and p.end <= end]


def extend(text: str, items: Sequence[Piece], spans: Sequence[tuple[int, int, str]], lex: Lexicon
           ) -> list[tuple[int, int, str]]:
    """(start, end, entity) spans of organisations and places, each run on over the rest of its name
    (``items``: the text's pieces)."""
    out = []
    for start, end, entity in spans:
        if entity not in NAME_ENTITIES:
            continue
        found = inside(items, start, end)
        if not found or not found[-1].alpha or (not found[-1].capitalised):
            continue
        last, more = found[-1], 0
        for q in items[last.index + 1 : last.index + 1 + MAX_MORE]:
            if not joined(text, last, q, r"[ \t]+") or not _same_case(found[-1], q):
                break
            if _ends(q, lex) and not _closing(text, q, len(found) + more, lex):
                break
            last, more = q, more + 1
        if more:
            out.append((start, last.end, entity))
    return out


# an organisation's last word, after a name found (in any case): "<ORG> center" of "dunmore foods distribution
# center", "<NAME> street pharmacy", "<REDACTED> cardiology"
HEADS = (ORG_ENDS - {"home", "general", "services"}) | SPECIALTY_ENDS | {"nursery", "daycare", "preschool", "care"}
# heads that are everyday words too ("Rose care for him", "Mrs Smith care package"): a head only with a capital
# ("Bluebird Care", a home-care company)
CAPITAL_HEADS = frozenset(["care"])
_STREET = frozenset(["street", "st", "avenue", "ave", "road", "rd"])
HEADED_ENTITIES = frozenset(["ORG", "LOCATION", "PERSON", "REDACTED"])


def _between(text: str, last: Piece, follow: Sequence[Piece], lex: Lexicon) -> bool:
    """One word between a name and an organisation's head: no common short word, and no clinical term unless
    it is written in the name's case ("ELMWOOD CARE CENTER"; not "Dr <NAME> cardiology clinic")."""
    middle, head = follow
    if not (middle.alpha and joined(text, last, middle, r"[ \t]+") and joined(text, middle, head, r"[ \t]+")):
        return False
    if middle.word in STOP_WORDS or middle.word in FUNCTION_WORDS or department_of(last, middle):
        return False
    if head.word == "living":
        return middle.word in ("senior", "assisted")
    same_case = (middle.upper and head.upper and last.upper) or (
        middle.capitalised and head.capitalised and not middle.upper and not last.upper)
    return same_case or middle.word not in lex.clinical


def headed(text: str, items: Sequence[Piece], spans: Sequence[tuple[int, int, str]], lex: Lexicon
           ) -> list[tuple[int, int, str]]:
    """A name found, then (a street word and) a word organisations end in: the whole is an organisation's name."""
    out = []
    for start, end, entity in spans:
        if entity not in HEADED_ENTITIES:
            continue
        found = inside(items, start, end)
        if not found:
            continue
        last = found[-1]
        follow = items[last.index + 1 : last.index + 3]
        if follow and follow[0].word in _STREET and joined(text, last, follow[0], r"\.?[ \t]+"):
            last, follow = follow[0], follow[1:]
        if len(follow) == 2 and follow[1].word in HEADS | {"living"} and _between(text, last, follow, lex):
            out.append((start, follow[1].end, "ORG"))  # "<NAME> CARE CENTER", "<ORG> fulfilment ctr", "<NAME> SENIOR LIVING"
            continue
        if follow and follow[0].word in HEADS and joined(text, last, follow[0], r"\.?[ \t]+") and \
                not department_of(last, follow[0]) and (follow[0].word not in CAPITAL_HEADS or follow[0].text[0].isupper()):
            out.append((start, follow[0].end, "ORG"))
    return out


# Words many place names share, left out of the place list for that (bot.phi.places): beside a place or a
# name taken as a place they are part of it ("<LOCATION> falls" of "cedar falls", "in port <NAME>").
PLACE_HEADS = frozenset(["port", "fort", "ft", "mount", "mt", "lake", "new", "north", "south", "east", "west", "san", "santa", "glen", "grand"])
PLACE_TAILS = frozenset(["falls", "springs", "heights", "city", "beach", "village", "hills", "valley", "junction", "ridge", "creek", "harbor", "grove", "township", "lake"])
PLACE_CUE_WORDS = frozenset(["in", "from", "near", "to", "outside", "around"])


def placed(text: str, items: Sequence[Piece], spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A place's name over the generic words it has: "<LOCATION> falls", "in port <NAME>" (a name after a
    place cue and a place word is a place's)."""
    out = []
    for start, end, entity in spans:
        if entity not in ("LOCATION", "PERSON"):
            continue
        found = inside(items, start, end)
        if not found:
            continue
        first, last = found[0], found[-1]
        new_start, new_end = start, end
        head = items[first.index - 1] if first.index > 0 else None
        cue = items[first.index - 2] if first.index > 1 else None
        if head is not None and head.word in PLACE_HEADS and joined(text, head, first, r"\.?[ \t]+") and \
                cue is not None and cue.word in PLACE_CUE_WORDS and joined(text, cue, head, r"[ \t]+"):
            new_start = head.start
        tail = items[last.index + 1] if last.index + 1 < len(items) else None
        cued = new_start < start or (head is not None and head.word in PLACE_CUE_WORDS)
        if tail is not None and tail.word in PLACE_TAILS and joined(text, last, tail, r"[ \t]+") and \
                (entity == "LOCATION" or cued):
            new_end = tail.end
        if (new_start, new_end) != (start, end):
            out.append((new_start, new_end, "LOCATION"))
    return out


_HYPHEN_BEFORE = re.compile(r"(?<![\w-])([^\W\d_]{2,})[-‐]$")
_HYPHEN_AFTER = re.compile(r"(?<=[^\W\d_])[-‐]([^\W\d_]{2,})(?![\w-])")


def hyphenated(text: str, spans: Sequence[tuple[int, int, str]], lex: Lexicon) -> list[tuple[int, int, str]]:
    """A person's name runs on over a hyphen: "okonkwo-bell", "seo-yeon park", "Kaczmarek-Olu". When the lists
    or spaCy take one part of a hyphenated word as a name, the other part is the same name's, unless it is a
    clinical term ("Parkinson-like")."""
    out = []
    for start, end, entity in spans:
        if entity != "PERSON":
            continue
        new_start, new_end = start, end
        before = _HYPHEN_BEFORE.search(text, max(0, start - 40), start)
        if before and before.group(1).lower() not in lex.clinical:
            new_start = before.start(1)
        after = _HYPHEN_AFTER.match(text, end)
        if after and after.group(1).lower() not in lex.clinical:
            new_end = after.end(1)
        if (new_start, new_end) != (start, end):
            out.append((new_start, new_end, entity))
    return out
