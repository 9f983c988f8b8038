"""Two questions in one message: "what is X and how is it different from Y", "when do you open and do you take Z".

Answered whole, such a message gets the sentences of the part the retrieval leans to. :func:`split_question` cuts it at
the conjunction when what follows is a question of its own (it starts with a question word) and so is what goes
before; a pronoun of the second part ("how is it different") becomes the first part's name for the thing it asks
about. Each part is answered on its own; :func:`merged` takes their sentences in turn (the first of each part first)
while the answer fits the one SMS budget (``fits``), each part's in its own order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from knowledge.types import Passage, Selection, Sentence


class Answered(Protocol):  # knowledge/answer.py's Answer
    answer: str
    sources: list[str]
    reason: str

_QUESTION_WORD = (r"(what|whats|what's|how|which|when|where|who|why|do|does|did|is|are|am|can|could|will|would|"
                  r"should|may|must|have|has)")
_STARTS = re.compile(rf"^{_QUESTION_WORD}\b", re.I)
_JOIN = re.compile(rf"\s*(?:[,;?]\s*)?\b(?:and also|and then|and|also|plus|or|&)\s+(?={_QUESTION_WORD}\b)", re.I)
_ASKS_AFTER = re.compile(rf"[,;.?!]\s+{_QUESTION_WORD}\b", re.I)  # "got a bill i cant pay, do yall do payment plans"
# A second part that asks for a range without naming what of: "what is alt and what's the normal range".
_RANGE_OF_IT = re.compile(r"\b(normal|typical|healthy|usual) (range|level|value|number)s?\b|\bthe range\b", re.I)
_PRONOUN = re.compile(r"\b(it|that|this|they|them)\b", re.I)
MIN_WORDS = 3  # each part a question on its own, not "what and how"


def split_question(question: str, subject: Callable[[str], str] = lambda _: "") -> list[str]:
    """The parts of a two-part question, or ``[question]``. ``subject(part)`` is the first part's name for what it asks
    about ("" when it names none): the second part's first pronoun becomes it. A question with a number ("my tsh is 6")
    is left whole (the patient's own value is placed whole, knowledge/values.py); a name's digit ("t4") is no number."""
    text = " ".join(question.split())
    if re.search(r"(?<![A-Za-z0-9])\d", text):  # a number, not a name's digit ("t4", "b12")
        return [text]
    for join in _JOIN.finditer(text):
        first, second = text[: join.start()].strip(" ,;?"), text[join.end():].strip()
        if len(first.split()) < MIN_WORDS or len(second.split()) < MIN_WORDS or not (
                _STARTS.match(first) or _ASKS_AFTER.search(first)):  # the first part asks too, at its start or after a comma
            continue
        name = subject(first)
        if name and _PRONOUN.search(second):
            second = _PRONOUN.sub(name, second, count=1)
        elif name and _RANGE_OF_IT.search(second) and not subject(second):
            second = f"{second.rstrip(' ?')} for {name}"
        return [first, second]
    return [text]


def merged(parts: Sequence[Selection], fits: Callable[[str], bool]) -> Selection:
    """The parts' sentences taken in turn (each part's first, then each part's second ...) while ``fits`` holds, said
    part by part in each part's order; a sentence two parts share is said once."""
    kept: list[list[Sentence]] = [[] for _ in parts]
    said: set[str] = set()
    for rank in range(max((len(p.sentences) for p in parts), default=0)):
        for n, part in enumerate(parts):
            if rank >= len(part.sentences) or part.sentences[rank].text in said:
                continue
            sentence = part.sentences[rank]
            trial = [s for k, own in enumerate(kept) for s in (sorted([*own, sentence], key=part.sentences.index)
                                                                if k == n else own)]
            if fits(" ".join(s.text for s in trial)):
                kept[n].append(sentence)
                said.add(sentence.text)
    return Selection(tuple(s for own, part in zip(kept, parts, strict=True)
                           for s in sorted(own, key=part.sentences.index)))


def as_selection(found: Answered | Selection) -> Selection | None:
    """A part's sentences: its selection, or a range answer's text as one sentence of its one source; None for a
    refusal, a handoff or an answer of several sources."""
    if isinstance(found, Selection):
        return found
    if found.reason != "range" or len(found.sources) != 1:
        return None
    body = found.answer.rsplit("\n", 1)[0]
    return Selection((Sentence(body, Passage(title=found.sources[0], heading="", text=body, source="", score=1.0), 0,
                               1.0),))
