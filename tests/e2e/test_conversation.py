"""A whole conversation through every real layer: gateway -> Rasa engine -> action server -> clinic store."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from sqlalchemy import text

from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SENDER = "e2e-browser-0001"


def texts(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return " ".join(m["text"] for m in response.json()["messages"])


def test_four_turns_then_restart_keeps_the_history(stack: Stack) -> None:
    greeting = texts(stack.chat(SENDER, "hi"))
    assert "Maple Street Family Medicine" in greeting

    info = texts(stack.chat(SENDER, "what time do u close on friday"))
    assert "3 pm" in info and "412 Maple Street" in info and "+15555550123" in info

    scope = texts(stack.chat(SENDER, "who won the football game last night"))
    assert "can't help with that" in scope.lower() or "not sure" in scope.lower()

    human = texts(stack.chat(SENDER, "can i talk to a real person pls"))
    assert "staff" in human.lower()
    with stack.clinic_db().connect() as conn:
        state = conn.execute(text("SELECT state, handoff_reason FROM conversations WHERE channel_user = :u"),
                             {"u": SENDER}).one()
        conversation_id = conn.execute(text("SELECT id FROM conversations WHERE channel_user = :u"),
                                       {"u": SENDER}).scalar_one()
    assert tuple(state) == ("waiting_staff", "requested_human")
    before = stack.history(SENDER)
    assert len(before) == 8

    assert stack.stop() == 0
    stack.start(timeout_s=240)

    assert stack.history(SENDER) == before
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{conversation_id}/tracker", timeout=10).json()
    user_texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert user_texts[:4] == ["hi", "what time do u close on friday", "who won the football game last night",
                              "can i talk to a real person pls"]
    # and the conversation goes on
    assert "Maple Street" in texts(stack.chat(SENDER, "hello again"))


def test_a_message_sent_while_the_engine_is_down_is_kept_and_answered(stack: Stack) -> None:
    sender = "e2e-browser-0002"
    assert stack.chat(sender, "hello").status_code == 200
    os.kill(stack.child_pid("engine"), signal.SIGKILL)
    response = stack.chat(sender, "what are your hours", message_id="late-1")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["status"] == "pending"

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        history = stack.history(sender)
        if len(history) >= 4:
            break
        time.sleep(2)
    assert [m["author"] for m in history] == ["patient", "bot", "patient", "bot"]
    assert "Mon-Tue 8 am-5 pm" in str(history[3]["text"])
    # the page retrying the same message gets the stored answer; the engine sees it once
    again = stack.chat(sender, "what are your hours", message_id="late-1")
    assert again.json()["status"] == "duplicate"
    assert len(stack.history(sender)) == 4
