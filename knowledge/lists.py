"""Lists in a section: a lead-in and its items, so an answer that quotes one part of a list quotes the list.

A section answers "what does a BMP check" or "what do i bring" with a list: Markdown bullets or numbered steps
under a lead-in ("The BMP has 8 tests."), a lead-in ending in ':' with one item a line, or steps said in prose (a
sentence with "first", then sentences that start "Then", "Next", "After that"). Quoted one sentence at a time, such
a section answers with its lead-in alone ("A BMP is a group of blood tests") or with bare items ("Humana."). With
:func:`with_lists` the answer carries the lead-in and the items, as many as the SMS budget holds (``fits``: the one
budget, bot/messaging/sms_budget.py); a yes/no question about one item ("do you take <plan>") gets the lead-in, that
item and the section's other sentences that name it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from knowledge.sentences import LIST_ITEM, plain_sentences, sms_safe, terms, unwrap
from knowledge.types import Sentence, added_if_fits

_STEP_FIRST = re.compile(r"\bfirst\b", re.I)
_STEP_NEXT = re.compile(r"^(then|next|after that|finally|last)\b", re.I)
# A question that asks yes or no ("do you take ...", "is ... covered"), not for the list.
_YES_NO = re.compile(r"^(do|does|did|can|could|will|would|is|are|should|may|have|has)\b", re.I)


@dataclass(frozen=True)
class Block:
    """One list of a section: its lead-in sentence ("" when none) and its items, each the sentences of one item."""

    lead: str
    items: tuple[tuple[str, ...], ...]

    @property
    def sentences(self) -> list[str]:
        return [self.lead, *(s for item in self.items for s in item)] if self.lead else [
            s for item in self.items for s in item]


def _lines(markdown: str) -> list[tuple[str, list[str]]]:
    """The section's lines as (shape, sentences): shape "item", "text", "blank" or "other" (a heading, a table)."""
    out: list[tuple[str, list[str]]] = []
    for raw in unwrap(sms_safe(markdown)).splitlines():
        line = raw.strip()
        shape = ("blank" if not line else "other" if line.startswith(("|", "#")) else
                 "item" if LIST_ITEM.match(line) else "text")
        out.append((shape, plain_sentences(line) if shape in ("item", "text") else []))
    return out


def blocks(markdown: str) -> list[Block]:
    """The lists of a section's Markdown, in order (see the module's doc)."""
    return list(_blocks(markdown))


@lru_cache(maxsize=1024)
def _blocks(markdown: str) -> tuple[Block, ...]:
    """:func:`blocks`, cached: the same few hundred sections are parsed for every answer, once to score list sentences
    and once to complete the chosen list."""
    lines = _lines(markdown)
    found: list[Block] = []
    n = 0
    while n < len(lines):
        shape, sentences = lines[n]
        if shape != "item":
            found.extend(_prose_steps(sentences))
            n += 1
            continue
        start, items = n, []
        while n < len(lines) and (lines[n][0] == "item" or (lines[n][0] == "blank" and _next_shape(lines, n) == "item")):
            if lines[n][1]:
                items.append(tuple(lines[n][1]))
            n += 1
        lead = _lead(lines, start)
        found.append(Block(lead, tuple(items)))
    return tuple(found)


def _next_shape(lines: Sequence[tuple[str, list[str]]], n: int) -> str:
    return next((shape for shape, _ in lines[n:] if shape != "blank"), "")


def _lead(lines: Sequence[tuple[str, list[str]]], n: int) -> str:
    """The last sentence (not a question) of the paragraph just before line ``n``; "" after a heading or nothing."""
    k = n - 1
    while k >= 0 and lines[k][0] == "blank":
        k -= 1
    if k < 0 or lines[k][0] != "text":
        return ""
    return next((s for s in reversed(lines[k][1]) if not s.endswith("?")), "")


def _prose_steps(sentences: Sequence[str]) -> list[Block]:
    """Steps said in a paragraph: a sentence with "first", then one or more that start "Then", "Next" ..."""
    out: list[Block] = []
    for n, sentence in enumerate(sentences):
        if not _STEP_FIRST.search(sentence) or n + 1 >= len(sentences) or not _STEP_NEXT.match(sentences[n + 1]):
            continue
        end = n + 1
        while end < len(sentences) and _STEP_NEXT.match(sentences[end]):
            end += 1
        out.append(Block(sentences[n - 1] if n else "", tuple((s,) for s in sentences[n:end])))
    return out


def asks_yes_no(question: str) -> bool:
    return bool(_YES_NO.match(question.strip()))


def with_lists(chosen: Sequence[Sentence], ranked: Sequence[Sentence], fits: Callable[[str], bool],
               question: str) -> list[Sentence]:
    """``chosen`` with the rest of the list one of them belongs to (its lead-in and items, in the section's order,
    while ``fits`` holds); a yes/no question that names one item keeps that item, the lead-in and the section's
    sentences that name it. Nothing chosen is dropped but the items a yes/no question does not name."""
    out = list(chosen)
    for passage in list(dict.fromkeys(s.passage for s in chosen)):
        own = {s.text: s for s in ranked if s.passage is passage}
        for block in blocks(passage.text):
            if not any(s.passage is passage and s.text in block.sentences for s in out):
                continue
            out = _fill(out, block, own, fits, question)
    return out


def _fill(out: list[Sentence], block: Block, own: dict[str, Sentence], fits: Callable[[str], bool],
          question: str) -> list[Sentence]:
    asked = terms(question)
    named = [item for item in block.items if all(terms(s) and terms(s) <= asked for s in item[:1])]
    if asks_yes_no(question) and named:  # "do you take <plan>": that item, not every plan
        keep = {s for item in named for s in item}
        out = [s for s in out if s.text in keep or s.text not in block.sentences]
        wanted = [block.lead, *keep, *(t for t in own if t not in block.sentences and any(
            terms(t) >= terms(s) for s in keep))]
    else:
        wanted = block.sentences
    for text in wanted:
        sentence = own.get(text)
        if sentence is None or sentence in out:
            continue
        out = added_if_fits(out, sentence, fits)
    return out
