"""The waitlist in chat and SMS conversations: "anything sooner?", "put me on the list for Dr. Patel".

``action_start_waitlist`` starts the ``waitlist_form`` keeping what the conversation already said (a visit type or
provider named, the days asked for in a booking that found nothing, the visit being moved); the form verifies the
patient first, then asks for the visit type, the provider (or any) and the days. A patient with one upcoming visit
who just asks for "anything sooner" waits for an earlier time than that visit. Offers go out by SMS from the
gateway (``bot.waitlist``); a YES there books. ``action_waitlist_leave`` takes a verified patient off the list.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.appointments import AppointmentFormValidation, owned
from actions.common import ClinicAction, conversation_for, now, say, settings
from actions.verification import VerifiedFormValidation, explain_unverified, reset_events, verified_patient
from bot import scheduling, waitlist
from bot.messaging.optouts import is_opted_out
from bot.scheduling.timeparse import Preference, parse_preference
from bot.store import Patient, WaitlistEntry, session_scope
from bot.waitlist.entries import preference_of
from bot.waitlist.sweep import first_open

log = logging.getLogger("clinicbot.actions")
ANY_DAY = ("any", "any day", "anytime", "any time", "whenever", "asap", "soonest", "anything")


class ActionStartWaitlist(ClinicAction):
    """A waitlist request starts clean, but keeps what this flow or this message already said."""

    def name(self) -> str:
        return "action_start_waitlist"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        kept: dict[str, Any] = {"appointment_type": tracker.get_slot("appointment_type"),
                                "provider": tracker.get_slot("provider"), "waitlist_window": None}
        if tracker.get_slot("time_pref"):  # a booking or move that found nothing: wait for those days
            kept["waitlist_window"] = tracker.get_slot("time_pref")
        patient_id = verified_patient(tracker)
        if patient_id is not None and tracker.get_slot("target_appointment"):  # moving a visit: wait for that one
            with session_scope(settings().database_url) as session:
                target = owned(session, patient_id, tracker.get_slot("target_appointment"))
                if target is not None:
                    kept["appointment_type"] = target.appointment_type.code
                    kept["provider"] = target.provider.key
        text = str(tracker.latest_message.get("text") or "")
        cfg = settings()
        said = parse_preference(text, now(), cfg.clinic.tz)
        if said is not None and (said.has_day or said.has_time):
            kept["waitlist_window"] = text
        events: list[EventType] = [ActiveLoop(None)] if tracker.active_loop.get("name") else []
        return [*events, *reset_events(("appointment_type", "provider")),
                *[SlotSet(name, value) for name, value in kept.items()]]


class ValidateWaitlistForm(AppointmentFormValidation):
    def name(self) -> str:
        return "validate_waitlist_form"

    def _only_visit(self, tracker: Tracker, patient_id: int | None = None) -> tuple[str, str] | None:
        """(visit type code, provider key) of the patient's one upcoming visit, if they have exactly one."""
        patient_id = patient_id or verified_patient(tracker)
        if patient_id is None:
            return None
        with session_scope(settings().database_url) as session:
            upcoming = scheduling.upcoming(session, patient_id, now())
            if len(upcoming) != 1:
                return None
            return upcoming[0].appointment_type.code, upcoming[0].provider.key

    def _verified_slots(self, patient_id: int, tracker: Tracker) -> dict[str, Any]:
        """Verified in this very message (by date of birth or by code): the visit to wait for can be known now
        (see ``extract_appointment_type``)."""
        slots = super()._verified_slots(patient_id, tracker)
        if tracker.get_slot("appointment_type") is None:
            visit = self._only_visit(tracker, patient_id)
            if visit is not None:
                slots["appointment_type"] = visit[0]
                if tracker.get_slot("provider") is None:
                    slots["provider"] = visit[1]
        return slots

    async def extract_appointment_type(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        """ "Anything sooner?" from a patient with one upcoming visit: an earlier time for that visit."""
        if tracker.get_slot("appointment_type") is not None:
            return {}
        visit = self._only_visit(tracker)
        return {"appointment_type": visit[0]} if visit else {}

    async def extract_provider(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("provider") is not None:
            return {}
        visit = self._only_visit(tracker)
        if visit is None or visit[0] != tracker.get_slot("appointment_type"):
            return {}
        return {"provider": visit[1]}

    def validate_waitlist_window(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"waitlist_window": None}
        text = str(value).strip()
        if text.lower().rstrip(".!") in ANY_DAY or parse_preference(text, now(), settings().clinic.tz) is not None:
            return {"waitlist_window": text}
        say(dispatcher, "utter_waitlist_window_unclear")
        return {"waitlist_window": None}


class ActionAskWaitlistWindow(ClinicAction):
    def name(self) -> str:
        return "action_ask_waitlist_window"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_ask_waitlist_window")
        return []


class ActionWaitlistSubmit(ClinicAction):
    def name(self) -> str:
        return "action_waitlist_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        finish = [*reset_events(), SlotSet("waitlist_window", None)]
        patient_id = verified_patient(tracker)
        if patient_id is None:
            explain_unverified(dispatcher, tracker)
            return finish
        cfg = settings()
        if not cfg.waitlist.enabled:
            say(dispatcher, "utter_waitlist_off")
            return finish
        when = now()
        with session_scope(cfg.database_url) as session:
            patient = session.get(Patient, patient_id)
            kind = scheduling.appointment_type_by_code(session, str(tracker.get_slot("appointment_type")))
            if patient is None or kind is None:
                say(dispatcher, "utter_appointment_not_found")
                return finish
            if patient.sms_opted_out or is_opted_out(session, patient.phone):
                say(dispatcher, "utter_waitlist_opted_out")
                return finish
            key = str(tracker.get_slot("provider") or "any")
            provider = scheduling.provider_by_key(session, key) if key != "any" else None
            words = str(tracker.get_slot("waitlist_window") or "")
            preference = parse_preference(words, when, cfg.clinic.tz) or Preference()
            conversation = conversation_for(session, tracker)
            joined = waitlist.join(session, cfg, patient_id=patient_id, appointment_type_id=kind.id,
                                   provider_id=provider.id if provider else None, preference=preference, now=when,
                                   channel=conversation.channel, conversation_id=conversation.id)
            entry = session.get(WaitlistEntry, joined.entry_id)
            assert entry is not None
            window = preference_of(entry).describe()
            number = f"the number on file ending in {patient.phone[-4:]}"
            sooner = scheduling.describe_appointment(joined.sooner_than, cfg.clinic.tz) if joined.sooner_than else ""
            open_now = first_open(session, cfg, entry, when)
            offer = scheduling.describe_offer(open_now, cfg.clinic.tz) if open_now else ""
            provider_name = provider.name if provider else "any of our providers"
        if sooner:
            say(dispatcher, "utter_waitlist_joined_sooner", appointment=sooner, window=window, number=number)
        else:
            say(dispatcher, "utter_waitlist_joined", visit=kind.name.lower(), provider=provider_name, window=window,
                number=number)
        if offer:
            say(dispatcher, "utter_waitlist_open_now", offer=offer)
        log.info("waitlist.joined_in_chat conversation_id=%s entry_id=%s open_now=%s", tracker.sender_id,
                 joined.entry_id, bool(offer))
        return finish


class ValidateWaitlistLeaveForm(VerifiedFormValidation):
    def name(self) -> str:
        return "validate_waitlist_leave_form"


class ActionWaitlistLeave(ClinicAction):
    def name(self) -> str:
        return "action_waitlist_leave"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = verified_patient(tracker)
        if patient_id is None:
            explain_unverified(dispatcher, tracker)
            return reset_events()
        with session_scope(settings().database_url) as session:
            conversation = conversation_for(session, tracker)
            left = waitlist.leave(session, patient_id, now(), conversation.id, conversation.channel)
        say(dispatcher, "utter_waitlist_left" if left else "utter_waitlist_not_on")
        return reset_events()
