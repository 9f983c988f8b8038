"""A cause the patient names: "INR dropped to 1.6, could the salads do that", "AST 40, ran a half marathon, could the
run do that", "rode my bike the day my PSA was drawn, would that mess it up".

Such a question asks whether one thing of the patient's own changed a test's result. The test's own document says
what can change it, one cause to a sentence (knowledge/kinds.py: gives_cause); the sentence whose meaning is nearest
the rest of the question (its words besides the test's names, the number and the words of placing it) answers it, when
it is near enough. The generic causes ("Common causes of a high AST are fatty liver and alcohol") do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from knowledge.kinds import besides_words, gives_cause, question_kinds, words
from knowledge.lexical import RARE_IN, tokens
from knowledge.select import LEANS_BACK, SentenceSelector, candidates, direction, first_direction
from knowledge.sentences import PEOPLE_WORDS
from knowledge.types import Passage, Sentence, added_if_fits
from knowledge.vocabulary import Vocabulary

NAMED_CAUSE_SIMILARITY = 0.15  # the rest of the question this near a cause sentence names that cause
KEEP_WITHIN = 0.08  # a second cause sentence of the same section this close to the best is kept too
MAX_CAUSES = 2
RARE_PAGES = 4  # named_thing: a word at most this many of the documents hold names a thing (of 26: "children" 4)
_MEASURE = re.compile(r"\d[\d.,-]*\s*(x\b|%|[a-zµ]+(/[\w.]+)*)?", re.I)  # "210 mg/dL", "8-33 U/L", "5x": no cause

# Who the patient speaks of and words that fill a message: no cause ("my mom's been eating ... lately").
_FILLER = frozenset(re.findall(r"\S+", (
    "he she her hers his him they them their we us our its mom mother dad father son daughter husband wife kid kids "
    "child parent grandma grandpa than like lot ton usually really just also bit way all lately oop anyth know")))
# ... and no thing of named_thing either, nor an age ("my 13 year old"); but the people the documents name are
# ("kids": the documents' "children and teens")
_NO_THING = frozenset(tokens(" ".join([*_FILLER, "old year years yr yrs yo age aged"]))) - frozenset(
    tokens(" ".join(PEOPLE_WORDS)))


def known_names(question: str, vocabulary: Vocabulary, code: str) -> list[str]:
    """The names the question says that are the documents' own (every name of a test or a page it says, as written,
    and all the names of the tests it names): what it asks about, not a cause it names. A word of a page's name
    said alone is no name ("coumadin" of "coumadin level")."""
    written = [question[m.start:m.end] for m in vocabulary.mentions(question)]
    return [*written, *vocabulary.names_in(question), *vocabulary.names_of(code)]


def named_causes(question: str, selector: SentenceSelector | None, sections: Sequence[Passage],
                 names: Sequence[str], known: Sequence[str], side: str | None, fits: Callable[[str], bool]
                 ) -> list[Sentence]:
    """The sentences of a test's own document (``sections``; ``names``: the test's names) that give the cause the
    question names, best first, while ``fits`` holds; [] when it asks no cause or names none the document gives.
    ``known`` are the documents' names the question says (:func:`known_names`); ``side`` is the side of the patient's
    number ("high", "low"), else the side the question speaks of."""
    plain = _MEASURE.sub(" ", question)
    rest = {w for w in besides_words(plain, known) - _FILLER if not direction(w)}
    if selector is None or "cause" not in question_kinds(question) or len(rest) < 2:
        return []
    side = side or direction(question)
    subject = {w for n in names for w in words(n)}  # a cause of this test, not of another of its page
    found = [(p, n, s) for p in sections for n, s in enumerate(candidates(p))
             if gives_cause(s, subject) and not LEANS_BACK.match(s) and (not side or (first_direction(s) or direction(p.heading)) in ("", side))]
    if not found:
        return []
    said = " ".join(w for w in re.findall(r"[\w']+", plain) if words(w) & rest)  # in the question's order
    asked, *vectors = selector.vectors([said, *(s for *_, s in found)])
    scored = sorted((Sentence(s, p, n, sum(a * b for a, b in zip(asked, v, strict=True)), True)
                     for (p, n, s), v in zip(found, vectors, strict=True)), key=lambda s: -s.score)
    best = scored[0]
    if best.score < NAMED_CAUSE_SIMILARITY or not fits(best.text):
        return []
    chosen = [best]
    for other in scored[1:]:
        if len(chosen) == MAX_CAUSES or other.score < best.score - KEEP_WITHIN:
            break
        if other.passage is best.passage:
            chosen = added_if_fits(chosen, other, fits)
    return chosen


def named_thing(question: str, sections: Sequence[Passage], known: Sequence[str], said: str,
                pages: Mapping[str, int], side: str | None, fits: Callable[[str], bool]) -> Sentence | None:
    """"alk phos 280 ... why would it be higher in kids", "bilirubin 1.6 again, is gilbert dangerous": the sentence of
    a test's own document (``sections``) that holds a thing the question names besides the test (``known``, as for
    :func:`named_causes`), its number and the words of placing it. A thing is a word few documents hold (``pages``:
    how many hold each word; "gilbert" one, "kids" as the documents' "children" four, not "drink" or "eat") and at
    most RARE_IN sentences of this one. Not a sentence ``said`` holds already, nor one on the other ``side`` of the
    patient's number, and only while ``fits`` holds."""
    plain = _MEASURE.sub(" ", question)
    rest = set(tokens(" ".join(besides_words(plain, known)))) - _NO_THING
    found = [(p, n, s) for p in sections for n, s in enumerate(candidates(p))
             if s not in said and (not side or first_direction(s) in ("", side))]
    held = [set(tokens(s)) & rest for *_, s in found]
    counts = {w: sum(w in h for h in held) for w in rest}
    rare = {w for w, n in counts.items() if 0 < n <= RARE_IN and pages.get(w, 0) <= RARE_PAGES and not direction(w)}
    best = max(((len(h & rare), -i) for i, h in enumerate(held) if h & rare), default=None)
    if best is None:
        return None
    passage, position, text = found[-best[1]]
    return Sentence(text, passage, position, float(best[0]), True) if fits(text) else None
