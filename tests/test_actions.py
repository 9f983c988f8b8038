"""Actions run against inline trackers and the real (temporary) clinic store."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.clinic import (
    ActionAcknowledge,
    ActionCheckScope,
    ActionClinicInfo,
    ActionDefaultFallback,
    ActionGreet,
    ActionNotYetAvailable,
    ActionOutOfScope,
    knowledge_question,
)
from actions.handoff import ActionRequestHuman
from bot.settings import Settings
from bot.store import Conversation, Handoff, session_scope

DOMAIN: dict[str, Any] = {}


def tracker(sender: str = "conv-0001", intent: str = "greet", text: str = "hi") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(sender, {}, latest, [{"event": "user", "text": text, "parse_data": latest}], False, None, {},
                   "action_listen")


def run(action: Any, t: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, t, DOMAIN))
    return dispatcher.messages


def test_greeting_names_the_clinic_from_settings(seeded: Settings) -> None:
    [message] = run(ActionGreet(), tracker())
    assert message["response"] == "utter_greet"
    assert message["clinic_name"] == "Maple Street Family Medicine"


def test_clinic_info_gives_hours_address_and_phone_from_settings(seeded: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    [message] = run(ActionClinicInfo(), tracker(intent="clinic_info", text="when r u open"))
    assert message["response"] == "utter_clinic_info"
    assert message["address"] == seeded.clinic.address
    assert message["phone"] == seeded.clinic.phone
    assert "Wed 8 am-7 pm" in message["hours"]


def test_request_human_marks_the_conversation_waiting_for_staff(seeded: Settings) -> None:
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id="conv-0001", channel="web", channel_user="browser-1234"))
    [message] = run(ActionRequestHuman(), tracker(intent="request_human", text="can i talk to a person"))
    assert message["response"] == "utter_handoff_requested"
    assert message["when"]
    with session_scope(seeded.database_url) as session:
        conversation = session.get(Conversation, "conv-0001")
        assert conversation is not None and conversation.state == "waiting_staff"
        assert conversation.handoff_reason == "requested_human"
        handoffs = list(session.scalars(select(Handoff).where(Handoff.conversation_id == "conv-0001")))
        assert [h.status for h in handoffs] == ["open"]

    [again] = run(ActionRequestHuman(), tracker(intent="request_human", text="hello?? human pls"))
    assert again["response"] == "utter_handoff_already_waiting"
    with session_scope(seeded.database_url) as session:
        assert len(list(session.scalars(select(Handoff)))) == 1


def test_out_of_scope_and_fallback_offer_help_with_the_clinic_phone(seeded: Settings) -> None:
    [scope] = run(ActionOutOfScope(), tracker(intent="out_of_scope", text="whats the weather"))
    [fallback] = run(ActionDefaultFallback(), tracker(intent="nlu_fallback", text="blorp"))
    assert scope["response"] == "utter_out_of_scope" and fallback["response"] == "utter_default"
    assert scope["phone"] == seeded.clinic.phone


def test_every_response_an_action_sends_exists_in_the_domain_with_its_variables() -> None:
    """The domain's templates must be fillable by what the actions pass (else Rasa prints {name})."""
    import re
    from pathlib import Path

    from bot.engine.models import merged_domain
    from bot.settings import PROJECT_ROOT

    domain = merged_domain(PROJECT_ROOT / "bot" / "assistant")
    sources = "\n".join(p.read_text() for p in Path("actions").glob("*.py"))
    for name in set(re.findall(r'response="(utter_\w+)"', sources)):
        assert name in domain["responses"], name
        for variant in domain["responses"][name]:
            for var in re.findall(r"{(\w+)}", variant["text"]):
                assert var in {"clinic_name", "phone", "address", "hours", "when", "day_hours", "after_hours"}, (name, var)


class _Answers:
    """Stands in for the knowledge pipeline: a grounded answer only for what it knows."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def answer(self, question: str) -> Any:
        from knowledge.answer import Answer

        self.asked.append(question)
        if "aetna" in question:
            return Answer("Yes, we accept Aetna plans. Source: Insurance we accept", ["Insurance we accept"], True)
        if "antibiotic" in question:
            return Answer("I can't say which medicine to take. I'm passing your question to our care team.", [],
                          False, "policy:medicine", handoff="medical_question")
        return Answer("I'm passing your question to the front desk.", [], False, "low_similarity")


def test_clinic_questions_beyond_contact_details_come_from_the_knowledge_store(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = _Answers()
    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: answers)
    [insurance] = run(ActionClinicInfo(), tracker(intent="clinic_info", text="do u take aetna"))
    assert insurance["text"].endswith("Source: Insurance we accept")
    [hours] = run(ActionClinicInfo(), tracker(intent="clinic_info", text="what time do you close today"))
    assert hours["response"] == "utter_hours_on_day" and hours["day_hours"].startswith("On ")  # today's, by name
    assert answers.asked == ["do u take aetna"]  # hours come from settings without a search
    [unknown] = run(ActionClinicInfo(), tracker(intent="clinic_info", text="is dr patel nice"))
    assert unknown["response"] == "utter_clinic_info"  # nothing grounded: the settings answer


def test_fallback_answers_an_open_question_the_documents_cover(seeded: Settings,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: _Answers())
    [known] = run(ActionDefaultFallback(), tracker(intent="nlu_fallback", text="aetna ppo accepted??"))
    assert "Source: Insurance we accept" in known["text"]
    [unknown] = run(ActionDefaultFallback(), tracker(intent="nlu_fallback", text="blorp"))
    assert unknown["response"] == "utter_default"


def test_a_billing_question_the_documents_answer_is_answered_and_others_are_offered_a_person(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: _Answers())
    [known, _] = run(ActionNotYetAvailable(), tracker(intent="billing_question", text="do you take aetna"))
    assert known["text"].endswith("Source: Insurance we accept")
    [other] = run(ActionNotYetAvailable(), tracker(intent="billing_question", text="pay my bill of 40 dollars"))
    assert other["response"] == "utter_offer_billing"


def test_a_medicine_question_is_refused_and_the_conversation_goes_to_the_care_team(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import Conversation, Handoff, session_scope

    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: _Answers())
    [refused] = run(ActionDefaultFallback(), tracker(sender="conv-abx", intent="nlu_fallback",
                                                     text="which antibiotic should i take"))
    assert "care team" in refused["text"]
    with session_scope(seeded.database_url) as session:
        [handoff] = session.query(Handoff).filter_by(conversation_id="conv-abx").all()
        assert handoff.reason == "medical_question"
        assert session.get(Conversation, "conv-abx").state == "waiting_staff"  # type: ignore[union-attr]


def follow_up(text: str, intent: str, previous: str = "action_clinic_info") -> Tracker:
    """A tracker whose previous turn was answered by ``previous`` and whose latest message is ``text``."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": "wat time do u close on fri", "parse_data": {}},
              {"event": "action", "name": "action_check_scope"}, {"event": "action", "name": previous},
              {"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
    return Tracker("conv-0001", {}, latest, events, False, None, {}, "action_listen")


def test_clinic_info_names_the_day_asked_about(seeded: Settings) -> None:
    [friday] = run(ActionClinicInfo(), tracker(intent="clinic_info", text="wat time do u close on fri"))
    assert friday["response"] == "utter_hours_on_day"
    assert friday["day_hours"] == "On Friday we're open 8 am to 3 pm."
    [weekend] = run(ActionClinicInfo(), tracker(intent="clinic_info", text="r u open weekends"))
    assert weekend["day_hours"] == "On Saturday we're closed. On Sunday we're closed."


@pytest.mark.parametrize(("action", "intent", "text", "said"), [
    (ActionAcknowledge(), "deny", "n saturday?", "On Saturday we're closed."),
    (ActionOutOfScope(), "out_of_scope", "what about sun", "On Sunday we're closed."),
    (ActionDefaultFallback(), "nlu_fallback", "and wednesday", "On Wednesday we're open 8 am to 7 pm."),
])
def test_a_short_follow_up_to_the_hours_answer_gets_that_days_hours(seeded: Settings, action: Any, intent: str,
                                                                     text: str, said: str) -> None:
    """Whatever intent the engine gives "n saturday?", after the hours it asks about Saturday's hours."""
    [message] = run(action, follow_up(text, intent))
    assert message["response"] == "utter_hours_on_day" and message["day_hours"] == said


def test_a_day_said_after_another_answer_is_not_read_as_an_hours_question(seeded: Settings) -> None:
    [message] = run(ActionAcknowledge(), follow_up("no saturday is fine", "deny", previous="action_greet"))
    assert message["response"] == "utter_anything_else"
    [scope] = run(ActionOutOfScope(), follow_up("what's the best beach to visit on a sunday afternoon in the summer",
                                                "out_of_scope"))
    assert scope["response"] == "utter_out_of_scope"


@pytest.mark.parametrize(("action", "intent", "text"), [
    (ActionDefaultFallback(), "nlu_fallback", "and if i need someone after hrs?"),
    (ActionClinicInfo(), "clinic_info", "who do i call at night"),
    (ActionDefaultFallback(), "inform", "what if im sick when ur closed"),
])
def test_after_hours_questions_get_the_clinics_after_hours_line(seeded: Settings, action: Any, intent: str,
                                                                 text: str) -> None:
    [message] = run(action, follow_up(text, intent))
    assert message["response"] == "utter_after_hours"
    assert message["after_hours"] == seeded.clinic.after_hours and "nurse line" in message["after_hours"]


def test_a_day_follow_up_the_engine_read_as_booking_is_sent_to_the_hours(seeded: Settings,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """After the hours answer, "and thursday then?" asks Thursday's hours (the engine had it as a booking); with
    a booking word it stays a booking."""
    monkeypatch.setattr("actions.clinic.second_opinion", _no_opinion)
    events = asyncio.run(ActionCheckScope().run(CollectingDispatcher(), follow_up("and thursday then?",
                                                                                   "book_appointment"), DOMAIN))
    assert [e["event"] for e in events] == ["rewind", "action", "user"]
    assert events[-1]["parse_data"]["intent"]["name"] == "clinic_info"
    kept = asyncio.run(ActionCheckScope().run(CollectingDispatcher(), follow_up("can i book thursday then",
                                                                                 "book_appointment"), DOMAIN))
    assert not kept or kept[-1]["parse_data"]["intent"]["name"] != "clinic_info"


async def _no_opinion(tracker: Tracker) -> None:
    return None


def test_a_plan_named_alone_is_asked_as_an_insurance_question() -> None:
    def said(text: str, plan: str) -> Tracker:
        latest = {"text": text, "intent": {"name": "billing_question", "confidence": 0.6},
                  "entities": [{"entity": "insurer", "value": plan}]}
        return Tracker("conv-0001", {}, latest, [], False, None, {}, "action_listen")

    assert knowledge_question(said("and humana??", "humana")) == "do you take humana insurance"
    assert knowledge_question(said("is my visit covered if i have humana through my job", "humana")) == \
        "is my visit covered if i have humana through my job insurance"


def test_a_short_follow_up_is_searched_with_the_question_it_leans_on() -> None:
    def after(first: str, answered_by: str, text: str) -> Tracker:
        latest = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": []}
        events = [{"event": "user", "text": first, "parse_data": {}}, {"event": "action", "name": answered_by},
                  {"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
        return Tracker("conv-0001", {}, latest, events, False, None, {}, "action_listen")

    asked = "what is a good ldl number"
    assert knowledge_question(after(asked, "action_default_fallback", "and for hdl?")) == f"{asked} and for hdl?"
    assert knowledge_question(after(asked, "action_default_fallback", "142?")) == f"{asked} 142?"
    # a new question stands alone, and so does a follow-up to something the documents did not answer
    assert knowledge_question(after(asked, "action_default_fallback", "where do i park")) == "where do i park"
    assert knowledge_question(after(asked, "action_greet", "and for hdl?")) == "and for hdl?"


def test_a_chain_of_day_follow_ups_keeps_to_the_hours(seeded: Settings) -> None:
    """The second follow-up comes after an hours reply sent by another action (the engine had read the first
    follow-up as a "no"): it is still about the hours."""
    latest = {"text": "thursday?", "intent": {"name": "out_of_scope", "confidence": 0.5}, "entities": []}
    events = [{"event": "user", "text": "no sunday?", "parse_data": {}}, {"event": "action", "name": "action_acknowledge"},
              {"event": "bot", "text": "On Sunday we're closed.", "metadata": {"utter_action": "utter_hours_on_day"}},
              {"event": "action", "name": "action_listen"}, {"event": "user", "text": "thursday?", "parse_data": latest}]
    [message] = run(ActionOutOfScope(), Tracker("conv-0001", {}, latest, events, False, None, {}, "action_listen"))
    assert message["response"] == "utter_hours_on_day" and message["day_hours"].startswith("On Thursday")
