"""The console a front desk lives in and the owner's dashboard, through the gateway's HTTP contract: the dashboard
(staff and owners, filters, CSV, no PHI), red flags first with a banner, times in the clinic's zone, a queue shown
at once while the PHI analyzer loads, the waitlist on the settings page, and a YES to a waitlist offer by SMS."""

from __future__ import annotations

import csv
import html
import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot import reminders, scheduling
from bot.conversations.handoffs import request_handoff
from bot.engine.client import RasaClient
from bot.runtime.demo_history import seed_history
from bot.runtime.gateway import create_app
from bot.settings import Settings, load_settings
from bot.store import Appointment, AuditEvent, Conversation, Handoff, Message, Patient, session_scope
from bot.store.models import utcnow
from bot.waitlist import sweep
from tests.conftest import FakeRasa
from tests.console_helpers import add_staff, csrf_from, sign_in
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.waitlist_helpers import RecordingSender, full_morning, local, wait_for_wednesday

PASSWORD = "correct horse battery"


def gateway(settings: Settings, fake_rasa: FakeRasa) -> TestClient:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    return TestClient(create_app(settings, engine))


@pytest.fixture
def staff(seeded: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    add_staff(seeded.database_url, "dana", PASSWORD)
    with gateway(seeded, fake_rasa) as client:
        sign_in(client, "dana", PASSWORD)
        yield client


@pytest.fixture
def history(seeded: Settings) -> Settings:
    with session_scope(seeded.database_url) as session:
        seed_history(session, seeded)
    return seeded


def test_the_dashboard_needs_a_sign_in_and_shows_staff_what_the_assistant_did(
        history: Settings, fake_rasa: FakeRasa) -> None:
    add_staff(history.database_url, "dana", PASSWORD)
    with gateway(history, fake_rasa) as client:
        assert client.get("/console/dashboard", follow_redirects=False).status_code == 303
        assert client.get("/console/dashboard/daily.csv", follow_redirects=False).status_code == 303
        sign_in(client, "dana", PASSWORD)  # front-desk staff, not only owners
        started = time.perf_counter()
        page = client.get("/console/dashboard?range=90")
        elapsed = time.perf_counter() - started
        assert page.status_code == 200 and elapsed < 5
        text = page.text
        for heading in ("Conversations and messages", "What patients asked", "Handoffs to staff", "Red flags and triage",
                        "Appointments", "Reminders", "Waitlist"):
            assert heading in text
        assert text.count("<svg") >= 8 and "Download CSV" in text
        conversations = int(text.split('id="kpi-conversations">')[1].split("<")[0].replace(",", ""))
        assert conversations > 1000  # 90 days of the demo's history
        daily = client.get("/console/dashboard/daily.csv?range=90")
        assert daily.headers["content-type"].startswith("text/csv")
        assert "attachment" in daily.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(daily.text)))
        assert len(rows) == 90 and sum(int(r["conversations"]) for r in rows) == conversations
        sms = list(csv.DictReader(io.StringIO(client.get("/console/dashboard/daily.csv?range=90&channel=sms").text)))
        web = list(csv.DictReader(io.StringIO(client.get("/console/dashboard/daily.csv?range=90&channel=web").text)))
        assert 0 < sum(int(r["conversations"]) for r in sms) < conversations
        assert sum(int(r["conversations"]) for r in sms) + sum(int(r["conversations"]) for r in web) == conversations
        today = datetime.now(history.clinic.tz).date()
        week = client.get(f"/console/dashboard/daily.csv?range=custom&from={today - timedelta(days=13)}"
                          f"&to={today - timedelta(days=7)}")
        assert next(r["date"] for r in csv.DictReader(io.StringIO(week.text))) == str(today - timedelta(days=13))
        assert client.get("/console/dashboard?range=oops&channel=fax").status_code == 200  # falls back to 30 days
        assert client.get("/console/dashboard/nothing.csv").status_code == 404
        exports = [client.get(f"/console/dashboard/{name}.csv?range=90").text for name in
                   ("daily", "intents", "handoffs", "triage", "appointments", "appointments_daily", "no_shows",
                    "reminders", "waitlist")]
    with session_scope(history.database_url) as session:
        people = [p for p in session.scalars(select(Patient))]
        said = {m.text for m in session.scalars(select(Message).where(Message.author == "patient")) if len(m.text) > 6}
    secrets = {p.phone for p in people} | {p.last_name for p in people} | {p.mrn for p in people} | said
    for shown in (text, *exports):
        assert not [s for s in secrets if s in shown]


def _flag(settings: Settings, user: str, reason: str, minutes_ago: int, summary: dict[str, object]) -> str:
    with session_scope(settings.database_url) as session:
        conversation = Conversation(channel="web", channel_user=user)
        session.add(conversation)
        session.flush()
        request_handoff(session, conversation, reason=reason, summary=summary)
        session.flush()
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation.id)).one()
        handoff.created_at = utcnow() - timedelta(minutes=minutes_ago)
        return conversation.id


def test_a_red_flag_stands_out_and_sorts_first_with_times_in_the_clinics_zone(staff: TestClient,
                                                                             seeded: Settings) -> None:
    asked = _flag(seeded, "page-asked", "requested_human", 40, {})  # older, and escalated by now
    urgent = _flag(seeded, "page-intake", "urgent_triage", 10, {"urgency": "urgent", "red_flags": []})
    flagged = _flag(seeded, "page-chest", "triage_flag", 1, {"red_flags": ["chest_pain"]})
    page = staff.get("/console").text
    order = [page.index(f'data-conversation="{c}"') for c in (flagged, urgent, asked)]
    assert order == sorted(order)
    assert 'id="red-flag-banner"' in page and "(!) Red flag" in page
    row = page.split(f'data-conversation="{flagged}"')[1].split("</tr>")[0]
    assert "Red flag</span>" in row and "data-red-flag" in page.split(f'data-conversation="{flagged}"')[0][-80:] + row
    assert "UTC" not in page
    with session_scope(seeded.database_url) as session:
        opened = session.scalars(select(Handoff).where(Handoff.conversation_id == asked)).one().created_at
    expected = opened.astimezone(seeded.clinic.tz)
    shown = f"{expected.hour % 12 or 12}:{expected.minute:02d} {'am' if expected.hour < 12 else 'pm'}"
    assert f">{shown}</time>" in page or f", {shown}</time>" in page
    conversation = staff.get(f"/console/conversations/{flagged}").text
    assert "Red flag:</strong>" in conversation
    assert "Red flag:</strong>" not in staff.get(f"/console/conversations/{asked}").text


def test_the_queue_shows_at_once_while_the_phi_analyzer_loads(seeded: Settings, fake_rasa: FakeRasa) -> None:
    """The first preview used to load Presidio and spaCy inside the request (16 s in the field, about 20 s here)."""
    conversation = _flag(seeded, "page-slow", "requested_human", 3, {})
    with session_scope(seeded.database_url) as session:
        session.add(Message(conversation_id=conversation, direction="in", author="patient", status="answered",
                            text="Hi, I'm Jordan Demo, call me at 555-555-0100 about my refill"))
    add_staff(seeded.database_url, "dana", PASSWORD)
    with gateway(seeded, fake_rasa) as client:
        sign_in(client, "dana", PASSWORD)
        previews = client.app.state.console_previews  # type: ignore[attr-defined]
        started = time.perf_counter()
        page = client.get("/console")
        first_load = time.perf_counter() - started
        assert page.status_code == 200 and "Asked for a person" in page.text
        if not previews.ready:  # the analyzer was still loading: the page did not wait for it
            assert "data-preview-pending" in page.text and first_load < 1.0
        filled = client.get("/console/queue/previews").json()["previews"][conversation]
        assert "refill" in filled and "555-555-0100" not in filled and "Jordan" not in filled
        assert previews.ready and filled in html.unescape(client.get("/console").text)  # scrubbed once, then kept


def test_the_owner_switches_the_waitlist_on_sets_n_and_the_expiry(seeded: Settings, fake_rasa: FakeRasa,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reminders, "reschedule_all", lambda settings: 0)
    add_staff(seeded.database_url, "olga", PASSWORD, role="owner")
    seeded.waitlist.enabled = False
    with gateway(seeded, fake_rasa) as client:
        sign_in(client, "olga", PASSWORD)
        page = client.get("/console/settings").text
        form = {k: v for k, v in _current_form(page).items() if k != "waitlist_enabled"}
        bad = client.post("/console/settings", data={**form, "waitlist_enabled": "on", "waitlist_offers_at_once": "0"})
        assert bad.status_code == 422 and "offers_at_once" in bad.text and not seeded.waitlist.enabled
        saved = client.post("/console/settings", data={**form, "waitlist_enabled": "on",
                                                       "waitlist_offers_at_once": "2", "waitlist_expiry": "45"})
        assert saved.status_code == 200 and "Saved" in saved.text
    assert (seeded.waitlist.enabled, seeded.waitlist.offers_at_once, seeded.waitlist.offer_expiry_minutes) == (True, 2, 45)
    reloaded = load_settings()
    assert (reloaded.waitlist.enabled, reloaded.waitlist.offers_at_once, reloaded.waitlist.offer_expiry_minutes) == (
        True, 2, 45)
    with session_scope(seeded.database_url) as session:
        changed = session.scalars(select(AuditEvent).where(AuditEvent.action == "settings_changed")).one()
    assert "waitlist" in changed.detail["sections"]


def _current_form(page: str) -> dict[str, str]:
    """The settings form as the browser would post it unchanged (values unescaped, the checked boxes "on")."""
    import re

    values = {k: html.unescape(v) for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', page)}
    values |= {k: html.unescape(v) for k, v in re.findall(r'name="(\w+)"[^>]*>([^<]*)</textarea>', page)}
    values |= {k: "on" for k in re.findall(r'type="checkbox" name="(\w+)" checked', page)}
    values["csrf_token"] = csrf_from(page)
    return values


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


def test_a_yes_by_sms_books_a_waitlist_offer_and_is_not_an_opt_in(seeded: Settings, fake_rasa: FakeRasa,
                                                                  fake_twilio: FakeTwilio,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "TWILIO_PHONE_NUMBER": FROM_NUMBER, "CLINICBOT_PUBLIC_URL": "https://clinic.example.org"}.items():
        monkeypatch.setenv(key, value)
    seeded.sms.api_base_url = fake_twilio.url
    seeded.waitlist.enabled = True
    booked = full_morning(seeded)
    wait_for_wednesday(seeded, "+15555550100", local(seeded, 7, 9))
    scheduling.cancel(seeded.database_url, booked["09:20"])
    offer_time = local(seeded, 8, 10)  # a weekday morning, in the quiet window: the sweep texts at once
    assert sweep(seeded, RecordingSender(), offer_time).sent == 1
    with gateway(seeded, fake_rasa) as client:
        form = {"MessageSid": "SM" + "7" * 32, "AccountSid": ACCOUNT_SID, "From": "+15555550100", "To": FROM_NUMBER,
                "Body": "YES"}
        monkeypatch.setattr("bot.waitlist.replies.utcnow", lambda: offer_time + timedelta(minutes=3))
        signature = RequestValidator(AUTH_TOKEN).compute_signature("https://clinic.example.org/sms/twilio", form)
        response = client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert "you're booked" in response.text and "Wed, Jan 9 at 9:20 am" in response.text
    assert "subscribed to texts again" not in response.text and fake_rasa.received == []
    with session_scope(seeded.database_url) as session:
        jordan = session.scalars(select(Patient).where(Patient.phone == "+15555550100")).one()
        assert session.scalars(select(Appointment).where(Appointment.patient_id == jordan.id,
                                                         Appointment.start == local(seeded, 9, 9, 20))).one()
    reminders.stop_scheduler(seeded)
