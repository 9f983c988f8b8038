"""Verification inside every PHI form: the form asks for it first, and the flow's own questions follow.

Each appointment form lists ``verify_name`` and ``verify_dob`` first. ``required_slots`` drops them once the
patient is verified (and the name over SMS, where the number on file picks the patient); it drops every slot
while verification is locked, which ends the form, and the flow's submit action explains the lock. A verified
patient id and the time of verification live in slots; the verification lapses after 30 idle minutes.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import ClinicAction, now, say, settings
from bot import scheduling
from bot.identity import verification
from bot.scheduling.timefmt import clock
from bot.scheduling.timeparse import parse_date_of_birth
from bot.store import Patient, session_scope

VERIFY_SLOTS = ("verify_name", "verify_dob")
FLOW_SLOTS = ("verify_name", "verify_dob", "target_appointment", "cancel_confirm", "time_pref", "offered_slots",
              "chosen_slot", "appointment_type", "provider")


def verified_patient(tracker: Tracker) -> int | None:
    """The verified patient of this conversation, unless the verification lapsed (30 idle minutes)."""
    patient_id, at = tracker.get_slot("verified_patient_id"), tracker.get_slot("verified_at")
    if not patient_id or at is None:
        return None
    times = [float(e["timestamp"]) for e in tracker.events if e.get("event") == "user" and e.get("timestamp")]
    if not verification.still_verified(float(at), times, time.time()):
        return None
    return int(patient_id)


def lock_for(session: Session, tracker: Tracker) -> tuple[datetime | None, bool]:
    """(locked until, whether the number on file identifies the patient)."""
    channel = verification.channel_of(session, tracker.sender_id)
    by_phone = verification.sms_patients(session, channel.phone) if channel.phone else []
    named = verification.named_patients(session, tracker.get_slot("verify_name"))
    until = verification.lock_until(session, tracker.sender_id, [p.id for p in by_phone + named], now())
    return until, bool(by_phone)


def reset_events(keep: tuple[str, ...] = ()) -> list[EventType]:
    return [SlotSet(name, None) for name in FLOW_SLOTS if name not in keep] + [SlotSet("requested_slot", None)]


def explain_unverified(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """A flow ended without a verified patient: the only reason is a lock."""
    cfg = settings()
    with session_scope(cfg.database_url) as session:
        until, _ = lock_for(session, tracker)
    if until is not None:
        local = until.astimezone(cfg.clinic.tz)
        say(dispatcher, "utter_verify_locked", until=clock(local))


class VerifiedFormValidation(FormValidationAction, ABC):
    """Validation for a form whose first questions are the identity checks."""

    needs_target = False  # the form acts on one of the patient's upcoming appointments

    @abstractmethod
    def name(self) -> str: ...

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        rest = [s for s in domain_slots if s not in VERIFY_SLOTS]
        patient_id = verified_patient(tracker)
        cfg = settings()
        if patient_id is not None:
            if self.needs_target and tracker.get_slot("target_appointment") is None:
                with session_scope(cfg.database_url) as session:
                    if not scheduling.upcoming(session, patient_id, now()):
                        return []  # nothing to act on: the submit action says so
            return rest
        with session_scope(cfg.database_url) as session:
            until, by_phone = lock_for(session, tracker)
        if until is not None:
            return []
        return (["verify_dob"] if by_phone else list(VERIFY_SLOTS)) + rest

    def validate_verify_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"verify_name": None}
        if not verification.looks_like_name(str(value or "")):
            say(dispatcher, "utter_name_unreadable")
            return {"verify_name": None}
        return {"verify_name": str(value)}

    def validate_verify_dob(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"verify_dob": None}
        cfg = settings()
        dob = parse_date_of_birth(str(value or ""), now().astimezone(cfg.clinic.tz).date())
        if dob is None:
            say(dispatcher, "utter_dob_unreadable")
            return {"verify_dob": None}
        with session_scope(cfg.database_url) as session:
            outcome = verification.attempt(session, tracker.sender_id, dob=dob, name=tracker.get_slot("verify_name"),
                                           now=now())
            patient = session.get(Patient, outcome.patient_id) if outcome.patient_id else None
            first_name = patient.first_name if patient else ""
            upcoming = scheduling.upcoming(session, patient.id, now()) if patient else []
        if patient is None:
            if outcome.locked_until is not None:  # the name stays, so the form sees the lock and ends
                return {"verify_dob": None}
            say(dispatcher, "utter_verify_failed")
            return {"verify_dob": None, "verify_name": None}
        say(dispatcher, "utter_verified", first_name=first_name)
        slots: dict[str, Any] = {"verify_dob": "verified", "verified_patient_id": str(patient.id),
                                 "verified_at": time.time()}
        if self.needs_target and tracker.get_slot("target_appointment") is None and len(upcoming) == 1:
            slots["target_appointment"] = str(upcoming[0].id)
        return slots

    async def extract_target_appointment(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> dict[str, Any]:
        """Already verified and only one upcoming visit: that is the one."""
        patient_id = verified_patient(tracker)
        if not self.needs_target or patient_id is None or tracker.get_slot("target_appointment") is not None:
            return {}
        with session_scope(settings().database_url) as session:
            upcoming = scheduling.upcoming(session, patient_id, now())
        return {"target_appointment": str(upcoming[0].id)} if len(upcoming) == 1 else {}


class ActionAskVerifyName(ClinicAction):
    def name(self) -> str:
        return "action_ask_verify_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_ask_verify_name")
        return []


class ActionAskVerifyDob(ClinicAction):
    def name(self) -> str:
        return "action_ask_verify_dob"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_ask_verify_dob")
        return []
