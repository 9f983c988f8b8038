"""Sentences of the documents, and what a draft did with them: plain sentences from Markdown, the copy check, the
off-question check.

Shared by the answer checks, the sentence selection, the lab explanations and the training-set generator, so all of
them cut the documents into the same sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.llm.copying import SENTENCE_END, WORDS_RE, is_copy
from knowledge.types import Passage

_STOPWORDS = frozenset(
    re.findall(
        r"\S+",
        "a an and are as at be by can do does for from how i if in is it me my of on or our should so "
        "that the their there this to was what when where which who why will with you your i'm get have",
    )
)
_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " ", "²": "2"}
)

_MESSAGE_SENTENCE = re.compile(r"(?:[^.?!]|\.(?=\d))+[.?!]*")  # not cut at the point of "10.9"


def message_sentences(text: str) -> list[str]:
    """A patient's message cut into its sentences, each stripped: a decimal point ("10.9") cuts nothing, and bare
    punctuation is no sentence."""
    return [p.strip() for p in _MESSAGE_SENTENCE.findall(text) if p.strip(" .?!,")]


def asking_sentences(text: str, *, last: bool = True) -> list[str]:
    """The sentences of a message that ask: those ending in "?", and with ``last`` the last one too (a message
    without a question mark asks in its last sentence: "egfr 55. im 72. should i worry"). Without ``last``, only
    the question marks count: how a longer message's asking part is told from what it says
    (knowledge/select.py: asked_part)."""
    sentences = message_sentences(text)
    return [s for n, s in enumerate(sentences) if s.endswith("?") or (last and n == len(sentences) - 1)]


def sms_safe(text: str) -> str:
    """Typographic quotes, dashes and a squared unit become plain characters, so a message stays in the
    160-character alphabet ("mL/min/1.73 m²" would turn the whole text into 70-character segments)."""
    return text.translate(_TYPOGRAPHY)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# Patients' words for what the documents say otherwise: "a normal INR" is the documents' "a typical INR".
_SAME_AS = {"normal": "typical", "usual": "typical", "elevated": "high", "raised": "high", "decreased": "low"}
# Patients' words for people, as the documents say them ("my kid" is the documents' "children"): read so by BM25 and
# the rare-word weight (knowledge/lexical.py) and by a range question's qualifiers (knowledge/asks.py).
PEOPLE_WORDS = {"kid": "children", "kids": "children", "child": "children", "toddler": "children", "teenager": "teens",
                "teenagers": "teens", "teenage": "teens", "ppl": "people", "woman": "women", "female": "women",
                "man": "men", "male": "men", "guy": "men"}


def terms(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {_stem(_SAME_AS.get(w, w)) for w in words if w not in _STOPWORDS}


LIST_ITEM = re.compile(r"([-*+]|\d+[.)])\s")  # a Markdown bullet or numbered item, at the start of a stripped line


def colon_items(markdown: str) -> str:
    """The plain lines after a lead-in that ends in ':' (up to a blank line) made list items, one a line."""
    out: list[str] = []
    listing = False
    for line in markdown.splitlines():
        text = line.strip()
        listing = listing and bool(text) and not text.startswith(("|", "#")) and not (
            out[-1].strip().endswith(":") and LIST_ITEM.match(text))  # a bulleted list after the colon: as it is
        out.append(f"- {text}" if listing and not LIST_ITEM.match(text) else line)
        listing = listing or text.endswith(":")
    return "\n".join(out)


def unwrap(markdown: str) -> str:
    """Soft-wrapped lines joined into their paragraph or list item (a wrapped line may start with a number); the
    lines after a lead-in that ends in ':' stay one item a line (colon_items)."""
    out: list[str] = []
    for line in colon_items(markdown).splitlines():
        text = line.strip()
        structural = not text or text.startswith(("|", "#")) or LIST_ITEM.match(text)
        previous = out[-1].strip() if out else ""
        if not structural and previous and not previous.startswith(("|", "#")):
            out[-1] = f"{out[-1].rstrip()} {text}"
        else:
            out.append(line)
    return "\n".join(out)


def plain_sentences(markdown: str) -> list[str]:
    """Markdown reduced to plain sentences: table rows become "a: b", bullets and emphasis go; soft-wrapped lines
    are rejoined first, so a wrapped line that starts with a number ("50 mg/dL or higher for women") stays in its
    sentence."""
    out: list[str] = []
    lines = unwrap(markdown).splitlines()
    rule = re.compile(r"\|?[\s:|-]+\|?")
    for n, raw in enumerate(lines):
        line = raw.strip()
        if not line or rule.fullmatch(line):
            continue
        if line.startswith("|"):
            if n + 1 < len(lines) and rule.fullmatch(lines[n + 1].strip()):
                continue  # a table's header row
            line = ": ".join(c.strip() for c in line.strip("|").split("|") if c.strip())
            line += "" if line.endswith((".", "!", "?")) else "."
        line = re.sub(r"^([-*+]|\d+[.)])\s+", "", line)
        line = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line)
        line = line.replace("**", "").replace("__", "").replace("`", "")
        out.append(line)  # one paragraph, list item or table row (unwrap() joined the wrapped lines)
    return [s.strip() for para in out for s in SENTENCE_END.split(" ".join(para.split())) if s.strip()]


def copy_sources(passages: Sequence[Passage]) -> list[str]:
    """The sentences a draft from ``passages`` may copy: the copy check's and copy-constrained decoding's."""
    return [s for p in passages for s in plain_sentences(sms_safe(p.text))]


def copied_from(draft: str, passages: Sequence[Passage]) -> list[Passage] | None:
    """The passages the draft's sentences were copied from, in order; None when a sentence is not a copy.

    A copy may leave words out but not add, change or reorder any: "Sundays are our late day" from "Thursdays
    are our late day", "a high TSH ... overactive thyroid" from "a low TSH ... overactive thyroid", and a sentence
    stitched from two others are all rejected. The tuned SmolLM2 writes such sentences (seen over 79 questions:
    inverted meanings that the number check alone let through).
    """
    sources = [(p, WORDS_RE.findall(s.lower())) for p in passages for s in copy_sources([p])]
    used: list[Passage] = []
    for sentence in SENTENCE_END.split(draft):
        words = WORDS_RE.findall(sentence.lower())
        if not words:
            continue
        match = next((p for p, source in sources if is_copy(words, source)), None)
        if match is None:
            return None
        used.append(match)
    return used


def off_topic(draft: str, question: str, passages: Sequence[Passage]) -> bool:
    """The draft covers fewer of the question's words than one of the passages' sentences does.

    Only the question's words that the passages contain count. A copied sentence can be true and still miss
    the question: asked "what is a normal INR", the tuned model copied the sentence about a low INR, while
    the passage has one that gives the normal range.
    """
    sentences = [s for p in passages for s in plain_sentences(sms_safe(p.text))]
    if not sentences:
        return False
    wanted = terms(question) & set().union(*(terms(s) for s in sentences))
    if not wanted:
        return False
    best = max(len(wanted & terms(s)) for s in sentences)
    return len(wanted & terms(draft)) < best


# A source line a draft may end with (the answer adds its own).
_SOURCE_LINE_RE = re.compile(r"\(?\b(sources?|reference)\s*:\s*[^\n]*\)?\s*$", re.IGNORECASE)


def clean_draft(draft: str) -> str:
    lines = [ln for ln in sms_safe(draft).strip().splitlines() if ln.strip()]
    while lines and _SOURCE_LINE_RE.fullmatch(lines[-1].strip()):
        lines.pop()
    text = " ".join(" ".join(lines).split())
    return _SOURCE_LINE_RE.sub("", text).strip()


def with_sources(body: str, titles: Sequence[str]) -> str:
    label = "Source" if len(titles) == 1 else "Sources"
    return f"{body}\n{label}: {'; '.join(titles)}"
