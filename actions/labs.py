"""Lab results in conversation, after verification (``labs_form`` asks for it first, like the appointment forms).

The verified patient's latest collection (bot/labs.py) is listed with each value flagged by code against the lab
documents' range for it (knowledge/ranges.py: the same bands the answers place a patient's number in), or the
report's own range where the documents have none. A value in the clinic's critical range is neither shown nor explained: the conversation goes to
staff (a ``critical_lab`` handoff) and the patient is told a person will contact them. Each other high or low
value gets a short explanation quoted from the lab document that covers the test (knowledge/documents/labs/,
retrieved from the knowledge store, its sentences chosen by meaning, source named); nothing is generated. Every
message fits the SMS budget as the channel splits it (bot/messaging/sms_budget.py: one rule for the sender, the answers
and these). The patient is told their clinician
will review the results, and how to reach a person.

Logs and the audit trail get counts only, never a value or a test name.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.common import ClinicAction, clinic_vars, conversation_for, log, now, say, settings
from actions.verification import (
    VerifiedFormValidation,
    explain_unverified,
    reset_events,
    verified_patient,
)
from bot.conversations.handoffs import open_handoff, request_handoff
from bot.labs import FlaggedResult, LatestResults, latest_results
from bot.messaging.sms_budget import fits_sms
from bot.scheduling.hours import is_open, staff_reply_eta
from bot.settings import Settings
from bot.store import LabResult, audit, session_scope
from knowledge.answer import get_answerer
from knowledge.documents import Document
from knowledge.guard import has_dosing_language
from knowledge.select import Selection, Sentence, SentenceSelector, candidates
from knowledge.sentences import plain_sentences, sms_safe
from knowledge.store import Retriever
from knowledge.types import Passage

EXPLANATION_CHARS = 280  # at most about two sentences per value: several short messages read better by SMS
CANDIDATES = 10  # passages retrieved per question, before keeping the ones from the test's own document


# -- wording of one result ----------------------------------------------------------------------------
def number(value: float) -> str:
    return f"{value:g}"


def amount(value: float, unit: str) -> str:
    return f"{number(value)}{'' if unit in ('%', '') else ' '}{unit}"


def typical_range(result: FlaggedResult) -> str:
    low, high = result.ref_low, result.ref_high
    if low is not None and high is not None:
        return f"typical range {number(low)} to {number(high)}"
    if high is not None:
        return f"typical range up to {number(high)}"
    if low is not None:
        return f"typical range {number(low)} or higher"
    return ""


def describe_result(result: FlaggedResult) -> str:
    """One line: 'LDL cholesterol 162 mg/dL - high (typical range up to 99).' A critical value is not shown."""
    if result.critical:
        return f"{result.test_name} - your clinician needs to review this result with you."
    if result.flag == "normal":
        return f"{result.test_name} {amount(result.value, result.unit)} - in the typical range."
    if result.reference:  # the lab documents' band: "high (prediabetes range: 5.7 % to 6.4 %)"
        return f"{result.test_name} {amount(result.value, result.unit)} - {result.flag} ({result.reference})."
    limits = typical_range(result)
    return f"{result.test_name} {amount(result.value, result.unit)} - {result.flag}" + (
        f" ({limits})." if limits else ".")


def collection_day(latest: LatestResults) -> str:
    day = latest.collected_on
    return f"{day:%a, %b} {day.day}"


# -- fitting the SMS budget -----------------------------------------------------------------------------
def render(domain: dict[str, Any], response: str, **values: Any) -> str:
    """The text a response becomes (its first variant), to measure it before it is sent."""
    template = str(domain.get("responses", {}).get(response, [{}])[0].get("text", ""))
    return template.format(**values) if template else " ".join(str(v) for v in values.values())


def fits(text: str, cfg: Settings) -> bool:
    """Within the SMS budget as the channel splits it (each part one segment, at most ``max_segments``)."""
    return fits_sms(text, cfg.sms.max_segments)


def pack_lines(lines: list[str], measure: Callable[[int, list[str]], str], cfg: Settings) -> list[list[str]]:
    """Lines grouped into as few messages as fit the budget; ``measure(index, lines)`` is the message they make
    (the first message has a header, the next ones another)."""
    groups: list[list[str]] = []
    for line in lines:
        if groups and fits(measure(len(groups) - 1, [*groups[-1], line]), cfg):
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


# -- explanations from the lab documents -----------------------------------------------------------------
@dataclass(frozen=True)
class Explanation:
    text: str
    source: str  # the document's title, named to the patient


def knowledge_retriever() -> Retriever:
    """The knowledge store the answering action uses (one per process, loaded on first use)."""
    return get_answerer(settings()).store


def knowledge_selector() -> SentenceSelector | None:
    """The answers' sentence selection (by meaning), sharing their embedding model and its cache."""
    return get_answerer(settings()).selector


def question_for(result: FlaggedResult) -> str:
    return f"What can a {result.flag} {result.test_name} result mean?"


_AT_LEAST = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|[a-z]+/[a-z]+)?\s*(?:or higher|or more|and above|or above)", re.I)
_BELOW = re.compile(r"\b(?:under|below|less than)\s*(\d+(?:\.\d+)?)", re.I)


def heading_fits_value(heading: str, value: float) -> int:
    """2 when the heading names a limit the value meets ("6.5 % or higher"), 0 when it names one the value
    does not meet, 1 when it names none."""
    limits = [(float(m.group(1)), value >= float(m.group(1))) for m in _AT_LEAST.finditer(heading)]
    limits += [(float(m.group(1)), value < float(m.group(1))) for m in _BELOW.finditer(heading)]
    if not limits:
        return 1
    return 2 if all(ok for _, ok in limits) else 0


def pick_passage(result: FlaggedResult, passages: list[Passage]) -> Passage | None:
    """The section that fits this value best, by its heading: one naming a limit the value meets ("6.5 % or
    higher"), then one about this direction ("What a high TSH can mean" for a high TSH), then the one naming
    more of the test's words, then one that says what a result can mean, then the closest to the question."""
    if not passages:
        return None
    word = re.compile(rf"\b{result.flag}\b", re.IGNORECASE)
    name_words = {w for w in re.findall(r"[a-z0-9]+", result.test_name.lower()) if len(w) > 2}

    def rank(p: Passage) -> tuple[int, bool, int, bool, float]:
        heading = p.heading.lower()
        return (heading_fits_value(p.heading, result.value), bool(word.search(heading)),
                sum(w in heading for w in name_words), "mean" in heading, p.score)

    return max(passages, key=rank)


def sentences_about(result: FlaggedResult, passage: Passage) -> Passage:
    """The passage without sentences that only speak of the other direction (for a low value, "High potassium
    can be a sign of ...") or of doses."""
    other = re.compile(r"\b(high)\b" if result.flag == "low" else r"\b(low)\b", re.IGNORECASE)
    same = re.compile(rf"\b{result.flag}\b", re.IGNORECASE)
    kept = [s for s in plain_sentences(sms_safe(passage.text))
            if not has_dosing_language(s) and (same.search(s) or not other.search(s))]
    return replace(passage, text="\n".join(kept))


def explain(store: Retriever, document: Document | None, result: FlaggedResult,
            budget: int = EXPLANATION_CHARS, selector: SentenceSelector | None = None) -> Explanation | None:
    """A few sentences from the test's own lab document about what a value like this can mean, or None.

    Retrieval finds the sections of that document closest to the question; the sentences are the document's
    own, chosen by meaning like the answers' (knowledge/select.py), in the document's order, never generated."""
    if document is None or result.flag == "normal" or result.critical:
        return None
    passages = [p for p in store.query(question_for(result), CANDIDATES) if p.source == document.source]
    best = pick_passage(result, passages)
    if best is None:
        return None
    # The heading counts too: the section was picked for it, and the sentences that echo it carry its point
    # ("An A1c of 5.7 % to 6.4 % is in the prediabetes range").
    about = sentences_about(result, best)
    asked = f"What can a {result.flag} {result.test_name} mean? {best.heading}"
    chosen = (selector.select(asked, [about], lambda body: len(body) <= budget) if selector is not None
              else Selection(tuple(Sentence(s, about, n, 0.0) for n, s in enumerate(candidates(about)[:1]))))
    text = chosen.text if len(chosen.text) <= budget else ""
    return Explanation(text, best.title) if text else None


def in_sentence(test_name: str) -> str:
    """'Total cholesterol' -> 'total cholesterol' inside a sentence; 'LDL cholesterol', 'HbA1c' stay."""
    first, _, rest = test_name.partition(" ")
    if first[:1].isupper() and first[1:].islower():
        return f"{first.lower()} {rest}".strip()
    return test_name


def explanation_groups(flagged: list[FlaggedResult], explanations: dict[str, Explanation | None]
                       ) -> list[tuple[str, str, Explanation | None]]:
    """(flag, test names, explanation) in the results' order; results the same passage explains share one
    message ("About your high total cholesterol and LDL cholesterol: ...")."""
    groups: dict[tuple[str, str, str], tuple[list[str], Explanation | None]] = {}
    for result in flagged:
        found = explanations.get(result.test_code)
        key = (result.flag, found.text, found.source) if found else (result.flag, "", result.test_code)
        groups.setdefault(key, ([], found))[0].append(in_sentence(result.test_name))
    return [(flag, " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1], found)
            for (flag, _, _), (names, found) in groups.items()]


def explain_all(results: list[FlaggedResult]) -> dict[str, Explanation | None]:
    """Test code -> explanation, for each flagged (not critical) result. Blocking: run off the event loop."""
    if not results:
        return {}
    documents = get_answerer(settings()).library.lab_documents  # read once with the knowledge store
    store, selector = knowledge_retriever(), knowledge_selector()
    return {r.test_code: explain(store, documents.get(r.test_code), r, selector=selector) for r in results}


def document_ranges(cfg: Settings) -> dict[str, Any]:
    """The lab documents' ranges, as the knowledge answers read them (loaded once)."""
    return dict(get_answerer(cfg).library.ranges)


# -- the actions -------------------------------------------------------------------------------------------
class ValidateLabsForm(VerifiedFormValidation):
    def name(self) -> str:
        return "validate_labs_form"


class ActionShowLabResults(ClinicAction):
    def name(self) -> str:
        return "action_show_lab_results"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = verified_patient(tracker)
        if patient_id is None:
            explain_unverified(dispatcher, tracker)
            return reset_events()
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            # A preliminary value can still change: only final (or already reviewed) results are shown.
            rows = session.scalars(select(LabResult).where(LabResult.patient_id == patient_id,
                                                           LabResult.status != "preliminary")
                                   .order_by(LabResult.collected_at, LabResult.id)).all()
            latest = latest_results(rows, cfg.clinic.tz, cfg.labs.critical, document_ranges(cfg))
        if latest is None:
            log.info("labs.none conversation_id=%s", tracker.sender_id)
            say(dispatcher, "utter_lab_none")
            return reset_events()

        flagged = list(latest.flagged)
        try:
            explanations = await asyncio.to_thread(explain_all, flagged)
        except Exception:  # the knowledge store is down: the results and the review note still go out
            log.exception("labs.explain_failed conversation_id=%s", tracker.sender_id)
            explanations = {}

        new_handoff = False
        with session_scope(cfg.database_url) as session:
            if latest.critical:
                new_handoff = self.escalate(session, tracker, patient_id, latest)
            audit.record(session, at=now(), actor_type="conversation", actor_id=tracker.sender_id,
                         patient_id=patient_id, action="results_shown",
                         detail={"results": len(latest.results), "flagged": len(flagged),
                                 "critical": len(latest.critical)})

        self.list_results(dispatcher, domain, cfg, latest)
        if latest.critical:
            urgent = "If you feel very unwell, call 911." if is_open(cfg.clinic, now()) else (
                cfg.clinic.after_hours or "If you feel very unwell, call 911.")
            say(dispatcher, "utter_lab_critical", when=staff_reply_eta(cfg.clinic, now()), urgent_help=urgent)
        for flag, names, found in explanation_groups(flagged, explanations):
            if found is None:
                say(dispatcher, "utter_lab_no_explanation", test_name=names)
            else:
                say(dispatcher, "utter_lab_explanation", flag=flag, test_name=names,
                    explanation=self.fitted(domain, cfg, flag, names, found), source=found.source)
        say(dispatcher, "utter_lab_review")
        log.info("labs.shown conversation_id=%s results=%d flagged=%d critical=%d explained=%d new_handoff=%s",
                 tracker.sender_id, len(latest.results), len(flagged), len(latest.critical),
                 sum(1 for e in explanations.values() if e is not None), new_handoff)
        return reset_events()

    @staticmethod
    def escalate(session: Any, tracker: Tracker, patient_id: int, latest: LatestResults) -> bool:
        """A critical value goes to staff (the patient is told, the value is not explained)."""
        conversation = conversation_for(session, tracker)
        summary = {"critical_lab": {"tests": [r.test_code for r in latest.critical],
                                    "collected_on": latest.collected_on.isoformat()}}
        created = request_handoff(session, conversation, reason="critical_lab", summary=summary)
        if not created:  # already waiting for staff: they get the critical result too
            waiting = open_handoff(session, conversation.id)
            if waiting is not None:
                waiting.summary = {**(waiting.summary or {}), **summary}
        audit.record(session, at=now(), actor_type="conversation", actor_id=tracker.sender_id,
                     patient_id=patient_id, action="critical_result_escalated",
                     detail={"critical": len(latest.critical), "new_handoff": created})
        return created

    @staticmethod
    def list_results(dispatcher: CollectingDispatcher, domain: dict[str, Any], cfg: Settings,
                     latest: LatestResults) -> None:
        date = collection_day(latest)
        values = clinic_vars(cfg)

        def measure(index: int, lines: list[str]) -> str:
            if index == 0:
                return render(domain, "utter_lab_results", date=date, results="\n".join(lines), **values)
            return render(domain, "utter_lab_results_more", results="\n".join(lines), **values)

        lines = [describe_result(r) for r in latest.results]
        for index, group in enumerate(pack_lines(lines, measure, cfg)):
            if index == 0:
                say(dispatcher, "utter_lab_results", date=date, results="\n".join(group))
            else:
                say(dispatcher, "utter_lab_results_more", results="\n".join(group))

    @staticmethod
    def fitted(domain: dict[str, Any], cfg: Settings, flag: str, names: str, found: Explanation) -> str:
        """The explanation, cut back a sentence at a time until its message fits the SMS budget."""
        text = found.text
        sentences = re.split(r"(?<=[.!?])\s+", text)
        while len(sentences) > 1 and not fits(render(domain, "utter_lab_explanation", flag=flag, test_name=names,
                                                     explanation=text, source=found.source), cfg):
            sentences.pop()
            text = " ".join(sentences)
        return text
