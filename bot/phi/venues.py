"""Places people go, named after "at", "from" or "to", in any case.

Texting drops the capitals that make "Catholic Charities" or "Mass General" a name, and a note in
capitals makes every word look like one. What still marks a place's or an organisation's name is
where it stands: after a preposition of place, as a short noun phrase with no determiner, ending the
clause. Such a phrase is taken as a name when

- it ends in a word organisations end in ("good samaritan hospital", "SHADY PINES NURSING HOME",
  "catholic charities", "mass general", "valley children's", "sunny acres assisted living"), or
- it starts with a word that is a name or a place, or that no dictionary knows (a brand:
  "kaiser permanente", "WALGREENS"; alone, only with its capital; see ``unlisted`` in
  :mod:`bot.phi.lexicon`).

"went to the er", "at home", "from work", "to pick up", "at cardiology clinic" (a clinical word) take
nothing.
"""

from __future__ import annotations

import re

from bot.phi.lexicon import Lexicon
from bot.phi.names import STOP_WORDS
from bot.phi.tokens import Piece, joined

PREPOSITIONS = frozenset(["at", "from", "to"])
# Words that cannot be part of such a name: determiners, pronouns, prepositions, conjunctions, auxiliaries.
_FUNCTION_TEXT = """
    the a an my your his her our their this that these those some any no every each its i me you he she it
    we they him them us at from to in on of for with by about into over after before and or but so if than
    then is am are was were be been has have had do does did will would can could should may might must not
    just also very today tonight tomorrow yesterday now again still here there
"""
FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())
# The last word of an organisation's name ("... hospital", "... nursing home", "mass general").
ORG_ENDS = frozenset(
    ["hospital", "hospitals", "clinic", "center", "centre", "pharmacy", "church", "school", "college", "university", "academy", "bank", "home", "hospice", "manor", "infirmary", "charities", "charity", "general", "memorial", "regional", "children's", "childrens", "institute", "foundation", "ministries", "services", "shelter", "mission",
     # places people are cared for, kept, taught or play: "little oaks daycare", "HMP Leeds prison", "Rovers FC"
     "daycare", "nursery", "preschool", "kindergarten", "prison", "jail", "penitentiary", "club", "fc", "park",
     "chapel", "cathedral", "mosque", "synagogue", "temple", "ctr"]
)
# A practice is named for its specialty ("riverbend cardiology", "Lakeshore Neuro Assoc"): a head after a
# name, though a clinical word (one word before it may still be a department: "peds cardiology").
SPECIALTY_ENDS = frozenset(
    ["cardiology", "dermatology", "neurology", "oncology", "orthopedics", "orthopaedics", "pediatrics", "urology", "radiology", "gastroenterology", "pulmonology", "rheumatology", "endocrinology", "ophthalmology", "podiatry", "chiropractic", "dental", "dentistry", "optometry", "associates", "assoc"]
)
# After the name, the clause goes on with one of these, or ends.
PHRASE_END = re.compile(r"[ \t]*(?:[,.;:!?)\n]|$|(?i:for|in|on|and|said|says|told|they|yesterday|today|last|this|where|with|about|since|until|because)\b)")
MAX_WORDS = 3


def department_of(name: Piece, head: Piece) -> bool:
    """"Wexham Park dermatology": a specialty in lower case after a capitalised name is a department there, clinical
    content (written "Riverbend Cardiology" or all in lower case, the specialty is the practice's name)."""
    return head.word in SPECIALTY_ENDS and name.capitalised and not head.capitalised


def _ends_name(text: str, words: list[Piece]) -> bool:
    return PHRASE_END.match(text, words[-1].end) is not None


def find(text: str, items: list[Piece], lex: Lexicon, person: list[bool]) -> list[tuple[int, int, str]]:
    """Names of places after a preposition of place; ``person`` marks the words the name list took as a
    person's name ("registered to Kowalski"), which stay a person's."""
    found = []
    for i, cue in enumerate(items[:-1]):
        if cue.lower not in PREPOSITIONS:
            continue
        run: list[Piece] = []
        prev = cue
        for q in items[i + 1 : i + 2 + MAX_WORDS]:
            if not q.alpha or q.lower in FUNCTION_WORDS or not joined(text, prev, q, r"[ \t]+"):
                break
            run.append(q)
            prev = q
        # a head word ends the name: "AT SHADY PINES NURSING HOME IN TOLEDO"
        for n in range(1, len(run) + 1):
            words, last = run[:n], run[n - 1]
            head = last.lower in ORG_ENDS or last.word in ORG_ENDS or last.word in SPECIALTY_ENDS or (n >= 3 and run[n - 2].word == "assisted"
                                                                       and last.word == "living")
            if n >= 2 and head and _headed(words, lex):
                # "to Wexham Park dermatology": a specialty in lower case after a capitalised name is its department
                department = department_of(words[-2], last)
                found.append((words[0].start, words[-2].end if department else last.end, "ORG"))
                break
        else:
            for n in range(min(len(run), 2), 0, -1):
                words = run[:n]
                if _ends_name(text, words) and not any(person[q.index] for q in words) and _proper(words, lex):
                    found.append((words[0].start, words[-1].end, "ORG"))
                    break
    return found


def _headed(words: list[Piece], lex: Lexicon) -> bool:
    """The words before the head are a name: no clinical word ("cardiology clinic"), no verb in -ing or -ed
    ("visiting clinic"), unless the head is one no department takes ("mass general")."""
    compound = len(words) > 2 and f"{words[-2].word} {words[-1].word}" in ("nursing home", "assisted living")
    named = words[:-2] if compound else words[:-1]  # "... nursing home", "... assisted living"
    if any(q.word.endswith(("ing", "ed")) and q.word in lex.safe and not lex.is_name(q.word) for q in named):
        return False
    if words[-1].lower in ("general", "memorial", "regional", "children's", "childrens", "charities"):
        return True
    if any(q.word in lex.clinical and not lex.is_name(q.word) and q.word not in lex.places for q in named):
        return False
    # one word before "clinic" or "center" may be a department ("cardiology clinic"): it takes a name
    return len(named) > 1 or any(lex.is_name(q.word) or q.word in lex.places or q.word in lex.unlisted
                                 or q.word not in lex.safe for q in named)  # or a word no dictionary knows


def _proper(words: list[Piece], lex: Lexicon) -> bool:
    """"walgreens", "kaiser permanente": a brand, or a name or a place before one; no clinical word."""
    first = words[0].word
    if len(first) < 3 or first in STOP_WORDS:
        return False
    if any(q.word in lex.clinical and not lex.is_name(q.word) for q in words):
        return False
    if first in lex.unlisted and (len(words) == 2 or words[0].capitalised):
        return True  # alone, a brand needs its capital ("AT WALGREENS"; "went to chemo" is no place)
    return len(words) == 2 and (lex.is_name(first) or first in lex.places) and words[1].word in lex.unlisted
