"""The console against a hostile visitor: sign-in throttled per account and per address with a doubling wait and
a lock an owner lifts, the same answer (and time) for a wrong name and a wrong password, all of it audited;
sessions that expire and end; CSRF on every form; Secure cookies behind https; a staff member's identity check."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bot.engine.client import RasaClient
from bot.identity import login_throttle, staff
from bot.runtime.gateway import create_app
from bot.settings import Settings
from bot.store import AuditEvent, Conversation, StaffSession, session_scope
from bot.store.db import session_factory
from bot.store.models import utcnow
from tests.conftest import FakeRasa
from tests.console_helpers import add_staff, csrf_from, sign_in

PASSWORD = "correct horse battery"
POLICY = login_throttle.Policy(free_tries=3, lock_after=10, lock_minutes=60, address_free_tries=10)


@pytest.fixture
def accounts(seeded: Settings) -> Settings:
    add_staff(seeded.database_url, "dana", PASSWORD)
    add_staff(seeded.database_url, "olga", PASSWORD, role="owner")
    return seeded


def make_client(settings: Settings, base_url: str = "http://testserver") -> TestClient:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(FakeRasa().handler))
    return TestClient(create_app(settings, engine), base_url=base_url)


@pytest.fixture
def client(accounts: Settings) -> Iterator[TestClient]:
    with make_client(accounts) as test_client:
        yield test_client


def try_sign_in(settings: Settings, name: str, password: str, at: object, address: str = "10.0.0.1") -> staff.SignIn:
    return staff.sign_in(session_factory(settings.database_url), name, password, address=address, policy=POLICY,
                         idle=timedelta(minutes=30), now=at)  # type: ignore[arg-type]


def actions(settings: Settings, actor: str | None = None) -> list[str]:
    with session_scope(settings.database_url) as session:
        query = select(AuditEvent.action).order_by(AuditEvent.id)
        if actor:
            query = query.where(AuditEvent.actor_id == actor)
        return list(session.scalars(query))


def test_twenty_wrong_passwords_in_a_burst_then_the_right_one_is_refused(client: TestClient,
                                                                         accounts: Settings) -> None:
    answers = [sign_in(client, "dana", f"guess number {i}") for i in range(20)]
    statuses = [a.status_code for a in answers]
    assert statuses[:3] == [401, 401, 401]  # the free tries
    assert set(statuses[3:]) == {429}  # then every try waits: none of them was even checked
    assert "Please wait" in answers[3].text and int(answers[3].headers["Retry-After"]) >= 1
    right = sign_in(client, "dana", PASSWORD)
    assert right.status_code == 429 and "clinicbot_staff" not in right.headers.get("set-cookie", "")
    assert client.get("/console", follow_redirects=False).status_code == 303
    assert actions(accounts, "dana").count("staff_login_failed") == 3


def test_the_wait_doubles_then_the_account_locks_until_an_owner_unlocks_it(accounts: Settings) -> None:
    at = utcnow()
    waits = []
    for _ in range(POLICY.lock_after):
        result = try_sign_in(accounts, "dana", "wrong password", at)
        assert result.refused == "wrong"
        with session_scope(accounts.database_url) as session:
            state = login_throttle.status(session, "dana", at, POLICY)
        waits.append(round((state.waiting_until - at).total_seconds()) if state.waiting_until else 0)
        if waits[-1]:  # within the wait even the right password is refused, and not counted
            assert try_sign_in(accounts, "dana", PASSWORD, at + timedelta(seconds=waits[-1] - 1)).refused == "wait"
        at += timedelta(seconds=waits[-1])
    assert waits[:POLICY.lock_after - 1] == [0, 0, 2, 4, 8, 16, 32, 64, 128]
    with session_scope(accounts.database_url) as session:
        assert login_throttle.status(session, "dana", at, POLICY).locked_at is not None
    assert try_sign_in(accounts, "dana", PASSWORD, at + timedelta(minutes=30)).refused == "locked"
    assert "staff_locked" in actions(accounts, "dana")
    with session_scope(accounts.database_url) as session:
        assert staff.unlock(session, "dana", by="olga")
    assert try_sign_in(accounts, "dana", PASSWORD, at + timedelta(minutes=31)).token
    assert actions(accounts, "olga") == ["staff_unlocked"]


def test_a_lock_without_an_expiry_lasts_until_unlocked(accounts: Settings) -> None:
    policy = login_throttle.Policy(free_tries=1, lock_after=2, lock_minutes=0)
    at = utcnow()
    sessions = session_factory(accounts.database_url)
    for step in range(2):
        staff.sign_in(sessions, "dana", "nope", address="10.0.0.9", policy=policy, idle=timedelta(minutes=5),
                      now=at + timedelta(hours=step))
    later = staff.sign_in(sessions, "dana", PASSWORD, address="10.0.0.9", policy=policy, idle=timedelta(minutes=5),
                          now=at + timedelta(days=3))
    assert later.refused == "locked"


def test_a_wrong_name_and_a_wrong_password_look_the_same_in_words_counting_and_time(accounts: Settings) -> None:
    at = utcnow()
    for name in ("dana", "nobody-here"):
        outcomes = [try_sign_in(accounts, name, "wrong password", at, address=f"10.1.0.{i}").refused
                    for i in range(4)]
        assert outcomes == ["wrong", "wrong", "wrong", "wait"]  # unknown names are throttled alike
    assert actions(accounts, "unknown").count("staff_login_failed") == 3  # never the typed name

    def timed(name: str, i: int) -> float:
        start = time.perf_counter()
        try_sign_in(accounts, name, "wrong password", at + timedelta(hours=1 + i), address=f"10.2.{i}.1")
        return time.perf_counter() - start

    known = statistics.median(timed("olga", i) for i in range(5))
    unknown = statistics.median(timed(f"ghost{i}", i) for i in range(5))
    assert 0.5 < known / unknown < 2.0, (known, unknown)  # both verify an argon2 hash


def test_one_address_trying_many_names_is_slowed_down_too(accounts: Settings) -> None:
    at = utcnow()
    results = [try_sign_in(accounts, f"name{i}", "wrong", at, address="192.0.2.7").refused for i in range(11)]
    assert results[:10] == ["wrong"] * 10 and results[10] == "wait"
    assert try_sign_in(accounts, "dana", PASSWORD, at, address="192.0.2.7").refused == "wait"
    assert try_sign_in(accounts, "dana", PASSWORD, at, address="192.0.2.8").token  # another desk is not


def test_the_same_words_for_a_wrong_name_a_wrong_password_and_an_unknown_locked_name(client: TestClient) -> None:
    wrong_password, wrong_name = sign_in(client, "dana", "not it at all"), sign_in(client, "nobody", PASSWORD)
    assert (wrong_password.status_code, wrong_name.status_code) == (401, 401)
    for page in (wrong_password, wrong_name):
        assert "Wrong username or password." in page.text and "nobody" not in page.text


def test_an_owner_sees_a_locked_account_and_unlocks_it_with_the_forms_token(client: TestClient,
                                                                             accounts: Settings) -> None:
    at = utcnow() - timedelta(minutes=40)
    for i in range(POLICY.lock_after):  # each try after the wait the one before it earned (at most 128 s)
        assert try_sign_in(accounts, "dana", "wrong", at + timedelta(seconds=200 * i), address="10.3.0.1").refused \
            == "wrong"
    refused = sign_in(client, "dana", PASSWORD)
    assert refused.status_code == 429 and "this account is locked" in refused.text
    sign_in(client, "olga", PASSWORD)
    page = client.get("/console/staff")
    assert page.status_code == 200 and "Locked" in page.text and 'id="unlock-dana"' in page.text
    assert client.post("/console/staff/dana/unlock", data={"csrf_token": "forged"}).status_code == 403
    done = client.post("/console/staff/dana/unlock", data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 200 and "Unlocked dana" in done.text
    client.cookies.clear()
    assert sign_in(client, "dana", PASSWORD).status_code == 303
    assert client.get("/console/staff").status_code == 403  # staff, not owner


def test_sessions_end_when_idle_at_their_age_limit_and_on_sign_out(client: TestClient, accounts: Settings) -> None:
    assert sign_in(client, "dana", PASSWORD).status_code == 303
    assert client.get("/console").status_code == 200
    with session_scope(accounts.database_url) as session:
        session.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"

    sign_in(client, "dana", PASSWORD)
    with session_scope(accounts.database_url) as session:  # used all along, but signed in 13 hours ago
        session.execute(update(StaffSession).values(created_at=utcnow() - timedelta(hours=13)))
    assert client.get("/console", follow_redirects=False).status_code == 303

    sign_in(client, "dana", PASSWORD)
    cookie = client.cookies.get("clinicbot_staff") or ""
    # a sign-out without the page's token (another site's form) ends nothing
    client.post("/console/logout", data={"csrf_token": "forged"})
    client.cookies.set("clinicbot_staff", cookie)
    assert client.get("/console").status_code == 200
    client.post("/console/logout", data={"csrf_token": csrf_from(client.get("/console").text)})
    client.cookies.set("clinicbot_staff", cookie)
    assert client.get("/console", follow_redirects=False).status_code == 303
    assert actions(accounts, "dana")[-1] == "staff_logout"


@pytest.mark.parametrize("public_url", ["https://clinic.example.org", "http://127.0.0.1:8000"])
def test_cookies_are_secure_when_the_clinic_serves_https(accounts: Settings, public_url: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINICBOT_PUBLIC_URL", public_url)
    https = public_url.startswith("https")
    with make_client(accounts, base_url="https://testserver" if https else "http://testserver") as client:
        form = client.get("/console/login")
        signed_in = sign_in(client, "dana", PASSWORD)
    assert signed_in.status_code == 303
    for response in (form, signed_in):
        cookie = response.headers["set-cookie"].lower()
        assert ("; secure" in cookie) is https and "httponly" in cookie and "samesite=strict" in cookie
    assert ("strict-transport-security" in form.headers) is https


def test_staff_mark_a_patient_they_checked_as_verified_with_the_forms_token(client: TestClient,
                                                                            accounts: Settings) -> None:
    client.post("/api/chat", json={"sender": "patient-page-9999", "message": "hello"})
    conversation = client.app.state.conversations.find_conversation("web", "patient-page-9999")  # type: ignore[attr-defined]
    sign_in(client, "dana", PASSWORD)
    page = client.get(f"/console/conversations/{conversation.id}")
    assert 'id="check-patient"' in page.text
    url = f"/console/conversations/{conversation.id}/verify"
    assert client.post(url, data={"mrn": "MS000100"}).status_code == 403
    assert "No patient has that MRN" in client.post(url, data={"mrn": "NOPE", "csrf_token": csrf_from(page.text)}).text
    done = client.post(url, data={"mrn": "ms000100", "csrf_token": csrf_from(page.text)})
    assert "Marked as checked" in done.text
    with session_scope(accounts.database_url) as session:
        assert session.get(Conversation, conversation.id).patient_id is not None  # type: ignore[union-attr]
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "verification_passed")).one()
        assert (event.actor_type, event.actor_id, event.detail["method"]) == ("staff", "dana", "staff")


def test_the_staff_command_lists_a_locked_account_and_unlocks_it(accounts: Settings,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main as clinicbot

    at = utcnow() - timedelta(minutes=40)
    for i in range(POLICY.lock_after):
        try_sign_in(accounts, "dana", "wrong", at + timedelta(seconds=200 * i), address="10.4.0.1")
    assert clinicbot(["staff", "list"]) == 0
    assert "dana\tstaff\tlocked" in capsys.readouterr().out
    assert clinicbot(["staff", "unlock", "Dana"]) == 0
    assert "unlocked dana" in capsys.readouterr().out
    assert try_sign_in(accounts, "dana", PASSWORD, utcnow(), address="10.4.0.1").token
