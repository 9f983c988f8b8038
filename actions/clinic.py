"""Greeting, clinic information, scope and fallback: answers built from the clinic's settings.

Off-topic or clinic is decided by actions/scope.py (the engine's ranking and a second opinion by meaning):
``action_check_scope`` applies it as the first step of the guarded intents' rules, the fallback action on
unsure turns.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge as kb
from actions.common import ClinicAction, clinic_vars, log, settings
from actions.context import (
    BOOKING,
    FOLLOW_UP_WORDS,
    answer_hours_follow_up,
    days_asked,
    hours_follow_up,
    leaning_question,
    say_after_hours,
    say_hours_on,
)
from actions.handoff import offer_topic
from actions.knowledge import reply_from_knowledge
from actions.scope import (
    DECIDED,
    FALLBACK,
    OUT_OF_SCOPE,
    ExampleIndex,
    Opinion,
    decide,
    get_index,
    ranking_of,
    reroute,
)
from bot.scheduling.hours import describe_hours

OPINION_WAIT_S = 2.0  # a cold start waits this long for the examples' vectors, then the engine's answer stands


def _scope_index() -> ExampleIndex | None:
    """The examples' index on the knowledge store's embedding model (one model in memory), vectors cached under
    the data directory; None when the store has no embedding model."""
    cfg = settings()
    embedder = getattr(kb.get_answerer(cfg).store, "embedder", None)
    return None if embedder is None else get_index(embedder, cfg.models_dir / "scope")


def warm_up_scope() -> None:
    """Build the index now (the action server's warm-up), so the first patients get the second opinion."""
    try:
        index = _scope_index()
        if index is not None:
            index.build()
    except Exception:
        log.exception("scope.warm_up_failed")


async def second_opinion(tracker: Tracker) -> Opinion | None:
    """The nearest training examples' opinion of the latest message (None if unavailable: the engine decides)."""
    text = str(tracker.latest_message.get("text") or "")
    try:
        index = _scope_index()
        if index is None:
            return None
        return await asyncio.to_thread(index.opinion, text, OPINION_WAIT_S)
    except Exception:
        log.exception("scope.opinion_failed conversation_id=%s", tracker.sender_id)
        return None


def knowledge_question(tracker: Tracker) -> str:
    """The latest message as the knowledge store is asked it. A health plan the NLU recognised (the ``insurer``
    lookup, data/lookups.yml) is named as insurance: the embedding model does not know that "aetna" is one, so
    "do you take aetna" alone finds no passage, while "do you take aetna insurance" finds the insurance page."""
    text = str(tracker.latest_message.get("text") or "")
    insurers = list(tracker.get_latest_entity_values("insurer"))
    if insurers and len(text.split()) <= FOLLOW_UP_WORDS and "insurance" not in text.lower():
        return f"do you take {insurers[0]} insurance"  # "n cigna?" after another plan's answer
    if insurers and "insurance" not in text.lower():
        return f"{text} insurance"
    return leaning_question(tracker, text)


class ActionCheckScope(ClinicAction):
    """First step of the guarded intents' rules (data/rules.yml): when the second opinion disagrees with the
    engine (an off-topic message read as a clinic request, or the reverse), the message is re-routed."""

    def name(self) -> str:
        return "action_check_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        latest = tracker.latest_message
        intent = (latest.get("intent") or {}).get("name")
        if latest.get(DECIDED) or tracker.active_loop.get("name") or not intent:
            return []
        if intent != "clinic_info" and hours_follow_up(tracker) and not BOOKING.search(str(latest.get("text") or "")):
            log.info("scope.rerouted conversation_id=%s engine=%s route=hours_follow_up", tracker.sender_id, intent)
            return reroute(latest, "clinic_info", tracker.get_latest_input_channel())  # "friday then?" after hours
        route = decide(ranking_of(latest), False, await second_opinion(tracker))
        if route == intent:
            return []
        log.info("scope.rerouted conversation_id=%s engine=%s route=%s", tracker.sender_id, intent, route)
        return reroute(latest, route, tracker.get_latest_input_channel())


class ActionGreet(ClinicAction):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_greet", **clinic_vars(settings()))
        return []


# Hours, address and phone come straight from the clinic's settings; anything else (insurance, parking,
# the portal...) from the knowledge documents.
_CONTACT = re.compile(r"\b(hours?|open|opening|close[sd]?|closing|address|located|location|phone|fax|(?:your|ur|office) number|"
                      r"call you)\b", re.I)  # not a bare "number": "a good cholesterol number" is a lab question


class ActionClinicInfo(ClinicAction):
    def name(self) -> str:
        return "action_clinic_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
        text = str(tracker.latest_message.get("text") or "")
        if say_after_hours(dispatcher, tracker):
            return []
        days = days_asked(tracker)
        if days and (_CONTACT.search(text) or len(text.split()) <= FOLLOW_UP_WORDS):
            say_hours_on(dispatcher, days)  # "do you close early on fridays", "n saturday?"
            return []
        if not _CONTACT.search(text) and await reply_from_knowledge(
                dispatcher, tracker, knowledge_question(tracker)):
            return []
        dispatcher.utter_message(response="utter_clinic_info", hours=describe_hours(cfg.clinic), **clinic_vars(cfg))
        return []


class ActionOutOfScope(ClinicAction):
    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if answer_hours_follow_up(dispatcher, tracker):  # "what about sun" after the hours: not off-topic
            return []
        dispatcher.utter_message(response="utter_out_of_scope", **clinic_vars(settings()))
        return []


class ActionAcknowledge(ClinicAction):
    """A yes or no with no question pending: the offer of more help, unless it is a follow-up on the hours
    ("n saturday?" reads as a "no" to the engine)."""

    def name(self) -> str:
        return "action_acknowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if answer_hours_follow_up(dispatcher, tracker):
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionDefaultFallback(ClinicAction):
    """The engine was unsure: offer what we can do or a person, and keep the conversation going."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        latest = tracker.latest_message
        if answer_hours_follow_up(dispatcher, tracker):
            log.info("action.fallback conversation_id=%s route=hours_follow_up", tracker.sender_id)
            return []
        if say_after_hours(dispatcher, tracker):
            log.info("action.fallback conversation_id=%s route=after_hours", tracker.sender_id)
            return []
        unsure = (latest.get("intent") or {}).get("name") == FALLBACK
        ranking = ranking_of(latest)
        if unsure and ranking and not latest.get(DECIDED) and not tracker.active_loop.get("name"):
            route = decide(ranking, True, await second_opinion(tracker))
            log.info("action.fallback conversation_id=%s route=%s", tracker.sender_id, route)
            if route == OUT_OF_SCOPE:
                dispatcher.utter_message(response="utter_out_of_scope", **clinic_vars(settings()))
                return []
            if route != FALLBACK:  # the second opinion names one of the engine's two best intents
                return reroute(latest, route, tracker.get_latest_input_channel())
        else:
            log.info("action.fallback conversation_id=%s", tracker.sender_id)
        # an open question the clinic's documents answer (or one the policy hands to the care team)
        if await reply_from_knowledge(dispatcher, tracker, knowledge_question(tracker)):
            return []
        dispatcher.utter_message(response="utter_default", **clinic_vars(settings()))
        return []


# (offer alone, offer after the documents' answer) by what was asked about
_OFFERS = {
    "billing": ("utter_offer_billing", "utter_offer_billing_after_answer"),
    "refill": ("utter_offer_refill", "utter_offer_refill_after_answer"),
    "records": ("utter_offer_records", "utter_offer_records_after_answer"),
}


class ActionNotYetAvailable(ClinicAction):
    """Billing, refill and records requests: the assistant cannot look at an account, send a refill or send a
    chart, so it answers what the clinic's documents answer ("do you take Aetna?", "how do refills work?", "how
    do I get my records moved here?") and offers a person; a "yes" hands the conversation to staff with the
    topic (data/rules.yml), a "no" goes on."""

    def name(self) -> str:
        return "action_not_yet_available"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        topic = offer_topic((tracker.latest_message.get("intent") or {}).get("name"))
        offer, offer_after_answer = _OFFERS[topic]
        found = await reply_from_knowledge(dispatcher, tracker, knowledge_question(tracker))
        if found is not None and found.handoff:  # the policy already passed it to the care team
            return []
        if found is not None:
            dispatcher.utter_message(response=offer_after_answer, **clinic_vars(settings()))
        else:
            dispatcher.utter_message(response=offer, **clinic_vars(settings()))
        log.info("handoff.offered conversation_id=%s topic=%s answered=%s", tracker.sender_id, topic,
                 found is not None)
        return []
