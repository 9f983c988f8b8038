"""Two gateways in front of one clinic store (``clinicbot up --gateways 2``), every request to either of them, as a
load balancer would spread them: pushes and staff replies reach a page connected to the other gateway, a message
or a Twilio webhook repeated on both is answered once, and hours saved on one gateway's settings page are what
the other gateway and the assistant (through the action server) say within seconds, without a restart.

Runs on the run's backend: SQLite files on one host, or PostgreSQL + Redis under ``make test-scale``."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from twilio.request_validator import RequestValidator
from websockets.sync.client import ClientConnection, connect

from tests.console_helpers import add_staff, csrf_from
from tests.e2e.stack import Stack
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PUBLIC_URL = "http://clinic.example.test"  # what the load balancer answers to, and Twilio signs (http: an https
# public URL marks the console cookies Secure, and this client talks plain http to the gateways)
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_twilio: FakeTwilio) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("scale-out")) / "data", gateways=2, extra_env={
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": FROM_NUMBER,
        "CLINICBOT_SMS__API_BASE_URL": fake_twilio.url, "CLINICBOT_PUBLIC_URL": PUBLIC_URL,
        "CLINICBOT_LLM__BACKEND": "none"})
    try:
        running.start()
        url = running.database_url or f"sqlite:///{running.data_dir / 'clinic.db'}"
        add_staff(url, "olga", PASSWORD, role="owner")
        yield running
    finally:
        running.destroy()


def next_event(socket: ClientConnection, kind: str, timeout_s: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        event: dict[str, Any] = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event in {timeout_s} s")


@contextmanager
def signed_in(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        page = client.get("/console/login")
        client.post("/console/login", data={"username": "olga", "password": PASSWORD,
                                            "csrf_token": csrf_from(page.text)})
        yield client


def conversation_id(stack: Stack, channel_user: str) -> str:
    with stack.clinic_db().connect() as conn:
        return str(conn.execute(text("SELECT id FROM conversations WHERE channel_user = :u"),
                                {"u": channel_user}).scalar_one())


def test_answers_and_staff_replies_reach_a_page_connected_to_the_other_gateway(stack: Stack) -> None:
    first, second = stack.urls
    sender = "scale-page-000001"
    with connect(f"{second.replace('http', 'ws')}/ws/chat?sender={sender}") as page:
        assert json.loads(page.recv(timeout=10))["type"] == "hello"
        answer = httpx.post(f"{first}/api/chat", json={"sender": sender, "message": "hi"}, timeout=60)
        assert answer.status_code == 200
        pushed = next_event(page, "message")["message"]
        assert pushed["author"] == "bot" and pushed["text"] == answer.json()["messages"][0]["text"]

        assert httpx.post(f"{first}/api/chat", json={"sender": sender, "message": "can i talk to a real person"},
                          timeout=60).status_code == 200
        conversation = conversation_id(stack, sender)
        with signed_in(first) as staff:
            csrf = csrf_from(staff.get(f"/console/conversations/{conversation}").text)
            staff.post(f"/console/conversations/{conversation}/claim", data={"csrf_token": csrf})
            staff.post(f"/console/conversations/{conversation}/reply",
                       data={"csrf_token": csrf, "text": "Olga from the front desk here."})
        deadline = time.monotonic() + 15
        while (event := next_event(page, "message")["message"])["author"] != "staff":
            assert time.monotonic() < deadline
        assert event["text"] == "Olga from the front desk here."
    # while staff hold it, the assistant stays silent whichever gateway the patient's message reaches
    held = httpx.post(f"{second}/api/chat", json={"sender": sender, "message": "thanks"}, timeout=60)
    assert held.status_code == 200 and held.json()["status"] == "with_staff" and held.json()["messages"] == []


def test_the_same_message_sent_to_both_gateways_at_once_is_answered_once(stack: Stack) -> None:
    sender = "scale-retry-000001"
    results: list[httpx.Response] = []

    def send(url: str) -> None:
        results.append(httpx.post(f"{url}/api/chat", json={"sender": sender, "message": "what are your hours",
                                                            "message_id": "m-1"}, timeout=60))

    threads = [threading.Thread(target=send, args=(url,)) for url in stack.urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.json()["status"] for r in results) == ["answered", "duplicate"]
    assert results[0].json()["messages"] == results[1].json()["messages"]
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{conversation_id(stack, sender)}/tracker", timeout=10).json()
    assert [e.get("text") for e in tracker["events"] if e["event"] == "user"] == ["what are your hours"]


def test_a_twilio_webhook_retried_on_the_other_gateway_is_answered_once(stack: Stack,
                                                                         fake_twilio: FakeTwilio) -> None:
    phone = "+15555557777"
    form = {"MessageSid": "SM" + "7" * 32, "From": phone, "To": FROM_NUMBER, "Body": "what are your hours"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}/sms/twilio", form)
    answers = [httpx.post(f"{url}/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
               for url in stack.urls]
    assert [a.status_code for a in answers] == [200, 200]
    deadline = time.monotonic() + 60
    while not [m for m in fake_twilio.sent if m["To"] == phone] and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # time enough for a second answer, if there were one
    bodies = [m["Body"] for m in fake_twilio.sent if m["To"] == phone]
    assert bodies and len(bodies) == len(set(bodies)) and "8 am" in " ".join(bodies)
    with stack.clinic_db().connect() as conn:
        inbound = conn.execute(text("SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                                    "WHERE c.channel_user = :p AND m.direction = 'in'"), {"p": phone}).scalar_one()
    assert inbound == 1


def settings_form(page: str, **changes: str) -> dict[str, str]:
    values = {name: html.unescape(value) for name, value in re.findall(r'<input[^>]* name="(\w+)" value="([^"]*)"',
                                                                        page)}
    values.update({name: html.unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)})
    rules = re.search(r'<textarea id="rules" name="rules"[^>]*>(.*?)</textarea>', page, re.S)
    values["rules"] = html.unescape(rules.group(1)) if rules else ""
    if re.search(r'name="reminders_enabled"\s+checked', page):
        values["reminders_enabled"] = "on"
    return {**values, **changes}


def test_hours_saved_on_one_gateway_are_what_the_assistant_and_the_other_gateway_say(stack: Stack) -> None:
    first, second = stack.urls
    sender = "scale-hours-000001"
    before = httpx.post(f"{second}/api/chat", json={"sender": sender, "message": "what are your hours"}, timeout=60)
    assert "Sat 9 am-12 pm" not in before.text
    with signed_in(first) as owner:
        page = owner.get("/console/settings").text
        saved = owner.post("/console/settings", data=settings_form(page, hours_sat="09:00-12:00"))
        assert saved.status_code == 200 and "Saved" in saved.text
    saved_at = time.monotonic()
    page_sees = assistant_says = None
    while time.monotonic() - saved_at < 15 and not (page_sees and assistant_says):
        if page_sees is None and "Sat 9 am-12 pm" in httpx.get(f"{second}/", timeout=10).text:
            page_sees = time.monotonic() - saved_at
        if assistant_says is None:
            answer = httpx.post(f"{second}/api/chat", json={"sender": sender, "message": "what are your hours"},
                                timeout=60)
            if "Sat 9 am-12 pm" in answer.text:
                assistant_says = time.monotonic() - saved_at
        time.sleep(0.5)
    assert page_sees is not None and page_sees < 6, "the other gateway's page kept the old hours"
    assert assistant_says is not None and assistant_says < 10, "the assistant kept the old hours"
