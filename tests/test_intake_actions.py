"""The symptom intake: answers parsed as patients type them, follow-ups only where they matter, and an
urgency, a next step and a staff summary at the end. Inline trackers, the real domain, a temporary store."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.intake_answers import (
    INTAKE_SLOTS,
    QUESTIONS,
    parse_severity,
    parse_since,
    parse_temperature,
    parse_who,
    parse_yes_no,
)
from actions.triage import (
    ActionIntakeStart,
    ActionIntakeStop,
    ActionIntakeSummary,
    ActionIntakeToStaff,
    ValidateIntakeForm,
)
from bot.engine.models import merged_domain
from bot.settings import PROJECT_ROOT, Settings
from bot.store import Conversation, Handoff, session_scope

DOMAIN: dict[str, Any] = merged_domain(PROJECT_ROOT / "bot" / "assistant")
SENDER = "conv-intake-1"
MONDAY = date(2026, 11, 23)


def user_event(text: str, intent: str = "inform") -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return {"event": "user", "text": text, "parse_data": parse}


def form_tracker(slots: dict[str, Any], requested: str | None, answer: str | None) -> Tracker:
    """The tracker the action server gets after the patient answered ``requested`` with ``answer``."""
    events: list[dict[str, Any]] = [user_event(answer or "")]
    slots = {**slots, "requested_slot": requested}
    if requested and answer is not None:
        slots[requested] = answer
        events.append({"event": "slot", "name": requested, "value": answer})
    return Tracker(SENDER, slots, events[0]["parse_data"], events, False, None,
                   {"name": "intake_form"}, "action_listen")


def form_turn(slots: dict[str, Any], requested: str | None, answer: str | None) -> tuple[dict[str, Any], list[str]]:
    """Run the form's validation once: the slots after it, and the responses it sent."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateIntakeForm().run(dispatcher, form_tracker(slots, requested, answer), DOMAIN))
    after = {**slots}
    if requested and answer is not None:
        after[requested] = answer
    for event in events:
        if event["event"] == "slot":
            after[event["name"]] = event["value"]
    return after, [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


def interview(answers: dict[str, str], start: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Answer every question the form asks from ``answers``; returns the slots and the slots asked, in order."""
    slots: dict[str, Any] = {name: None for name in INTAKE_SLOTS} | (start or {})
    slots, _ = form_turn(slots, None, None)  # activation: the first question
    asked: list[str] = []
    while slots.get("requested_slot"):
        requested = slots["requested_slot"]
        assert requested not in asked, f"asked {requested} twice"
        asked.append(requested)
        slots, said = form_turn(slots, requested, answers[requested])
        assert "utter_intake_unclear" not in said, (requested, answers[requested])
    return slots, asked


def run_action(action: Any, slots: dict[str, Any], text: str = "", intent: str = "inform") -> tuple[list[dict[str, Any]],
                                                                                                    list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    event = user_event(text, intent)
    tracker = Tracker(SENDER, slots, event["parse_data"], [event], False, None, {}, "intake_form")
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def stored(cfg: Settings) -> tuple[dict[str, Any], list[Handoff]]:
    with session_scope(cfg.database_url) as session:
        conversation = session.get(Conversation, SENDER)
        assert conversation is not None
        handoffs = list(session.scalars(select(Handoff).where(Handoff.conversation_id == SENDER)))
        session.expunge_all()
        return dict(conversation.flags or {}), handoffs


# -- answers as patients type them -----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "who", "age"), [
    ("my son, 4", "child", "4 years"), ("6 weeks", "child", "6 weeks"), ("me", "self", None),
    ("me, 34", "self", "34 years"), ("for my dad, 72", "other", "72 years"), ("my daughter is 7 months", "child",
                                                                               "7 months"),
    ("4yo", "child", "4 years"), ("newborn", "child", "2 weeks"), ("idk", None, None),
])
def test_who_and_age_are_read_from_one_answer(text: str, who: str | None, age: str | None) -> None:
    assert parse_who(text) == (who, age)


@pytest.mark.parametrize(("text", "severity"), [
    ("7", 7), ("7/10", 7), ("8 out of 10", 8), ("seven", 7), ("really bad", 8), ("mild", 3), ("not too bad", 3),
    ("worst pain ever", 10), ("6.5", 7), ("0", 0), ("12", None), ("whatever", None),
])
def test_severity_from_numbers_and_words(text: str, severity: int | None) -> None:
    assert parse_severity(text) == severity


@pytest.mark.parametrize(("text", "since"), [
    ("since yesterday", "1 day"), ("3 days", "3 days"), ("2 wks", "2 weeks"), ("this morning", "today"),
    ("last night", "1 day"), ("a week", "1 week"), ("couple of days", "2 days"), ("48 hrs", "2 days"),
    ("since friday", "3 days"), ("dunno", None),
])
def test_since_when_becomes_a_duration(text: str, since: str | None) -> None:
    assert parse_since(text, MONDAY) == since


@pytest.mark.parametrize(("text", "value"), [
    ("102.5", "102.5"), ("39.2c", "102.6"), ("39.2 °C", "102.6"), ("38", "100.4"), ("101 F", "101"),
    ("didn't check", "not taken"), ("no thermometer", "not taken"), ("normal", "normal"), ("hot", None),
    ("250", None),
])
def test_temperature_in_fahrenheit_or_celsius(text: str, value: str | None) -> None:
    assert parse_temperature(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("yes", "yes"), ("yeah a little", "yes"), ("y", "yes"), ("nope", "no"), ("no trouble", "no"),
    ("i don't think so", "no"), ("not sure", "unsure"), ("maybe", "unsure"), ("purple", None),
])
def test_yes_no_answers(text: str, value: str | None) -> None:
    assert parse_yes_no(text) == value


# -- the form asks only what matters ----------------------------------------------------------------------------
def test_a_rash_gets_the_four_core_questions_and_no_follow_ups(seeded: Settings) -> None:
    slots, asked = interview({"intake_who": "me, 40", "intake_symptom": "itchy rash on my arm",
                              "intake_since": "2 weeks", "intake_severity": "3/10"})
    assert asked == ["intake_who", "intake_symptom", "intake_since", "intake_severity"]
    assert (slots["intake_who"], slots["intake_age"], slots["intake_since"], slots["intake_severity"]) == (
        "self", "40 years", "2 weeks", "3")


def test_fever_asks_the_temperature_and_cough_asks_about_breathing(seeded: Settings) -> None:
    slots, asked = interview({"intake_who": "my son", "intake_age": "4", "intake_symptom": "fever and a cough",
                              "intake_since": "since yesterday", "intake_severity": "5",
                              "intake_temperature": "38.9 C", "intake_breathing": "no"})
    assert asked == ["intake_who", "intake_age", "intake_symptom", "intake_since", "intake_severity",
                     "intake_temperature", "intake_breathing"]
    assert slots["intake_temperature"] == "102" and slots["intake_breathing"] == "no"


def test_pregnancy_is_asked_for_belly_pain_in_an_adult_but_not_for_a_child(seeded: Settings) -> None:
    _, adult = interview({"intake_who": "me 28", "intake_symptom": "stomach cramps", "intake_since": "today",
                          "intake_severity": "4", "intake_pregnant": "no"})
    assert adult[-1] == "intake_pregnant"
    _, child = interview({"intake_who": "my daughter, 6", "intake_symptom": "stomach cramps",
                          "intake_since": "today", "intake_severity": "4"})
    assert "intake_pregnant" not in child


def test_an_unreadable_answer_is_asked_again(seeded: Settings) -> None:
    slots = {name: None for name in INTAKE_SLOTS} | {"intake_who": "self", "intake_age": "30 years",
                                                     "intake_symptom": "sore knee", "intake_since": "3 days"}
    after, said = form_turn(slots, "intake_severity", "whatever")
    assert said == ["utter_intake_unclear"]
    assert after["intake_severity"] is None and after["requested_slot"] == "intake_severity"


def test_a_baby_of_six_weeks_plus_a_fever_ends_the_questions_at_once(seeded: Settings) -> None:
    """Neither answer is an emergency alone (the gateway lets both through); together they are."""
    slots, asked = interview({"intake_who": "6 weeks", "intake_symptom": "feels warm, maybe a fever"})
    assert asked == ["intake_who", "intake_symptom"]
    assert slots["requested_slot"] is None


def test_pregnancy_plus_bleeding_ends_the_questions(seeded: Settings) -> None:
    slots, asked = interview({"intake_who": "me, 31", "intake_symptom": "cramps and bleeding",
                              "intake_since": "this morning", "intake_severity": "5", "intake_pregnant": "yes"})
    assert asked[-1] == "intake_pregnant" and slots["requested_slot"] is None
    messages, _ = run_action(ActionIntakeSummary(), slots)
    assert "911" in messages[0]["text"]


# -- starting and stopping ---------------------------------------------------------------------------------------
def test_the_first_message_answers_what_it_already_says(seeded: Settings) -> None:
    _, events = run_action(ActionIntakeStart(), {}, "my son has had a temp of 102 since yesterday",
                           "report_symptoms")
    set_to = {e["name"]: e["value"] for e in events if e["event"] == "slot" and e["value"] is not None}
    assert set_to == {"intake_symptom": "my son has had a temp of 102 since yesterday", "intake_who": "child",
                      "intake_temperature": "102", "intake_since": "1 day"}


def test_an_adult_saying_their_age_in_passing_is_not_asked_it_again(seeded: Settings) -> None:
    _, events = run_action(ActionIntakeStart(), {}, "sore throat n fever, im 44", "report_symptoms")
    set_to = {e["name"]: e["value"] for e in events if e["event"] == "slot" and e["value"] is not None}
    assert set_to["intake_who"] == "self" and set_to["intake_age"] == "44 years"


def test_a_duration_given_for_ones_own_age_is_asked_again_not_read_as_a_newborn(seeded: Settings) -> None:
    """"2 days" typed by someone about themselves answers "since when", not "how old": a newborn with a fever
    would be an emergency, and nobody two days old texts the clinic."""
    slots = {name: None for name in INTAKE_SLOTS} | {"intake_who": "self", "intake_symptom": "sore throat and fever"}
    after, said = form_turn(slots, "intake_age", "2 days")
    assert said == ["utter_intake_unclear"] and after["intake_age"] is None
    assert after.get("requested_slot", "intake_age") == "intake_age"  # the same question again


def test_a_generic_first_message_prefills_nothing(seeded: Settings) -> None:
    _, events = run_action(ActionIntakeStart(), {}, "i want to report some symptoms", "report_symptoms")
    assert all(e["value"] is None for e in events if e["event"] == "slot")


def test_never_mind_stops_and_forgets_the_answers(seeded: Settings) -> None:
    messages, events = run_action(ActionIntakeStop(), {"intake_symptom": "sore throat"}, "never mind", "nevermind")
    assert messages[0]["response"] == "utter_intake_stopped"
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert all(e["value"] is None for e in events if e["event"] == "slot")


def test_asking_for_a_person_mid_intake_hands_off_with_the_answers_so_far(seeded: Settings) -> None:
    messages, _ = run_action(ActionIntakeToStaff(), {"intake_who": "self", "intake_symptom": "sore throat"},
                             "can i talk to someone", "request_human")
    assert messages[0]["response"] == "utter_handoff_requested"
    flags, handoffs = stored(seeded)
    assert flags["intake"]["symptom"] == "sore throat" and flags["intake"]["complete"] is False
    assert [h.summary["intake"] for h in handoffs] == [flags["intake"]]


# -- the end: urgency, next step, summary ------------------------------------------------------------------------
def finished(answers: dict[str, str]) -> dict[str, Any]:
    slots, _ = interview(answers)
    assert slots["requested_slot"] is None
    return slots


def test_emergency_by_combination_gets_911_and_a_staff_handoff(seeded: Settings) -> None:
    slots = finished({"intake_who": "my baby, 6 weeks", "intake_symptom": "fever"})
    messages, events = run_action(ActionIntakeSummary(), slots)
    assert "Call 911" in messages[0]["text"] and messages[1]["response"] == "utter_intake_staff_alerted"
    flags, handoffs = stored(seeded)
    assert flags["intake"]["urgency"] == "emergency" and "infant_fever" in flags["red_flags"]
    assert [(h.reason, h.summary["age"]) for h in handoffs] == [("urgent_triage", "6 weeks")]
    assert all(e["value"] is None for e in events if e["event"] == "slot")  # the answers are not kept in slots


def test_urgent_high_fever_is_handed_to_staff_for_a_same_day_visit(seeded: Settings) -> None:
    slots = finished({"intake_who": "my son, 4", "intake_symptom": "fever and cough", "intake_since": "1 day",
                      "intake_severity": "5", "intake_temperature": "103.5", "intake_breathing": "no"})
    messages, _ = run_action(ActionIntakeSummary(), slots)
    [message] = messages
    assert message["response"] == "utter_intake_urgent" and message["subject"] == "your child" and message["when"]
    flags, handoffs = stored(seeded)
    summary = flags["intake"]
    assert summary["urgency"] == "urgent" and summary["temperature_f"] == "103.5"
    assert any("103.5" in reason for reason in summary["reasons"])
    assert [(h.reason, h.status, h.summary["urgency"]) for h in handoffs] == [("urgent_triage", "open", "urgent")]
    with session_scope(seeded.database_url) as session:
        conversation = session.get(Conversation, SENDER)
        assert conversation is not None and conversation.state == "waiting_staff"


def test_severe_pain_is_urgent(seeded: Settings) -> None:
    slots = finished({"intake_who": "me 45", "intake_symptom": "my back hurts", "intake_since": "2 days",
                      "intake_severity": "9/10"})
    messages, _ = run_action(ActionIntakeSummary(), slots)
    assert messages[0]["response"] == "utter_intake_urgent"
    assert stored(seeded)[0]["intake"]["severity"] == 9


def test_a_rash_for_weeks_is_routine_with_booking_and_no_handoff(seeded: Settings) -> None:
    slots = finished({"intake_who": "me, 40", "intake_symptom": "itchy rash on my arm", "intake_since": "3 weeks",
                      "intake_severity": "2"})
    messages, _ = run_action(ActionIntakeSummary(), slots)
    assert [m["response"] for m in messages] == ["utter_intake_routine"]
    flags, handoffs = stored(seeded)
    assert flags["intake"]["urgency"] == "routine" and flags["intake"]["since"] == "3 weeks"
    assert handoffs == []


def test_a_cold_is_self_care_with_advice_from_the_documents_and_when_to_call(seeded: Settings) -> None:
    slots = finished({"intake_who": "me", "intake_age": "30", "intake_symptom": "runny nose and sneezing",
                      "intake_since": "2 days", "intake_severity": "2", "intake_breathing": "no"})
    messages, _ = run_action(ActionIntakeSummary(), slots)
    assert [m["response"] for m in messages] == ["utter_intake_self_care", "utter_intake_guide"]
    assert "call us" in messages[0]["advice"] and "911" in messages[0]["advice"]
    assert messages[1]["title"] and messages[1]["passage"]
    flags, handoffs = stored(seeded)
    assert flags["intake"]["urgency"] == "self_care" and handoffs == []


def test_no_advice_ever_names_a_dose() -> None:
    texts = [v["text"] for name, variants in DOMAIN["responses"].items() if name.startswith("utter_intake")
             for v in variants]
    assert texts and not any(re.search(r"\b\d+\s*(?:mg|ml|tablets?|pills?)\b", t, re.I) for t in texts)


def test_every_question_and_answer_of_the_intake_is_in_the_domain() -> None:
    assert DOMAIN["forms"]["intake_form"]["required_slots"] == list(INTAKE_SLOTS)
    for slot, question in QUESTIONS.items():
        assert question in DOMAIN["responses"], slot
        [mapping] = DOMAIN["slots"][slot]["mappings"]
        assert mapping["conditions"] == [{"active_loop": "intake_form", "requested_slot": slot}]
    filled = {"clinic_name", "phone", "address", "subject", "when", "advice", "title", "passage"}
    for name, variants in DOMAIN["responses"].items():
        if name.startswith("utter_intake") or name.startswith("utter_ask_intake"):
            for variant in variants:
                assert set(re.findall(r"{(\w+)}", variant["text"])) <= filled, name


def test_an_answer_to_a_question_not_yet_asked_is_kept_and_not_called_unclear(seeded: Settings) -> None:
    """Asked how bad it is, the patient gives the temperature: kept, and the same question comes again quietly."""
    slots = {name: None for name in INTAKE_SLOTS} | {"intake_who": "self", "intake_age": "44 years",
                                                     "intake_symptom": "sore throat and fever", "intake_since": "2 days"}
    after, said = form_turn(slots, "intake_severity", "101.8 F")
    assert after["intake_temperature"] == "101.8" and after["intake_severity"] is None
    assert "utter_intake_unclear" not in said


@pytest.mark.parametrize(("text", "breathing"), [
    ("no trouble breathing and i can swallow ok", "no"),
    ("no fever, trouble breathing", None),  # never read as a no: the question is asked
    ("no fever, short of breath", None),
])
def test_breathing_said_in_passing_is_only_taken_when_it_is_clearly_fine(seeded: Settings, text: str,
                                                                         breathing: str | None) -> None:
    slots = {name: None for name in INTAKE_SLOTS} | {"intake_who": "self", "intake_age": "44 years",
                                                     "intake_symptom": "cough and fever"}
    after, _ = form_turn(slots, "intake_since", text)
    assert after.get("intake_breathing") == breathing
