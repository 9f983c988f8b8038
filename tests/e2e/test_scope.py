"""Off-topic stays off-topic, and what the assistant cannot do by message ends with a person, through every real
layer: gateway -> Rasa engine (the trained model) -> action server (the scope rule, MiniLM) -> clinic store."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import text

from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCOPE_REPLY = "can't help with that"

# Written for this test, not trained on; several share words with clinic matters (book, bill, appointment).
# The classifier alone reads this clinic message as off-topic (a flight); the nearest examples are reschedules.
REROUTED = "my flight got moved so i need to change my appointment"
OFF_TOPIC = [
    "what's the best way to get from chicago to st louis by train",
    "my truck's transmission is slipping, is it worth fixing",
    "who is playing at the jazz festival this summer",
    "which phone carrier gives the most data for the money",
    "my cable company billed me for a box i returned",
    "can you reschedule my appointment at the nail salon",
]
CLINIC = [
    ("what time do you open on monday", "Maple Street"),
    ("can i make an appointment for a physical", "full name"),
]


def texts(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return " ".join(m["text"] for m in response.json()["messages"])


def test_a_clinic_message_the_engine_reads_as_off_topic_is_re_routed_to_its_flow(stack: Stack) -> None:
    """Whatever the classifier makes of it, the patient's reschedule starts; when the classifier alone turns the
    message away (it did for REROUTED with earlier training data), the scope rule re-routes the turn once."""
    parsed = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": REROUTED}, timeout=30).json()
    turned_away = parsed["intent"]["name"] == "out_of_scope"
    # The action server builds the examples' vectors at start (about 2 s on quiet cores, longer on busy ones);
    # until then a turn gets the engine's answer. Each try is a new conversation.
    deadline = time.monotonic() + 300
    for n in range(1000):
        sender = f"e2e-scope-warm-{n}"
        reply = texts(stack.chat(sender, REROUTED))
        if SCOPE_REPLY not in reply:
            break
        assert time.monotonic() < deadline, f"the scope check never answered: {reply}"
        time.sleep(5)
    assert "full name" in reply, reply  # the reschedule flow starts by verifying the patient
    events = httpx.get(f"{stack.rasa_url}/conversations/{_conversation_id(stack, sender)}/tracker",
                       timeout=10).json()["events"]
    intents = [e["parse_data"]["intent"]["name"] for e in events if e["event"] == "user"]
    if turned_away:
        assert [e["event"] for e in events].count("rewind") == 1
        assert intents == ["out_of_scope", "reschedule_appointment"]
    else:
        assert intents == ["reschedule_appointment"]


def test_off_topic_questions_get_the_scope_reply_and_clinic_ones_do_not(stack: Stack) -> None:
    replies = {message: texts(stack.chat(f"e2e-scope-{n}", message)) for n, message in enumerate(OFF_TOPIC)}
    turned_away = [m for m, reply in replies.items() if SCOPE_REPLY in reply]
    assert len(turned_away) >= len(OFF_TOPIC) - 1, replies  # the bar is 0.9 on the blind set
    assert all('"person"' in replies[m] for m in turned_away), replies  # the way to a person, not a loop
    for n, (message, expected) in enumerate(CLINIC):
        reply = texts(stack.chat(f"e2e-scope-clinic-{n}", message))
        assert SCOPE_REPLY not in reply and expected in reply, reply


def test_a_bill_question_offers_a_person_and_yes_hands_the_conversation_over(stack: Stack) -> None:
    sender = "e2e-scope-bill"
    offer = texts(stack.chat(sender, "why was i charged twice for my last visit"))
    assert "billing" in offer and "reply yes" in offer.lower(), offer
    handed = texts(stack.chat(sender, "yes please"))
    assert "front desk" in handed or "staff" in handed, handed
    with stack.clinic_db().connect() as conn:
        state = conn.execute(text("SELECT state FROM conversations WHERE channel_user = :u"), {"u": sender}).scalar()
    assert state == "waiting_staff"


def test_a_records_request_offers_a_person_and_yes_hands_the_conversation_over(stack: Stack) -> None:
    sender = "e2e-scope-records"
    offer = texts(stack.chat(sender, "my new gp in madison needs my records, could you send them"))
    assert "records" in offer and "reply yes" in offer.lower() and SCOPE_REPLY not in offer, offer
    texts(stack.chat(sender, "yes"))
    with stack.clinic_db().connect() as conn:
        state = conn.execute(text("SELECT state FROM conversations WHERE channel_user = :u"), {"u": sender}).scalar()
        summary = conn.execute(text("SELECT h.summary FROM handoffs h JOIN conversations c ON c.id = h.conversation_id"
                                    " WHERE c.channel_user = :u"), {"u": sender}).scalar()
    assert state == "waiting_staff" and "records" in str(summary)


def _conversation_id(stack: Stack, sender: str) -> str:
    with stack.clinic_db().connect() as conn:
        return str(conn.execute(text("SELECT id FROM conversations WHERE channel_user = :u"),
                                {"u": sender}).scalar_one())
