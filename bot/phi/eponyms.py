"""Diseases named after people and places ("Crohn's", "Parkinson's disease", "Lyme disease",
"Epstein-Barr virus", "Bell's palsy"), found with ICD-10-CM's own text, so the name lists do not take them.

:func:`bot.phi.lexicon.icd_eponyms` reads the tabular list ``simple-icd-10-cm`` ships (once, when the
lexicon is built): a capitalised word in the middle of a description is a proper name there, and the
lower-case word after it ("disease", "syndrome", "virus") is what such names head. :func:`spans` finds them
in a message: an eponym (or a pair, "Epstein-Barr") before one of those heads, or in the possessive
with no noun after it ("Dad has Parkinson's and", "pt has Alzheimer's."): a possessive that owns
nothing names a condition, while "Bell's office" or "St. Vincent's" is someone's or somewhere.
"""

from __future__ import annotations

import re

from bot.phi.lexicon import Lexicon
from bot.phi.names import STOP_WORDS

# Before these a possessive is a place or a person's ("at Wilson's", "St. Vincent's", "Dr. Bell's").
_NOT_AFTER = frozenset(["st", "saint", "at", "to", "from", "in", "near", "dr", "mr", "mrs", "ms", "the"])
_EPONYM = re.compile(r"\b([A-Za-z]{3,}(?:-[A-Za-z]{3,})*)(['’]s\b|s['’]|['’](?=\s))?")


def spans(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """Spans of ``text`` that name a disease after a person or a place (kept by both modes)."""
    out = []
    for m in _EPONYM.finditer(text):
        words = m.group(1).lower().split("-")
        if not all(w in lex.eponyms for w in words):
            continue
        possessive = bool(m.group(2))
        head = re.match(r"[ \t]+([A-Za-z]+)", text[m.end() :])
        if head and (head.group(1).lower() in lex.eponym_heads
                     or f"{words[-1]} {head.group(1).lower()}" in lex.eponym_heads):
            out.append((m.start(), m.end() + head.end()))
            continue
        before = re.findall(r"[A-Za-z]+", text[max(0, m.start() - 12) : m.start()])
        after = re.match(r"[ \t]*([A-Za-z]*)", text[m.end() :])
        nxt = after.group(1).lower() if after else ""
        owns_nothing = not nxt or nxt in _FUNCTION_WORDS or (nxt in STOP_WORDS and nxt not in _OWNED)
        # a capital or a name: not "from valley children's,"
        proper = m.group(1)[0].isupper() or any(lex.is_name(w) or w not in lex.safe for w in words)
        if possessive and proper and f"{words[-1]}'s" in lex.eponyms and owns_nothing and (
            not before or before[-1].lower() not in _NOT_AFTER
        ):
            out.append((m.start(), m.end()))
    return out


# Nouns among the name recognizers' stop words: "Bell's office" is Dr. Bell's.
_OWNED = frozenset(["office", "clinic", "front", "desk", "patient", "pt", "dr", "doctor", "nurse", "np", "md", "pa", "home", "appt", "appointment", "visit", "name", "number", "phone", "cell", "email", "address", "refill", "prescription", "results", "result", "labs", "lab", "test", "shot", "mg", "ml"])
_FUNCTION_WORDS = frozenset(
    ["and", "or", "but", "is", "was", "has", "had", "since", "for", "last", "diagnosis", "dx", "with", "that", "which", "so", "too", "now", "again", "flare", "flaring", "flared", "meds", "medication", "medications"]
)
