"""The value stage of the answer pipeline (knowledge/answer.py): a patient's own number ("my a1c is 5.9") placed in
the band the lab documents define (knowledge/values.py), with what a value on that side can mean when the question
asks; a value in the clinic's critical range goes to the care team instead. Also the overruling of the learned
policy check's diagnosis refusal for a number asked only where it falls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from knowledge.asks import (
    asks_definition,
    asks_range,
    asks_typical_range,
    definition_sentences,
    describe_range,
)
from knowledge.causes import known_names, named_causes, named_thing
from knowledge.guard import names_condition
from knowledge.kinds import ASKS_MORE, asks_besides, question_kinds
from knowledge.library import Library
from knowledge.select import Sentence, SentenceSelector, candidates, direction, first_direction
from knowledge.sentences import sms_safe, with_sources
from knowledge.types import Answer, Passage
from knowledge.values import (
    Reading,
    asks_where_it_falls,
    describe,
    for_another,
    interpretable,
    is_critical,
    readings,
    stated_qualifier,
)

if TYPE_CHECKING:
    from bot.settings import Settings


@dataclass(frozen=True)
class OwnNumber:
    """What the stage reads, handed over by the Answerer: the documents, the sentence selector, the settings and
    replies, whether a body fits the SMS budget with its sources, a test's own document and the store's search."""

    library: Library
    selector: SentenceSelector | None
    settings: Settings
    messages: dict[str, str]
    fits: Callable[[str, Sequence[str]], bool]
    own_document: Callable[[str], tuple[list[Passage], list[str]]]
    search: Callable[[str, int], list[Passage]]

    def places_only(self, question: str) -> bool:
        """The learned check's diagnosis refusal (never a rule's) is overruled for a patient's own number asked only
        where it falls or whether to worry (knowledge/values.py: asks_where_it_falls), when it names no condition or
        organ ("... I have diabetes. is that bad?")."""
        found = self.readings(question)
        names = [n for r in found for n in self.library.vocabulary.names_of(r.code)]
        if not found or not asks_where_it_falls(question, names):
            return False
        return not names_condition(question)

    def readings(self, question: str) -> list[Reading]:
        """The patient's own numbers in ``question`` that the documents' bands can place."""
        library = self.library
        return [replace(r, qualifier=stated_qualifier(question, library.ranges[r.code]))
                for r in readings(question, library.vocabulary, library.ranges)
                if interpretable(r, library.ranges[r.code])]

    def answer(self, question: str, trace: list[tuple[str, dict[str, Any]]]) -> Answer | None:
        """The patient's own number in the documents' band, or None when the question gives none to place."""
        library, found = self.library, self.readings(question)
        trace.append(("value", {"tests": [r.code for r in found]}))
        if not found:
            return None
        if any(is_critical(r, self.settings.labs.critical) for r in found):
            return Answer(self.messages["critical"], reason="critical_value", handoff="critical_value")
        sentences = [sms_safe(describe(r, library.ranges[r.code])) for r in found[:2]]
        titles = list(dict.fromkeys(library.ranges[r.code].title for r in found[:2]))
        review, test = "Your clinician will review your result with you.", library.ranges[found[0].code]
        table = sms_safe(describe_range(test))  # "my fasting sugar was 108 what is the normal range": every band too
        if test.banded and asks_typical_range(question, test) and self.fits(f"{sentences[0]} {table}", titles):
            sentences.append(table)
        code, side = found[0].code, self._side(found[0])
        (sections, names), known = self.own_document(code), known_names(question, library.vocabulary, code)
        named = named_causes(question, self.selector, sections, names, known, side,
                             lambda more: self.fits(" ".join([*sentences, more, review]), titles)
                             ) if "cause" in question_kinds(question) else []
        if named:  # "AST 40, ran a half marathon, could the run do that": the document's sentence on that cause
            trace.append(("value_cause", {"sentences": [s.text for s in named]}))
            sentences.extend(s.text for s in named)
        thing = named_thing(question, sections, known, " ".join(sentences), library.word_pages, side,
                            lambda more: self.fits(" ".join([*sentences, more, review]), titles))
        if thing is not None:  # "bilirubin 1.6 again, is gilbert dangerous": the sentence on Gilbert syndrome
            trace.append(("value_thing", {"sentence": thing.text}))
            sentences.append(thing.text)
        stated = direction(question)  # "TSH 6.2 H, free T4 1.1 normal. what does a high TSH like that point to"
        sided = [r for r in found[:2] if stated and self._side(r, stated) == stated]
        told = len(sided) == 1 or self._one_side(found[:2]) or (
            self._one_document(found[:2]) and not self._asks_meaning(question))
        meaning = self.meaning(question, sided[0] if len(sided) == 1 else found[0], lambda more: self.fits(
            " ".join([*sentences, more, review]), titles)) if told else []
        if meaning:
            trace.append(("value_meaning", {"sentences": [s.text for s in meaning]}))
        elif len(found) == 1:  # "tsh 7, what is tsh anyway": what the test is, then where it falls
            defined = self.definition(question, code, lambda more: self.fits(" ".join([more, *sentences, review]),
                                                                            titles))
            if defined:
                trace.append(("value_definition", {"sentences": [s.text for s in defined]}))
                sentences[:0] = [s.text for s in defined]
        body = " ".join([*sentences, *(s.text for s in meaning if s.text not in sentences), review])
        return Answer(with_sources(body, titles), sources=titles, grounded=True, reason="value")

    def definition(self, question: str, code: str, fits: Callable[[str], bool]) -> list[Sentence]:
        """The sentences of the test's own document that say what it is, when a clause of the question names the test
        and asks what it is ("what's a bun, mine came back 25"), not its range ("whats normal egfr")."""
        test, vocabulary = self.library.ranges[code], self.library.vocabulary
        names = vocabulary.names_of(code)
        asked = [c for c in re.split(r"[,;]\s*|(?<=[.?!])\s+", question) if asks_definition(c) and not asks_range(
            c, test, names) and any(m.term.code == code for m in vocabulary.test_mentions(c))]
        if self.selector is None or not asked:
            return []
        return definition_sentences(asked[0], self.selector, *self.own_document(code), fits, most=1)

    def _side(self, reading: Reading, stated: str = "") -> str | None:
        """"high" or "low" when every band the reading falls in is on that side; for a number on two sides (an INR of
        1.5: high without a blood thinner, low on warfarin), the side ``stated`` ("what does a low INR mean"); else
        None."""
        flags = {p.flag for p in self.library.ranges[reading.code].place(reading.value, reading.qualifier)}
        side = flags.pop() if len(flags) == 1 else (stated if stated in flags else None)
        return side if side in ("high", "low") else None

    def _one_side(self, found: Sequence[Reading]) -> bool:
        """One reading, or two of one document on the same side ("alt 78 ast 41, what causes that"): one meaning."""
        ranges, documents = self.library.ranges, self.library.lab_documents
        sides = {p.flag for r in found for p in ranges[r.code].place(r.value, r.qualifier)}
        sources = {getattr(documents.get(r.code), "source", r.code) for r in found}
        return len(found) == 1 or (len(sides) == 1 and len(sources) == 1)

    def _one_document(self, found: Sequence[Reading]) -> bool:
        """Two readings of one document, whatever their sides ("TSH 5.2 H, free T4 1.2: is that common"): what else
        the question asks is answered from that document; what a side means is not (there are two sides)."""
        documents = self.library.lab_documents
        return len({getattr(documents.get(r.code), "source", r.code) for r in found}) == 1

    @staticmethod
    def _asks_meaning(question: str) -> bool:
        return bool(question_kinds(question) & {"cause", "symptom"} or ASKS_MORE.search(question))

    def meaning(self, question: str, reading: Reading, fits: Callable[[str], bool]) -> list[Sentence]:
        """"tsh 6.2 what does that mean", "ldl 170 how do i get it down": besides placing the number, the sentences of
        the test's own document on what a value on that side can mean (cause, feel like), or, when the question asks
        anything else (knowledge/kinds.py: asks_besides), the sections of that document that answer it by meaning."""
        kinds = question_kinds(question) & {"cause", "symptom"}
        test, (sections, names) = self.library.ranges[reading.code], self.own_document(reading.code)
        side = self._side(reading, direction(question))  # a number on two sides: the side the question names
        ask, meaning = "", bool(kinds or ASKS_MORE.search(question)) and side in ("high", "low")
        if meaning:
            name = self.library.vocabulary.display.get(reading.code, test.name)
            sections = SentenceSelector.side_sections(sections, names, str(side))
            # a section not headed with that side gives the sentences that say it ("For men, an HDL under 40 mg/dL is
            # low ..."), not the ones nearest "what does a low HDL mean" ('HDL is often called the "good" cholesterol')
            sections = [p if direction(p.heading) == side else replace(p, text=" ".join(
                s for s in candidates(p) if first_direction(s) == side)) for p in sections]
            sections = [p for p in sections if p.text]
            ask = (f"what can cause a {side} {name}" if "cause" in kinds else f"what are the symptoms of a {side} "
                   f"{name}" if "symptom" in kinds else f"what does a {side} {name} mean")
        elif asks_besides(question, [*names, *self.library.vocabulary.page_words([reading.code])]):
            ask, source = " ".join(question.replace(reading.written, " ").split()), sections[0].source if sections else ""
            found = self.search(ask, 2 * self.settings.knowledge.top_k)
            sections = [p for p in found if p.source == source and direction(p.heading) in ("", side or "")]
            if side and direction(question) == side:  # "came back high ... what else does that": that side's sections
                sections.sort(key=lambda p: direction(p.heading) != side)
        if self.selector is None or not sections or not ask:
            return []
        # the features alone: the ask is this stage's own template ("what does a high INR mean"), which the features'
        # roles and heading kinds were made for; the learned scorer reads it as the patient's words and prefers the
        # sentence that defines a high INR to the ones on what it means for them
        chosen = self.selector.select(ask, sections, fits, names, question_kinds(ask), refined=True,
                                      learned=False).sentences
        kept = [s for s in chosen if not for_another(s.text, test, reading.qualifier)]  # a woman: not "For men, ..."
        if meaning:  # all on the number's side, or none
            return kept if all(direction(s.text) in ("", side or "") for s in kept) else []
        return kept  # their sections are not about the other side ("Lowering cholesterol", not "Low HDL")
