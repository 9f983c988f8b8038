"""The booking and moving forms read days and times across turns and offer what was asked (or say that nothing
fits and offer the nearest), against inline trackers and the real (temporary) clinic store."""

from __future__ import annotations

import time as wall
from datetime import datetime, timedelta
from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy import select
from test_appointment_actions import SMS, responses, run, slots_of, verified

from actions.appointment_questions import ActionAskChosenSlot
from actions.appointments import ValidateBookForm, ValidateRescheduleForm
from bot import scheduling
from bot.runtime import demo
from bot.scheduling.timeparse import parse_preference
from bot.settings import Settings
from bot.store import Appointment, AvailabilitySlot, Conversation, session_scope


@pytest.fixture
def clinic(seeded: Settings) -> Settings:
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id=SMS, channel="sms", channel_user=demo.DEMO_PHONE))
    return seeded


def turn(text: str, *, slots: dict[str, Any], earlier: dict[str, Any], form: str, slot: str) -> Tracker:
    """A tracker whose earlier turns set ``earlier`` and whose latest message ``text`` fills ``slot``."""
    events: list[dict[str, Any]] = [{"event": "slot", "name": k, "value": v} for k, v in earlier.items()]
    latest = {"text": text, "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    events += [{"event": "user", "text": text, "parse_data": latest, "timestamp": wall.time()},
               {"event": "action", "name": form}, {"event": "slot", "name": slot, "value": text}]
    return Tracker(SMS, {**slots, **earlier, slot: text}, latest, events, False, None, {"name": form},
                   "action_listen")


def _free_two_pm(settings: Settings) -> datetime:
    """A free 2 pm block of Dr. Patel's two or more days ahead, with its 1:40 and 2:20 neighbours free."""
    tz = settings.clinic.tz
    after = datetime.now(tz) + timedelta(days=2)
    with session_scope(settings.database_url) as session:
        patel = scheduling.provider_by_key(session, "patel")
        assert patel is not None
        free = {s.start.astimezone(tz) for s in session.scalars(select(AvailabilitySlot).where(
            AvailabilitySlot.provider_id == patel.id, AvailabilitySlot.start >= after,
            AvailabilitySlot.appointment_id.is_(None)))}
    return min(s for s in free if s.hour == 14 and s.minute == 0 and s - timedelta(minutes=20) in free
               and s + timedelta(minutes=20) in free)


def _day_words(at: datetime) -> str:
    return f"{at:%b} {at.day}"  # "Dec 8"


def test_a_day_then_a_time_in_the_next_turn_combine(clinic: Settings) -> None:
    at = _free_two_pm(clinic)
    slots = {**verified(clinic), "appointment_type": "follow_up", "provider": "patel"}
    _, events = run(ValidateBookForm(), turn(_day_words(at), slots=slots, earlier={}, form="book_form",
                                             slot="time_pref"))
    first = slots_of(events)["time_pref"]
    _, events = run(ValidateBookForm(), turn("2pm", slots=slots, earlier={"time_pref": first}, form="book_form",
                                             slot="time_pref"))
    both = slots_of(events)["time_pref"]
    pref = parse_preference(both, datetime.now(clinic.clinic.tz), clinic.clinic.tz)
    assert pref is not None and pref.date_from == at.date() and pref.exact == at.time()

    messages, events = run(ActionAskChosenSlot(), turn("2pm", slots={**slots, "time_pref": both}, earlier={},
                                                       form="book_form", slot="requested_slot"))
    assert responses(messages) == ["utter_offer_slots"]
    [offer] = slots_of(events)["offered_slots"]  # that time, that day: not three other times or days
    assert datetime.fromisoformat(offer["start"]).astimezone(clinic.clinic.tz) == at
    assert "2:00 pm" in messages[0]["offers"]


def test_a_time_at_the_offer_question_keeps_the_day_and_a_taken_time_gets_the_nearest(clinic: Settings) -> None:
    at = _free_two_pm(clinic)
    with session_scope(clinic.database_url) as session:  # another patient has that 2 pm
        other = session.scalars(select(demo.Patient).where(demo.Patient.phone != demo.DEMO_PHONE)).first()
        assert other is not None
        other_id = other.id
    with session_scope(clinic.database_url) as session:
        patel = scheduling.provider_by_key(session, "patel")
        assert patel is not None
        block = session.scalars(select(AvailabilitySlot).where(AvailabilitySlot.provider_id == patel.id,
                                                              AvailabilitySlot.start == at)).one()
        taken = scheduling.SlotOffer(patel.id, patel.name, at, at + timedelta(minutes=20), (block.id,))
    scheduling.book(clinic.database_url, patient_id=other_id, appointment_type_id=1, offer=taken, location="")

    slots = {**verified(clinic), "appointment_type": "follow_up", "provider": "patel", "time_pref": _day_words(at)}
    _, events = run(ValidateBookForm(), turn("2:00 pm", slots={**slots, "offered_slots": []}, earlier={},
                                             form="book_form", slot="chosen_slot"))
    asked = slots_of(events)["time_pref"]
    assert asked.splitlines() == [_day_words(at), "2:00 pm"] and slots_of(events)["chosen_slot"] is None

    messages, events = run(ActionAskChosenSlot(), turn("2:00 pm", slots={**slots, "time_pref": asked}, earlier={},
                                                       form="book_form", slot="requested_slot"))
    assert responses(messages) == ["utter_offer_nearest"]  # says 2 pm is not free, and offers the nearest
    assert messages[0]["when"] == f"on {at:%a, %b} {at.day} at 2 pm"
    starts = [datetime.fromisoformat(o["start"]).astimezone(clinic.clinic.tz)
              for o in slots_of(events)["offered_slots"]]
    assert at not in starts and abs(starts[0] - at) == timedelta(minutes=20)


def test_moving_a_visit_to_next_tuesday_afternoon_offers_next_weeks_tuesday(clinic: Settings) -> None:
    patient_id = int(verified(clinic)["verified_patient_id"])
    with session_scope(clinic.database_url) as session:
        target = session.scalars(select(Appointment).where(Appointment.patient_id == patient_id)).first()
        assert target is not None
        target_id = target.id
    slots = {**verified(clinic), "target_appointment": str(target_id)}
    _, events = run(ValidateRescheduleForm(), turn("next tuesday afternoon", slots=slots, earlier={},
                                                   form="reschedule_form", slot="time_pref"))
    asked = slots_of(events)["time_pref"]
    messages, events = run(ActionAskChosenSlot(), turn("", slots={**slots, "time_pref": asked}, earlier={},
                                                       form="reschedule_form", slot="requested_slot"))
    today = datetime.now(clinic.clinic.tz).date()
    tuesday = today + timedelta(days=7 - today.weekday() + 1)
    starts = [datetime.fromisoformat(o["start"]).astimezone(clinic.clinic.tz)
              for o in slots_of(events)["offered_slots"]]
    assert responses(messages) == ["utter_offer_slots"] and starts
    assert all(s.date() == tuesday and 12 <= s.hour < 17 for s in starts)
