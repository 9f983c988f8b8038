"""Shapes shared by ingest, retrieval and answering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a knowledge document."""

    title: str  # the document's title (front matter), named to the patient as the source
    heading: str  # the section heading the chunk sits under ("" for the intro)
    text: str
    source: str  # document path relative to the documents folder
    score: float  # cosine similarity in [0, 1]
    lexical: float = 0.0  # the best BM25 score of its chunks (0 when no word of the question is in it)


@dataclass(frozen=True)
class Sentence:
    text: str
    passage: Passage
    position: int  # its place in the passage
    score: float
    gives: bool = False  # it gives what the question's kind asks for (knowledge/kinds.py), and scores the role weight more (knowledge/select.py)
    words: float = 0.0  # what the question's rare words add to its score (knowledge/select.py)
    learned: float = 0.0  # what the learned sentence scorer adds to its score (knowledge/select.py, reranker.py)


@dataclass(frozen=True)
class Selection:
    """The chosen sentences, in the order an answer says them (each section's in the section's order)."""

    sentences: tuple[Sentence, ...] = field(default=())

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @property
    def passages(self) -> list[Passage]:
        """One passage per section the sentences come from, holding only the chosen sentences: the model's context."""
        out: dict[tuple[str, str], Passage] = {}
        for s in self.sentences:
            key = (s.passage.source, s.passage.heading)
            kept = out.get(key)
            out[key] = replace(s.passage, text=f"{kept.text} {s.text}" if kept else s.text)
        return list(out.values())

    @property
    def titles(self) -> list[str]:
        return list(dict.fromkeys(s.passage.title for s in self.sentences))


def first_then(first: Sequence[Sentence], selection: Selection, fits: Callable[[str, Sequence[str]], bool]) -> Selection:
    """``first``, then each sentence of ``selection`` not among them while the answer still fits (``fits``: a body and
    its source titles, the one SMS budget)."""
    chosen = list(first)
    for sentence in selection.sentences:
        trial = Selection((*chosen, sentence))
        if sentence.text not in {s.text for s in chosen} and fits(trial.text, trial.titles):
            chosen.append(sentence)
    return Selection(tuple(chosen))


def answer_order(chosen: Sequence[Sentence]) -> list[Sentence]:
    """``chosen`` in the order an answer says them: the sentences of the first one's section (the best sentence's)
    first, each section's in the section's order."""
    first = chosen[0].passage if chosen else None
    return sorted(chosen, key=lambda s: (s.passage is not first, s.position))


def added_if_fits(chosen: Sequence[Sentence], sentence: Sentence, fits: Callable[[str], bool]) -> list[Sentence]:
    """``chosen`` with ``sentence`` among them in the answer's order (:func:`answer_order`) when the answer still fits
    (``fits``: the one SMS budget), else ``chosen`` as it was."""
    trial = answer_order([*chosen, sentence])
    return trial if fits(" ".join(s.text for s in trial)) else list(chosen)


@dataclass
class Answer:
    """What the answerer says, from which documents, and why (``trace``: what each stage did)."""

    answer: str
    sources: list[str] = field(default_factory=list)
    grounded: bool = False
    reason: str = ""  # generated | fallback:<check> | extractive | value | policy:<kind> | low_similarity | ...
    handoff: str = ""  # why a person should take the conversation ("medical_question", "critical_value"), or ""
    trace: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "sources": self.sources, "grounded": self.grounded}
