"""Two questions in one message: "what is X and how is it different from Y", "when do you open and do you take Z".

Answered whole, such a message gets the sentences of the part the retrieval leans to. :func:`split_question` cuts it at
the conjunction, or at a texted slash ("how long do refills take / can I text you for ..."), when what follows is a
question of its own (it starts with a question word) and so is what goes before (a question mark, a question word at
its start or after a comma, or a wh-word anywhere: "i have diabetes how often ..."); a lead-in before a colon ("Two
quick things: ...") is no part. A pronoun of the second part ("how is it different", "the test") becomes the first
part's name for the thing it asks about, with the word that says which of it ("low blood sugar"). Each part is answered
on its own; :func:`merged` takes their sentences in turn (the best of each part first) while the answer fits the one
SMS budget (``fits``), each part's in its own order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from knowledge.types import Passage, Selection, Sentence
from knowledge.values import counts_only


class Answered(Protocol):  # knowledge/answer.py's Answer
    answer: str
    sources: list[str]
    reason: str

# a wh-word, also as it is texted with "is" run on: "wheres the parking at and do i have to pay for it"
_WH_WORDS = r"what|whats|what's|how|hows|how's|which|when|whens|when's|where|wheres|where's|who|whos|who's|whom|whose|why"
_WH = rf"({_WH_WORDS})"
_QUESTION_WORD = rf"({_WH_WORDS}|do|does|did|is|are|am|can|could|will|would|should|may|must|have|has)"
_STARTS = re.compile(rf"^{_QUESTION_WORD}\b", re.I)
_JOIN = re.compile(rf"(?:\s*(?:[,;?]\s*)?\b(?:and also|and then|and|also|plus|or|&)\s+|\s*/\s*)(?={_QUESTION_WORD}\b)",
                   re.I)
# after a mark or an emoji: "got a bill i cant pay, do yall do payment plans", "3 kids 🙃 are you taking new patients"
_ASKS_AFTER = re.compile(rf"[,;.?!\u2600-\u27bf\U0001f300-\U0001faff]\s+{_QUESTION_WORD}\b", re.I)
_ASKS_WITHIN = re.compile(rf"\b{_WH}\b", re.I)  # "i have diabetes how often should i get an a1c" (a wh-word anywhere)
# "Two quick things: ...", "Quick question: ...": a short lead-in before a colon that asks nothing is no part
_LEAD_IN = re.compile(r"^(?P<lead>[^:?]{1,40}):\s+(?=\S)")
# A second part that asks for a range without naming what of: "what is alt and what's the normal range".
_RANGE_OF_IT = re.compile(r"\b(normal|typical|healthy|usual) (range|level|value|number)s?\b|\bthe range\b", re.I)
_PRONOUN = re.compile(r"\b(?:(?:the|this|that) (?:test|number|result|level)|it|that|this|they|them)\b", re.I)
# a word before the subject that is part of what is asked about: "low blood sugar" (not "blood sugar")
_QUALIFIER = re.compile(r"\b(low|high|normal|abnormal)\s+$", re.I)
MIN_WORDS = 3  # each part a question on its own, not "what and how"


def split_question(question: str, subject: Callable[[str], str] = lambda _: "") -> list[str]:
    """The parts of a two-part question, or ``[question]``. ``subject(part)`` is the first part's name for what it asks
    about ("" when it names none): the second part's first pronoun becomes it. A question with a number ("my tsh is 6")
    is left whole (the patient's own value is placed whole, knowledge/values.py); a name's digit ("t4") is no number,
    nor is a count or an age ("with 3 kids", "my 7 yo"), which no band places."""
    whole = " ".join(question.split())
    lead = _LEAD_IN.match(whole)
    text = whole[lead.end():] if lead and not _ASKS_WITHIN.search(lead.group("lead")) else whole
    if re.search(r"(?<![A-Za-z0-9])\d", text) and not counts_only(text):  # a number, not a name's digit ("t4",
        return [whole]  # "b12"), nor a count ("3 kids")
    for join in _JOIN.finditer(text):
        first, second = text[: join.start()].strip(" ,;?"), text[join.end():].strip()
        asked = "?" in join.group()  # "... is there a charge? And can I ...": asked by its mark
        if len(first.split()) < MIN_WORDS or len(second.split()) < MIN_WORDS or not (
                asked or _STARTS.match(first) or _ASKS_AFTER.search(first) or _ASKS_WITHIN.search(first)):
            continue  # the first part asks too: by its mark, at its start, after a comma or with a wh-word
        name = _qualified(first, subject(first))
        if name and _PRONOUN.search(second):
            second = _PRONOUN.sub(name, second, count=1)
        elif name and _RANGE_OF_IT.search(second) and not subject(second):
            second = f"{second.rstrip(' ?')} for {name}"
        return [first, second]
    return [text]


def points_back(part: str) -> bool:
    """The part leans on what a part before it asked about: "how long does that take", "is there interest on it"."""
    return bool(_PRONOUN.search(part))


def _qualified(text: str, name: str) -> str:
    """``name`` with the word before it in ``text`` that says which of it is asked about ("low blood sugar")."""
    at = text.lower().find(name.lower()) if name else -1
    qualifier = _QUALIFIER.search(text[:at]) if at > 0 else None
    return f"{qualifier.group(1)} {name}" if qualifier else name


def merged(parts: Sequence[Selection], fits: Callable[[str], bool]) -> Selection:
    """The parts' sentences taken in turn (each part's best, then each part's second best ...) while ``fits`` holds,
    said part by part in each part's order; a sentence two parts share is said once."""
    kept: list[list[Sentence]] = [[] for _ in parts]
    said: set[str] = set()
    best = [sorted(p.sentences, key=lambda s: -s.score) for p in parts]  # a part's best first, not its first said
    for rank in range(max((len(p.sentences) for p in parts), default=0)):
        for n, part in enumerate(parts):
            if rank >= len(best[n]) or best[n][rank].text in said:
                continue
            sentence = best[n][rank]
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
