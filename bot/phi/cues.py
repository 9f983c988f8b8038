"""Names that no list knows, found by what stands around them.

The name lists leave out surnames that are everyday words ("Page", "Long", "May" are in Philter's safe set
only), and organisations are often named with everyday words ("the westside wolves", "university of
hull"). What marks them is their context:

- a title before a capitalised word: "Dr Page", "Mrs. Long" (:func:`titled`);
- a relative written in lower case before a word in capitals: "spoke w/ son TOM LONG (HCP)" (:func:`titled`);
- an organisation word with "of" and a name or a place after it: "university of leeds", "Bank of Ireland"
  (:func:`of_names`);
- a team after "plays for the": "playing for the northside hawks" (:func:`teams`);
- two names in the same case joined by "of": "<NAME> OF <NAME>" is one organisation ("QUEEN OF ANGELS",
  :func:`bridged`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from bot.phi.lexicon import Lexicon
from bot.phi.names import STOP_WORDS
from bot.phi.tokens import Piece, joined

# Titles a surname follows (not "sister" or "father": "father Mike" and "my father" read alike).
NAME_TITLES = frozenset(["mr", "mrs", "ms", "miss", "mx", "dr", "prof"])
# Relatives whose name the writer may put in capitals ("daughter MAY LONG"); no "pt": "PT STATES".
FAMILY = frozenset(
    ["son", "daughter", "wife", "husband", "mom", "mother", "mum", "dad", "father", "brother", "sister", "grandson", "granddaughter", "aunt", "uncle", "niece", "nephew", "cousin", "partner", "boyfriend", "girlfriend", "fiance", "fiancee", "stepson", "stepdaughter", "spouse", "caregiver", "carer", "friend", "neighbor", "neighbour", "dtr"]
)
# Words an organisation's name opens with before "of": "University of ...", "Bank of ...", "Sisters of ...".
OF_HEADS = frozenset(
    ["university", "college", "school", "academy", "institute", "bank", "church", "hospital", "sisters", "brothers", "order", "society", "museum", "department", "dept", "city", "county", "town", "village", "borough", "parish", "diocese"]
)
TEAM_CUE = re.compile(r"(?i:\b(?:play(?:s|ing|ed)?|coach(?:es|ing|ed)?|captain(?:s|ing)?|train(?:s|ing)?)\s+"
                      r"(?:[a-z]+\s+){0,2}?(?:for|with|on)\s+"  # "play rec hockey with the ..."
                      r"(?:the|a|his|her|their|our|my)\s+)")
MAX_WORDS = 3


def _plain_name_word(q: Piece) -> bool:
    return q.alpha and len(q.word) > 1 and q.word not in STOP_WORDS


def titled(text: str, items: Sequence[Piece], lex: Lexicon) -> list[tuple[int, int, str]]:
    """A capitalised word after a title ("Dr Page", "Mrs. Long") and words in capitals after a relative written
    in lower case ("daughter MAY LONG"): a name, whatever else the word means."""
    found = []
    for i, p in enumerate(items[:-1]):
        nxt = items[i + 1]
        if p.word in NAME_TITLES and joined(text, p, nxt, r"\.?[ \t]+") and nxt.capitalised and nxt.alpha \
                and nxt.word not in STOP_WORDS and not (nxt.upper and nxt.word in lex.abbreviations):
            found.append((nxt.start, nxt.end, "PERSON"))
        if p.word in FAMILY and not p.upper and nxt.upper and nxt.alpha and joined(text, p, nxt, r"[ \t]+"):
            run = [nxt]
            for q in items[i + 2 : i + 1 + MAX_WORDS]:
                if not (q.upper and q.alpha and joined(text, run[-1], q, r"[ \t]+")):
                    break
                run.append(q)
            # a relative's name, not an abbreviation the note goes on with ("son ER visit", "wife HCP")
            if not any(q.word in lex.abbreviations and not lex.is_name(q.word) for q in run):
                found.append((run[0].start, run[-1].end, "PERSON"))
    return found


def of_names(text: str, items: Sequence[Piece], lex: Lexicon) -> list[tuple[int, int, str]]:
    """"university of leeds", "Bank of Ireland", "sisters of mercy": an organisation word, "of" (and "the"), then
    one to three words the first of which is a name, a place or no everyday word, in any case."""
    found = []
    for i, p in enumerate(items[:-2]):
        if p.word not in OF_HEADS or items[i + 1].lower != "of" or not joined(text, p, items[i + 1], r"[ \t]+"):
            continue
        k = i + 2
        if items[k].lower == "the" and k + 1 < len(items):
            k += 1
        first = items[k]
        if not joined(text, items[k - 1], first, r"[ \t]+") or not _plain_name_word(first) or first.word in lex.clinical:
            continue
        if not (lex.is_name(first.word) or first.word in lex.places or first.word not in lex.safe
                or (first.capitalised and p.capitalised)):
            continue
        run = [first]
        for q in items[k + 1 : k + MAX_WORDS]:
            if not (_plain_name_word(q) and joined(text, run[-1], q, r"[ \t]+") and q.capitalised == first.capitalised
                    and q.capitalised and q.word not in lex.clinical):
                break
            run.append(q)
        found.append((p.start, run[-1].end, "ORG"))
    return found


def teams(text: str, items: Sequence[Piece], lex: Lexicon) -> list[tuple[int, int, str]]:
    """"playing for the eastbrook falcons", "coaches the U10s": a team's name after "plays for the" (one to three
    words, no clinical word, ending the phrase)."""
    found = []
    for m in TEAM_CUE.finditer(text):
        run: list[Piece] = []
        for q in items:
            if q.start < m.end():
                continue
            # a capitalised team name may hold a clinical word ("the Frostbite Five"); a lower-case one may not
            if not _plain_name_word(q) or (q.word in lex.clinical and not (q.capitalised and not q.upper)) \
                    or len(run) == MAX_WORDS or (run and run[0].capitalised and not q.capitalised) or (
                    run and not joined(text, run[-1], q, r"[ \t]+")):
                break
            run.append(q)
        if len(run) >= 2 or (run and run[0].word not in lex.safe):
            found.append((run[0].start, run[-1].end, "ORG"))
    return found


NAMED = frozenset(["PERSON", "ORG", "LOCATION", "REDACTED"])


def bridged(text: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """"<NAME> OF <NAME>", "<LOCATION> of <NAME>": two names joined by "of" (and "the"), written with capitals
    both, are one organisation's or place's name; "of" in between would be left behind."""
    out = []
    ordered = sorted(s for s in spans if s[2] in NAMED)
    for (s1, e1, _), (s2, e2, _) in itertools.pairwise(ordered):
        gap = text[e1:s2]
        if re.fullmatch(r"[ \t]+(?:of|OF|Of)(?:[ \t]+(?:the|THE|The))?[ \t]+", gap) and text[s1].isupper() \
                and text[s2].isupper():
            out.append((s1, e2, "ORG"))
    return out


# After a town: a US state's two capitals before a ZIP code, or the district half of a British postcode
# ("Long Beach, CA <ZIP>", "Ealing W5,"): the rest of the address.
_TAIL = re.compile(r"(?:,?[ \t]+(?:[A-Z]{2}(?=[ \t]*(?:\d{5}|<ZIP>))|[A-Z]{1,2}\d[A-Z\d]?(?=[ \t]*(?:[,.;)]|$))))")


def tailed(text: str, spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A place found, then a state's abbreviation before a ZIP code or a postcode district: one place."""
    out = []
    for start, end, entity in spans:
        m = _TAIL.match(text, end) if entity == "LOCATION" else None
        if m:
            out.append((start, m.end(), "LOCATION"))
    return out
