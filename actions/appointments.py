"""Appointment flows: check, book, reschedule, cancel and confirm, as Rasa forms on the clinic store. This
module validates the forms' answers; their questions are in ``appointment_questions``, the actions that start,
stop and finish them (and book or move) in ``appointment_submits``.

Every form starts with verification (actions/verification.py). Corrections work at any question: a provider
or visit type named later replaces the earlier one, a new day or time brings new offers, "the other one"
switches to the patient's other appointment; "stop" / "never mind" ends the flow with nothing changed.
Validators only validate: nothing is booked or moved until the form is finished.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import now, said_in_passing, say, settings
from actions.verification import (
    VerifiedFormValidation,
    verified_patient,
)
from bot import scheduling
from bot.scheduling.choices import appointment_type_code, provider_key
from bot.scheduling.timeparse import add_turn, parse_preference, pick_option
from bot.scheduling.words import AGREE_WORDS, NO_WORDS, any_of
from bot.store import Appointment, session_scope

log = logging.getLogger("clinicbot.actions")

OTHER_ONE = re.compile(r"\b(the )?other (one|appointment|appt|visit)\b|\bnot that one\b|\bwrong one\b")
YES = re.compile(rf"^({any_of([*AGREE_WORDS, 'please do', 'do it', 'go ahead', 'confirm', 'correct', 'cancel it'])})")
NO = re.compile(rf"^({any_of(NO_WORDS)}|don'?t|do not|keep)\b")
# "any dr is fine" said while the form asks something else (a bare "any" there may mean "any day")
ANY_ONE = re.compile(r"\bany ?(?:one|body|dr\.?|doc|doctor|provider)\b|\bwhoever\b|\bno preference\b|\bfirst available\b")
# questions a day, a time or a provider may be said along with ("annual physical w dr patel, next tuesday pm")
ALONGSIDE = ("appointment_type", "provider", "target_appointment")


def listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def numbered(items: list[str]) -> str:
    return "; ".join(f"{i}) {item}" for i, item in enumerate(items, 1))


def owned(session: Session, patient_id: int, value: Any) -> Appointment | None:
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
                found = owned(session, patient_id, value)
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

    # -- more than the question asked for, in one message ------------------------------------------------
    async def extract_time_pref(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        text = said_in_passing(tracker, "time_pref", ALONGSIDE)
        if not text:
            return {}
        cfg = settings()
        wanted = parse_preference(text, now(), cfg.clinic.tz)
        if wanted is None or not (wanted.has_day or wanted.time_from is not None or wanted.time_to is not None):
            return {}
        return {"time_pref": text}

    async def extract_provider(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        text = said_in_passing(tracker, "provider", ALONGSIDE)  # a provider's name comes as an entity
        return {"provider": "any"} if text and ANY_ONE.search(text.lower()) else {}

    def validate_appointment_type(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"appointment_type": None}
        cfg = settings()
        code = appointment_type_code(cfg, str(value or ""))
        if code is None:
            say(dispatcher, "utter_type_unclear", types=listed([t.name for t in cfg.appointment_types]))
            return {"appointment_type": None}
        return {"appointment_type": code, "chosen_slot": None, "offered_slots": None}

    def validate_provider(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"provider": None}
        cfg = settings()
        key = provider_key(cfg, str(value or ""))
        if key is None:
            say(dispatcher, "utter_provider_unclear", providers=listed([p.name for p in cfg.providers]))
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
        # a day said in one turn and a time in the next combine (bot/scheduling/timeparse.py)
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
        if verified_patient(tracker) is None:
            return {"chosen_slot": None}
        with session_scope(cfg.database_url) as session:
            still_free = scheduling.is_free(session, offers[index])
        if not still_free:  # taken since it was offered: say so now; the booking itself re-checks
            log.info("appointment.slot_taken conversation_id=%s", tracker.sender_id)
            say(dispatcher, "utter_slot_taken")
            return {"chosen_slot": None, "offered_slots": None}
        return {"chosen_slot": str(index + 1)}

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


class ValidateBookForm(AppointmentFormValidation):
    def name(self) -> str:
        return "validate_book_form"


def chosen_offer(tracker: Tracker) -> scheduling.SlotOffer | None:
    """The offered time the patient chose (``chosen_slot`` holds its number in the list offered)."""
    chosen, offered = tracker.get_slot("chosen_slot"), tracker.get_slot("offered_slots") or []
    if not chosen or not str(chosen).isdigit() or not 1 <= int(str(chosen)) <= len(offered):
        return None
    return scheduling.SlotOffer.from_slot(offered[int(str(chosen)) - 1])
