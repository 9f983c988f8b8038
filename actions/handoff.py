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


class ActionRequestHuman(ClinicAction):
    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            conversation = conversation_for(session, tracker)
            created = request_handoff(session, conversation, reason="requested_human")
        when = staff_reply_eta(cfg.clinic, now())
        log.info("handoff.requested conversation_id=%s new=%s", tracker.sender_id, created)
        response = "utter_handoff_requested" if created else "utter_handoff_already_waiting"
        dispatcher.utter_message(response=response, when=when, **clinic_vars(cfg))
        return []
