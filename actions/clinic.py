"""Greeting, clinic information, scope and fallback: answers built from the clinic's settings."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, clinic_vars, log, settings
from bot.clinic_hours import describe_hours


class ActionGreet(ClinicAction):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_greet", **clinic_vars(settings()))
        return []


class ActionClinicInfo(ClinicAction):
    def name(self) -> str:
        return "action_clinic_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
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
        dispatcher.utter_message(response="utter_default", **clinic_vars(settings()))
        return []


class ActionNotYetAvailable(ClinicAction):
    """Intents whose workflows are not switched on: point to the phone or a person."""

    def name(self) -> str:
        return "action_not_yet_available"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_feature_coming", **clinic_vars(settings()))
        return []
