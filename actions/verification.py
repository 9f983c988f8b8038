"""Verification inside every PHI form: the form asks for it first, and the flow's own questions follow.

Each appointment form lists ``verify_name``, ``verify_dob`` and ``verify_code`` first. ``required_slots`` keeps
what this conversation still needs: over SMS only the date of birth (the number on file picks the patient); on
the web the name, the date of birth and then the one-time code texted to the number on file (the code is left
out where the owner lets name and date of birth alone verify a web chat). It drops every slot once the patient
is verified, or while verification is locked, which ends the form, and the flow's submit action explains why.

The form never reads a date as a name: a date typed when the name is asked is answered as a date, and after a
date of birth that does not match, the name is kept and the next answer is read as a date of birth (or, if it is
a name, as a corrected name). A verified patient id and the time of verification live in slots (or in the store,
when a staff member checked the patient in the console); the verification lapses after 30 idle minutes.
"""

from __future__ import annotations

import re
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
from bot.identity import codes, verification
from bot.scheduling.timefmt import clock
from bot.scheduling.timeparse import parse_date_of_birth
from bot.store import Patient, session_scope

VERIFY_SLOTS = ("verify_name", "verify_dob", "verify_code")
FLOW_SLOTS = ("verify_name", "verify_dob", "verify_code", "target_appointment", "cancel_confirm", "time_pref",
              "offered_slots", "chosen_slot", "appointment_type", "provider")
CODE_SENT = "code_sent"  # verify_dob once name and date of birth matched and a code went out
NO_CODE = "no_code:"  # verify_dob when no code can be sent (the reason follows): the form ends
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def verified_patient(tracker: Tracker) -> int | None:
    """The verified patient of this conversation, unless the verification lapsed (30 idle minutes): verified
    here in the form, or checked by a staff member in the console."""
    times = [float(e["timestamp"]) for e in tracker.events if e.get("event") == "user" and e.get("timestamp")]
    found: list[tuple[float, int]] = []
    patient_id, at = tracker.get_slot("verified_patient_id"), tracker.get_slot("verified_at")
    if patient_id and at is not None:
        found.append((float(at), int(patient_id)))
    with session_scope(settings().database_url) as session:
        checked = verification.staff_verified(session, tracker.sender_id)
    if checked is not None:
        found.append((checked[1].timestamp(), checked[0]))
    for at_s, patient in sorted(found, reverse=True):
        if verification.still_verified(at_s, times, time.time()):
            return patient
    return None


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
    """A flow ended without a verified patient: verification is locked, or no code could be sent."""
    cfg = settings()
    with session_scope(cfg.database_url) as session:
        until, _ = lock_for(session, tracker)
    if until is not None:
        local = until.astimezone(cfg.clinic.tz)
        say(dispatcher, "utter_verify_locked", until=clock(local))
    elif str(tracker.get_slot("verify_dob") or "").startswith(NO_CODE):
        say(dispatcher, "utter_verify_code_unavailable")


def _web_code(cfg: Any) -> bool:
    return not cfg.verification.web_name_and_dob_only


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
        if str(tracker.get_slot("verify_dob") or "").startswith(NO_CODE):
            return []  # no code can reach the patient: the submit action says what to do
        with session_scope(cfg.database_url) as session:
            until, by_phone = lock_for(session, tracker)
        if until is not None:
            return []
        if by_phone:
            return ["verify_dob", *rest]
        return ["verify_name", "verify_dob", *(["verify_code"] if _web_code(cfg) else []), *rest]

    def validate_verify_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        if value is None:  # cleared by the flow's start, not answered: nothing to check
            return {"verify_name": None}
        text = str(value)
        today = now().astimezone(settings().clinic.tz).date()
        both = verification.name_and_date(text, lambda part: parse_date_of_birth(part, today))
        if both is not None:  # "Jordan Demo 01/01/1980": the name, and the date of birth checked at once
            name, born = both
            return {"verify_name": name, **self._check_dob(born, name, dispatcher, tracker)}
        if parse_date_of_birth(text, today) is not None or (verification.says_a_number(text) and "?" not in text):
            say(dispatcher, "utter_name_not_date")
            return {"verify_name": None}
        if not verification.looks_like_name(text):
            say(dispatcher, "utter_name_unreadable")
            return {"verify_name": None}
        return {"verify_name": text}

    def validate_verify_dob(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        if value is None or value == CODE_SENT or str(value).startswith(NO_CODE):  # set by us, not typed
            return {"verify_dob": value}
        return self._check_dob(str(value), tracker.get_slot("verify_name"), dispatcher, tracker)

    def _check_dob(self, text: str, name: str | None, dispatcher: CollectingDispatcher,
                   tracker: Tracker) -> dict[str, Any]:
        cfg = settings()
        dob = parse_date_of_birth(text, now().astimezone(cfg.clinic.tz).date())
        with session_scope(cfg.database_url) as session:
            web = verification.channel_of(session, tracker.sender_id).name != "sms"
        if dob is None:
            if web and verification.looks_like_name(text):  # a corrected name, after a mismatch
                return {"verify_name": text, "verify_dob": None}
            say(dispatcher, "utter_dob_unreadable")
            return {"verify_dob": None}
        with session_scope(cfg.database_url) as session:
            outcome = verification.attempt(session, tracker.sender_id, dob=dob, name=name,
                                           now=now(), web_code=_web_code(cfg))
            if outcome.code_for is not None:
                issued = codes.issue(session, cfg, tracker.sender_id, outcome.code_for, now())
                return {"verify_dob": CODE_SENT if issued.sent else NO_CODE + issued.reason}
            patient = session.get(Patient, outcome.patient_id) if outcome.patient_id else None
            first_name = patient.first_name if patient else ""
        if patient is None:
            if outcome.locked_until is not None:  # the name stays, so the form sees the lock and ends
                return {"verify_dob": None}
            # the name stays: the next answer is read as a date of birth (or a corrected name)
            say(dispatcher, "utter_verify_failed_web" if web else "utter_verify_failed")
            return {"verify_dob": None}
        say(dispatcher, "utter_verified", first_name=first_name)
        return {"verify_dob": "verified", **self._verified_slots(patient.id, tracker)}

    def validate_verify_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        if value is None:
            return {"verify_code": None}
        found = _CODE.search(str(value).replace(" ", "").replace("-", ""))
        if found is None:
            say(dispatcher, "utter_code_unreadable")
            return {"verify_code": None}
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            checked = codes.check(session, cfg, tracker.sender_id, found.group(1), now())
            patient = session.get(Patient, checked.patient_id) if checked.status == "ok" and checked.patient_id \
                else None
            first_name = patient.first_name if patient else ""
            if checked.status == "expired" and checked.patient_id is not None:
                issued = codes.issue(session, cfg, tracker.sender_id, checked.patient_id, now())
                if not issued.sent:
                    return {"verify_code": None, "verify_dob": NO_CODE + issued.reason}
                say(dispatcher, "utter_code_expired")
                return {"verify_code": None}
        if patient is not None:
            say(dispatcher, "utter_verified", first_name=first_name)
            return {"verify_code": "verified", **self._verified_slots(patient.id, tracker)}
        if checked.locked_until is not None:  # the form sees the lock and ends
            return {"verify_code": None}
        if checked.status == "wrong":
            say(dispatcher, "utter_code_wrong")
            return {"verify_code": None}
        say(dispatcher, "utter_code_start_over")  # used up, or none pending: name and date of birth again
        return {"verify_code": None, "verify_dob": None, "verify_name": None}

    def _verified_slots(self, patient_id: int, tracker: Tracker) -> dict[str, Any]:
        slots: dict[str, Any] = {"verified_patient_id": str(patient_id), "verified_at": time.time()}
        if self.needs_target and tracker.get_slot("target_appointment") is None:
            with session_scope(settings().database_url) as session:
                upcoming = scheduling.upcoming(session, patient_id, now())
            if len(upcoming) == 1:
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


def _answered_this_turn(tracker: Tracker) -> bool:
    """Whether the assistant already said something since the patient's last message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


class ActionAskVerifyCode(ClinicAction):
    def name(self) -> str:
        return "action_ask_verify_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if _answered_this_turn(tracker):  # "that code isn't right, type it again" already asked for it
            return []
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            row = codes.pending(session, tracker.sender_id)
            patient = session.get(Patient, row.patient_id) if row is not None else None
            ending = patient.phone[-2:] if patient is not None else ""
        say(dispatcher, "utter_ask_verify_code", ending=ending or "--", minutes=cfg.verification.code_minutes)
        return []
