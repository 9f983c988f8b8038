"""Appointment flows: check, book, reschedule, cancel and confirm, as Rasa forms on the clinic store.

Every form starts with verification (actions/verification.py). Corrections work at any question: a provider
or visit type named later replaces the earlier one, a new day or time brings new offers, "the other one"
switches to the patient's other appointment; "stop" / "never mind" ends the flow with nothing changed.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import ClinicAction, now, settings
from actions.verification import (
    VerifiedFormValidation,
    explain_unverified,
    reset_events,
    say,
    verified_patient,
)
from bot import reminders, scheduling, verification
from bot.settings import Settings
from bot.store import Appointment, Provider, session_scope
from bot.timeparse import Preference, add_turn, parse_preference, pick_option

log = logging.getLogger("clinicbot.actions")

ANY_PROVIDER = re.compile(r"\b(any|anyone|anybody|whoever|no preference|doesn'?t matter|dont care|don'?t care|"
                          r"either|first available|whichever)\b")
TYPE_WORDS = {
    "annual_physical": ("physical", "annual", "checkup", "check up", "check-up", "wellness", "well visit", "yearly"),
    "sick_visit": ("sick", "ill", "fever", "cold", "flu", "cough", "sore", "pain", "acute", "same day"),
    "follow_up": ("follow", "f/u", "recheck", "re-check", "followup"),
    "lab_review": ("lab", "labs", "result", "results", "bloodwork", "blood work"),
}
OTHER_ONE = re.compile(r"\b(the )?other (one|appointment|appt|visit)\b|\bnot that one\b|\bwrong one\b")
YES = re.compile(r"^(yes|yeah|yep|yup|y|ok|okay|sure|please do|do it|go ahead|confirm|correct|cancel it|yes cancel)")
NO = re.compile(r"^(no|nope|nah|n|don'?t|do not|keep)\b")


# -- matching what the patient typed ---------------------------------------------------------------
def provider_key(cfg: Settings, text: str) -> str | None:
    """A provider's key from an entity value or free text; "any" for no preference."""
    words = text.lower().strip()
    if ANY_PROVIDER.search(words):
        return "any"
    for provider in cfg.providers:
        if words == provider.key:
            return provider.key
    for provider in cfg.providers:
        names = [n for n in re.sub(r"[^a-z ]", " ", provider.name.lower()).split() if n not in ("dr", "md", "do")]
        if any(re.search(rf"\b{re.escape(n)}\b", words) for n in names):
            return provider.key
    if re.search(r"\b(np|nurse practitioner|nurse)\b", words):
        nps = [p.key for p in cfg.providers if p.title.upper() == "NP"]
        if len(nps) == 1:
            return nps[0]
    return None


def appointment_type_code(cfg: Settings, text: str) -> str | None:
    words = text.lower().strip()
    codes = [t.code for t in cfg.appointment_types]
    if words in codes:
        return words
    for t in cfg.appointment_types:
        if t.name.lower() in words:
            return t.code
    for code, keys in TYPE_WORDS.items():
        if code in codes and any(re.search(rf"\b{re.escape(k)}", words) for k in keys):
            return code
    return None


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _numbered(items: list[str]) -> str:
    return "; ".join(f"{i}) {item}" for i, item in enumerate(items, 1))


def _owned(session: Session, patient_id: int, value: Any) -> Appointment | None:
    """The patient's upcoming appointment with this id (never another patient's)."""
    if value is None or not str(value).isdigit():
        return None
    return next((a for a in scheduling.upcoming(session, patient_id, now()) if a.id == int(str(value))), None)


def _latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def _earlier_slot(tracker: Tracker, name: str) -> Any:
    """A slot's value before the latest message (the validators see the value this message just gave it)."""
    value = None
    latest_user = max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=0)
    for event in tracker.events[:latest_user]:
        if event.get("event") == "slot" and event.get("name") == name:
            value = event.get("value")
        elif event.get("event") in ("restart", "reset_slots"):
            value = None
    return value


def _switch_to_other(session: Session, patient_id: int, current: Any) -> Appointment | None:
    upcoming = scheduling.upcoming(session, patient_id, now())
    others = [a for a in upcoming if str(a.id) != str(current)]
    return others[0] if others else None


# -- validation -------------------------------------------------------------------------------------
class AppointmentFormValidation(VerifiedFormValidation):
    """Validators shared by the appointment forms (each form uses the ones for its slots)."""

    def validate_target_appointment(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"target_appointment": None}
        patient_id = verified_patient(tracker)
        if patient_id is None:
            return {"target_appointment": value}  # named by a reminder reply: checked once verified
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            upcoming = scheduling.upcoming(session, patient_id, now())
            named = list(tracker.get_latest_entity_values("appointment_id"))
            typed = str(value) == _latest_text(tracker) and not named
            if not typed:
                found = _owned(session, patient_id, value)
                if found is not None:
                    return {"target_appointment": str(found.id)}
                say(dispatcher, "utter_appointment_not_found")
                return {"target_appointment": None}
            labels = [f"{a.provider.name} {a.appointment_type.name}" for a in upcoming]
            index = pick_option(str(value), [a.start for a in upcoming], labels, cfg.clinic.tz, now())
        if index is None:
            say(dispatcher, "utter_target_unclear")
            return {"target_appointment": None}
        return {"target_appointment": str(upcoming[index].id)}

    def validate_appointment_type(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"appointment_type": None}
        cfg = settings()
        code = appointment_type_code(cfg, str(value or ""))
        if code is None:
            say(dispatcher, "utter_type_unclear", types=_list([t.name for t in cfg.appointment_types]))
            return {"appointment_type": None}
        return {"appointment_type": code, "chosen_slot": None, "offered_slots": None}

    def validate_provider(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"provider": None}
        cfg = settings()
        key = provider_key(cfg, str(value or ""))
        if key is None:
            say(dispatcher, "utter_provider_unclear", providers=_list([p.name for p in cfg.providers]))
            return {"provider": None}
        return {"provider": key, "chosen_slot": None, "offered_slots": None}

    def validate_time_pref(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"time_pref": None}
        cfg = settings()
        text = str(value or "")
        patient_id = verified_patient(tracker)
        if OTHER_ONE.search(text.lower()) and patient_id is not None and self.needs_target:
            with session_scope(cfg.database_url) as session:
                other = _switch_to_other(session, patient_id, tracker.get_slot("target_appointment"))
            if other is not None:
                return {"target_appointment": str(other.id), "time_pref": None}
        if parse_preference(text, now(), cfg.clinic.tz) is None:
            say(dispatcher, "utter_time_unclear")
            return {"time_pref": None}
        # a day said in one turn and a time in the next combine (bot/timeparse.py)
        return {"time_pref": add_turn(_earlier_slot(tracker, "time_pref"), text), "chosen_slot": None,
                "offered_slots": None}

    def validate_chosen_slot(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"chosen_slot": None}
        cfg = settings()
        text = str(value or "")
        changed = set(tracker.slots_to_validate()) & {"provider", "appointment_type", "time_pref"}
        said_time = parse_preference(text, now(), cfg.clinic.tz) is not None
        time_pref = {"time_pref": add_turn(tracker.get_slot("time_pref"), text)} if said_time else {}
        if changed - {"chosen_slot"}:  # a correction: new offers follow
            return {"chosen_slot": None, "offered_slots": None, **({} if "time_pref" in changed else time_pref)}
        offers = [scheduling.SlotOffer.from_slot(o) for o in tracker.get_slot("offered_slots") or []]
        index = pick_option(text, [o.start for o in offers], [o.provider_name for o in offers], cfg.clinic.tz,
                            now())
        if index is None:
            if said_time:
                return {**time_pref, "chosen_slot": None, "offered_slots": None}
            say(dispatcher, "utter_slot_unclear")
            return {"chosen_slot": None}
        patient_id = verified_patient(tracker)
        if patient_id is None:
            return {"chosen_slot": None}
        offer = offers[index]
        try:
            return {"chosen_slot": self.take(cfg, tracker, patient_id, offer)}
        except scheduling.SlotTaken:
            log.info("appointment.slot_taken conversation_id=%s", tracker.sender_id)
            say(dispatcher, "utter_slot_taken")
            return {"chosen_slot": None, "offered_slots": None}

    def take(self, cfg: Settings, tracker: Tracker, patient_id: int, offer: scheduling.SlotOffer) -> str:
        raise NotImplementedError

    def validate_cancel_confirm(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"cancel_confirm": None}
        text = str(value or "").lower().strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        patient_id = verified_patient(tracker)
        if OTHER_ONE.search(text) and patient_id is not None:
            with session_scope(settings().database_url) as session:
                other = _switch_to_other(session, patient_id, tracker.get_slot("target_appointment"))
            if other is not None:
                return {"target_appointment": str(other.id), "cancel_confirm": None}
        if NO.match(text) or intent == "deny":
            return {"cancel_confirm": "no"}
        if YES.match(text) or intent in ("affirm", "cancel_appointment"):
            return {"cancel_confirm": "yes"}
        say(dispatcher, "utter_cancel_unclear")
        return {"cancel_confirm": None}


class ValidateCheckForm(AppointmentFormValidation):
    def name(self) -> str:
        return "validate_check_form"


class ValidateConfirmForm(AppointmentFormValidation):
    needs_target = True

    def name(self) -> str:
        return "validate_confirm_form"


class ValidateCancelForm(AppointmentFormValidation):
    needs_target = True

    def name(self) -> str:
        return "validate_cancel_form"


class ValidateRescheduleForm(AppointmentFormValidation):
    needs_target = True

    def name(self) -> str:
        return "validate_reschedule_form"

    def take(self, cfg: Settings, tracker: Tracker, patient_id: int, offer: scheduling.SlotOffer) -> str:
        with session_scope(cfg.database_url) as session:
            target = _owned(session, patient_id, tracker.get_slot("target_appointment"))
            if target is None:
                raise scheduling.SlotTaken()
            target_id = target.id
        scheduling.move(cfg.database_url, target_id, offer)
        return str(target_id)


class ValidateBookForm(AppointmentFormValidation):
    def name(self) -> str:
        return "validate_book_form"

    def take(self, cfg: Settings, tracker: Tracker, patient_id: int, offer: scheduling.SlotOffer) -> str:
        with session_scope(cfg.database_url) as session:
            kind = scheduling.appointment_type_by_code(session, str(tracker.get_slot("appointment_type")))
            assert kind is not None
            kind_id = kind.id
        return str(scheduling.book(cfg.database_url, patient_id=patient_id, appointment_type_id=kind_id,
                                   offer=offer, location=cfg.clinic.address))


# -- questions --------------------------------------------------------------------------------------
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
        say(dispatcher, "utter_ask_target_appointment", choices=_numbered(choices))
        return []


class ActionAskAppointmentType(ClinicAction):
    def name(self) -> str:
        return "action_ask_appointment_type"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_ask_appointment_type", types=_list([t.name for t in settings().appointment_types]))
        return []


class ActionAskProvider(ClinicAction):
    def name(self) -> str:
        return "action_ask_provider"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_ask_provider", providers=_list([p.name for p in settings().providers]))
        return []


class ActionAskTimePref(ClinicAction):
    def name(self) -> str:
        return "action_ask_time_pref"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = verified_patient(tracker)
        if tracker.active_loop.get("name") == "reschedule_form" and patient_id is not None:
            cfg = settings()
            with session_scope(cfg.database_url) as session:
                target = _owned(session, patient_id, tracker.get_slot("target_appointment"))
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
                target = _owned(session, patient_id, tracker.get_slot("target_appointment"))
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
        listed = _numbered([scheduling.describe_offer(o, tz) for o in offers])
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
            target = _owned(session, patient_id, tracker.get_slot("target_appointment"))
            if target is None:
                say(dispatcher, "utter_appointment_not_found")
                return [SlotSet("target_appointment", None), ActiveLoop(None), *reset_events()]
            verification.audit_viewed(session, tracker.sender_id, patient_id, [target.id], now())
            text = scheduling.describe_appointment(target, cfg.clinic.tz)
        say(dispatcher, "utter_ask_cancel_confirm", appointment=text, policy=cfg.clinic.cancellation_policy)
        return []


# -- starting, stopping and finishing flows ---------------------------------------------------------
class ActionStartFlow(ClinicAction):
    """A new flow starts clean: earlier answers are dropped, except what this very message said."""

    def name(self) -> str:
        return "action_start_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        keep: list[str] = []
        if list(tracker.get_latest_entity_values("provider")):
            keep.append("provider")
        if list(tracker.get_latest_entity_values("appointment_type")):
            keep.append("appointment_type")
        if list(tracker.get_latest_entity_values("appointment_id")):
            keep.append("target_appointment")
        events: list[EventType] = [ActiveLoop(None)] if tracker.active_loop.get("name") else []
        return events + reset_events(tuple(keep))


class ActionStopFlow(ClinicAction):
    def name(self) -> str:
        return "action_stop_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.active_loop.get("name"):
            log.info("flow.stopped conversation_id=%s form=%s", tracker.sender_id, tracker.active_loop.get("name"))
            say(dispatcher, "utter_flow_stopped")
            return [ActiveLoop(None), *reset_events()]
        say(dispatcher, "utter_anything_else")
        return reset_events()


def _sync(cfg: Settings, appointment_id: int) -> None:
    try:
        reminders.sync_appointment(cfg, appointment_id)
    except Exception:  # reminders catch up within a minute (the gateway reconciles); never fail the booking
        log.exception("reminders.sync_failed appointment_id=%s", appointment_id)


class _Submit(ClinicAction):
    """Base for the actions that finish a flow; abstract so rasa-sdk does not register it."""

    def finish(self) -> list[EventType]:
        return reset_events()

    def patient_or_explain(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> int | None:
        patient_id = verified_patient(tracker)
        if patient_id is None:
            explain_unverified(dispatcher, tracker)
        return patient_id


class ActionShowAppointments(_Submit):
    def name(self) -> str:
        return "action_show_appointments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = self.patient_or_explain(dispatcher, tracker)
        if patient_id is None:
            return self.finish()
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            upcoming = scheduling.upcoming(session, patient_id, now())
            lines = [scheduling.describe_appointment(a, cfg.clinic.tz)
                     + (" (confirmed)" if a.status == "confirmed" else "") for a in upcoming]
            if upcoming:
                verification.audit_viewed(session, tracker.sender_id, patient_id, [a.id for a in upcoming], now())
        if not upcoming:
            say(dispatcher, "utter_no_upcoming")
        else:
            say(dispatcher, "utter_upcoming", appointments=_numbered(lines) if len(lines) > 1 else lines[0] + ".")
        return self.finish()


class ActionConfirmSubmit(_Submit):
    def name(self) -> str:
        return "action_confirm_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = self.patient_or_explain(dispatcher, tracker)
        if patient_id is None:
            return self.finish()
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            target = _owned(session, patient_id, tracker.get_slot("target_appointment"))
            has_any = bool(scheduling.upcoming(session, patient_id, now()))
            text = scheduling.describe_appointment(target, cfg.clinic.tz) if target else ""
            status = target.status if target else ""
        if target is None:
            say(dispatcher, "utter_appointment_not_found" if has_any else "utter_no_upcoming")
            return self.finish()
        changed = scheduling.confirm(cfg.database_url, target.id)
        say(dispatcher, "utter_confirmed" if changed or status != "confirmed" else "utter_already_confirmed",
            appointment=text)
        return self.finish()


class ActionCancelSubmit(_Submit):
    def name(self) -> str:
        return "action_cancel_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = self.patient_or_explain(dispatcher, tracker)
        if patient_id is None:
            return self.finish()
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            target = _owned(session, patient_id, tracker.get_slot("target_appointment"))
            text = scheduling.describe_appointment(target, cfg.clinic.tz) if target else ""
            has_any = bool(scheduling.upcoming(session, patient_id, now()))
        if target is None:
            say(dispatcher, "utter_appointment_not_found" if has_any else "utter_no_upcoming")
        elif tracker.get_slot("cancel_confirm") == "yes":
            scheduling.cancel(cfg.database_url, target.id)
            _sync(cfg, target.id)
            say(dispatcher, "utter_cancelled", appointment=text)
        else:
            say(dispatcher, "utter_cancel_kept", appointment=text)
        return self.finish()


class _BookedSubmit(_Submit):
    response = ""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = self.patient_or_explain(dispatcher, tracker)
        if patient_id is None:
            return self.finish()
        cfg = settings()
        chosen = tracker.get_slot("chosen_slot")
        with session_scope(cfg.database_url) as session:
            appointment = session.get(Appointment, int(chosen)) if chosen and str(chosen).isdigit() else None
            if appointment is None or appointment.patient_id != patient_id:
                has_any = bool(scheduling.upcoming(session, patient_id, now()))
                say(dispatcher, "utter_appointment_not_found" if has_any else "utter_no_upcoming")
                return self.finish()
            text = scheduling.describe_appointment(appointment, cfg.clinic.tz)
            appointment_id = appointment.id
        _sync(cfg, appointment_id)
        say(dispatcher, self.response, appointment=text)
        return self.finish()


class ActionBookSubmit(_BookedSubmit):
    response = "utter_booked"

    def name(self) -> str:
        return "action_book_submit"


class ActionRescheduleSubmit(_BookedSubmit):
    response = "utter_rescheduled"

    def name(self) -> str:
        return "action_reschedule_submit"
