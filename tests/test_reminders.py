"""Reminders under a controlled clock (rules, quiet hours, caps, opt-outs, rules changed while jobs wait),
replies to reminders, the persistent job store, and a kill-and-restart of the scheduler process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as wall
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import reminders, scheduling
from bot.messaging.outbound import OutboxSender, SendResult
from bot.reminders import scheduler as reminder_scheduler
from bot.reminders.policy import planned_time
from bot.reminders.replies import ReminderReply
from bot.runtime import demo
from bot.settings import PROJECT_ROOT, ReminderRule, Settings
from bot.store import Appointment, AppointmentType, Message, Provider, ReminderSend, SmsOptOut, session_scope
from tests.e2e.stack import midday_zone

TWO_RULES = [
    ReminderRule(name="two_days", before_hours=48,
                 template="{clinic_name}: your {appointment_type} with {provider_name} is {date} at {time}. "
                          "Reply C to confirm. Reply STOP to opt out."),
    ReminderRule(name="same_day", before_hours=2, appointment_types=["follow_up"],
                 template="See you at {time} today, {patient_first_name}."),
]


@dataclass
class FakeSender:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, body: str) -> SendResult:
        self.sent.append((to, body))
        return SendResult("sent", provider_id=f"SM{len(self.sent)}")


@pytest.fixture
def clinic(seeded: Settings) -> Settings:
    cfg = seeded.model_copy(deep=True)
    cfg.reminders.rules = list(TWO_RULES)
    return cfg


def local(settings: Settings, day: int, hour: int, minute: int = 0) -> datetime:
    """A time in the clinic's zone, in the week of Mon 2030-01-07 (no seeded data there)."""
    return datetime(2030, 1, day, hour, minute, tzinfo=settings.clinic.tz)


def add_appointment(settings: Settings, start: datetime, *, patient_phone: str = demo.DEMO_PHONE,
                    kind: str = "follow_up", created: datetime | None = None) -> int:
    with session_scope(settings.database_url) as session:
        patient = next(p for p in session.scalars(select(demo.Patient).where(demo.Patient.phone == patient_phone)))
        type_ = session.scalars(select(AppointmentType).where(AppointmentType.code == kind)).one()
        provider = session.scalars(select(Provider).where(Provider.key == "patel")).one()
        appointment = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type_id=type_.id,
                                  start=start, end=start + timedelta(minutes=20), location="412 Maple Street",
                                  created_at=created or start - timedelta(days=10))
        session.add(appointment)
        session.flush()
        return appointment.id


def only_2030(plans: list[reminders.Planned], ids: set[int]) -> list[reminders.Planned]:
    return [p for p in plans if p.appointment_id in ids]


def test_preview_lists_each_rule_at_its_time_with_the_text_that_would_go(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 10))  # Thu 10:00
    with session_scope(clinic.database_url) as session:
        plans = only_2030(reminders.plan(session, clinic, local(clinic, 7, 9), local(clinic, 14, 0)), {appt})
    assert [(p.rule, p.send_at) for p in plans] == [("two_days", local(clinic, 8, 10)),
                                                    ("same_day", local(clinic, 10, 8))]
    first, second = plans
    assert "Maple Street Family Medicine" in first.text and "Follow-up visit" in first.text
    assert "Thu, Jan 10 at 10:00 am" in first.text and "STOP" in first.text
    # a template without the clinic's name or the opt-out gets both
    assert second.text.startswith("Maple Street Family Medicine:") and second.text.endswith("Reply STOP to opt out.")
    assert "Jordan" in second.text and first.to == demo.DEMO_PHONE


def test_rules_apply_only_to_their_appointment_types(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 10), kind="annual_physical")
    with session_scope(clinic.database_url) as session:
        plans = only_2030(reminders.plan(session, clinic, local(clinic, 7, 9), local(clinic, 14, 0)), {appt})
    assert [p.rule for p in plans] == ["two_days"]


def test_quiet_hours_move_a_reminder_into_the_window(clinic: Settings) -> None:
    early = add_appointment(clinic, local(clinic, 10, 9, 0))  # 2 h before is 7:00: moved to 8:00
    first_thing = add_appointment(clinic, local(clinic, 11, 8, 0), patient_phone="+15555550101")  # 6:00 -> eve before
    with session_scope(clinic.database_url) as session:
        plans = only_2030(reminders.plan(session, clinic, local(clinic, 7, 9), local(clinic, 14, 0)),
                          {early, first_thing})
    same_day = {p.appointment_id: p.send_at for p in plans if p.rule == "same_day"}
    assert same_day == {early: local(clinic, 10, 8, 0), first_thing: local(clinic, 10, 20, 59)}

    narrower = clinic.model_copy(deep=True)
    narrower.reminders.quiet_hours.start = "10:00"
    with session_scope(clinic.database_url) as session:
        plans = only_2030(reminders.plan(session, narrower, local(clinic, 7, 9), local(clinic, 14, 0)), {early})
    assert {p.rule: p.send_at for p in plans} == {"two_days": local(clinic, 8, 10, 0),
                                                  "same_day": local(clinic, 9, 20, 59)}


def test_a_reminder_is_sent_once_through_the_outbox_and_recorded(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 10))
    at = local(clinic, 8, 10)
    assert reminders.deliver(clinic, appt, "two_days", at, OutboxSender()).status == "outbox"  # no credentials
    assert reminders.deliver(clinic, appt, "two_days", at + timedelta(seconds=5), OutboxSender()).status == "already"
    with session_scope(clinic.database_url) as session:
        [send] = session.scalars(select(ReminderSend).where(ReminderSend.appointment_id == appt)).all()
        message = session.get(Message, send.message_id)
        assert send.status == "outbox" and message is not None and message.status == "outbox"
        assert message.direction == "out" and message.meta["kind"] == "reminder"
        assert "Reply STOP" in message.text


def test_opted_out_numbers_are_skipped(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 10))
    with session_scope(clinic.database_url) as session:
        session.add(SmsOptOut(phone=demo.DEMO_PHONE))
    sender = FakeSender()
    assert reminders.deliver(clinic, appt, "two_days", local(clinic, 8, 10), sender).status == "skipped_opt_out"
    assert sender.sent == []
    with session_scope(clinic.database_url) as session:
        plans = only_2030(reminders.plan(session, clinic, local(clinic, 7, 9), local(clinic, 14, 0)), {appt})
    assert [p.status for p in plans] == ["skip_opt_out"]


def test_at_most_one_a_day_and_three_a_week_per_patient(clinic: Settings) -> None:
    sender = FakeSender()
    one_rule = clinic.model_copy(deep=True)
    one_rule.reminders.rules = [TWO_RULES[0]]
    # two visits two days later on the same day: the second reminder that day is skipped
    a = add_appointment(one_rule, local(one_rule, 9, 9))
    b = add_appointment(one_rule, local(one_rule, 9, 15))
    assert reminders.deliver(one_rule, a, "two_days", local(one_rule, 7, 9), sender).status == "sent"
    assert reminders.deliver(one_rule, b, "two_days", local(one_rule, 7, 15), sender).status == "skipped_cap"
    # days 8, 9 and 10: the week's third is sent (days 7, 8, 9), the fourth within 7 days is not
    c = add_appointment(one_rule, local(one_rule, 10, 9))
    d = add_appointment(one_rule, local(one_rule, 11, 9))
    e = add_appointment(one_rule, local(one_rule, 12, 9))
    assert reminders.deliver(one_rule, c, "two_days", local(one_rule, 8, 9), sender).status == "sent"
    assert reminders.deliver(one_rule, d, "two_days", local(one_rule, 9, 9), sender).status == "sent"
    assert reminders.deliver(one_rule, e, "two_days", local(one_rule, 10, 9), sender).status == "skipped_cap"
    assert len(sender.sent) == 3


def test_rules_changed_while_a_job_waits_take_effect_when_it_runs(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 10))
    sender = FakeSender()
    removed = clinic.model_copy(deep=True)
    removed.reminders.rules = [TWO_RULES[1]]
    assert reminders.deliver(removed, appt, "two_days", local(clinic, 8, 10), sender).status == "no_rule"
    later = clinic.model_copy(deep=True)
    later.reminders.rules = [TWO_RULES[0].model_copy(update={"before_hours": 24})]
    outcome = reminders.deliver(later, appt, "two_days", local(clinic, 8, 10), sender)
    assert (outcome.status, outcome.retry_at) == ("not_due", local(clinic, 9, 10))
    assert sender.sent == []
    # and nothing was recorded, so it still goes out at its new time
    assert reminders.deliver(later, appt, "two_days", local(clinic, 9, 10), sender).status == "sent"


def test_a_job_running_late_at_night_waits_for_the_morning(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 15))
    sender = FakeSender()
    outcome = reminders.deliver(clinic, appt, "two_days", local(clinic, 8, 22, 30), sender)
    assert (outcome.status, outcome.retry_at, sender.sent) == ("not_due", local(clinic, 9, 8), [])


def test_replies_to_a_reminder_act_on_that_appointment(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 10))
    sent_at = local(clinic, 8, 10)
    reminders.deliver(clinic, appt, "two_days", sent_at, FakeSender())
    with session_scope(clinic.database_url) as session:
        reply = lambda text, hours=1: reminders.reminder_reply(session, demo.DEMO_PHONE, text,  # noqa: E731
                                                             sent_at + timedelta(hours=hours))
        assert reply("C") == ReminderReply('confirm_appointment', appt)
        assert reply("confirm ") == ReminderReply('confirm_appointment', appt)
        assert reply("r") == ReminderReply('reschedule_appointment', appt)
        assert reply("CANCEL") == ReminderReply('cancel_appointment', appt)
        assert reply("hello") is None
        assert reminders.reminder_reply(session, "+15555550199", "C", sent_at) is None  # no reminder: not ours
    # a bare "cancel" long after a reminder stays an SMS opt-out word
    far = clinic.model_copy(deep=True)
    far.reminders.rules = [TWO_RULES[0].model_copy(update={"before_hours": 96})]
    appt2 = add_appointment(far, local(far, 20, 10), patient_phone="+15555550101")
    assert reminders.deliver(far, appt2, "two_days", local(far, 16, 10), FakeSender()).status == "sent"
    with session_scope(far.database_url) as session:
        later = local(far, 16, 10) + timedelta(hours=49)
        assert reminders.reminder_reply(session, "+15555550101", "cancel", later) is None
        assert reminders.reminder_reply(session, "+15555550101", "C", later) is not None


def test_a_moved_visit_gets_reminders_for_its_new_time(clinic: Settings) -> None:
    appt = add_appointment(clinic, local(clinic, 10, 10))
    sender = FakeSender()
    assert reminders.deliver(clinic, appt, "two_days", local(clinic, 8, 10), sender).status == "sent"
    new_start = local(clinic, 17, 10)
    with session_scope(clinic.database_url) as session:
        patel = session.scalars(select(Provider).where(Provider.key == "patel")).one()
        session.add(demo.AvailabilitySlot(provider_id=patel.id, start=new_start,
                                          end=new_start + timedelta(minutes=20)))
        session.flush()
        slot_id = session.scalars(select(demo.AvailabilitySlot.id).where(
            demo.AvailabilitySlot.start == new_start)).one()
    scheduling.move(clinic.database_url, appt, scheduling.SlotOffer(
        patel.id, patel.name, new_start, new_start + timedelta(minutes=20), (slot_id,)))
    with session_scope(clinic.database_url) as session:
        plans = only_2030(reminders.plan(session, clinic, local(clinic, 9, 9), local(clinic, 20, 0)), {appt})
    assert [(p.rule, p.send_at) for p in plans] == [("two_days", local(clinic, 15, 10)),
                                                    ("same_day", local(clinic, 17, 8))]


# -- the persistent job store -------------------------------------------------------------------------
def test_jobs_live_in_the_clinic_database_and_follow_bookings_and_rules(clinic: Settings) -> None:
    soon = datetime.now(UTC) + timedelta(days=5)
    appt = add_appointment(clinic, soon)
    scheduler = reminder_scheduler._new_scheduler(clinic)
    scheduler.start(paused=True)
    try:
        reminders.reschedule_all(clinic, scheduler)
        ids = {j.id for j in scheduler.get_jobs(jobstore="default")}
        assert {f"reminder-{appt}-two_days", f"reminder-{appt}-same_day"} <= ids
        job = scheduler.get_job(f"reminder-{appt}-two_days")
        assert job.next_run_time == planned_time(TWO_RULES[0], _load(clinic, appt), clinic)

        fewer = clinic.model_copy(deep=True)
        fewer.reminders.rules = [TWO_RULES[0]]
        reminders.reschedule_all(fewer, scheduler)
        assert scheduler.get_job(f"reminder-{appt}-same_day") is None

        scheduling.cancel(clinic.database_url, appt)
        reminder_scheduler._schedulers[clinic.database_url] = scheduler
        reminders.sync_appointment(clinic, appt)
        assert scheduler.get_job(f"reminder-{appt}-two_days") is None
    finally:
        reminder_scheduler._schedulers.pop(clinic.database_url, None)
        scheduler.shutdown(wait=False)
    with session_scope(clinic.database_url) as session:  # the jobs table is in the clinic database
        jobs_table = reminder_scheduler._new_scheduler(clinic)._jobstores["default"].jobs_t
        stored = set(session.execute(select(jobs_table.c.id)).scalars())
    assert stored and all(j.startswith("reminder-") for j in stored)  # the seeded visits' reminders
    assert not {j for j in stored if j.startswith(f"reminder-{appt}-")}


def _load(settings: Settings, appointment_id: int) -> Appointment:
    with session_scope(settings.database_url) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        _ = (appointment.patient, appointment.appointment_type, appointment.provider)
        return appointment


SCHEDULER_PROCESS = """
import time
from bot.messaging.outbound import OutboxSender
from bot.reminders.scheduler import start_scheduler
from bot.settings import get_settings
start_scheduler(get_settings(), OutboxSender())
print("started", flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_killed_and_restarted_the_reminder_due_meanwhile_goes_out_once(seeded: Settings, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINICBOT_CLINIC__TIMEZONE", midday_zone())
    start = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setenv("CLINICBOT_REMINDERS__RULES", '[{"name": "soon", "before_hours": %f, '
                       '"template": "{clinic_name}: see you at {time}. Reply STOP to opt out."}]'
                       % ((3600 - 6) / 3600))
    appt = add_appointment(seeded, start, created=datetime.now(UTC) - timedelta(days=1))
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}

    def launch() -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", SCHEDULER_PROCESS], env=env, cwd=PROJECT_ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        while "started" not in proc.stdout.readline():
            assert proc.poll() is None, proc.stdout.read()
        return proc

    def sends() -> list[ReminderSend]:
        with session_scope(seeded.database_url) as session:
            return list(session.scalars(select(ReminderSend).where(ReminderSend.appointment_id == appt)))

    first = launch()  # schedules the job (due in ~6 s) and is killed before it runs
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert sends() == []
    wall.sleep(7)  # the reminder comes due while nothing runs

    second = launch()
    deadline = wall.monotonic() + 30
    while not (sends() and sends()[0].status != "claimed") and wall.monotonic() < deadline:
        wall.sleep(0.5)  # until the send has finished (a kill inside the claim-to-send window is not this test)
    os.kill(second.pid, signal.SIGKILL)
    second.wait()
    third = launch()
    wall.sleep(3)
    os.kill(third.pid, signal.SIGKILL)
    third.wait()

    [send] = sends()
    assert send.status == "outbox" and send.rule_name == "soon"
    with session_scope(seeded.database_url) as session:
        texts = [m.text for m in session.scalars(select(Message).where(Message.id == send.message_id))]
        assert len(texts) == 1 and "see you at" in texts[0]
        assert session.scalars(select(Message).where(Message.meta.is_not(None))).all()
        reminders_sent = [m for m in session.scalars(select(Message)) if m.meta.get("kind") == "reminder"]
        assert len(reminders_sent) == 1
    assert time(0) is not None
