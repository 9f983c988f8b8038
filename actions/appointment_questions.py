"""The appointment forms' questions: which appointment, which visit type, which provider, when, which of
the offered times, and "cancel this one?"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import listed, numbered, owned
from actions.common import ClinicAction, now, say, settings
from actions.verification import reset_events, verified_patient
from bot import scheduling
from bot.identity import verification
from bot.scheduling.timeparse import Preference, parse_preference
from bot.store import Provider, session_scope


class ActionAskTargetAppointment(ClinicAction):
    def name(self) -> str:
        return "action_ask_target_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = verified_patient(tracker)
        if patient_id is None:
            return []
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            upcoming = scheduling.upcoming(session, patient_id, now())
            choices = [scheduling.describe_appointment(a, cfg.clinic.tz) for a in upcoming]
            verification.audit_viewed(session, tracker.sender_id, patient_id, [a.id for a in upcoming], now())
        say(dispatcher, "utter_ask_target_appointment", choices=numbered(choices))
        return []


class ActionAskAppointmentType(ClinicAction):
    def name(self) -> str:
        return "action_ask_appointment_type"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_ask_appointment_type", types=listed([t.name for t in settings().appointment_types]))
        return []


class ActionAskProvider(ClinicAction):
    def name(self) -> str:
        return "action_ask_provider"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_ask_provider", providers=listed([p.name for p in settings().providers]))
        return []


class ActionAskTimePref(ClinicAction):
    def name(self) -> str:
        return "action_ask_time_pref"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = verified_patient(tracker)
        if tracker.active_loop.get("name") == "reschedule_form" and patient_id is not None:
            cfg = settings()
            with session_scope(cfg.database_url) as session:
                target = owned(session, patient_id, tracker.get_slot("target_appointment"))
                if target is not None:
                    verification.audit_viewed(session, tracker.sender_id, patient_id, [target.id], now())
                    say(dispatcher, "utter_ask_reschedule_time_pref",
                        appointment=scheduling.describe_appointment(target, cfg.clinic.tz))
                    return []
        say(dispatcher, "utter_ask_time_pref")
        return []


class ActionAskChosenSlot(ClinicAction):
    """Offer up to three real free times for what was asked."""

    def name(self) -> str:
        return "action_ask_chosen_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cfg = settings()
        tz = cfg.clinic.tz
        preference = parse_preference(str(tracker.get_slot("time_pref") or ""), now(), tz) or Preference()
        patient_id = verified_patient(tracker)
        key = tracker.get_slot("provider")
        with session_scope(cfg.database_url) as session:
            duration, provider_id = 20, None
            if tracker.active_loop.get("name") == "reschedule_form" and patient_id is not None:
                target = owned(session, patient_id, tracker.get_slot("target_appointment"))
                if target is not None:
                    duration = target.appointment_type.duration_minutes
                    provider_id = target.provider_id
            else:
                kind = scheduling.appointment_type_by_code(session, str(tracker.get_slot("appointment_type")))
                duration = kind.duration_minutes if kind else 20
            if key and key != "any":
                provider = scheduling.provider_by_key(session, str(key))
                provider_id = provider.id if provider else provider_id
            search = scheduling.find_offers(session, duration_minutes=duration, preference=preference, now=now(),
                                            clinic=cfg.clinic, provider_id=provider_id)
            provider_name = None
            if provider_id is not None:
                found = session.get(Provider, provider_id)
                provider_name = found.name if found else None
        offers = search.offers
        who = provider_name or ("your provider" if provider_id else "any of our providers")
        when = preference.describe() or f"in the next {scheduling.SEARCH_DAYS} days"
        if not offers:
            say(dispatcher, "utter_no_slots", when=when, provider=who)
            return [SlotSet("offered_slots", None)]
        listed = numbered([scheduling.describe_offer(o, tz) for o in offers])
        if search.fits:
            say(dispatcher, "utter_offer_slots", offers=listed)
        else:  # nothing meets every constraint: say so, and offer the nearest
            say(dispatcher, "utter_offer_nearest", when=when, provider=who, offers=listed)
        return [SlotSet("offered_slots", [o.as_slot() for o in offers])]


class ActionAskCancelConfirm(ClinicAction):
    def name(self) -> str:
        return "action_ask_cancel_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = verified_patient(tracker)
        if patient_id is None:
            return []
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            target = owned(session, patient_id, tracker.get_slot("target_appointment"))
            if target is None:
                say(dispatcher, "utter_appointment_not_found")
                return [SlotSet("target_appointment", None), ActiveLoop(None), *reset_events()]
            verification.audit_viewed(session, tracker.sender_id, patient_id, [target.id], now())
            text = scheduling.describe_appointment(target, cfg.clinic.tz)
        say(dispatcher, "utter_ask_cancel_confirm", appointment=text, policy=cfg.clinic.cancellation_policy)
        return []

