"""Answering open questions from the knowledge store, as a pipeline of named stages:

heard -> policy -> value -> range or definition -> retrieve -> select sentences -> draft (budgeted) -> check -> fallback

- heard: a question dictated or spelt by sound is read in the documents' words first ("my l d l came back one forty
  five" -> "my LDL came back 145", "wite blood cells" -> "white blood cells": knowledge/spoken.py); the policy reads
  both what was written and what was meant.
- policy: a dose, which medicine to take or whether to start, stop or change one, what something means for the
  patient's own diagnosis, or a question outside the clinic's business is refused before retrieval (rules, then a
  classifier on the question's embedding: knowledge/policy.py); the first three are handed to the care team.
- value: a patient's own number ("my a1c is 5.9") is placed in the band the lab documents define (knowledge/values.py,
  knowledge/own_number.py); a value in the clinic's critical range goes to the care team instead.
- range or definition: "what is a normal inr" gets the range the test's table gives; "what is alt" the sentences of
  the test's own document that say what it is (knowledge/asks.py).
- retrieve: BM25 and embeddings fused, the question expanded with the documents' own names for what it names.
- select: the sentences that answer, by meaning and by what the question asks for (a cause, a symptom, a comparison:
  knowledge/select.py, knowledge/kinds.py), within the SMS budget with the source line.
- draft: the tuned model composes the answer from those sentences only (the prompt is knowledge/prompt.py).
- check: every number from the sentences, no dosing language, fits the SMS budget, says something, each sentence a
  copy of a chosen one, as much on the question as the best chosen sentence. A draft that fails is replaced by the
  chosen sentences, quoted. Every grounded answer ends with its source title ("Source: Lipid panel").

``Answer.trace`` lists what each stage did (``clinicbot ask --explain`` prints it). The Rasa action calls
:func:`get_answerer` once per process; the store, the embedding model and the language model load on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot.llm.base import LLM
from bot.llm.factory import load_llm
from bot.llm.worker import DraftWorker
from knowledge.asks import (
    OWN_PAGE_ROLES,
    asked_row,
    asks_definition,
    asks_range,
    definition_sentences,
    describe_range,
    more_than_range,
    own_page_first,
    range_sentence,
)
from knowledge.causes import known_names, named_causes
from knowledge.checks import draft_problem
from knowledge.embeddings import Embedder
from knowledge.guard import fits_sms
from knowledge.kinds import answers_kind, compared, question_kinds
from knowledge.lexical import said_together
from knowledge.library import Library
from knowledge.own_number import OwnNumber
from knowledge.parts import as_selection, merged, points_back, split_question
from knowledge.policy import PolicyCheck, refused
from knowledge.prompt import build_messages
from knowledge.replies import DECLINE_RE, HANDED_OFF, replies
from knowledge.reranker import answer_check, learned_scorer
from knowledge.select import Selection, Sentence, SentenceSelector, candidates, distinct
from knowledge.sentences import clean_draft, copied_from, copy_sources, sms_safe, with_sources
from knowledge.store import KnowledgeStore, Retriever
from knowledge.types import Answer, Passage, first_then
from knowledge.vocabulary import spelled_out

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

LEXICAL_FLOOR = 3.5  # a BM25 score this high is a rare word of the question in the section ("Humana", "interpreter")
LEXICAL_MIN_SIMILARITY = 0.22  # ... which answers a question whose embedding alone is too vague, down to this
NEAREST_K = 8  # sections read for one similar enough by meaning alone, when the fused best are not
TOKENS_PER_CHAR = 0.3  # SmolLM2's tokenizer on the documents' plain English: about 3.3 characters a token, and one
# a digit: "+1 555-555-0123" is 15 tokens, and drafts with phone numbers were cut short at the token budget


class Answerer:
    """Holds the retriever, the embedding model, the language model (or a way to load it) and the settings."""

    def __init__(self, store: Retriever, settings: Settings, llm: LLM | None = None,
                 llm_factory: Callable[[], LLM | None] | None = None, embedder: Embedder | None = None,
                 library: Library | None = None) -> None:
        self.store = store
        self.settings = settings
        self.embedder: Embedder | None = embedder or getattr(store, "embedder", None)
        self.policy = PolicyCheck(self.embedder)
        self.selector = SentenceSelector(self.embedder, learned_scorer(settings, self.embedder)) if (
            self.embedder is not None) else None
        self.answer_check = answer_check(settings, self.embedder)
        self._library = library
        self._llm = llm
        self._llm_factory = llm_factory
        self._drafts: DraftWorker | None = None
        self._lock = threading.Lock()
        self.messages = replies(settings)

    # -- what loads on first use ------------------------------------------------------------------
    @property
    def llm(self) -> LLM | None:
        with self._lock:
            if self._llm is None and self._llm_factory is not None:
                self._llm = self._llm_factory()
                self._llm_factory = None
            return self._llm

    @property
    def drafts(self) -> DraftWorker | None:
        """The model behind the reply budget (one worker thread, a bounded queue), made on first use."""
        llm = self.llm
        with self._lock:
            if llm is not None and (self._drafts is None or self._drafts.llm is not llm):
                self._drafts = DraftWorker(llm, budget_s=self.settings.llm.draft_budget_s,
                                           queue_size=self.settings.llm.draft_queue)
            return self._drafts if llm is not None else None

    @property
    def library(self) -> Library:
        with self._lock:
            if self._library is None:
                self._library = Library.load(self.settings.knowledge.documents_dir)
            return self._library

    def warm_up(self) -> None:
        """Load the models, fit the policy check and embed the documents' sentences now, not for the first patient."""
        started = time.monotonic()
        self.store.query("clinic hours", 1)
        self.policy.fit()
        if self.selector is not None and isinstance(self.store, KnowledgeStore):
            index = self.store.lexical()
            keys = dict.fromkeys((str(m.get("source", "")), str(m.get("heading", ""))) for m in index.metadatas)
            self.selector.prime([KnowledgeStore._section(index, key, {}, {}) for key in keys])
        for scorer in (self.selector.reranker if self.selector is not None else None, self.answer_check):
            if scorer is not None:
                scorer.scores("clinic hours", ["The clinic is open on weekdays."])
        self.library.hearing.warm()
        llm = self.llm
        load = getattr(llm, "load", None)
        if callable(load):
            load()
        log.info("knowledge.answer.warm", extra={"llm": getattr(llm, "name", "none"),
                                                  "seconds": round(time.monotonic() - started, 1)})

    def fits(self, body: str, titles: Sequence[str]) -> bool:
        return fits_sms(with_sources(body, titles), self.settings.sms.max_segments)

    @property
    def own_number(self) -> OwnNumber:
        """The value stage (knowledge/own_number.py), over what this answerer holds now."""
        return OwnNumber(self.library, self.selector, self.settings, self.messages, self.fits, self.own_document,
                         self._search)

    def _expand(self, text: str) -> str:
        """``text`` with the documents' names for what it names added and weekdays spelt out: the store's query."""
        return spelled_out(self.library.vocabulary.expand(text))

    def _search(self, text: str, k: int) -> list[Passage]:
        """The store's ``k`` best sections for ``text``, expanded."""
        return self.store.query(self._expand(text), k)

    # -- the pipeline -------------------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        question = " ".join(question.split())
        if not question:
            return Answer(self.messages["handoff"], reason="empty_question")
        trace: list[tuple[str, dict[str, Any]]] = []
        result = self._answer(question, trace)
        result.trace = trace
        log.info("knowledge.answer.done", extra={"reason": result.reason, "grounded": result.grounded,
                                                 "stages": len(trace)})
        return result

    def _answer(self, written: str, trace: list[tuple[str, dict[str, Any]]]) -> Answer:
        question = self.library.hearing.read(written)  # "my l d l came back one forty five" -> "my LDL ... 145"
        if question != written:
            trace.append(("heard", {"question": question}))
        kind = refused(self.policy, written, question, self.own_number.places_only, self._about_a_page)
        trace.append(("policy", {"refused": kind or ""}))
        if kind is not None:
            return Answer(self.messages[kind], reason=f"policy:{kind}", handoff=HANDED_OFF.get(kind, ""))
        parts = split_question(question, self._subject)  # "what is X and how is it different from Y": each part
        # a part the policy would refuse alone ("may I still drink water?" read without its fasting test) is the
        # whole message, which the policy let through, answered beside the other part
        if len(parts) > 1:  # (a message left whole was read by the policy above: not again)
            parts = list(dict.fromkeys(question if self.policy.kind(p) else p for p in parts))
        if len(parts) > 1:
            found: list[Selection | None] = []
            for p in parts:  # a part that points back and names nothing ("how long does that take") is answered
                said = [s.passage for f in found if f is not None for s in f.sentences if s.passage.source]  # from
                earlier = distinct(said) if points_back(p) and not self._subject(p) else []  # the parts before it
                found.append(as_selection(self.part(p, trace, within=question, earlier=earlier)))
            if all(f is not None for f in found):
                chosen = [f for f in found if f is not None]
                titles = list(dict.fromkeys(t for f in chosen for t in f.titles))
                trace.append(("parts", {"parts": len(parts)}))
                return self.compose(question, merged(chosen, lambda body: self.fits(body, titles)), trace)
        found_whole = self.part(question, trace)
        return found_whole if isinstance(found_whole, Answer) else self.compose(question, found_whole, trace)

    def part(self, question: str, trace: list[tuple[str, dict[str, Any]]], within: str = "",
             earlier: Sequence[Passage] = ()) -> Answer | Selection:
        """The answer from the documents' structure (a value, a range), else the sentences to answer from, else why
        there are none. A part that points back to the parts before it ("how do i get my records sent over ..., and
        how long does that take?") is answered from the sections they were answered from (``earlier``), not from its
        own search. A part too vague to find its sections alone ("... or do u charge interest") is answered from those
        of the message it is part of (``within``)."""
        structured = self.own_number.answer(question, trace) or self.range_answer(question, trace) or self.definition(
            question, trace)  # the patient's own number, a range or what a test is: from the documents' structure
        if structured is not None:
            return structured
        top_k, expanded = self.settings.knowledge.top_k, self._expand(question)
        found = self.store.query(expanded, top_k)  # the query the trace and the selection read too
        own = [] if earlier else (self.answerable(question, found) or self.nearest(expanded, top_k))
        passages = own or list(earlier) or (self.answerable(within, self._search(within, top_k)) if within else [])
        trace.append(("retrieve", {"query": expanded, "passages": [f"{p.title} - {p.heading}" for p in found],
                                   "best_similarity": round(max((p.score for p in found), default=0.0), 3),
                                   "kept": len(passages)}))
        if not passages:
            return Answer(self.messages["handoff"], reason="low_similarity")
        groups, codes = self.library.vocabulary.name_groups(question), self._codes(question)
        if compared(question, groups):  # "bmp vs cmp": each test's own document, where it is set beside the other
            passages = distinct([*passages, *(p for c in codes[:3] for p in self.own_document(c)[0])])
        kinds = question_kinds(question)
        selection = self.select(expanded, passages, groups, kinds)
        if "cause" in kinds:  # the test's own sections are read only for a question that asks a cause
            selection = self.named_cause(question, selection)
        for kind in [k for k in OWN_PAGE_ROLES if k in kinds and len(codes) == 1]:  # ... or how to get ready for it, or
            selection = own_page_first(question, kind, self.selector, self.own_document(codes[0])[0], selection,
                                       self.fits)  # how often it is done
        if not own and selection.sentences:  # a part too vague alone says only its best sentence
            selection = Selection((max(selection.sentences, key=lambda s: s.score),))
        answers = self.answers(expanded, selection)
        if answers is not None and answers < (self.settings.knowledge.min_answer_score or 0.0):
            trace.append(("select", {"sentences": [], "answers": round(answers, 2)}))
            return Answer(self.messages["handoff"], reason="not_answered")
        trace.append(("select", {"sentences": [s.text for s in selection.sentences]}))
        return selection if selection.sentences else Answer(self.messages["handoff"], reason="nothing_to_quote")

    def answers(self, question: str, selection: Selection) -> float | None:
        """How surely the best of the chosen sentences answers ``question`` by the learned check (None without it)."""
        if self.answer_check is None or not selection.sentences:
            return None
        return max(self.answer_check.scores(question, [s.text for s in selection.sentences]))

    def named_cause(self, question: str, selection: Selection) -> Selection:
        """"rode my bike the day my PSA was drawn, would that mess it up": the sentence of the test's own document on
        the cause the question names first (knowledge/causes.py), then what was chosen while it fits."""
        codes = self._codes(question)
        if len(codes) != 1:  # one test's own document says its causes
            return selection
        sections, names = self.own_document(codes[0])
        chosen = named_causes(question, self.selector, sections, names,
                              known_names(question, self.library.vocabulary, codes[0]), None,
                              lambda body: self.fits(body, [sections[0].title]))
        return first_then(chosen, selection, self.fits) if chosen else selection

    def _about_a_page(self, text: str) -> bool:
        """``text`` names a test or a page, or a section is near it by meaning: it is the clinic's business."""
        least, top_k = self.settings.knowledge.min_similarity, self.settings.knowledge.top_k
        return self.library.vocabulary.names_as_written(text) or any(p.score >= least for p in self._search(text, top_k))

    def _subject(self, text: str) -> str:
        """The first name of a test (or a page's subject) ``text`` names, as written there; "" when none."""
        found = self.library.vocabulary.mentions(text)
        return text[found[0].start:found[0].end] if found else ""

    def _codes(self, question: str) -> list[str]:
        return list(dict.fromkeys(m.term.code for m in self.library.vocabulary.test_mentions(question)))

    def own_document(self, code: str) -> tuple[list[Passage], list[str]]:
        """The sections of the lab document that explains ``code``, and every name of the test."""
        document, store = self.library.lab_documents.get(code), self.store
        if document is None or not isinstance(store, KnowledgeStore):
            return [], []
        return store.document_sections(document.source), self.library.vocabulary.names_of(code)

    def range_answer(self, question: str, trace: list[tuple[str, dict[str, Any]]]) -> Answer | None:
        """"what is a normal inr": the range the document's table gives for the test named, after the document's
        own sentence giving it when there is one (knowledge/asks.py)."""
        ranges = self.library.ranges
        tests = [asked_row(question, ranges[c]) for c in self._codes(question) if c in ranges and asks_range(
            question, ranges[c], self.library.vocabulary.names_of(c))][:2]
        titles, body = list(dict.fromkeys(t.title for t in tests)), " ".join(sms_safe(describe_range(t)) for t in tests)
        said = sms_safe(range_sentence(*self.own_document(tests[0].code))) if len(tests) == 1 else ""
        body = f"{said} {body}" if said and self.fits(f"{said} {body}", titles) else body
        if not tests or not self.fits(body, titles):
            return None
        if len(tests) == 1:  # what else it asks of the test's document: what the test is, or for whom ("for teens")
            body = more_than_range(question, tests[0], body, self.selector, *self.own_document(tests[0].code),
                                   lambda text: self.fits(text, titles))
        trace.append(("range", {"tests": [t.code for t in tests]}))
        return Answer(with_sources(body, titles), sources=titles, grounded=True, reason="range")

    def definition(self, question: str, trace: list[tuple[str, dict[str, Any]]]) -> Selection | None:
        """"what is alt": the sentences of the test's own document that say what it is, ranked by meaning."""
        codes = self._codes(question)
        if not codes or self.selector is None or not asks_definition(question):
            return None
        sections, names = self.own_document(codes[0])
        chosen = definition_sentences(question, self.selector, sections, names,
                                      lambda body: self.fits(body, [sections[0].title]))
        if not chosen:
            return None
        trace.append(("definition", {"test": codes[0], "sentences": [s.text for s in chosen]}))
        return Selection(tuple(chosen))

    def answerable(self, question: str, found: list[Passage]) -> list[Passage]:
        """The passages to answer from: similar enough, or found by a rare word or a test the question names."""
        if not found:
            return []
        least = self.settings.knowledge.min_similarity
        best = max(p.score for p in found)
        named = bool(self.library.vocabulary.mentions(question))
        lexical = best >= LEXICAL_MIN_SIMILARITY and (max(p.lexical for p in found) >= LEXICAL_FLOOR or answers_kind(
            question, candidates(found[0])))  # "how early do i gotta show up for my first appt": "... 15 minutes early ... first"
        phrase = [p for p in found if said_together(question, p.text)]  # "late day??": "Wednesday is our late day"
        if best < least and not named and not lexical and not phrase:
            return []
        return [*phrase, *(p for p in found if p not in phrase and (
            p.score >= least or p.lexical >= LEXICAL_FLOOR or p is found[0]))]

    def nearest(self, expanded: str, top_k: int) -> list[Passage]:
        """The one section similar enough by meaning when the fusion ranked it below the ``top_k`` it keeps: "my
        toddler got into grandma's pill organizer, who do i call" shares words ("call", "get into") with pages that do
        not answer it, and its meaning with "Poison help" alone."""
        if top_k >= NEAREST_K:
            return []
        least = self.settings.knowledge.min_similarity
        found = [p for p in self.store.query(expanded, NEAREST_K)[top_k:] if p.score >= least]
        return [max(found, key=lambda p: p.score)] if found else []

    def select(self, question: str, passages: list[Passage], groups: Sequence[Sequence[str]] = (),
               kinds: frozenset[str] | None = None) -> Selection:
        """The sentences to answer from; ``groups`` are the names of each test the question names, ``kinds`` what it
        asks for (knowledge/kinds.py)."""
        longest = [max((p.title for p in passages), key=len)]
        if self.selector is None:  # no embedding model (a bare retriever): the best passage's first sentence
            first = candidates(passages[0])[:1]
            return Selection(tuple(Sentence(s, passages[0], 0, 0.0) for s in first if self.fits(s, longest)))
        names = [*(n for g in groups for n in g), *self.library.vocabulary.page_words(self._codes(question))]
        return self.selector.select(question, passages, lambda body: self.fits(body, longest), names, kinds, groups,
                                    refined=True)

    def compose(self, question: str, selection: Selection, trace: list[tuple[str, dict[str, Any]]]) -> Answer:
        drafts = self.drafts
        if drafts is None:
            return self.quote(selection, "extractive")
        context = selection.passages
        digits = sum(c.isdigit() for c in selection.text)
        budget = min(self.settings.llm.max_new_tokens,
                     16 + round((len(selection.text) - digits) * TOKENS_PER_CHAR) + digits)
        made = drafts.draft(build_messages(question, context, self.settings.clinic.name), max_new_tokens=budget,
                            copy_from=copy_sources(context))
        if made.text is None:  # over the reply budget, the model busy, or failed: the checked quote goes out
            trace.append(("draft", {"outcome": made.outcome, "seconds": round(made.seconds, 2)}))
            return self.quote(selection, "fallback:llm_error" if made.outcome == "error" else f"fallback:{made.outcome}")
        draft = clean_draft(made.text)
        trace.append(("draft", {"text": draft, "max_new_tokens": budget, "seconds": round(made.seconds, 2)}))
        if DECLINE_RE.search(draft):
            return self.quote(selection, "fallback:declined")
        copied = copied_from(draft, context)  # the source is the passage each sentence was copied from
        titles = list(dict.fromkeys(p.title for p in copied or context))
        final = with_sources(draft, titles)
        problem = draft_problem(draft, final, context, question, copied=copied,
                                max_segments=self.settings.sms.max_segments)
        trace.append(("check", {"failed": problem}))
        if problem:
            return self.quote(selection, f"fallback:{problem}")
        return Answer(final, sources=titles, grounded=True, reason="generated")

    def quote(self, selection: Selection, reason: str) -> Answer:
        """The chosen sentences, quoted, with their source."""
        titles = selection.titles
        return Answer(with_sources(selection.text, titles), sources=titles, grounded=True, reason=reason)


# -- the shared answerer for the Rasa action --------------------------------------------------
_shared: dict[str, Answerer] = {}
_shared_lock = threading.Lock()


def get_answerer(settings: Settings | None = None) -> Answerer:
    """One Answerer per process: the store and models are created on first use and kept."""
    with _shared_lock:
        if "default" not in _shared:
            if settings is None:
                from bot.settings import get_settings

                settings = get_settings()
            chosen = settings
            _shared["default"] = Answerer(KnowledgeStore.from_settings(chosen), chosen,
                                          llm_factory=lambda: load_llm(chosen))
        return _shared["default"]


def answer(question: str, settings: Settings | None = None) -> Answer:
    """Answer one open question (clinic information, labs, policies) from the knowledge store."""
    return get_answerer(settings).answer(question)
