"""A symptom intake through every real layer: gateway -> Rasa engine (intake_form) -> action server -> store."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from tests.e2e.stack import Stack, as_json

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SENDER = "e2e-browser-intake-1"


def said(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return " ".join(m["text"] for m in response.json()["messages"])


def test_a_child_with_a_high_fever_is_asked_one_question_at_a_time_then_handed_to_staff(stack: Stack) -> None:
    # the first message already says who and what: the form goes straight to the child's age
    assert "How old is your child" in said(stack.chat(SENDER, "my son has a fever and a cough"))
    assert "Since when" in said(stack.chat(SENDER, "4"))
    assert "0 (not at all) to 10" in said(stack.chat(SENDER, "since yesterday"))
    assert "highest temperature" in said(stack.chat(SENDER, "6"))
    assert "trouble breathing" in said(stack.chat(SENDER, "39.8 c"))
    final = said(stack.chat(SENDER, "no"))
    assert "see your child today" in final and "Maple Street Family Medicine" in final

    with stack.clinic_db().connect() as conn:
        state, flags = conn.execute(text("SELECT state, flags FROM conversations WHERE channel_user = :u"),
                                    {"u": SENDER}).one()
        reason, summary = conn.execute(text(
            "SELECT h.reason, h.summary FROM handoffs h JOIN conversations c ON c.id = h.conversation_id "
            "WHERE c.channel_user = :u"), {"u": SENDER}).one()
    intake = as_json(flags)["intake"]
    assert state == "waiting_staff" and reason == "urgent_triage"
    assert intake == as_json(summary)
    assert (intake["for"], intake["age"], intake["since"], intake["severity"], intake["temperature_f"],
            intake["trouble_breathing"], intake["urgency"]) == ("child", "4 years", "1 day", 6, "103.6", "no",
                                                                 "urgent")


def test_never_mind_in_the_middle_stops_the_questions(stack: Stack) -> None:
    sender = "e2e-browser-intake-2"
    assert "Who is this for" in said(stack.chat(sender, "i feel sick"))
    assert "stopped the questions" in said(stack.chat(sender, "never mind"))
    assert "Maple Street" in said(stack.chat(sender, "hi"))  # the assistant is out of the form
