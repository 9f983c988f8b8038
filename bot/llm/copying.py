"""Copy-constrained decoding: the model may only write sentences that are copies of its sources.

The answer check (knowledge/checks.py) sends a draft only when each of its sentences is a copy of a chosen sentence:
the source's words in order, some left out but none added, changed or reordered, ending where the source ends, and
no negation left out. A 135M model that means to copy still slips: "blood thin" for "blood thinner", a sentence
ended one word early, two sentences stitched together, and the whole draft is then replaced by the quote.

:class:`CopyRule` holds the rule and says whether a draft so far can still end as a copy; :class:`CopyProcessor`
is the transformers logits processor that, at each step, keeps only those of the model's likeliest next tokens
that keep the draft on that path (the model still chooses which sentences, in what order, what to leave out and
when to stop). Nothing is imported from torch or transformers at module level.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

WORDS_RE = re.compile(r"[a-z0-9]+")
NEGATIONS = frozenset({"not", "no", "never", "without", "nor", "cannot", "t", "none", "neither"})
# a sentence ends at . ! or ? followed by a space and a capital, a digit, a bracket or a quote (not after "Dr.")
SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)\s+(?=[A-Z0-9(\"'])")
_ENDS_IN_WORD = re.compile(r"[A-Za-z0-9]$")
_MARKS = re.compile(r"[^\w\s]+")  # a run of punctuation: ", " "(" "):" "..." and the byte a token leaves half-made


def words_of(text: str) -> list[str]:
    return WORDS_RE.findall(text.lower())


def is_copy(words: Sequence[str], source: Sequence[str]) -> bool:
    """``words`` is ``source`` with some words left out: in order, ending where the source ends (a cut-off
    "payment plans with no." is not a copy), and no negation left out ("is usually not a concern")."""
    if not words or not source or words[-1] != source[-1]:
        return False
    position, skipped = _embed(words, source)
    return position == len(source) and not NEGATIONS.intersection(skipped)


def _embed(words: Sequence[str], source: Sequence[str]) -> tuple[int, list[str]]:
    """Where ``words`` end when matched in ``source`` as early as possible (len+1 when they do not fit), and the
    source words skipped on the way."""
    skipped: list[str] = []
    position = 0
    for word in words:
        while position < len(source) and source[position] != word:
            skipped.append(source[position])
            position += 1
        if position == len(source):
            return len(source) + 1, skipped
        position += 1
    return position, skipped


class CopyRule:
    """The sentences a draft may copy, and whether a draft so far can still be completed into copies of them."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.sources = [w for w in (words_of(part) for s in sources for part in SENTENCE_END.split(s)) if w]
        marks = {run for s in sources for run in _MARKS.findall(s)}
        self.marks = {run[:n] for run in marks for n in range(1, len(run) + 1)}  # every run of the sources, and its starts
        self._wholes: dict[str, bool] = {}
        self._after: dict[str, list[tuple[list[str], int]]] = {}

    def _prefix(self, words: Sequence[str], partial: str) -> bool:
        """Some source has ``words`` in order (no negation skipped) and, after them, a word starting ``partial``."""
        for source, position in self._places(words):
            if not partial:
                return True
            later = next((n for n in range(position, len(source)) if source[n].startswith(partial)), None)
            if later is not None and not NEGATIONS.intersection(source[position:later]):
                return True
        return False

    def _places(self, words: Sequence[str]) -> list[tuple[list[str], int]]:
        """The sources that have ``words`` in order with no negation skipped, and where they end in each; the same
        words are asked about for every candidate token of a step, so each is worked out once."""
        key = " ".join(words)
        if key not in self._after:
            found = []
            for source in self.sources:
                position, skipped = _embed(words, source)
                if position <= len(source) and not NEGATIONS.intersection(skipped):
                    found.append((source, position))
            self._after[key] = found
        return self._after[key]

    def _whole(self, words: Sequence[str]) -> bool:
        key = " ".join(words)
        if key not in self._wholes:  # a finished sentence is checked again at every later step: once is enough
            self._wholes[key] = not words or any(is_copy(words, s) for s in self.sources)
        return self._wholes[key]

    def allows(self, text: str, *, final: bool = False) -> bool:
        """Whether ``text`` (the draft so far) can still become copies; ``final``: whether it may stop here."""
        if not self.sources:
            return True
        *done, current = SENTENCE_END.split(text) or [""]
        if not all(self._whole(words_of(s)) for s in done):
            return False
        words = words_of(current)
        if not all(run in self.marks for run in _MARKS.findall(current)):  # "(liver...), or... ..." is no copy's
            return False
        if final:
            return self._whole(words)
        partial = words.pop() if words and _ENDS_IN_WORD.search(current) else ""
        if self._prefix(words, partial):
            return True
        # "... 8 a.m." may go on ("to 5 p.m.") or be a sentence's end: either keeps it on the path
        return current.rstrip().endswith((".", "!", "?")) and self._whole(words_of(current))


class CopyProcessor:
    """A transformers ``LogitsProcessor`` for greedy decoding: when the model's likeliest next token keeps the draft
    a copy, nothing changes (the usual case, one check a step); otherwise, of the ``top_k`` likeliest tokens (then
    of the ``wide`` likeliest), only those that do keep their score; when none does, only the end of text (the draft
    is then checked, and quoted if it fails)."""

    def __init__(self, tokenizer: Any, prompt_length: int, sources: Sequence[str], *, top_k: int = 24,
                 wide: int = 400) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.rule = CopyRule(sources)
        self.top_k = top_k
        self.wide = wide
        self.eos = tokenizer.eos_token_id
        self.cut_off = 0  # steps where no likely token kept the draft a copy (reported by the caller's trace)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if bool((scores == scores[..., :1]).all()):  # prompt lookup's probe with flat logits to crop its candidates:
            return scores  # the candidates are checked on the model's own logits when they are verified
        scores = scores.clone()
        for row in range(input_ids.shape[0]):
            text = self.tokenizer.decode(input_ids[row, self.prompt_length:], skip_special_tokens=True)
            best = int(scores[row].argmax())
            if self._fits(text, best):  # greedy: the model's own choice goes on, the scores are left as they are
                continue
            if not self.rule.allows(text):  # a prompt lookup candidate already off the path: this step is thrown away
                continue
            keep = self._keep(text, scores[row])
            kept = scores[row, keep].clone()
            scores[row] = float("-inf")
            scores[row, keep] = kept
        return scores

    def _keep(self, text: str, scores: Any) -> list[int]:
        ranked = scores.topk(min(self.wide, scores.shape[-1])).indices.tolist()
        for count in (self.top_k, self.wide):
            keep = [t for t in ranked[:count] if self._fits(text, t)]
            if keep:
                return keep
        self.cut_off += 1
        return [self.eos]

    def _fits(self, text: str, token: int) -> bool:
        if token == self.eos:
            return self.rule.allows(text, final=True)
        piece = self.tokenizer.decode([token], skip_special_tokens=True)
        if not piece:
            return False
        return self.rule.allows(text + piece)
