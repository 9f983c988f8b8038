"""The staff console's HTTP contract: sign-in, sessions, CSRF, roles, the queue, claim/reply/hand back,
and the assistant staying silent while staff hold a conversation."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.cli import main as clinicbot
from bot.engine.client import RasaClient
from bot.identity.staff import authenticate, resume_session, start_session
from bot.runtime.gateway import create_app
from bot.settings import Settings
from bot.store import AuditEvent, Conversation, Handoff, Message, session_scope
from bot.store.models import utcnow
from tests.console_helpers import HANDOFF_REPLY, HandoffRasa, add_staff, csrf_from, sign_in

SENDER = "patient-page-0001"
PASSWORD = "correct horse battery"


@pytest.fixture
def rasa(seeded: Settings) -> HandoffRasa:
    return HandoffRasa(database_url=seeded.database_url)


@pytest.fixture
def client(seeded: Settings, rasa: HandoffRasa) -> Iterator[TestClient]:
    add_staff(seeded.database_url, "dana", PASSWORD)
    add_staff(seeded.database_url, "olga", PASSWORD, role="owner")
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook", transport=httpx.MockTransport(rasa.handler))
    with TestClient(create_app(seeded, engine)) as test_client:
        yield test_client


def chat(client: TestClient, text: str) -> httpx.Response:
    return client.post("/api/chat", json={"sender": SENDER, "message": text})


def patient_view(client: TestClient) -> list[tuple[str, str]]:
    messages = client.get("/api/chat/messages", params={"sender": SENDER}).json()["messages"]
    return [(m["author"], m["text"]) for m in messages]


def waiting_conversation(client: TestClient) -> str:
    assert chat(client, "I want to talk to a person").json()["messages"][0]["text"] == HANDOFF_REPLY
    conversation = client.app.state.conversations.find_conversation("web", SENDER)  # type: ignore[attr-defined]
    return str(conversation.id)


@pytest.mark.parametrize("path", ["/console", "/console/settings", "/console/conversations/abc"])
def test_signed_out_visitors_are_sent_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert client.post("/console/conversations/abc/claim", follow_redirects=False).status_code == 303


def test_wrong_password_and_a_forged_login_form_are_refused(client: TestClient) -> None:
    wrong = sign_in(client, "dana", "not the password")
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    assert sign_in(client, "nobody", PASSWORD).status_code == 401
    forged = client.post("/console/login", data={"username": "dana", "password": PASSWORD, "csrf_token": "guess"},
                         follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_the_full_handoff_claim_reply_hand_back_cycle(client: TestClient, rasa: HandoffRasa,
                                                      seeded: Settings) -> None:
    conversation_id = waiting_conversation(client)
    assert sign_in(client, "dana", PASSWORD).status_code == 303
    queue = client.get("/console")
    assert queue.status_code == 200 and "Asked for a person" in queue.text
    if "data-preview-pending" in queue.text:  # the PHI analyzer was still loading: the page asks for them after
        preview = client.get("/console/queue/previews").json()["previews"][conversation_id]
    else:
        preview = queue.text
    assert "talk to a person" in preview or "(preview hidden)" in preview

    page = client.get(f"/console/conversations/{conversation_id}")
    assert "I want to talk to a person" in page.text and HANDOFF_REPLY in html.unescape(page.text)
    with session_scope(seeded.database_url) as session:
        opened = session.scalars(select(AuditEvent).where(AuditEvent.action == "conversation_opened")).one()
        assert (opened.actor_type, opened.actor_id) == ("staff", "dana")
        assert opened.detail["conversation_id"] == conversation_id

    csrf = csrf_from(page.text)
    claimed = client.post(f"/console/conversations/{conversation_id}/claim", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert claimed.status_code == 303
    engine_calls = len(rasa.received)
    held = chat(client, "Are you there? My refill is urgent")
    assert held.status_code == 200 and held.json()["status"] == "with_staff" and held.json()["messages"] == []
    assert len(rasa.received) == engine_calls  # the assistant stays silent
    transcript = client.get(f"/console/conversations/{conversation_id}/messages").json()
    patient_said = [m["text"] for m in transcript["messages"] if m["author"] == "patient"]
    assert patient_said[-1] == "Are you there? My refill is urgent"

    client.post(f"/console/conversations/{conversation_id}/reply",
                data={"csrf_token": csrf, "text": "Hi, this is Dana at the front desk."})
    assert patient_view(client)[-1] == ("staff", "Hi, this is Dana at the front desk.")

    back = client.post(f"/console/conversations/{conversation_id}/handback", data={"csrf_token": csrf},
                       follow_redirects=False)
    assert back.status_code == 303
    answer = chat(client, "thanks, what are your hours")
    assert answer.json()["messages"][0]["text"] == "echo: thanks, what are your hours"
    with session_scope(seeded.database_url) as session:
        assert session.get(Conversation, conversation_id).state == "bot"  # type: ignore[union-attr]
        assert session.scalars(select(Handoff.status)).one() == "closed"
    assert "Nobody is waiting" in client.get("/console").text


def test_queue_previews_never_show_patient_identifiers(client: TestClient) -> None:
    chat(client, "I want a person. I am Maria Gonzalez, call me at 555-867-5309 or maria.g@example.com")
    sign_in(client, "dana", PASSWORD)
    queue = client.get("/console").text
    assert "Asked for a person" in queue
    for identifier in ("Gonzalez", "867-5309", "maria.g@example.com"):
        assert identifier not in queue


def test_posts_without_the_session_csrf_token_change_nothing(client: TestClient, seeded: Settings) -> None:
    conversation_id = waiting_conversation(client)
    sign_in(client, "dana", PASSWORD)
    for token in ("", "guessed-token"):
        response = client.post(f"/console/conversations/{conversation_id}/claim", data={"csrf_token": token})
        assert response.status_code == 403
    with session_scope(seeded.database_url) as session:
        assert session.get(Conversation, conversation_id).state == "waiting_staff"  # type: ignore[union-attr]


def test_one_staff_member_cannot_reply_in_a_conversation_another_claimed(client: TestClient, seeded: Settings) -> None:
    conversation_id = waiting_conversation(client)
    sign_in(client, "olga", PASSWORD)
    page = client.get(f"/console/conversations/{conversation_id}")
    client.post(f"/console/conversations/{conversation_id}/claim", data={"csrf_token": csrf_from(page.text)})
    client.cookies.clear()
    sign_in(client, "dana", PASSWORD)
    page = client.get(f"/console/conversations/{conversation_id}")
    assert "Claimed by olga" in page.text
    reply = client.post(f"/console/conversations/{conversation_id}/reply",
                        data={"csrf_token": csrf_from(page.text), "text": "hello"})
    assert "Claim the conversation before replying" in reply.text
    assert ("staff", "hello") not in patient_view(client)


def test_only_owners_reach_the_settings_page(client: TestClient) -> None:
    sign_in(client, "dana", PASSWORD)
    assert client.get("/console/settings").status_code == 403
    client.cookies.clear()
    sign_in(client, "olga", PASSWORD)
    assert client.get("/console/settings").status_code == 200


def test_sign_out_ends_the_session(client: TestClient) -> None:
    sign_in(client, "dana", PASSWORD)
    cookie = client.cookies.get("clinicbot_staff")
    csrf = csrf_from(client.get("/console").text)
    client.post("/console/logout", data={"csrf_token": csrf})
    client.cookies.set("clinicbot_staff", cookie or "")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_sessions_expire_when_idle_and_at_their_age_limit(seeded: Settings) -> None:
    add_staff(seeded.database_url, "sam", PASSWORD)
    idle, max_age = timedelta(minutes=30), timedelta(hours=12)
    start = utcnow()
    with session_scope(seeded.database_url) as session:
        user = authenticate(session, "sam", PASSWORD)
        assert user is not None
        token = start_session(session, user, idle=idle, now=start)
    with session_scope(seeded.database_url) as session:
        # used every 20 minutes: stays signed in, until the absolute limit
        at = start
        while at + timedelta(minutes=20) < start + max_age:
            at += timedelta(minutes=20)
            assert resume_session(session, token, idle=idle, max_age=max_age, now=at) is not None
        assert resume_session(session, token, idle=idle, max_age=max_age, now=start + max_age) is None
    with session_scope(seeded.database_url) as session:
        user = authenticate(session, "sam", PASSWORD)
        assert user is not None
        token = start_session(session, user, idle=idle, now=start)
        assert resume_session(session, token, idle=idle, max_age=max_age, now=start + timedelta(minutes=31)) is None


def test_an_unclaimed_handoff_escalates_and_goes_to_the_top(client: TestClient, seeded: Settings) -> None:
    waiting_conversation(client)
    other = client.post("/api/chat", json={"sender": "other-page-0002", "message": "a person please"})
    assert other.status_code == 200
    with session_scope(seeded.database_url) as session:
        first, second = session.scalars(select(Handoff).order_by(Handoff.id)).all()
        second.created_at = utcnow() - timedelta(minutes=seeded.console.escalate_after_minutes + 1)
        second_id = second.conversation_id
    sign_in(client, "dana", PASSWORD)
    queue = client.get("/console").text
    assert "Escalated" in queue
    assert queue.index(second_id) < queue.index(first.conversation_id)
    with session_scope(seeded.database_url) as session:
        assert session.scalars(select(Handoff).where(Handoff.conversation_id == second_id)).one().escalated_at


def test_a_patient_writing_to_staff_after_hours_is_told_when_they_will_hear_back(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.conversations.notices

    monkeypatch.setattr(bot.conversations.notices, "is_open", lambda clinic, at: False)
    conversation_id = waiting_conversation(client)
    sign_in(client, "dana", PASSWORD)
    page = client.get(f"/console/conversations/{conversation_id}")
    client.post(f"/console/conversations/{conversation_id}/claim", data={"csrf_token": csrf_from(page.text)})
    chat(client, "hello?")
    chat(client, "anyone?")
    notices = [text for author, text in patient_view(client) if author == "system"]
    assert len(notices) == 1 and "someone will reply" in notices[0]


def test_staff_add_command_creates_an_account_that_can_sign_in(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert clinicbot(["staff", "add", "Riley", "--role", "owner", "--password-stdin"]) == 0
    assert "created owner riley" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert clinicbot(["staff", "add", "casey", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert sign_in(client, "riley", "a long enough password").status_code == 303
    assert client.get("/console/settings").status_code == 200


def test_the_transcript_never_lists_another_conversations_messages(client: TestClient, seeded: Settings) -> None:
    conversation_id = waiting_conversation(client)
    client.post("/api/chat", json={"sender": "other-page-0002", "message": "secret of another patient"})
    sign_in(client, "dana", PASSWORD)
    assert "secret of another patient" not in client.get(f"/console/conversations/{conversation_id}").text
    with session_scope(seeded.database_url) as session:
        assert session.scalars(select(Message).where(Message.text == "secret of another patient")).one()


@pytest.mark.parametrize(("decided_by", "shown"), [("model", "the triage model (it rated this above the rules)"),
                                                     ("rules", "the red-flag rules")])
def test_the_intake_summary_tells_staff_the_level_and_which_net_decided(client: TestClient, seeded: Settings,
                                                                        decided_by: str, shown: str) -> None:
    """Staff picking up an intake see its triage, what the patient answered, and whether the rules or the
    model set the level (issue 12: the intake summary says which of the two decided)."""
    conversation_id = waiting_conversation(client)
    with session_scope(seeded.database_url) as session:
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)).one()
        handoff.reason = "urgent_triage"
        handoff.summary = {"for": "self", "symptom": "belly pain", "severity": 7, "urgency": "urgent",
                           "next_step": "same-day visit (handed to staff)", "red_flags": [], "decided_by": decided_by,
                           "model": {"emergency": 0.1, "urgent": 0.7, "routine": 0.15, "self_care": 0.05},
                           "complete": True}
        session.commit()
    assert sign_in(client, "dana", PASSWORD).status_code == 303
    page = html.unescape(client.get(f"/console/conversations/{conversation_id}").text)
    assert "Why it is waiting: Urgent triage" in page
    assert "<dt>Triage</dt><dd>Urgent: same-day visit (handed to staff)</dd>" in page
    assert f"<dt>Decided by</dt><dd>{shown}</dd>" in page
    assert "<dt>Model's levels</dt><dd>Urgent 70%, Routine 15%, Emergency 10%, Self-care 5%</dd>" in page
    assert "<dt>Symptom</dt><dd>belly pain</dd>" in page and "<dt>Severity</dt><dd>7</dd>" in page


def test_a_plain_request_for_a_person_shows_its_reason_and_no_triage(client: TestClient) -> None:
    conversation_id = waiting_conversation(client)
    assert sign_in(client, "dana", PASSWORD).status_code == 303
    page = client.get(f"/console/conversations/{conversation_id}").text
    assert "Why it is waiting: Asked for a person" in page and "Decided by" not in page
