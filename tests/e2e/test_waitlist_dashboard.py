"""The waitlist and the dashboard end to end through the real processes (gateway -> Rasa -> action server -> clinic
store, SMS through a local fake of Twilio): the demo patient asks "anything sooner?" in web chat, verifies, is put
on the list for an earlier follow-up with their provider; the gateway's sweep texts the soonest free time; a signed
"YES" to the SMS webhook moves the visit; and the owner's dashboard counts what happened (intents copied from the
tracker store)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.settings import PROJECT_ROOT
from tests.e2e.stack import CLINICBOT, Stack
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DEMO_PHONE = "+15555550100"
PASSWORD = "waitlist owner password"


def midday_zone() -> str:
    """A fixed-offset zone where it is late morning now: offers go out at once (not held for quiet hours)."""
    offset = (11 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/GMT" + ("+" if offset <= 0 else "-") + str(abs(offset))


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, twilio: FakeTwilio) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("waitlist")) / "data")
    running.extra_env = {"CLINICBOT_CLINIC__TIMEZONE": midday_zone(), "CLINICBOT_WAITLIST__CHECK_EVERY_S": "1",
                         "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                         "TWILIO_PHONE_NUMBER": FROM_NUMBER, "CLINICBOT_SMS__API_BASE_URL": twilio.url,
                         "CLINICBOT_PUBLIC_URL": running.url}
    running.start()
    yield running
    running.stop()


def cli(stack: Stack, *args: str, stdin: str = "") -> Any:
    result = subprocess.run([str(CLINICBOT), *args], env=stack.env(), input=stdin, capture_output=True, text=True,
                            timeout=120, check=True, cwd=PROJECT_ROOT)
    return result.stdout


def sms(stack: Stack, body: str, sid: str) -> httpx.Response:
    form = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": DEMO_PHONE, "To": FROM_NUMBER, "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{stack.url}/sms/twilio", form)
    return httpx.post(f"{stack.url}/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}, timeout=30)


class Dashboard:
    """The owner's view: signed in once, tables read as CSV (the stack's demo history is in them too)."""

    def __init__(self, stack: Stack) -> None:
        cli(stack, "staff", "add", "olga", "--role", "owner", "--password-stdin", stdin=PASSWORD + "\n")
        self.client = httpx.Client(base_url=stack.url, timeout=60)
        login = self.client.get("/console/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        self.client.post("/console/login", data={"username": "olga", "password": PASSWORD, "csrf_token": token})

    def count(self, table: str, row: str, column: str = "count") -> int:
        rows = csv.DictReader(io.StringIO(self.client.get(f"/console/dashboard/{table}.csv?range=7").text))
        return next((int(r[column]) for r in rows if next(iter(r.values())) == row), 0)

    def counts(self) -> dict[str, int]:
        return {"join_waitlist": self.count("intents", "join_waitlist", "messages"),
                "leave_waitlist": self.count("intents", "leave_waitlist", "messages"),
                **{step: self.count("waitlist", step) for step in ("joined", "offered", "accepted")},
                "moved": self.count("appointments", "moved")}


def copy_intents(stack: Stack) -> None:
    subprocess.run([str(Path(CLINICBOT).parent / "python"), "-c",
                    "from bot.reports.intents import copy_intents; from bot.settings import get_settings; "
                    "copy_intents(get_settings())"], env=stack.env(), check=True, timeout=120, cwd=PROJECT_ROOT)


def test_anything_sooner_in_chat_then_yes_by_sms_moves_the_visit_and_the_dashboard_counts_it(
        stack: Stack, twilio: FakeTwilio) -> None:
    owner = Dashboard(stack)
    copy_intents(stack)
    baseline = owner.counts()
    assert "What the assistant did" in owner.client.get("/console/dashboard?range=7").text
    [visit] = [a for a in json.loads(cli(stack, "appointments", "--phone", DEMO_PHONE, "--json"))
               if a["status"] == "booked"]
    before = datetime.fromisoformat(visit["start"])
    sender = "e2e-waitlist-1"
    assert "full name" in stack.reply(sender, "anything sooner?")
    assert "date of birth" in stack.reply(sender, "Jordan Demo")
    assert "6-digit code" in stack.reply(sender, "01/01/1980", sep=" ")
    verified = stack.reply(sender, stack.texted_code(DEMO_PHONE), sep=" ")
    assert "you're verified" in verified and "Which days could you come in?" in verified
    joined = stack.reply(sender, "any day", sep=" ")
    assert "on the waitlist for an earlier time than your Follow-up visit with Dr. Anika Patel" in joined
    assert "ending in 0100" in joined
    assert "is open right now" in joined  # the demo schedule has free times before the visit: texted at once
    deadline = time.monotonic() + 60
    while not [b for b in twilio.bodies() if "Reply YES" in b] and time.monotonic() < deadline:
        time.sleep(1)
    [offer] = [b for b in twilio.bodies() if "Reply YES" in b]
    assert "an earlier time opened for your follow-up visit" in offer and "Maple Street Family Medicine" in offer
    answered = sms(stack, "YES", "SM" + "1" * 32)
    assert answered.status_code == 200 and "done, your visit is now" in answered.text
    [moved] = [a for a in json.loads(cli(stack, "appointments", "--phone", DEMO_PHONE, "--json"))
               if a["status"] == "booked"]
    assert moved["appointment_id"] == visit["appointment_id"]
    assert datetime.fromisoformat(moved["start"]) < before
    [entry] = json.loads(cli(stack, "waitlist", "--all", "--json"))
    assert entry["status"] == "booked" and [o["status"] for o in entry["offers"]][-1] == "accepted"
    left = stack.reply(sender, "take me off the waitlist", sep=" ")
    assert "not on our waitlist" in left  # still verified: no questions; already booked

    copy_intents(stack)
    after = owner.counts()
    assert after["join_waitlist"] > baseline["join_waitlist"] and after["leave_waitlist"] > baseline["leave_waitlist"]
    assert {k: after[k] - baseline[k] for k in ("joined", "offered", "accepted", "moved")} == {
        "joined": 1, "offered": 1, "accepted": 1, "moved": 1}
