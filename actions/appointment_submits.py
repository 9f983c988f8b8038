"""Starting, stopping and finishing the appointment flows: show, confirm, cancel, book and move.

Booking and moving happen here, in the submit action, with the compare-and-set on the availability blocks: a
time taken by someone else since it was chosen is refused, and the form asks again with fresh offers.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import chosen_offer, numbered, owned
from actions.common import ClinicAction, conversation_for, now, say, settings
from actions.verification import explain_unverified, reset_events, verified_patient
from bot import reminders, scheduling
from bot.identity import verification
from bot.settings import Settings
from bot.store import activity, session_scope
from bot.store.audit import Actor
from bot.store.states import AppointmentStatus

log = logging.getLogger("clinicbot.actions")


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


def patient_actor(tracker: Tracker) -> Actor:
    """Changes made through the assistant are audited as the conversation's (the verified patient acting)."""
    return Actor("conversation", tracker.sender_id)


def _sync(cfg: Settings, appointment_id: int) -> None:
    try:
        reminders.sync_appointment(cfg, appointment_id)
    except Exception:  # reminders catch up within a minute (the gateway reconciles); never fail the booking
        log.exception("reminders.sync_failed appointment_id=%s", appointment_id)


def _note(cfg: Settings, tracker: Tracker, kind: str, appointment_id: int) -> None:
    """Count the change for the owner's dashboard (booked, moved, cancelled, confirmed); the audit trail records it
    with the change itself (bot.scheduling.slots)."""
    with session_scope(cfg.database_url) as session:
        conversation = conversation_for(session, tracker)
        activity.record(session, "appointment", kind, channel=conversation.channel, conversation_id=conversation.id,
                        ref=appointment_id)


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
                     + (" (confirmed)" if a.status == AppointmentStatus.CONFIRMED else "") for a in upcoming]
            if upcoming:
                verification.audit_viewed(session, tracker.sender_id, patient_id, [a.id for a in upcoming], now())
        if not upcoming:
            say(dispatcher, "utter_no_upcoming")
        else:
            say(dispatcher, "utter_upcoming", appointments=numbered(lines) if len(lines) > 1 else lines[0] + ".")
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
            target = owned(session, patient_id, tracker.get_slot("target_appointment"))
            has_any = bool(scheduling.upcoming(session, patient_id, now()))
            text = scheduling.describe_appointment(target, cfg.clinic.tz) if target else ""
            status = target.status if target else ""
        if target is None:
            say(dispatcher, "utter_appointment_not_found" if has_any else "utter_no_upcoming")
            return self.finish()
        changed = scheduling.confirm(cfg.database_url, target.id, by=patient_actor(tracker))
        if changed:
            _note(cfg, tracker, "confirmed", target.id)
        say(dispatcher, "utter_confirmed" if changed or status != AppointmentStatus.CONFIRMED else "utter_already_confirmed",
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
            target = owned(session, patient_id, tracker.get_slot("target_appointment"))
            text = scheduling.describe_appointment(target, cfg.clinic.tz) if target else ""
            has_any = bool(scheduling.upcoming(session, patient_id, now()))
        if target is None:
            say(dispatcher, "utter_appointment_not_found" if has_any else "utter_no_upcoming")
        elif tracker.get_slot("cancel_confirm") == "yes":
            if scheduling.cancel(cfg.database_url, target.id, by=patient_actor(tracker)):
                _note(cfg, tracker, "cancelled", target.id)
            _sync(cfg, target.id)
            say(dispatcher, "utter_cancelled", appointment=text)
        else:
            say(dispatcher, "utter_cancel_kept", appointment=text)
        return self.finish()


class _BookedSubmit(_Submit):
    """Books (or moves) the chosen time with the compare-and-set; a time taken meanwhile reopens the form."""

    response = ""
    form = ""
    change = ""  # booked | moved

    def take(self, cfg: Settings, tracker: Tracker, patient_id: int, offer: scheduling.SlotOffer) -> int | None:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        patient_id = self.patient_or_explain(dispatcher, tracker)
        if patient_id is None:
            return self.finish()
        cfg = settings()
        offer = chosen_offer(tracker)
        try:
            appointment_id = self.take(cfg, tracker, patient_id, offer) if offer is not None else None
        except scheduling.SlotTaken:
            log.info("appointment.slot_taken conversation_id=%s form=%s", tracker.sender_id, self.form)
            say(dispatcher, "utter_slot_taken")
            return [SlotSet("chosen_slot", None), SlotSet("offered_slots", None), FollowupAction(self.form)]
        with session_scope(cfg.database_url) as session:
            appointment = owned(session, patient_id, appointment_id)
            if appointment is None:
                has_any = bool(scheduling.upcoming(session, patient_id, now()))
                say(dispatcher, "utter_appointment_not_found" if has_any else "utter_no_upcoming")
                return self.finish()
            text = scheduling.describe_appointment(appointment, cfg.clinic.tz)
            booked_id = appointment.id
        _note(cfg, tracker, self.change, booked_id)
        _sync(cfg, booked_id)
        say(dispatcher, self.response, appointment=text)
        return self.finish()


class ActionBookSubmit(_BookedSubmit):
    response = "utter_booked"
    form = "book_form"
    change = "booked"

    def name(self) -> str:
        return "action_book_submit"

    def take(self, cfg: Settings, tracker: Tracker, patient_id: int, offer: scheduling.SlotOffer) -> int | None:
        with session_scope(cfg.database_url) as session:
            kind = scheduling.appointment_type_by_code(session, str(tracker.get_slot("appointment_type")))
            if kind is None:
                return None
            kind_id = kind.id
        return scheduling.book(cfg.database_url, patient_id=patient_id, appointment_type_id=kind_id, offer=offer,
                               location=cfg.clinic.address, by=patient_actor(tracker))


class ActionRescheduleSubmit(_BookedSubmit):
    response = "utter_rescheduled"
    form = "reschedule_form"
    change = "moved"

    def name(self) -> str:
        return "action_reschedule_submit"

    def take(self, cfg: Settings, tracker: Tracker, patient_id: int, offer: scheduling.SlotOffer) -> int | None:
        with session_scope(cfg.database_url) as session:
            target = owned(session, patient_id, tracker.get_slot("target_appointment"))
            if target is None:
                return None
            target_id = target.id
        scheduling.move(cfg.database_url, target_id, offer, by=patient_actor(tracker))
        return target_id
