"""Several gateway processes on one clinic store, for real: exactly one runs the scheduler and another takes over
within 30 s of a SIGKILL; reminders reach the (fake) Twilio exactly once however often the scheduler's process is
killed; the owner's saved settings reach another process within seconds. Runs on the run's backend (SQLite, or
PostgreSQL under ``make test-scale``)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.reminders.scheduler import sync_appointment
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.settings.owner import save_owner_changes
from bot.store import OutboundSend, ReminderSend, get_engine, leases, session_scope
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.scale.processes import GatewayProcess, add_patient_with_visit, midday_zone, start_gateway, wait_up

pytestmark = pytest.mark.slow
TEMPLATE = "{clinic_name}: {patient_first_name}, see you at {time}. Reply STOP to opt out."


def rules(before_hours: float = 1.0) -> str:
    return json.dumps([{"name": "soon", "before_hours": before_hours, "template": TEMPLATE}])


@pytest.fixture
def gateways() -> Iterator[list[GatewayProcess]]:
    started: list[GatewayProcess] = []
    yield started
    for gateway in started:
        gateway.kill()


def scheduler_pid(settings: Settings) -> int | None:
    holder = leases.holder_of(get_engine(settings.database_url), leases.SCHEDULER)
    return int(holder.split(":")[2]) if holder else None


def test_one_gateway_runs_the_scheduler_and_another_takes_over_within_30_s_of_a_sigkill(
    store: Settings, tmp_path: Path, gateways: list[GatewayProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINICBOT_CLINIC__TIMEZONE", midday_zone())
    monkeypatch.setenv("CLINICBOT_REMINDERS__RULES", rules())
    env = {"CLINICBOT_REMINDERS__RULES": rules()}  # the default lease (15 s), as a clinic runs it
    gateways += [start_gateway(f"gateway-{i}", tmp_path, env) for i in (1, 2)]
    for gateway in gateways:
        wait_up(gateway)
    deadline = time.monotonic() + 30
    while scheduler_pid(store) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    holder_pid = scheduler_pid(store)
    [holder] = [g for g in gateways if g.proc.pid == holder_pid]
    [other] = [g for g in gateways if g is not holder]
    time.sleep(6)  # a few renewals: still one scheduler
    assert scheduler_pid(store) == holder_pid
    assert holder.output().count("reminders.scheduler.started") == 1
    assert "reminders.scheduler.started" not in other.output()

    holder.kill()
    killed_at = time.monotonic()
    while scheduler_pid(store) != other.proc.pid and time.monotonic() - killed_at < 40:
        time.sleep(0.5)
    took_over_s = time.monotonic() - killed_at
    assert scheduler_pid(store) == other.proc.pid, other.output()[-2000:]
    assert took_over_s < 30
    deadline = time.monotonic() + 10
    while "reminders.scheduler.started" not in other.output() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "leader.took_over" in other.output()

    # and the survivor's scheduler sends what comes due now (booked as the action server would book it)
    settings = load_settings()
    _, appointment = add_patient_with_visit(settings, 1, datetime.now(UTC) + timedelta(hours=1, seconds=3))
    sync_appointment(settings, appointment)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with session_scope(store.database_url) as session:
            sent = session.scalars(select(ReminderSend.status).where(ReminderSend.appointment_id == appointment)
                                   ).all()
        if sent and sent[0] != "claimed":
            break
        time.sleep(0.5)
    assert sent == ["outbox"]  # no SMS credentials in this test: the outbox


def test_every_due_reminder_reaches_twilio_exactly_once_however_often_the_scheduler_is_killed(
    store: Settings, tmp_path: Path, gateways: list[GatewayProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    """14 runs of the scheduler's process, each SIGKILLed at a random moment (half of them while a send is in
    flight, Twilio slow to answer), two new reminders due in each; then one run left alone to finish."""
    fake = FakeTwilio(delay_s=(0.2, 1.2)).start()
    monkeypatch.setenv("CLINICBOT_CLINIC__TIMEZONE", midday_zone())
    monkeypatch.setenv("CLINICBOT_REMINDERS__RULES", rules())
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": FROM_NUMBER,
           "CLINICBOT_SMS__API_BASE_URL": fake.url, "CLINICBOT_SMS__SEND_ATTEMPTS": "1",
           "CLINICBOT_SMS__TIMEOUT_S": "3", "CLINICBOT_GATEWAY__LEASE_TTL_S": "2"}
    settings = load_settings()
    rng = random.Random(15)
    phones: list[str] = []
    in_flight_kills = 0
    try:
        for run in range(14):
            for i in range(2):
                phone, _ = add_patient_with_visit(settings, run * 10 + i, datetime.now(UTC) + timedelta(hours=1))
                phones.append(phone)
            gateway = start_gateway(f"run-{run}", tmp_path, env)
            gateways.append(gateway)
            if run % 2:  # a random moment in the first seconds of its life
                time.sleep(rng.uniform(0.5, 8.0))
            else:  # while a send is in flight: Twilio has it (or is about to), we do not know yet
                before = len(fake.records)
                deadline = time.monotonic() + 40
                while len(fake.records) == before and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 0.6))
                in_flight_kills += len(fake.records) > before
            gateway.kill()

        last = start_gateway("last", tmp_path, env)
        gateways.append(last)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_scope(store.database_url) as session:
                open_ = session.scalar(select(func.count()).select_from(ReminderSend)
                                       .where(ReminderSend.status == "claimed"))
                done = session.scalar(select(func.count()).select_from(ReminderSend))
            if done == len(phones) and open_ == 0:
                break
            time.sleep(1)
        last.stop()
    finally:
        fake.stop()

    received = Counter(m["To"] for m in fake.sent)
    assert {phone: received[phone] for phone in phones} == dict.fromkeys(phones, 1), last.output()[-3000:]
    with session_scope(store.database_url) as session:
        statuses = Counter(session.scalars(select(ReminderSend.status)).all())
        settled = session.scalars(select(OutboundSend).where(OutboundSend.reconciled.is_(True))).all()
    assert statuses == {"sent": len(phones)}
    assert in_flight_kills >= 4
    assert settled, "no kill left a send to settle: the test did not reach the window it is about"


WATCH_HOURS = """
import sys, time
from bot.settings import get_settings
end = time.monotonic() + 60
while time.monotonic() < end:
    print(get_settings().clinic.hours["sat"], flush=True)
    time.sleep(0.2)
"""


def test_hours_saved_in_one_process_reach_another_within_seconds(store: Settings) -> None:
    watcher = subprocess.Popen([sys.executable, "-c", WATCH_HOURS], stdout=subprocess.PIPE, text=True,
                               cwd=PROJECT_ROOT)
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "closed"
        changes = {"clinic": {"hours": {**store.clinic.hours, "sat": "09:00-12:00"}},
                   "reminders": store.reminders.model_dump()}
        assert save_owner_changes(store, changes, by="olga") == []
        saved_at = time.monotonic()
        while watcher.stdout.readline().strip() != "09:00-12:00":
            assert time.monotonic() - saved_at < 10
        assert time.monotonic() - saved_at < 4  # polled every 2 s
    finally:
        watcher.kill()
        watcher.wait()
