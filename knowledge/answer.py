"""Answering open questions from the knowledge store.

retrieve -> safety policy / similarity threshold -> generate with the tuned model -> check the draft
(every number from the context, no dosing language, fits the SMS budget, copied from the passages, as much
on the question as the passages' best sentence) -> otherwise an extractive
answer from the best passage. Every grounded answer ends with its source title ("Source: Lipid panel").

The Rasa action calls :func:`answer`, which builds one :class:`Answerer` on first use (embedding model,
Chroma client and language model are each loaded once, lazily) and reuses it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.llm.base import LLM
from knowledge.guard import (
    SENTENCE_END,
    has_dosing_language,
    informative_terms,
    is_repetitive,
    max_chars,
    policy_hit,
    sms_segments,
    unsupported_numbers,
)
from knowledge.prompt import build_messages, format_context
from knowledge.store import KnowledgeStore, Retriever
from knowledge.types import Passage

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

_STOPWORDS = frozenset(
    re.findall(
        r"\S+",
        "a an and are as at be by can do does for from how i if in is it me my of on or our should so "
        "that the their there this to was what when where which who why will with you your i'm get have",
    )
)
_DECLINE_RE = re.compile(
    r"pass (it|this|your question) (on )?to (the|our) (front desk|care team|staff)", re.I
)
_SOURCE_LINE_RE = re.compile(r"\(?\b(sources?|reference)\s*:\s*[^\n]*\)?\s*$", re.IGNORECASE)
_WORDS_RE = re.compile(r"[a-z0-9]+")


@dataclass
class Answer:
    answer: str
    sources: list[str] = field(default_factory=list)
    grounded: bool = False
    reason: str = ""  # generated | fallback:<check> | extractive | policy:<kind> | low_similarity | ...

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "sources": self.sources, "grounded": self.grounded}


def _phone(e164: str) -> str:
    if re.fullmatch(r"\+1\d{10}", e164):
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return e164


class Answerer:
    """Holds the retriever, the language model (or a way to load it) and the settings."""

    def __init__(
        self,
        store: Retriever,
        settings: Settings,
        llm: LLM | None = None,
        llm_factory: Callable[[], LLM | None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self._llm = llm
        self._llm_factory = llm_factory
        self._llm_lock = threading.Lock()
        phone, clinic = _phone(settings.clinic.phone), settings.clinic.name
        self.messages = {
            "dose": f"I can't give advice about medicines or doses. I'm passing your question to our care team; "
            f"you can also call us at {phone}.",
            "diagnosis": "I can't say what a symptom or result means for you; a clinician can. I'm passing your "
            f"question to our care team, or call us at {phone}. In an emergency, call 911.",
            "out_of_scope": f"I can help with questions about {clinic}: visits, hours, billing, lab tests "
            "and our policies.",
            "handoff": "I don't have an answer to that in our clinic information, so I'm passing your question "
            f"to the front desk. You can also call us at {phone}.",
        }

    # -- the model, loaded on first use ----------------------------------------------------
    @property
    def llm(self) -> LLM | None:
        with self._llm_lock:
            if self._llm is None and self._llm_factory is not None:
                self._llm = self._llm_factory()
                self._llm_factory = None
            return self._llm

    def warm_up(self) -> None:
        """Load the embedding model, the store and the language model now, so the first patient doesn't wait."""
        started = time.monotonic()
        self.store.query("clinic hours", 1)
        llm = self.llm
        load = getattr(llm, "load", None)
        if callable(load):
            load()
        log.info("knowledge.answer.warm", extra={"llm": getattr(llm, "name", "none"),
                                                  "seconds": round(time.monotonic() - started, 1)})

    @property
    def budget(self) -> int:
        return max_chars(self.settings.sms.max_segments)

    def answer(self, question: str) -> Answer:
        question = " ".join(question.split())
        if not question:
            return Answer(self.messages["handoff"], reason="empty_question")
        kind = policy_hit(question)
        if kind is not None:
            log.info("knowledge.answer.refused", extra={"policy": kind})
            return Answer(self.messages[kind], reason=f"policy:{kind}")
        k = self.settings.knowledge
        passages = [p for p in self.store.query(question, k.top_k) if p.score >= k.min_similarity]
        if not passages:
            log.info("knowledge.answer.handoff", extra={"reason": "low_similarity"})
            return Answer(self.messages["handoff"], reason="low_similarity")
        result = self._generate(question, passages)
        log.info(
            "knowledge.answer.done",
            extra={
                "reason": result.reason,
                "grounded": result.grounded,
                "best_score": round(passages[0].score, 3),
            },
        )
        return result

    def _generate(self, question: str, passages: list[Passage]) -> Answer:
        llm = self.llm
        if llm is None:
            return self.extractive(question, passages[0], reason="extractive")
        messages = build_messages(question, passages, self.settings.clinic.name)
        try:
            draft = llm.generate(messages, max_new_tokens=self.settings.llm.max_new_tokens)
        except Exception:
            log.exception("knowledge.answer.llm_failed", extra={"llm": getattr(llm, "name", "?")})
            return self.extractive(question, passages[0], reason="fallback:llm_error")
        draft = _clean_draft(draft)
        if _DECLINE_RE.search(draft):
            return Answer(self.messages["handoff"], reason="model_declined")
        # The source is the passage each sentence was copied from (a title the model names could be the wrong one).
        copied = copied_from(draft, passages)
        titles = list(dict.fromkeys(p.title for p in copied or [passages[0]]))
        final = _with_sources(draft, titles)
        problem = self.check_draft(draft, final, passages, question, copied=copied)
        if problem:
            log.info("knowledge.answer.draft_rejected", extra={"check": problem})
            return self.extractive(question, passages[0], reason=f"fallback:{problem}")
        return Answer(final, sources=titles, grounded=True, reason="generated")

    def check_draft(self, draft: str, final: str, passages: Sequence[Passage], question: str, *,
                    copied: list[Passage] | None) -> str:
        """The name of the first check the draft fails, or "" when it passes. ``copied`` is
        ``copied_from(draft, passages)``: the caller needs it for the sources too, so it is worked out once."""
        if len(draft) < 2:
            return "empty"
        context = format_context(passages)
        if unsupported_numbers(draft, context):
            return "numbers"
        if has_dosing_language(draft):
            return "dosing"
        if sms_segments(final) > self.settings.sms.max_segments:
            return "length"
        if is_repetitive(draft):
            return "repetitive"
        if len(informative_terms(draft, question, context, [p.title for p in passages])) < 2:
            return "uninformative"  # it only restates the question or the title
        if copied is None:
            return "unfaithful"
        if off_topic(draft, question, passages):
            return "off_topic"
        return ""

    def extractive(self, question: str, passage: Passage, reason: str) -> Answer:
        """The passage's sentences that best match the question, in their order, trimmed to fit."""
        suffix = f"\nSource: {passage.title}"
        budget = self.budget - len(suffix)
        body = extract_sentences(question, passage, budget)
        while body and sms_segments(body + suffix) > self.settings.sms.max_segments:
            budget -= 40  # characters outside GSM-7 make segments shorter
            body = extract_sentences(question, passage, budget)
        if not body:
            return Answer(self.messages["handoff"], reason=f"{reason}:nothing_to_extract")
        return Answer(body + suffix, sources=[passage.title], grounded=True, reason=reason)


_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "}
)


def sms_safe(text: str) -> str:
    """Typographic quotes and dashes become plain ones, so a message stays in the 160-character alphabet."""
    return text.translate(_TYPOGRAPHY)


def _clean_draft(draft: str) -> str:
    lines = [ln for ln in sms_safe(draft).strip().splitlines() if ln.strip()]
    while lines and _SOURCE_LINE_RE.fullmatch(lines[-1].strip()):
        lines.pop()
    text = " ".join(" ".join(lines).split())
    return _SOURCE_LINE_RE.sub("", text).strip()


def _with_sources(body: str, titles: Sequence[str]) -> str:
    label = "Source" if len(titles) == 1 else "Sources"
    return f"{body}\n{label}: {'; '.join(titles)}"


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# Patients' words for what the documents say otherwise: "a normal INR" is the documents' "a typical INR".
_SAME_AS = {"normal": "typical", "usual": "typical", "elevated": "high", "raised": "high", "decreased": "low"}


def _terms(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {_stem(_SAME_AS.get(w, w)) for w in words if w not in _STOPWORDS}


def unwrap(markdown: str) -> str:
    """Soft-wrapped lines joined into their paragraph or list item (a wrapped line may start with a number)."""
    out: list[str] = []
    for line in markdown.splitlines():
        text = line.strip()
        structural = not text or text.startswith(("|", "#")) or re.match(r"([-*+]|\d+[.)])\s", text)
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


_NEGATIONS = frozenset({"not", "no", "never", "without", "nor", "cannot", "t", "none", "neither"})


def _is_copy(words: list[str], source: list[str]) -> bool:
    """``words`` is ``source`` with some words left out: in order, ending where the source ends (a cut-off
    "payment plans with no." is not a copy), and no negation left out ("is usually not a concern")."""
    if not words or not source or words[-1] != source[-1]:
        return False
    skipped: list[str] = []
    position = 0
    for word in words:
        while position < len(source) and source[position] != word:
            skipped.append(source[position])
            position += 1
        if position == len(source):
            return False
        position += 1
    return position == len(source) and not _NEGATIONS.intersection(skipped)


def copied_from(draft: str, passages: Sequence[Passage]) -> list[Passage] | None:
    """The passages the draft's sentences were copied from, in order; None when a sentence is not a copy.

    A copy may leave words out but not add, change or reorder any: "Sundays are our late day" from "Thursdays
    are our late day", "a high TSH ... overactive thyroid" from "a low TSH ... overactive thyroid", and a sentence
    stitched from two others are all rejected. The tuned SmolLM2 writes such sentences (seen over 79 questions:
    inverted meanings that the number check alone let through).
    """
    sources = [(p, _WORDS_RE.findall(s.lower())) for p in passages for s in plain_sentences(sms_safe(p.text))]
    used: list[Passage] = []
    for sentence in SENTENCE_END.split(draft):
        words = _WORDS_RE.findall(sentence.lower())
        if not words:
            continue
        match = next((p for p, source in sources if _is_copy(words, source)), None)
        if match is None:
            return None
        used.append(match)
    return used


def off_topic(draft: str, question: str, passages: Sequence[Passage]) -> bool:
    """The draft covers fewer of the question's words than one of the passages' sentences does.

    Only the question's words that the passages contain count. A copied sentence can be true and still miss
    the question: asked "what is a normal INR", the tuned model copied the sentence about a low INR, while
    the passage has one that gives the normal range. The quoting fallback picks by the same word overlap.
    """
    sentences = [s for p in passages for s in plain_sentences(sms_safe(p.text))]
    wanted = _terms(question) & set().union(*(_terms(s) for s in sentences))
    if not wanted:
        return False
    best = max(len(wanted & _terms(s)) for s in sentences)
    return len(wanted & _terms(draft)) < best


def extract_sentences(question: str, passage: Passage, budget: int) -> str:
    """Pick sentences by word overlap with the question (ties: earlier first) until ``budget`` is full."""
    # A document's own question lines ("What is your phone number?") are not echoed back to the patient.
    sentences = [s for s in plain_sentences(sms_safe(passage.text)) if not has_dosing_language(s) and not s.endswith("?")]
    if not sentences or budget < 20:
        return ""
    wanted = _terms(question)
    overlap = [len(wanted & _terms(sentence)) for sentence in sentences]
    ranked = sorted(range(len(sentences)), key=lambda i: (-overlap[i], i))
    if overlap[ranked[0]] > 0:  # only sentences that share a word with the question
        ranked = [i for i in ranked if overlap[i] > 0]
    chosen: list[int] = []
    used = 0
    for i in ranked:
        cost = len(sentences[i]) + (1 if chosen else 0)
        if used + cost <= budget:
            chosen.append(i)
            used += cost
        elif not chosen:  # the best sentence alone is too long: trim it at a word
            cut = sentences[i][: budget - 3].rsplit(" ", 1)[0]
            return cut.rstrip(",;:") + "..."
    return " ".join(sentences[i] for i in sorted(chosen))


# -- the shared answerer for the Rasa action --------------------------------------------------
_shared: dict[str, Answerer] = {}
_shared_lock = threading.Lock()


def get_answerer(settings: Settings | None = None) -> Answerer:
    """One Answerer per process: the store and model are created on first use and kept."""
    with _shared_lock:
        if "default" not in _shared:
            if settings is None:
                from bot.settings import get_settings

                settings = get_settings()
            chosen = settings
            _shared["default"] = Answerer(
                KnowledgeStore.from_settings(chosen), chosen, llm_factory=lambda: load_llm(chosen)
            )
        return _shared["default"]


def answer(question: str, settings: Settings | None = None) -> Answer:
    """Answer one open question (clinic information, labs, policies) from the knowledge store."""
    return get_answerer(settings).answer(question)


def load_llm(settings: Settings) -> LLM | None:
    """The configured backend, or None (extractive answers only) when none is wanted or none loads."""
    if settings.llm.backend == "none":
        return None
    if settings.llm.backend == "local" and not settings.llm.allow_untuned:
        from bot.llm.local import adapter_exists, resolve_adapter

        if not adapter_exists(resolve_adapter(settings)):
            log.warning("knowledge.answer.no_adapter_yet", extra={"adapter": str(resolve_adapter(settings))})
            return None
    try:
        from bot.llm.factory import get_llm
    except ImportError:
        if settings.llm.backend == "fake":
            from bot.llm.base import FakeLLM

            return FakeLLM()
        log.warning("knowledge.answer.no_llm", extra={"backend": settings.llm.backend})
        return None
    try:
        return get_llm(settings)
    except Exception:
        log.exception("knowledge.answer.llm_unavailable", extra={"backend": settings.llm.backend})
        return None
