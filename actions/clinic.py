"""Greeting, clinic information, scope and fallback: answers built from the clinic's settings."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, clinic_vars, log, settings
from actions.knowledge import reply_from_knowledge
from bot.scheduling.hours import describe_hours


class ActionGreet(ClinicAction):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_greet", **clinic_vars(settings()))
        return []


# Hours, address and phone come straight from the clinic's settings; anything else (insurance, parking,
# the portal...) from the knowledge documents.
_CONTACT = re.compile(r"\b(hours?|open|opening|close[sd]?|closing|address|phone|fax|(?:your|ur|office) number|"
                      r"call you)\b", re.I)  # not a bare "number": "a good cholesterol number" is a lab question


class ActionClinicInfo(ClinicAction):
    def name(self) -> str:
        return "action_clinic_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
        if not _CONTACT.search(str(tracker.latest_message.get("text") or "")) and await reply_from_knowledge(
                dispatcher, tracker):
            return []
        dispatcher.utter_message(response="utter_clinic_info", hours=describe_hours(cfg.clinic), **clinic_vars(cfg))
        return []


class ActionOutOfScope(ClinicAction):
    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_out_of_scope", **clinic_vars(settings()))
        return []


class ActionDefaultFallback(ClinicAction):
    """The engine was unsure: offer what we can do or a person, and keep the conversation going."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        log.info("action.fallback conversation_id=%s", tracker.sender_id)
        if await reply_from_knowledge(dispatcher, tracker):  # an open question the clinic's documents answer
            return []
        dispatcher.utter_message(response="utter_default", **clinic_vars(settings()))
        return []


class ActionNotYetAvailable(ClinicAction):
    """Intents whose workflows are not switched on: point to the phone or a person."""

    def name(self) -> str:
        return "action_not_yet_available"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        # Billing and refill requests can't be handled by message, but the clinic's documents often answer the
        # question itself ("do you take Medicare?", "how do refills work?"): answer that when they do.
        if await reply_from_knowledge(dispatcher, tracker):
            return []
        dispatcher.utter_message(response="utter_feature_coming", **clinic_vars(settings()))
        return []
