"""Hand the conversation to front-desk staff: mark it in the store and tell the patient when."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, clinic_vars, conversation_for, log, now, settings
from bot.conversations.handoffs import request_handoff
from bot.scheduling.hours import staff_reply_eta
from bot.store import session_scope

_TOPICS = {"prescription_refill": "refill", "records_request": "records"}


def offer_topic(intent: str | None) -> str:
    """What a request the assistant cannot complete is about: "refill", "records", else "billing"."""
    return _TOPICS.get(intent or "", "billing")


def offered_topic(tracker: Tracker) -> str | None:
    """"billing", "refill" or "records" when this message answers the assistant's offer of a person for one
    (action_not_yet_available ran just before it), else None."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return None
    before = [e.get("name") for e in events[users[-2]:users[-1]] if e.get("event") == "action"]
    if "action_not_yet_available" not in before:
        return None
    intent = (events[users[-2]].get("parse_data") or {}).get("intent") or {}
    return offer_topic(intent.get("name"))


class ActionRequestHuman(ClinicAction):
    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            conversation = conversation_for(session, tracker)
            topic = offered_topic(tracker)
            created = request_handoff(session, conversation, reason="requested_human",
                                      summary={"topic": topic} if topic else None)
        when = staff_reply_eta(cfg.clinic, now())
        log.info("handoff.requested conversation_id=%s new=%s topic=%s", tracker.sender_id, created, topic)
        response = "utter_handoff_requested" if created else "utter_handoff_already_waiting"
        dispatcher.utter_message(response=response, when=when, **clinic_vars(cfg))
        return []
