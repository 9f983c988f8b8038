"""Symptom intake (``report_symptoms``): one short question per message, then an urgency and a next step.

``intake_form`` asks who it is for and their age, the main symptom, since when and how bad (0-10), then only
the follow-ups that matter for that symptom: the temperature for a fever, breathing for a cough or a cold,
pregnancy where it changes the advice. Answers are parsed deterministically in :mod:`actions.intake_answers`.
After every answer the *combination* is checked for red flags (a
6-week-old plus a fever is an emergency although neither message was); a red flag ends the questions at once.

:class:`ActionIntakeSummary` decides the urgency with :func:`bot.triage.combine.assess` (the rules, and the triage
model, which can only raise the level; the summary says which decided), writes a structured summary to
the conversation (``flags["intake"]``), hands urgent and emergency cases to staff, and answers with the next
step. No doses and no diagnosis, ever: the advice is a next step and when to call.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import ClinicAction, conversation_for, log, now, said_in_passing, say, settings
from actions.intake_answers import (
    INTAKE_SLOTS,
    Answers,
    is_symptom,
    is_unsure,
    parse_age,
    parse_severity,
    parse_since,
    parse_temperature,
    parse_who,
    parse_yes_no,
)
from actions.knowledge import refuse_medicine_question
from bot.conversations.handoffs import open_handoff, request_handoff
from bot.scheduling.hours import staff_reply_eta
from bot.store import activity, session_scope
from bot.triage import advice_for
from bot.triage.combine import assess
from bot.triage.net import get_triage_net
from bot.triage.red_flags import extract_age_years, extract_temperature_f, normalize
from knowledge.answer import get_answerer
from knowledge.documents import Document, chunk_document
from knowledge.guard import has_dosing_language

# "no trouble breathing", "breathing is fine": the breathing question answered before it is asked
NO_TROUBLE_BREATHING = re.compile(
    r"\b(?:no|not|without|never)\s+(?:any\s+|much\s+)?(?:trouble|difficulty|problems?|issues?)\s+(?:with\s+)?breath\w*"
    r"|\b(?:not|never)\s+short of breath\b|\bno\s+(?:sob|shortness of breath)\b"
    r"|\bbreathing(?: is)? (?:fine|ok|okay|normal)\b")
# "im 44", "i am 30": a patient's own age said in passing (a bare number elsewhere may be a duration)
SELF_AGE = re.compile(r"\b(?:i'?m|i am)\s+\d{1,3}\b(?!\s*(?:day|week|month|hour|min|lb|pound|kg|%|degree|f\b|c\b))")


def _today() -> date:
    return now().astimezone(settings().clinic.tz).date()


def _reset() -> list[EventType]:
    return [SlotSet(name, None) for name in INTAKE_SLOTS] + [SlotSet("requested_slot", None)]


# -- the form -----------------------------------------------------------------------------------------------
class ValidateIntakeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_intake_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        answers = Answers.from_slots(tracker.slots, _today())
        if answers.symptom and answers.red_flags():
            return []  # an emergency by the combination of answers: no more questions
        skip = set()
        if not answers.fever_related():
            skip.add("intake_temperature")
        if not answers.breathing_related():
            skip.add("intake_breathing")
        if not answers.pregnancy_relevant():
            skip.add("intake_pregnant")
        return [s for s in domain_slots if s not in skip]

    def _unclear(self, dispatcher: CollectingDispatcher, slot: str, tracker: Tracker | None = None) -> dict[str, Any]:
        if tracker is None or not self._answered_in_passing(tracker):
            say(dispatcher, "utter_intake_unclear")
        return {slot: None}  # asked again (quietly when the message answered another question)

    # -- an answer to another question, said in passing ("101.8 F" when asked how bad it is) ------------------
    def _answered_in_passing(self, tracker: Tracker) -> bool:
        norm = normalize(str(tracker.latest_message.get("text") or ""))
        return extract_temperature_f(norm) is not None or bool(NO_TROUBLE_BREATHING.search(norm))

    async def extract_intake_temperature(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> dict[str, Any]:
        text = said_in_passing(tracker, "intake_temperature")
        value = extract_temperature_f(normalize(text)) if text else None
        return {"intake_temperature": f"{value:g}"} if value is not None else {}

    async def extract_intake_breathing(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        text = said_in_passing(tracker, "intake_breathing")
        return {"intake_breathing": "no"} if text and NO_TROUBLE_BREATHING.search(normalize(text)) else {}

    def validate_intake_who(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        who, age = parse_who(str(value or ""))
        if who is None:
            return self._unclear(dispatcher, "intake_who")
        slots: dict[str, Any] = {"intake_who": who}
        if age is not None:
            slots["intake_age"] = age
        return slots

    def validate_intake_age(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        text = str(value or "")
        age = parse_age(text)
        if age is None and is_unsure(text) and tracker.get_slot("intake_who") == "other":
            return {"intake_age": "unknown"}
        if age is not None and not age.endswith(("year", "years")) and tracker.get_slot("intake_who") == "self":
            return self._unclear(dispatcher, "intake_age")  # "2 days" from someone texting about themselves: a duration
        return {"intake_age": age} if age else self._unclear(dispatcher, "intake_age", tracker)

    def validate_intake_symptom(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        text = " ".join(str(value or "").split())[:300]
        if len(re.findall(r"[a-zA-Z]", text)) < 3 or (parse_yes_no(text) == "no" and not is_symptom(text)):
            return self._unclear(dispatcher, "intake_symptom")
        return {"intake_symptom": text}

    def validate_intake_since(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        since = parse_since(str(value or ""), _today())
        return {"intake_since": since} if since else self._unclear(dispatcher, "intake_since", tracker)

    def validate_intake_severity(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        severity = parse_severity(str(value or ""))
        return {"intake_severity": str(severity)} if severity is not None else self._unclear(
            dispatcher, "intake_severity", tracker)

    def validate_intake_temperature(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        temperature = parse_temperature(str(value or ""))
        return {"intake_temperature": temperature} if temperature else self._unclear(dispatcher,
                                                                                     "intake_temperature")

    def validate_intake_breathing(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        answer = parse_yes_no(str(value or ""))
        return {"intake_breathing": answer} if answer else self._unclear(dispatcher, "intake_breathing")

    def validate_intake_pregnant(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        answer = parse_yes_no(str(value or ""))
        return {"intake_pregnant": answer} if answer else self._unclear(dispatcher, "intake_pregnant")


class ActionIntakeStart(ClinicAction):
    """A new intake starts clean, keeping what the first message already said (symptom, who, age, when...)."""

    def name(self) -> str:
        return "action_intake_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        net = get_triage_net(settings())
        if net is not None:
            net.start()  # loads in the background while the questions are asked
        events: list[EventType] = [ActiveLoop(None)] if tracker.active_loop.get("name") else []
        events += _reset()
        if await refuse_medicine_question(dispatcher, tracker):  # no doses, even inside a symptom
            return [*events, FollowupAction("action_listen")]
        text = " ".join(str(tracker.latest_message.get("text") or "").split())[:300]
        if not is_symptom(text):
            return events
        norm = normalize(text)
        prefill: dict[str, Any] = {"intake_symptom": text}
        who, age = parse_who(text)
        if who is not None and (who != "self" or re.search(r"\b(?:i|i'm|me|my)\b", norm)):
            prefill["intake_who"] = who
        if age and (extract_age_years(norm) is not None or SELF_AGE.search(norm)):
            prefill["intake_age"] = age
        temp = extract_temperature_f(norm)
        if temp is not None:
            prefill["intake_temperature"] = f"{temp:g}"
        if re.search(r"\b(?:since|for|ago|yesterday|last night|this morning|today|tonight|all day)\b", norm):
            since = parse_since(text, _today())
            if since:
                prefill["intake_since"] = since
        return events + [SlotSet(k, v) for k, v in prefill.items()]


class ActionIntakeStop(ClinicAction):
    def name(self) -> str:
        return "action_intake_stop"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        log.info("intake.stopped conversation_id=%s", tracker.sender_id)
        say(dispatcher, "utter_intake_stopped")
        return [ActiveLoop(None), *_reset()]


class ActionIntakeToStaff(ClinicAction):
    """A person asked for in the middle of the questions: staff get the answers so far."""

    def name(self) -> str:
        return "action_intake_to_staff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
        partial = {**Answers.from_slots(tracker.slots, _today()).summary(), "complete": False}
        with session_scope(cfg.database_url) as session:
            conversation = conversation_for(session, tracker)
            conversation.flags = {**(conversation.flags or {}), "intake": partial}
            created = request_handoff(session, conversation, reason="requested_human", summary={"intake": partial})
        log.info("intake.to_staff conversation_id=%s new=%s", tracker.sender_id, created)
        response = "utter_handoff_requested" if created else "utter_handoff_already_waiting"
        say(dispatcher, response, when=staff_reply_eta(cfg.clinic, now()))
        return [ActiveLoop(None), *_reset()]


# -- the end: urgency, next step, summary -------------------------------------------------------------------
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "since", "so", "the", "this", "to", "was", "with", "your", "his", "her", "he", "she", "they", "them", "their", "started", "days", "day", "weeks", "week", "today", "really", "very", "little", "bit", "feel", "feels", "feeling", "been"])


def self_care_passage(documents: Sequence[Document], symptom: str) -> tuple[str, str] | None:
    """(title, a few sentences) from the clinic's documents for this symptom, else the after-hours nurse line."""
    words = {w for w in re.findall(r"[a-z]{3,}", normalize(symptom)) if w not in _STOP}
    best: tuple[int, str, str] | None = None
    fallback: tuple[str, str] | None = None
    for doc in documents:
        for chunk in chunk_document(doc):
            text = re.sub(r"\s+", " ", re.sub(r"[#*|_`>]", " ", chunk.text)).strip()
            if has_dosing_language(text):
                continue
            if fallback is None and "nurse line" in chunk.heading.lower():
                fallback = (doc.title, text)
            if doc.kind not in ("self_care", "self-care", "symptom"):
                continue
            head = normalize(f"{doc.title} {chunk.heading}")
            score = sum(3 if re.search(rf"\b{w}", head) else 1 for w in words if re.search(rf"\b{w}", head + " "
                                                                                            + normalize(text)))
            if score and (best is None or score > best[0]):
                best = (score, doc.title, text)
    found = (best[1], best[2]) if best else fallback
    if found is None:
        return None
    sentences = re.split(r"(?<=[.!?])\s+", found[1])
    quoted = ""
    for sentence in sentences:
        if len(quoted) + len(sentence) > 320:
            break
        quoted = f"{quoted} {sentence}".strip()
    return found[0], quoted or sentences[0][:320]


_SUBJECT = {"self": "you", "child": "your child", "other": "them"}
_WHO_WORDS = {"child": "my child"}
MODEL_WAIT_S = 10.0


def model_text(answers: Answers) -> str:
    """What the triage model reads: the patient's words with the form's answers written in as a person would."""
    who = _WHO_WORDS.get(answers.who or "", "")
    head = ", ".join(p for p in (who, f"{answers.age} old" if answers.age else "") if p)
    parts = [f"{head}: {answers.triage_text()}" if head else answers.triage_text()]
    if answers.temperature_f is not None and answers.temperature != "normal":
        parts.append(f"temp {answers.temperature_f:g}")
    if answers.severity is not None:
        parts.append(f"{answers.severity}/10")
    if answers.pregnant == "yes":
        parts.append("pregnant")
    return ", ".join(parts)


class ActionIntakeSummary(ClinicAction):
    def name(self) -> str:
        return "action_intake_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
        answers = Answers.from_slots(tracker.slots, _today())
        net = get_triage_net(cfg)
        if net is not None:  # started when the intake began; a short wait at most, then the rules alone
            await asyncio.to_thread(net.wait, MODEL_WAIT_S)
        result = await asyncio.to_thread(
            assess, answers.triage_text(), net, model_text=model_text(answers), age_years=answers.age_years,
            severity=answers.severity, temperature_f=answers.temperature_f, pregnant=answers.pregnant_flag,
            clinic_name=cfg.clinic.name, clinic_phone=cfg.clinic.phone)
        next_step = {"emergency": "call 911 / emergency care", "urgent": "same-day visit (handed to staff)",
                     "routine": "book a routine visit", "self_care": "self-care advice, call if worse"}[result.urgency]
        summary = {**answers.summary(), "urgency": result.urgency, "red_flags": result.red_flags,
                   "reasons": result.reasons, "next_step": next_step, "decided_by": result.decided_by,
                   **({"model": {k: round(v, 3) for k, v in result.model.levels.items()}} if result.model else {}),
                   "complete": True, "at": now().isoformat()}
        handed = False
        with session_scope(cfg.database_url) as session:
            conversation = conversation_for(session, tracker)
            flags: dict[str, object] = {**(conversation.flags or {}), "intake": summary}
            if result.red_flags:
                earlier = flags.get("red_flags")
                flags["red_flags"] = sorted({*(earlier if isinstance(earlier, list) else []), *result.red_flags})
            conversation.flags = flags
            activity.record(session, "triage", result.urgency, channel=conversation.channel,
                            conversation_id=conversation.id)  # the level, counted for the owner's dashboard
            if result.urgency in ("urgent", "emergency"):
                handed = request_handoff(session, conversation, reason="urgent_triage", summary=summary)
                if not handed:  # already waiting for staff: they get the answers too
                    waiting = open_handoff(session, conversation.id)
                    if waiting is not None:
                        waiting.summary = {**(waiting.summary or {}), "intake": summary}
        log.info("intake.done conversation_id=%s urgency=%s decided_by=%s red_flags=%s new_handoff=%s",
                 tracker.sender_id, result.urgency, result.decided_by, ",".join(result.red_flags), handed)

        if result.urgency == "emergency":
            dispatcher.utter_message(text=result.advice)
            say(dispatcher, "utter_intake_staff_alerted")
        elif result.urgency == "urgent":
            say(dispatcher, "utter_intake_urgent", subject=_SUBJECT.get(answers.who or "", "you"),
                when=staff_reply_eta(cfg.clinic, now()))
        elif result.urgency == "routine":
            say(dispatcher, "utter_intake_routine")
        else:
            say(dispatcher, "utter_intake_self_care",
                advice=advice_for("self_care", clinic_phone=cfg.clinic.phone))
            # the documents as the knowledge library read them once, not again from disk
            passage = self_care_passage(get_answerer(cfg).library.documents, answers.symptom or "")
            if passage is not None:
                say(dispatcher, "utter_intake_guide", title=passage[0], passage=passage[1])
        return _reset()
