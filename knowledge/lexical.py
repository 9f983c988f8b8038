"""The lexical half of retrieval: BM25 (the ``bm25s`` package) over the stored chunks, and reciprocal rank fusion.

A chunk is indexed with its document's title and section heading, so "bun" finds the kidney page's chunks even
where the chunk's own text says "blood urea nitrogen" once. Words are lower-cased, stemmed by NLTK's Snowball stemmer
for English and stripped of stop words, the same way for the chunks and the question. (A hand-written stripper of
"-ing", "-ed", "-es" and "-s" was here before: it left "bruise" and "bruising", "translate" and "translator" apart.)
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.sentences import PEOPLE_WORDS

RRF_K = 60  # the usual constant of reciprocal rank fusion: ranks past the first few count for little

RARE_IN = 2  # rare_overlap: a question's word counts when at most this many of the candidate sentences hold it
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(re.findall(
    r"\S+", "a an and are as at be by can do does for from how i if in is it me my of on or our should so that the "
    "their there this to was what when where which who why will with you your im get have has been about whats u r"))


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    from nltk.stem.snowball import SnowballStemmer  # code only: no NLTK data is downloaded for it

    return SnowballStemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer().stem(word))


def tokens(text: str) -> list[str]:
    return [stem(PEOPLE_WORDS.get(w, w)) for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass
class LexicalIndex:
    """BM25 over chunks, built once from what the store holds (ids, texts and their metadata)."""

    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]
    _bm25: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        import bm25s

        self._bm25 = bm25s.BM25()
        corpus = [tokens(f"{m.get('title', '')} {m.get('heading', '')} {t}") or ["_"]
                  for t, m in zip(self.texts, self.metadatas, strict=True)]
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def ranked(self, question: str, limit: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the chunks sharing a word with the question, best first."""
        asked = tokens(question)
        if not asked or not self.ids:
            return []
        scores = self._bm25.get_scores(asked)
        order = sorted(range(len(self.ids)), key=lambda i: -float(scores[i]))
        return [(self.ids[i], float(scores[i])) for i in order[:limit] if scores[i] > 0]


def fuse(*rankings: Sequence[str], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each id scores the sum of 1 / (k + rank) over the rankings it is in."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def rare_overlap(question: str, sentences: Sequence[str]) -> list[float]:
    """For each sentence, the share of the question's words it holds, each word weighted by how rare it is among
    ``sentences`` (its inverse document frequency there; a word more than RARE_IN of them hold counts for nothing):
    1.0 for the sentence with every rare word the candidates share with the question, 0.0 for one with none. "is there
    a bus stop near you" leans to the one sentence with "bus stop", not to the parking sentences beside it; the words
    of a long story spread the weight, so each counts for less."""
    asked = set(tokens(question))
    held = [set(tokens(s)) & asked for s in sentences]
    count = len(sentences)
    frequency = {w: sum(w in h for h in held) for w in asked}  # a word in more than two of them tells too few apart
    weight = {w: math.log((count + 1) / (n + 0.5)) for w, n in frequency.items() if 0 < n <= RARE_IN}
    total = sum(weight.values())
    return [sum(weight.get(w, 0.0) for w in h) / total if total > 0 else 0.0 for h in held]


PHRASE_WORDS = (2, 4)  # said_together: a short question of this many content words


def said_together(question: str, text: str) -> bool:
    """A short question's content words (two to four, not stop words) stand together in ``text``, in the question's
    order: "late day??" in "Wednesday is our late day". Its meaning alone is too vague to find that section (0.33
    against the 0.35 floor) and its words too common for BM25 alone."""
    said = [w for w in _WORD.findall(question.lower()) if w not in _STOP]
    if not PHRASE_WORDS[0] <= len(said) <= PHRASE_WORDS[1] or any(w.isdigit() for w in said):
        return False
    return re.search(r"\b" + r"\W+".join(map(re.escape, said)) + r"\b", text.lower()) is not None
