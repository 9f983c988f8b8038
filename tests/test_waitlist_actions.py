"""The waitlist in conversation, against inline trackers and the real (temporary) clinic store: "anything sooner?"
after verifying by SMS waits for an earlier time than the patient's one visit (no more questions than the days),
joining names the number texts go to and a time already open, a request outside a booking keeps what was said,
leaving works, and an opted-out patient is told why no text can come."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.waitlist import (
    ActionStartWaitlist,
    ActionWaitlistLeave,
    ActionWaitlistSubmit,
    ValidateWaitlistForm,
)
from bot.engine.models import merged_domain
from bot.messaging.optouts import set_opt_out
from bot.runtime import demo
from bot.settings import PROJECT_ROOT, Settings
from bot.store import AuditEvent, Conversation, WaitlistEntry, session_scope
from bot.store.states import WaitlistStatus

DOMAIN: dict[str, Any] = merged_domain(PROJECT_ROOT / "bot" / "assistant")
SMS = "conv-sms-wait"


@pytest.fixture
def clinic(seeded: Settings) -> Settings:
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id=SMS, channel="sms", channel_user=demo.DEMO_PHONE))
    return seeded


def tracker(*, text: str = "", intent: str = "inform", slots: dict[str, Any] | None = None,
            candidates: dict[str, Any] | None = None, form: str | None = "waitlist_form") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events: list[dict[str, Any]] = [{"event": "user", "text": text, "parse_data": latest, "timestamp": time.time()}]
    if form:
        events.append({"event": "action", "name": form})
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker(SMS, {**(slots or {}), **(candidates or {})}, latest, events, False, None,
                   {"name": form} if form else {}, "action_listen")


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    for message in dispatcher.messages:  # every variable of the response's text is given
        for variant in DOMAIN["responses"][message["response"]]:
            assert all(var in message for var in re.findall(r"{(\w+)}", variant["text"])), message["response"]
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def verified(settings: Settings) -> dict[str, Any]:
    with session_scope(settings.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        return {"verified_patient_id": str(patient.id), "verified_at": time.time() - 30}


def test_anything_sooner_by_sms_asks_the_birth_date_then_only_the_days(clinic: Settings) -> None:
    _, slots = run(ValidateWaitlistForm(), tracker(text="anything sooner?", intent="join_waitlist"))
    assert slots["requested_slot"] == "verify_dob"
    messages, slots = run(ValidateWaitlistForm(), tracker(text="01/01/1980", candidates={"verify_dob": "01/01/1980"}))
    assert [m["response"] for m in messages] == ["utter_verified"]
    assert (slots["appointment_type"], slots["provider"]) == ("follow_up", "patel")  # Jordan's one visit
    assert slots["requested_slot"] == "waitlist_window"
    messages, slots = run(ValidateWaitlistForm(), tracker(text="tuesday??", slots={**verified(clinic),
                          "appointment_type": "follow_up", "provider": "patel"}, candidates={"waitlist_window": "blue"}))
    assert [m["response"] for m in messages] == ["utter_waitlist_window_unclear"]


def test_joining_names_the_number_and_a_time_open_now_and_is_audited(clinic: Settings) -> None:
    messages, slots = run(ActionWaitlistSubmit(), tracker(form=None, slots={
        **verified(clinic), "appointment_type": "follow_up", "provider": "patel", "waitlist_window": "any day"}))
    responses = {m["response"]: m for m in messages}
    assert "Follow-up visit with Dr. Anika Patel" in responses["utter_waitlist_joined_sooner"]["appointment"]
    assert responses["utter_waitlist_joined_sooner"]["number"] == "the number on file ending in 0100"
    assert "with Dr. Anika Patel" in responses["utter_waitlist_open_now"]["offer"]  # the demo has free times
    assert slots["waitlist_window"] is None and slots["appointment_type"] is None  # the flow ends clean
    with session_scope(clinic.database_url) as session:
        [entry] = session.scalars(select(WaitlistEntry))
        assert entry.status == WaitlistStatus.WAITING and entry.appointment_id is not None
        assert entry.channel == "sms" and entry.conversation_id == SMS
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == SMS)).all() == [
            "waitlist_joined"]
    messages, _ = run(ActionWaitlistLeave(), tracker(form=None, slots=verified(clinic)))
    assert [m["response"] for m in messages] == ["utter_waitlist_left"]
    messages, _ = run(ActionWaitlistLeave(), tracker(form=None, slots=verified(clinic)))
    assert [m["response"] for m in messages] == ["utter_waitlist_not_on"]


def test_a_request_during_a_booking_keeps_its_visit_type_provider_and_days(clinic: Settings) -> None:
    _, slots = run(ActionStartWaitlist(), tracker(text="just put me on the waitlist", intent="join_waitlist",
                                                  form="book_form", slots={"appointment_type": "annual_physical",
                                                                           "provider": "okafor",
                                                                           "time_pref": "next friday morning"}))
    assert (slots["appointment_type"], slots["provider"], slots["waitlist_window"]) == (
        "annual_physical", "okafor", "next friday morning")
    _, slots = run(ActionStartWaitlist(), tracker(text="put me on the list for something this week",
                                                  intent="join_waitlist", form=None))
    assert slots["waitlist_window"] == "put me on the list for something this week"


def test_an_opted_out_patient_is_told_why_no_text_can_come(clinic: Settings) -> None:
    with session_scope(clinic.database_url) as session:
        set_opt_out(session, demo.DEMO_PHONE, True)
    messages, _ = run(ActionWaitlistSubmit(), tracker(form=None, slots={
        **verified(clinic), "appointment_type": "sick_visit", "provider": "any", "waitlist_window": "this week"}))
    assert [m["response"] for m in messages] == ["utter_waitlist_opted_out"]
    with session_scope(clinic.database_url) as session:
        assert session.scalars(select(WaitlistEntry)).all() == []
