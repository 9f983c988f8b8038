"""What every action shares: settings, the clinic store, and the conversation behind a tracker."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.conversations.rows import ensure_conversation
from bot.settings import Settings, get_settings
from bot.store import Conversation

log = logging.getLogger("clinicbot.actions")


def settings() -> Settings:
    return get_settings()


def now() -> datetime:
    return datetime.now(UTC)


def conversation_for(session: Session, tracker: Tracker) -> Conversation:
    """The store's conversation for this tracker; created when the engine was reached directly."""
    return ensure_conversation(session, tracker.sender_id)


def clinic_vars(cfg: Settings) -> dict[str, Any]:
    """Template variables every response may use."""
    return {"clinic_name": cfg.clinic.name, "phone": cfg.clinic.phone, "address": cfg.clinic.address}


class ClinicAction(Action, ABC):
    """Base for the project's actions; abstract so rasa-sdk does not register it."""

    @abstractmethod
    def name(self) -> str: ...


def say(dispatcher: CollectingDispatcher, response: str, **values: Any) -> None:
    """Send one of the domain's responses, filled with these values and the clinic's name and phone."""
    dispatcher.utter_message(response=response, **{**clinic_vars(settings()), **values})


def said_in_passing(tracker: Tracker, slot: str, asked: tuple[str, ...] | None = None) -> str | None:
    """The latest message, when the form asked another question (one of ``asked``, if given) and ``slot`` is still
    open: a form's custom extraction may find ``slot``'s answer in it too ("annual physical, next tuesday pm")."""
    requested = tracker.get_slot("requested_slot")
    if requested is None or requested == slot or (asked is not None and requested not in asked):
        return None
    if tracker.get_slot(slot) is not None:
        return None
    return str(tracker.latest_message.get("text") or "")
