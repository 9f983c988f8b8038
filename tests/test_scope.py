"""Off-topic or clinic (actions/scope.py, actions/clinic.py): the rule that picks the reply, the second opinion
by meaning, and the actions that apply them. Fast: inline trackers, a hashing embedder instead of MiniLM."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.clinic import ActionCheckScope, ActionDefaultFallback, ActionNotYetAvailable, knowledge_question
from actions.handoff import ActionRequestHuman
from actions.scope import DECIDED, ExampleIndex, Opinion, decide, training_examples
from bot.settings import Settings
from bot.store import Conversation, Handoff, session_scope
from knowledge.embeddings import HashingEmbedder

OFF_TOPIC = Opinion(out_of_scope=1.0, intent="", clinic_similarity=0.2)
LIKE_BOOKING = Opinion(out_of_scope=0.0, intent="book_appointment", clinic_similarity=0.8)


# -- the rule ------------------------------------------------------------------------------------
def test_a_confident_clinic_reading_of_an_off_topic_message_gets_the_scope_reply() -> None:
    # "...a well reviewed book..." read as booking at 0.97: the nearest examples are all off-topic
    assert decide([("book_appointment", 0.97), ("clinic_info", 0.02)], False, OFF_TOPIC) == "out_of_scope"


def test_a_confident_off_topic_reading_of_a_clinic_message_goes_to_the_clinic_intent() -> None:
    # "my mom is out of her metformin" read as off-topic at 1.0, nearest examples are refills
    refills = Opinion(out_of_scope=0.0, intent="prescription_refill", clinic_similarity=0.7)
    assert decide([("out_of_scope", 1.0)], False, refills) == "prescription_refill"


def test_neither_opinion_decides_alone() -> None:
    some_doubt = Opinion(out_of_scope=0.35, intent="clinic_info", clinic_similarity=0.6)
    assert decide([("out_of_scope", 1.0)], False, some_doubt) == "out_of_scope"  # 0.3 + 0.245
    mostly_clinic = Opinion(out_of_scope=0.2, intent="reschedule_appointment", clinic_similarity=0.7)
    assert decide([("out_of_scope", 1.0)], False, mostly_clinic) == "reschedule_appointment"  # 0.3 + 0.14
    mostly_off = Opinion(out_of_scope=0.65, intent="billing_question", clinic_similarity=0.6)
    assert decide([("billing_question", 0.99)], False, mostly_off) == "billing_question"  # 0.455
    assert decide([("billing_question", 0.99)], False,
                  Opinion(out_of_scope=0.9, intent="billing_question", clinic_similarity=0.6)) == "out_of_scope"


def test_a_message_unlike_any_clinic_example_counts_as_off_topic_to_the_neighbours() -> None:
    far = Opinion(out_of_scope=0.0, intent="clinic_info", clinic_similarity=0.3)
    assert decide([("clinic_info", 0.99)], False, far) == "out_of_scope"


def test_symptom_reports_requests_for_a_person_and_small_talk_are_never_turned_away() -> None:
    for intent in ("report_symptoms", "request_human", "greet", "thank_you", "affirm", "nevermind", "inform"):
        assert decide([(intent, 0.9), ("out_of_scope", 0.1)], False, OFF_TOPIC) == intent


def test_an_unsure_turn_goes_to_a_clinic_intent_only_when_the_neighbours_name_one_of_the_two_best() -> None:
    ranking = [("check_appointment", 0.45), ("book_appointment", 0.4), ("clinic_info", 0.1)]
    assert decide(ranking, True, LIKE_BOOKING) == "book_appointment"
    labs = Opinion(out_of_scope=0.0, intent="lab_results", clinic_similarity=0.8)
    assert decide(ranking, True, labs) == "nlu_fallback"
    assert decide(ranking, True, OFF_TOPIC) == "out_of_scope"


def test_without_a_second_opinion_the_engine_decides() -> None:
    assert decide([("book_appointment", 0.97)], False, None) == "book_appointment"
    assert decide([("book_appointment", 0.4)], True, None) == "nlu_fallback"


# -- the second opinion ----------------------------------------------------------------------------
def test_the_training_examples_are_read_without_entity_markup() -> None:
    examples = training_examples()
    assert ("i need a follow up with dr. patel", "book_appointment") in examples
    assert {label for _, label in examples} >= {"out_of_scope", "book_appointment", "clinic_info"}
    assert not [text for text, _ in examples if "](" in text]


def test_the_nearest_examples_vote_and_their_vectors_are_cached(tmp_path: Path) -> None:
    examples = [("what is the weather today", "out_of_scope"), ("weather forecast for tomorrow", "out_of_scope"),
                ("is it going to rain today", "out_of_scope"), ("cancel my appointment", "cancel_appointment"),
                ("please cancel my appointment tomorrow", "cancel_appointment")]
    embedder = HashingEmbedder()
    index = ExampleIndex(embedder, examples, tmp_path, neighbours=2)
    weather = index.opinion("what is the weather forecast", wait_s=10)
    assert weather is not None and weather.out_of_scope > 0.9
    cancel = index.opinion("cancel my appointment please", wait_s=10)
    assert cancel is not None and cancel.intent == "cancel_appointment" and cancel.out_of_scope < 0.5
    assert cancel.clinic_similarity > 0.9
    assert embedder.calls[0] == len(examples) and list(tmp_path.glob("scope-examples-*.npy"))

    again = HashingEmbedder()
    ExampleIndex(again, examples, tmp_path, neighbours=2).opinion("hello", wait_s=10)
    assert len(examples) not in again.calls  # loaded from the cache, not embedded again


def test_an_index_that_is_not_ready_in_time_gives_no_opinion(tmp_path: Path) -> None:
    class Slow(HashingEmbedder):
        def embed(self, texts: list[str]) -> list[list[float]]:
            import time

            time.sleep(0.5)
            return super().embed(texts)

    index = ExampleIndex(Slow(), [("hi", "greet")], tmp_path)
    assert index.opinion("hello", wait_s=0.01) is None  # the turn goes on with the engine's answer
    assert index.opinion("hello", wait_s=10) is not None


# -- the actions -----------------------------------------------------------------------------------
DOMAIN: dict[str, Any] = {}


def tracker(text: str, intent: str, ranking: list[tuple[str, float]], *, active_loop: str | None = None,
            events: list[dict[str, Any]] | None = None, **extra: Any) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": ranking[0][1]}, "entities": [],
              "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking], "message_id": "m1",
              "metadata": {"channel": "web"}, **extra}
    return Tracker("conv-0001", {}, latest, events or [{"event": "user", "text": text, "parse_data": latest}],
                   False, None, {"name": active_loop} if active_loop else {}, "action_listen")


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    return dispatcher.messages, events


def opinion_is(monkeypatch: pytest.MonkeyPatch, opinion: Opinion | None) -> None:
    async def fake(tracker: Tracker) -> Opinion | None:
        return opinion

    monkeypatch.setattr("actions.clinic.second_opinion", fake)


def test_an_off_topic_message_read_as_booking_is_re_routed_to_the_scope_reply(monkeypatch: pytest.MonkeyPatch,
                                                                              settings: Settings) -> None:
    opinion_is(monkeypatch, OFF_TOPIC)
    text = "which novel has the best reviews this year"
    messages, events = run(ActionCheckScope(), tracker(text, "book_appointment", [("book_appointment", 0.96)]))
    assert messages == []
    assert [e["event"] for e in events] == ["rewind", "action", "user"]
    assert events[1]["name"] == "action_listen"
    user = events[2]
    assert user["text"] == text and user["parse_data"]["intent"]["name"] == "out_of_scope"
    assert user["parse_data"][DECIDED] is True and user["metadata"] == {"channel": "web"}


def test_the_check_lets_agreeing_decided_and_in_form_messages_through(monkeypatch: pytest.MonkeyPatch,
                                                                      settings: Settings) -> None:
    opinion_is(monkeypatch, LIKE_BOOKING)
    assert run(ActionCheckScope(), tracker("need an appt", "book_appointment", [("book_appointment", 0.9)])) == ([], [])
    opinion_is(monkeypatch, OFF_TOPIC)
    decided = tracker("x", "out_of_scope", [("out_of_scope", 1.0)], **{DECIDED: True})
    assert run(ActionCheckScope(), decided) == ([], [])
    in_form = tracker("friday", "book_appointment", [("book_appointment", 0.9)], active_loop="book_form")
    assert run(ActionCheckScope(), in_form) == ([], [])


def test_an_unsure_off_topic_message_gets_the_scope_reply(monkeypatch: pytest.MonkeyPatch, seeded: Settings) -> None:
    opinion_is(monkeypatch, OFF_TOPIC)
    ranking = [("clinic_info", 0.4), ("out_of_scope", 0.35)]
    [message], events = run(ActionDefaultFallback(), tracker("which phone plan is cheapest", "nlu_fallback", ranking))
    assert message["response"] == "utter_out_of_scope" and events == []


def test_an_unsure_clinic_message_goes_to_the_intent_both_opinions_name(monkeypatch: pytest.MonkeyPatch,
                                                                        seeded: Settings) -> None:
    opinion_is(monkeypatch, LIKE_BOOKING)
    ranking = [("check_appointment", 0.45), ("book_appointment", 0.4)]
    messages, events = run(ActionDefaultFallback(), tracker("any time for my son friday?", "nlu_fallback", ranking))
    assert messages == [] and [e["event"] for e in events] == ["rewind", "action", "user"]
    assert events[2]["parse_data"]["intent"]["name"] == "book_appointment"
    assert events[2]["text"] == "any time for my son friday?"


class _Answers:
    def __init__(self, known: str) -> None:
        self.known = known

    def answer(self, question: str) -> Any:
        from knowledge.answer import Answer

        if self.known in question:
            return Answer("We take Aetna.\nSource: Insurance plans we accept", ["Insurance plans we accept"], True)
        return Answer("I'm passing your question to the front desk.", [], False, "low_similarity")


def test_a_bill_the_assistant_cannot_look_at_gets_a_person_offered_and_yes_hands_it_over(
    monkeypatch: pytest.MonkeyPatch, seeded: Settings
) -> None:
    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: _Answers("aetna"))
    ask = tracker("why was i charged $80", "billing_question", [("billing_question", 0.95)])
    [offer], _ = run(ActionNotYetAvailable(), ask)
    assert offer["response"] == "utter_offer_billing" and offer["phone"] == seeded.clinic.phone

    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id="conv-0001", channel="web", channel_user="browser-1"))
    ask_event = {"event": "user", "text": "why was i charged $80", "parse_data": ask.latest_message}
    history = [ask_event, {"event": "action", "name": "action_check_scope"},
               {"event": "action", "name": "action_not_yet_available"}, {"event": "action", "name": "action_listen"}]
    yes = tracker("yes", "affirm", [("affirm", 0.99)])
    yes.events = [*history, {"event": "user", "text": "yes", "parse_data": yes.latest_message}]
    [handed], _ = run(ActionRequestHuman(), yes)
    assert handed["response"] == "utter_handoff_requested"
    with session_scope(seeded.database_url) as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.status == "open" and handoff.summary == {"topic": "billing"}


def test_an_insurance_question_the_documents_answer_gets_their_answer_then_the_offer(
    monkeypatch: pytest.MonkeyPatch, seeded: Settings
) -> None:
    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: _Answers("aetna"))
    [answer, offer], _ = run(ActionNotYetAvailable(), tracker("do you take aetna", "billing_question",
                                                              [("billing_question", 0.9)]))
    assert answer["text"].endswith("Source: Insurance plans we accept")
    assert offer["response"] == "utter_offer_billing_after_answer"
    [refill], _ = run(ActionNotYetAvailable(), tracker("refill my lisinopril", "prescription_refill",
                                                      [("prescription_refill", 0.9)]))
    assert refill["response"] == "utter_offer_refill"


def test_a_health_plan_is_named_as_insurance_when_the_documents_are_asked() -> None:
    aetna = {"entity": "insurer", "value": "aetna", "start": 12, "end": 17}
    asked = tracker("do you take aetna", "billing_question", [("billing_question", 0.9)], entities=[aetna])
    assert knowledge_question(asked) == "do you take aetna insurance"
    said = tracker("is my aetna insurance ok", "billing_question", [("billing_question", 0.9)], entities=[aetna])
    assert knowledge_question(said) == "is my aetna insurance ok"
    assert knowledge_question(tracker("where do i park", "clinic_info", [("clinic_info", 0.9)])) == "where do i park"


def test_a_records_request_gets_a_person_offered_and_yes_hands_it_over_with_the_topic(
    monkeypatch: pytest.MonkeyPatch, seeded: Settings
) -> None:
    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: _Answers("aetna"))
    ask = tracker("fax my chart to my new doctor", "records_request", [("records_request", 0.93)])
    [offer], _ = run(ActionNotYetAvailable(), ask)
    assert offer["response"] == "utter_offer_records" and offer["phone"] == seeded.clinic.phone

    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id="conv-0001", channel="web", channel_user="browser-1"))
    history = [{"event": "user", "text": "fax my chart to my new doctor", "parse_data": ask.latest_message},
               {"event": "action", "name": "action_check_scope"},
               {"event": "action", "name": "action_not_yet_available"}, {"event": "action", "name": "action_listen"}]
    yes = tracker("yes", "affirm", [("affirm", 0.99)])
    yes.events = [*history, {"event": "user", "text": "yes", "parse_data": yes.latest_message}]
    [handed], _ = run(ActionRequestHuman(), yes)
    assert handed["response"] == "utter_handoff_requested"
    with session_scope(seeded.database_url) as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.summary == {"topic": "records"}


def test_a_question_the_care_team_must_answer_is_handed_over_without_a_second_offer(
    monkeypatch: pytest.MonkeyPatch, seeded: Settings
) -> None:
    from knowledge.answer import Answer

    class _Refuses:
        def answer(self, question: str) -> Answer:
            return Answer("I can't advise on medicines by message; I've passed this to our care team.", [], False,
                          "policy:medicine", handoff="medical_question")

    monkeypatch.setattr("actions.knowledge.get_answerer", lambda cfg: _Refuses())
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id="conv-0001", channel="web", channel_user="browser-1"))
    messages, _ = run(ActionNotYetAvailable(), tracker("can i double my lisinopril until my refill comes",
                                                       "prescription_refill", [("prescription_refill", 0.9)]))
    assert [m.get("response") for m in messages] == [None] and "care team" in messages[0]["text"]
    with session_scope(seeded.database_url) as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.reason == "medical_question"
