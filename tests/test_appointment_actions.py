"""Appointment and verification actions against inline trackers and the real (temporary) clinic store."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.appointment_questions import ActionAskCancelConfirm, ActionAskChosenSlot
from actions.appointment_submits import (
    ActionBookSubmit,
    ActionCancelSubmit,
    ActionConfirmSubmit,
    ActionShowAppointments,
    ActionStartFlow,
    ActionStopFlow,
)
from actions.appointments import ValidateBookForm, ValidateCancelForm, ValidateCheckForm
from bot import scheduling
from bot.runtime import demo
from bot.settings import PROJECT_ROOT, Settings
from bot.store import Appointment, AuditEvent, Conversation, Message, session_scope

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "bot/assistant/domain.yml").read_text())
SMS = "conv-sms-1"
WEB = "conv-web-1"


@pytest.fixture
def clinic(seeded: Settings) -> Settings:
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id=SMS, channel="sms", channel_user=demo.DEMO_PHONE))
        session.add(Conversation(id=WEB, channel="web", channel_user="browser-1"))
    return seeded


def jordan(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        return patient.id


def tracker(sender: str = SMS, *, text: str = "", intent: str = "inform", slots: dict[str, Any] | None = None,
            candidates: dict[str, Any] | None = None, form: str | None = None,
            entities: list[dict[str, Any]] | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    events: list[dict[str, Any]] = [{"event": "user", "text": text, "parse_data": latest, "timestamp": time.time()}]
    if form:
        events.append({"event": "action", "name": form})
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    all_slots = {**(slots or {}), **(candidates or {})}
    return Tracker(sender, all_slots, latest, events, False, None, {"name": form} if form else {}, "action_listen")


def verified(settings: Settings) -> dict[str, Any]:
    return {"verified_patient_id": str(jordan(settings)), "verified_at": time.time() - 30}


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    assert_fillable(dispatcher.messages)
    return dispatcher.messages, events


def assert_fillable(messages: list[dict[str, Any]]) -> None:
    """Every variable in a response's template is passed with it (else Rasa would print {name})."""
    for message in messages:
        for variant in DOMAIN["responses"][message["response"]]:
            for var in re.findall(r"{(\w+)}", variant["text"]):
                assert var in message, (message["response"], var)


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m["response"] for m in messages]


def test_sms_verification_asks_only_the_birth_date_then_the_flow_goes_on(clinic: Settings) -> None:
    _, events = run(ValidateBookForm(), tracker(form="book_form"))
    assert slots_of(events)["requested_slot"] == "verify_dob"  # no name: the number on file picks the patient

    messages, events = run(ValidateBookForm(), tracker(form="book_form", text="01/01/1980",
                                                       candidates={"verify_dob": "01/01/1980"}))
    slots = slots_of(events)
    assert slots["verified_patient_id"] == str(jordan(clinic)) and slots["requested_slot"] == "appointment_type"
    assert responses(messages) == ["utter_verified"] and messages[0]["first_name"] == "Jordan"


def test_web_verification_needs_name_birth_date_and_the_code_texted_to_the_number_on_file(clinic: Settings) -> None:
    _, events = run(ValidateCheckForm(), tracker(WEB, form="check_form"))
    assert slots_of(events).get("requested_slot") in (None, "verify_name")  # the domain's order: name first
    _messages, events = run(ValidateCheckForm(), tracker(WEB, form="check_form", text="01/01/1980",
                                                        slots={"verify_name": "Jordan Demo"},
                                                        candidates={"verify_dob": "01/01/1980"}))
    assert "verified_patient_id" not in slots_of(events)  # name and date of birth are often public
    assert slots_of(events)["verify_dob"] == "code_sent"
    assert slots_of(events).get("requested_slot", "verify_code") == "verify_code"  # absent: the domain's order
    with session_scope(clinic.database_url) as session:
        text = session.scalars(select(Message.text).where(Message.status == "queued")).one()
    code = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
    _messages, events = run(ValidateCheckForm(), tracker(WEB, form="check_form", text=code,
                                                        slots={"verify_name": "Jordan Demo", "verify_dob": "code_sent"},
                                                        candidates={"verify_code": code}))
    assert slots_of(events)["verified_patient_id"] == str(jordan(clinic))
    assert slots_of(events)["requested_slot"] is None  # check_form has nothing else to ask


def test_three_wrong_birth_dates_end_the_flow_with_the_lock_and_nothing_is_disclosed(clinic: Settings) -> None:
    for _attempt in range(3):
        messages, events = run(ValidateCheckForm(), tracker(form="check_form", text="02/03/1981",
                                                            candidates={"verify_dob": "02/03/1981"}))
        assert "verified_patient_id" not in slots_of(events)
    assert responses(messages) == []  # the third failure: the form ends ...
    assert slots_of(events)["requested_slot"] is None
    messages, _ = run(ActionShowAppointments(), tracker(text="01/01/1980"))
    assert responses(messages) == ["utter_verify_locked"]  # ... and the submit explains the lock, nothing else
    assert "Follow-up" not in str(messages) and "Patel" not in str(messages)
    with session_scope(clinic.database_url) as session:
        actions = [a.action for a in session.scalars(select(AuditEvent).where(AuditEvent.actor_id == SMS))]
    assert actions == ["verification_failed"] * 3


def test_checking_shows_provider_place_and_time_and_is_audited(clinic: Settings) -> None:
    messages, _ = run(ActionShowAppointments(), tracker(slots=verified(clinic)))
    [message] = messages
    assert message["response"] == "utter_upcoming"
    assert "Follow-up visit with Dr. Anika Patel" in message["appointments"]
    assert "412 Maple Street" in message["appointments"] and "10:00 am" in message["appointments"]
    with session_scope(clinic.database_url) as session:
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == SMS)).all() == [
            "appointment_viewed"]


def test_an_expired_verification_discloses_nothing(clinic: Settings) -> None:
    stale = {"verified_patient_id": str(jordan(clinic)), "verified_at": time.time() - 31 * 60}
    messages, _ = run(ActionShowAppointments(), tracker(slots=stale))
    assert messages == []


def test_booking_offers_real_free_times_and_books_the_chosen_one(clinic: Settings) -> None:
    slots = {**verified(clinic), "appointment_type": "follow_up", "provider": "okafor", "time_pref": "any"}
    messages, events = run(ActionAskChosenSlot(), tracker(slots=slots, form="book_form"))
    offers = slots_of(events)["offered_slots"]
    assert len(offers) == 3 and responses(messages) == ["utter_offer_slots"]
    assert messages[0]["offers"].startswith("1) ") and "Dr. Chidi Okafor" in messages[0]["offers"]

    slots["offered_slots"] = offers
    _, events = run(ValidateBookForm(), tracker(slots=slots, form="book_form", text="the second one",
                                                candidates={"chosen_slot": "the second one"}))
    chosen = slots_of(events)["chosen_slot"]
    assert chosen == "2"
    with session_scope(clinic.database_url) as session:  # choosing books nothing: the form is not finished
        assert session.scalars(select(Appointment).where(Appointment.start == datetime.fromisoformat(
            offers[1]["start"]))).first() is None
    messages, events = run(ActionBookSubmit(), tracker(slots={**slots, "chosen_slot": chosen}))
    assert responses(messages) == ["utter_booked"] and "Dr. Chidi Okafor" in messages[0]["appointment"]
    with session_scope(clinic.database_url) as session:
        [appointment] = session.scalars(select(Appointment).where(
            Appointment.start == datetime.fromisoformat(offers[1]["start"]))).all()
        assert appointment.patient_id == jordan(clinic) and appointment.status == "booked"
    assert slots_of(events)["chosen_slot"] is None  # the flow's answers are cleared for the next one


def test_a_time_taken_between_choosing_and_booking_reopens_the_form_with_new_offers(clinic: Settings) -> None:
    slots = {**verified(clinic), "appointment_type": "follow_up", "provider": "patel", "time_pref": "any"}
    _, events = run(ActionAskChosenSlot(), tracker(slots=slots, form="book_form"))
    offers = slots_of(events)["offered_slots"]
    with session_scope(clinic.database_url) as session:
        other = session.scalars(select(demo.Patient).where(demo.Patient.phone != demo.DEMO_PHONE)).first()
        assert other is not None
        other_id = other.id
    scheduling.book(clinic.database_url, patient_id=other_id, appointment_type_id=1,
                    offer=scheduling.SlotOffer.from_slot(offers[0]), location="")
    messages, events = run(ActionBookSubmit(), tracker(slots={**slots, "offered_slots": offers, "chosen_slot": "1"}))
    assert responses(messages) == ["utter_slot_taken"]
    assert slots_of(events)["chosen_slot"] is None and slots_of(events)["offered_slots"] is None
    assert [e for e in events if e["event"] == "followup"] == [{"event": "followup", "name": "book_form",
                                                                 "timestamp": None}]


def test_a_slot_taken_meanwhile_is_refused_and_other_times_are_offered(clinic: Settings) -> None:
    slots = {**verified(clinic), "appointment_type": "follow_up", "provider": "patel", "time_pref": "any"}
    _, events = run(ActionAskChosenSlot(), tracker(slots=slots, form="book_form"))
    offers = slots_of(events)["offered_slots"]
    with session_scope(clinic.database_url) as session:  # another patient takes the first offer
        other = session.scalars(select(demo.Patient).where(demo.Patient.phone != demo.DEMO_PHONE)).first()
        assert other is not None
        other_id = other.id
    scheduling.book(clinic.database_url, patient_id=other_id, appointment_type_id=1,
                    offer=scheduling.SlotOffer.from_slot(offers[0]), location="")
    messages, events = run(ValidateBookForm(), tracker(slots={**slots, "offered_slots": offers}, form="book_form",
                                                       text="1", candidates={"chosen_slot": "1"}))
    assert responses(messages) == ["utter_slot_taken"] and slots_of(events)["chosen_slot"] is None
    _, events = run(ActionAskChosenSlot(), tracker(slots=slots, form="book_form"))
    assert offers[0]["start"] not in [o["start"] for o in slots_of(events)["offered_slots"]]


def test_a_new_day_at_the_offer_question_brings_new_offers(clinic: Settings) -> None:
    slots = {**verified(clinic), "appointment_type": "follow_up", "provider": "any", "time_pref": "any",
             "offered_slots": []}
    _, events = run(ValidateBookForm(), tracker(slots=slots, form="book_form", text="how about friday afternoon",
                                                candidates={"chosen_slot": "how about friday afternoon"}))
    # laid over the earlier turns ("any"): the new day and part of the day are what the next offers use
    assert slots_of(events)["time_pref"].splitlines() == ["any", "how about friday afternoon"]
    assert slots_of(events)["chosen_slot"] is None


def test_cancel_confirms_first_with_the_policy_and_the_other_one_switches(clinic: Settings) -> None:
    patient_id = jordan(clinic)
    with session_scope(clinic.database_url) as session:
        [first] = scheduling.upcoming(session, patient_id, datetime.now(UTC))
    slots = {**verified(clinic), "time_pref": "any", "appointment_type": "sick_visit", "provider": "nguyen"}
    _, events = run(ActionAskChosenSlot(), tracker(slots=slots, form="book_form"))
    second = scheduling.book(clinic.database_url, patient_id=patient_id, appointment_type_id=2,
                             offer=scheduling.SlotOffer.from_slot(slots_of(events)["offered_slots"][0]),
                             location="x")
    cancel = {**verified(clinic), "target_appointment": str(first.id)}
    messages, _ = run(ActionAskCancelConfirm(), tracker(slots=cancel, form="cancel_form"))
    assert messages[0]["policy"] == clinic.clinic.cancellation_policy and "24 hours" in messages[0]["policy"]

    _, events = run(ValidateCancelForm(), tracker(slots=cancel, form="cancel_form", text="no, the other one",
                                                  intent="deny", candidates={"cancel_confirm": "no, the other one"}))
    assert slots_of(events)["target_appointment"] == str(second) and slots_of(events)["cancel_confirm"] is None

    cancel["target_appointment"] = str(second)
    _, events = run(ValidateCancelForm(), tracker(slots=cancel, form="cancel_form", text="yes", intent="affirm",
                                                  candidates={"cancel_confirm": "yes"}))
    messages, _ = run(ActionCancelSubmit(), tracker(slots={**cancel, **slots_of(events)}))
    assert responses(messages) == ["utter_cancelled"]
    with session_scope(clinic.database_url) as session:
        assert session.get(Appointment, second).status == "cancelled"  # type: ignore[union-attr]
        assert session.get(Appointment, first.id).status == "booked"  # type: ignore[union-attr]


def test_confirm_marks_the_appointment_confirmed(clinic: Settings) -> None:
    with session_scope(clinic.database_url) as session:
        [appointment] = scheduling.upcoming(session, jordan(clinic), datetime.now(UTC))
    messages, _ = run(ActionConfirmSubmit(), tracker(slots={**verified(clinic),
                                                            "target_appointment": str(appointment.id)}))
    assert responses(messages) == ["utter_confirmed"]
    with session_scope(clinic.database_url) as session:
        assert session.get(Appointment, appointment.id).status == "confirmed"  # type: ignore[union-attr]


def test_another_patients_appointment_id_is_never_acted_on(clinic: Settings) -> None:
    with session_scope(clinic.database_url) as session:
        other = session.scalars(select(Appointment).where(Appointment.patient_id != jordan(clinic))).first()
        assert other is not None
        other_id = other.id
    messages, _ = run(ActionConfirmSubmit(), tracker(slots={**verified(clinic), "target_appointment": str(other_id)}))
    assert responses(messages) == ["utter_appointment_not_found"]
    with session_scope(clinic.database_url) as session:
        assert session.get(Appointment, other_id).status == "booked"  # type: ignore[union-attr]


def test_stop_ends_the_flow_and_clears_its_answers_while_a_new_flow_keeps_what_this_message_said(
        clinic: Settings) -> None:
    messages, events = run(ActionStopFlow(), tracker(text="never mind", intent="nevermind", form="book_form",
                                                     slots={"time_pref": "any"}))
    assert responses(messages) == ["utter_flow_stopped"]
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert slots_of(events)["time_pref"] is None
    entity = [{"entity": "provider", "value": "okafor"}]
    _, events = run(ActionStartFlow(), tracker(text="book with dr okafor", intent="book_appointment",
                                               entities=entity, slots={"provider": "okafor", "verify_dob": "x"}))
    assert "provider" not in slots_of(events) and slots_of(events)["verify_dob"] is None
    _, events = run(ActionStartFlow(), tracker(text="book an appointment", intent="book_appointment",
                                               slots={"provider": "okafor"}))
    assert slots_of(events)["provider"] is None  # an earlier flow's answer is not reused


def test_the_patient_picks_which_appointment_by_number_or_the_reminder_names_it(clinic: Settings) -> None:
    patient_id = jordan(clinic)
    slots = {**verified(clinic), "time_pref": "any", "appointment_type": "sick_visit", "provider": "nguyen"}
    _, events = run(ActionAskChosenSlot(), tracker(slots=slots, form="book_form"))
    scheduling.book(clinic.database_url, patient_id=patient_id, appointment_type_id=2,
                    offer=scheduling.SlotOffer.from_slot(slots_of(events)["offered_slots"][0]), location="x")
    with session_scope(clinic.database_url) as session:
        upcoming = [a.id for a in scheduling.upcoming(session, patient_id, datetime.now(UTC))]
    _, events = run(ValidateCancelForm(), tracker(slots=verified(clinic), form="cancel_form", text="the second one",
                                                  candidates={"target_appointment": "the second one"}))
    assert slots_of(events)["target_appointment"] == str(upcoming[1])
    entity = [{"entity": "appointment_id", "value": str(upcoming[0])}]
    _, events = run(ValidateCancelForm(), tracker(slots=verified(clinic), form="cancel_form", entities=entity,
                                                  text=f'/cancel_appointment{{"appointment_id": "{upcoming[0]}"}}',
                                                  candidates={"target_appointment": str(upcoming[0])}))
    assert slots_of(events)["target_appointment"] == str(upcoming[0])


APPOINTMENT_MODULES = ("actions.appointments", "actions.appointment_questions", "actions.appointment_submits",
                       "actions.verification")


def test_domain_lists_every_action_the_server_registers() -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    mine = {name for name, run in executor.actions.items()
            if type(run.__self__).__module__ in APPOINTMENT_MODULES}
    assert len(mine) > 15
    assert mine <= set(DOMAIN["actions"])
    sources = "\n".join((PROJECT_ROOT / "actions" / f"{m.split('.')[1]}.py").read_text() for m in APPOINTMENT_MODULES)
    for name in set(re.findall(r'"(utter_\w+)"', sources)):
        assert name in DOMAIN["responses"], name


def test_answers_cleared_when_a_flow_starts_are_not_judged_as_wrong_answers(clinic: Settings) -> None:
    cleared = dict.fromkeys(("verify_name", "verify_dob", "appointment_type", "provider", "time_pref", "chosen_slot"))
    messages, events = run(ValidateBookForm(), tracker(WEB, form="book_form", text="i need to book an appointment",
                                                       intent="book_appointment", candidates=cleared))
    assert messages == []
    assert "verified_patient_id" not in slots_of(events)


def test_a_patient_locked_by_strangers_is_told_so_in_a_new_web_chat(clinic: Settings) -> None:
    for i in range(5):  # five strangers' web chats naming the patient, each with a wrong birth date
        with session_scope(clinic.database_url) as session:
            session.add(Conversation(id=f"stranger-{i}", channel="web", channel_user=f"stranger-page-{i}"))
        run(ValidateCheckForm(), tracker(f"stranger-{i}", form="check_form", text="02/03/1981",
                                         slots={"verify_name": "Jordan Demo"}, candidates={"verify_dob": "02/03/1981"}))
    _, events = run(ValidateCheckForm(), tracker(WEB, form="check_form", text="01/01/1980",
                                                 slots={"verify_name": "Jordan Demo"},
                                                 candidates={"verify_dob": "01/01/1980"}))
    assert "verified_patient_id" not in slots_of(events) and slots_of(events)["requested_slot"] is None
    messages, _ = run(ActionShowAppointments(), tracker(WEB, slots={"verify_name": "Jordan Demo"}))
    assert responses(messages) == ["utter_verify_locked"]
    # the patient texting from the number on file is not locked out by them
    messages, events = run(ValidateCheckForm(), tracker(form="check_form", text="01/01/1980",
                                                        candidates={"verify_dob": "01/01/1980"}))
    assert slots_of(events)["verified_patient_id"] == str(jordan(clinic))


def test_a_visit_type_a_provider_and_a_time_said_in_one_answer_are_all_taken(clinic: Settings) -> None:
    """Asked only for the kind of visit, the patient also says who and when: no question is asked twice."""
    text = "follow up, any dr is fine. any day next wk after 3"
    _, events = run(ValidateBookForm(), tracker(
        form="book_form", text=text, slots={**verified(clinic), "requested_slot": "appointment_type"},
        candidates={"appointment_type": text}))
    slots = slots_of(events)
    assert slots["appointment_type"] == "follow_up" and slots["provider"] == "any"
    assert slots["time_pref"] == text and slots.get("requested_slot") != "time_pref"


def test_a_bare_any_for_the_visit_type_question_is_not_taken_for_a_provider_or_a_day(clinic: Settings) -> None:
    _, events = run(ValidateBookForm(), tracker(
        form="book_form", text="sick visit", slots={**verified(clinic), "requested_slot": "appointment_type"},
        candidates={"appointment_type": "sick visit"}))
    slots = slots_of(events)
    assert slots["appointment_type"] == "sick_visit" and "provider" not in slots and "time_pref" not in slots
