"""Appointment flows end to end through the real engine (gateway -> Rasa -> action server -> clinic store) with
the demo patient, two patients racing for one slot, and a reminder that comes due while everything is down."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from bot.settings import PROJECT_ROOT
from tests.e2e.stack import CLINICBOT, Stack, midday_zone

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DEMO_PHONE = "+15555550100"
RULES = [
    {"name": "two_days_before", "before_hours": 48,
     "template": "{clinic_name}: reminder of your {appointment_type} with {provider_name} on {date} at {time}. "
                 "Reply C to confirm, R to reschedule. Reply STOP to opt out."},
    {"name": "half_hour", "before_hours": 0.5, "appointment_types": ["lab_review"],
     "template": "{clinic_name}: your {appointment_type} is at {time}. Reply STOP to opt out."},
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("appointments")) / "data",
                    extra_env={"CLINICBOT_CLINIC__TIMEZONE": midday_zone(),
                               "CLINICBOT_REMINDERS__RULES": json.dumps(RULES)})
    try:
        running.start()
        yield running
    finally:
        running.destroy()


def say(stack: Stack, sender: str, message: str) -> str:
    return stack.reply(sender, message, sep=" ")


def db(stack: Stack) -> Any:
    return stack.clinic_db()


def appointments(stack: Stack, phone: str = DEMO_PHONE) -> list[dict[str, Any]]:
    result = subprocess.run([str(CLINICBOT), "appointments", "--phone", phone, "--json"], env=stack.env(),
                            capture_output=True, text=True, timeout=60, check=True, cwd=PROJECT_ROOT)
    return list(json.loads(result.stdout))


def verify_on_web(stack: Stack, sender: str, opening: str, name: str = "Jordan Demo", dob: str = "01/01/1980",
                  phone: str = DEMO_PHONE) -> str:
    """Name, date of birth, then the code texted to the number on file (read from the outbox)."""
    first = say(stack, sender, opening)
    assert "full name" in first, first
    assert "Patel" not in first and "Maple Street" not in first.replace("Maple Street Family Medicine", "")
    assert "date of birth" in say(stack, sender, name)
    asked = say(stack, sender, dob)
    assert "6-digit code" in asked and f"ending in {phone[-2:]}" in asked and "Patel" not in asked, asked
    return say(stack, sender, stack.texted_code(phone))


def test_checking_appointments_on_the_web_after_name_and_birth_date(stack: Stack) -> None:
    answer = verify_on_web(stack, "e2e-check-1", "when is my next appointment")
    assert "you're verified" in answer
    assert "Follow-up visit with Dr. Anika Patel" in answer and "412 Maple Street" in answer
    assert "10:00 am" in answer
    with db(stack).connect() as conn:
        actions = conn.execute(text("SELECT action FROM audit_events WHERE actor_id = "
                                    "(SELECT id FROM conversations WHERE channel_user = 'e2e-check-1') "
                                    "ORDER BY id")).scalars().all()
    assert actions == ["verification_code_sent", "verification_passed", "appointment_viewed"]


def test_book_reschedule_cancel_the_other_one_and_confirm(stack: Stack) -> None:
    sender = "e2e-flows-1"
    before = [a for a in appointments(stack) if a["status"] in ("booked", "confirmed")]
    answer = verify_on_web(stack, sender, "i need to book an appointment")
    assert "What kind of visit" in answer
    assert "Who would you like to see" in say(stack, sender, "a sick visit")
    assert "What day and time" in say(stack, sender, "dr okafor")
    none_free = say(stack, sender, "next tue afternoon")  # Dr. Okafor does not work on Tuesdays
    assert "don't have anything free" in none_free and "Dr. Chidi Okafor" in none_free
    offers = say(stack, sender, "any")
    assert "1) " in offers and "3) " in offers and "Dr. Chidi Okafor" in offers
    booked = say(stack, sender, "2")
    assert "You're booked: Sick visit with Dr. Chidi Okafor" in booked
    active = [a for a in appointments(stack) if a["status"] in ("booked", "confirmed")]
    assert len(active) == len(before) + 1

    which = say(stack, sender, "i need to reschedule my appointment")
    assert "Which appointment?" in which and "2) " in which
    when = say(stack, sender, "the first one")
    assert "When would you like to move your" in when
    new_offers = say(stack, sender, "any")
    assert "1) " in new_offers
    moved = say(stack, sender, "1")
    assert "I moved your appointment. It is now" in moved

    ask = say(stack, sender, "i want to cancel my appointment")
    assert "Which appointment?" in ask
    first_question = say(stack, sender, "1")
    assert "Cancel your" in first_question and "24 hours" in first_question  # the clinic's policy
    second_question = say(stack, sender, "no, the other one")
    assert "Cancel your" in second_question and second_question != first_question
    cancelled = say(stack, sender, "yes")
    assert "is cancelled" in cancelled

    confirmed = say(stack, sender, "confirm my appointment")
    assert "is confirmed" in confirmed
    statuses = sorted(a["status"] for a in appointments(stack))
    assert statuses.count("cancelled") == 1 and statuses.count("confirmed") == 1


def test_never_mind_stops_a_flow_and_a_change_of_mind_starts_another(stack: Stack) -> None:
    sender = "e2e-stop-1"
    assert "full name" in say(stack, sender, "can i book an appointment")
    stopped = say(stack, sender, "never mind")
    assert "stopped" in stopped and "nothing was changed" in stopped
    assert "412 Maple Street" in say(stack, sender, "what are your hours")
    assert "full name" in say(stack, sender, "i need to book a physical")
    assert "date of birth" in say(stack, sender, "Jordan Demo")
    switched = say(stack, sender, "actually i want to check when my appointment is")
    assert "full name" in switched or "date of birth" in switched  # a new flow, verification first


def sms_conversation(stack: Stack, phone: str) -> str:
    """The SMS conversation of this number (the verification codes texted to it may have opened it already)."""
    with db(stack).begin() as conn:
        found = conn.execute(text("SELECT id FROM conversations WHERE channel = 'sms' AND channel_user = :phone"),
                             {"phone": phone}).scalar()
        if found:
            return str(found)
        conversation_id = f"e2e-sms-{phone[-4:]}"
        conn.execute(text("INSERT INTO conversations (id, channel, channel_user, state, handoff_reason, flags, "
                          "created_at, last_activity_at) VALUES (:id, 'sms', :phone, 'bot', '', '{}', :now, :now)"),
                     {"id": conversation_id, "phone": phone, "now": datetime.now(UTC).replace(tzinfo=None)})
        return conversation_id


def test_sms_asks_only_the_birth_date_and_three_failures_lock(stack: Stack) -> None:
    conversation_id = sms_conversation(stack, DEMO_PHONE)

    def engine(message: str) -> str:  # the gateway's SMS route calls the engine the same way
        response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=60,
                              json={"sender": conversation_id, "message": message, "metadata": {"channel": "sms"}})
        return " ".join(m.get("text", "") for m in response.json())

    first = engine("when is my appt")
    assert "date of birth" in first and "full name" not in first
    for _ in range(2):
        assert "doesn't match" in engine("02/02/1990")
    locked = engine("02/02/1990")
    assert "can't verify you" in locked and "+15555550123" in locked
    assert "Patel" not in locked
    again = engine("when is my appointment")
    assert "can't verify you" in again and "Patel" not in again


def test_after_a_wrong_birth_date_the_next_date_typed_is_read_as_a_date(stack: Stack) -> None:
    sender = "e2e-retype-1"
    assert "full name" in say(stack, sender, "when is my next appointment")
    assert "date of birth" in say(stack, sender, "Jordan Demo")
    wrong = say(stack, sender, "02/03/1981")
    assert "doesn't match" in wrong and "check your date of birth" in wrong
    assert "6-digit code" in say(stack, sender, "01/01/1980")  # a date, not a name
    assert "you're verified" in say(stack, sender, stack.texted_code(DEMO_PHONE))


def test_strangers_guessing_from_fresh_web_chats_do_not_lock_the_patient_out_of_sms(stack: Stack) -> None:
    with db(stack).connect() as conn:  # a patient no other test here uses
        name, born, phone = conn.execute(text("SELECT first_name || ' ' || last_name, date_of_birth, phone "
                                              "FROM patients WHERE phone != :p ORDER BY id LIMIT 1 OFFSET 2"),
                                         {"p": DEMO_PHONE}).one()
    for i in range(3):  # the finding: this locked the real patient out on every channel
        sender = f"e2e-stranger-{i}"
        say(stack, sender, "when is my next appointment")
        say(stack, sender, name)
        assert "doesn't match" in say(stack, sender, "07/04/1931")
    conversation_id = sms_conversation(stack, phone)

    def engine(message: str) -> str:
        response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=60,
                              json={"sender": conversation_id, "message": message, "metadata": {"channel": "sms"}})
        return " ".join(m.get("text", "") for m in response.json())

    assert "date of birth" in engine("when is my appt")
    answer = engine(f"{datetime.fromisoformat(str(born)):%m/%d/%Y}")
    assert "you're verified" in answer and "can't verify" not in answer


def free_day_ahead(stack: Stack, provider_key: str) -> date:
    """The first day at least two days from now on which the provider has a free block (clinic time)."""
    tz = ZoneInfo(stack.extra_env["CLINICBOT_CLINIC__TIMEZONE"])
    with db(stack).connect() as conn:
        starts = conn.execute(text(
            "SELECT a.start FROM availability a JOIN providers p ON p.id = a.provider_id "
            "WHERE p.key = :k AND a.appointment_id IS NULL AND a.start > :t ORDER BY a.start"),
            {"k": provider_key, "t": (datetime.now(UTC) + timedelta(days=2)).replace(tzinfo=None)}).scalars().all()
    soon = datetime.now(tz).date() + timedelta(days=2)
    days = [datetime.fromisoformat(str(s)).replace(tzinfo=UTC).astimezone(tz).date() for s in starts]
    return next(d for d in days if d >= soon)


def test_two_patients_racing_for_one_slot_one_gets_it_the_other_is_offered_others(stack: Stack) -> None:
    with db(stack).connect() as conn:  # two patients other than the demo one (another test locks it)
        rows = conn.execute(text("SELECT first_name, last_name, date_of_birth, phone FROM patients "
                                 "WHERE phone != :p ORDER BY id LIMIT 2"), {"p": DEMO_PHONE}).all()
    people = {f"e2e-race-{i}": (f"{r.first_name} {r.last_name}",
                                f"{datetime.fromisoformat(str(r.date_of_birth)):%m/%d/%Y}", r.phone)
              for i, r in enumerate(rows)}
    day = free_day_ahead(stack, "patel")  # a day ahead: the soonest times then do not move as the clock runs
    offers = {}
    for sender, (name, dob, phone) in people.items():
        assert "you're verified" in verify_on_web(stack, sender, "book an appointment", name, dob, phone)
        say(stack, sender, "lab review")
        say(stack, sender, "dr patel")
        offers[sender] = say(stack, sender, f"{day:%b} {day.day}".lower())
    first, second = offers.values()
    assert first.split("I have ")[1] == second.split("I have ")[1]

    answers: dict[str, str] = {}

    def pick(sender: str) -> None:
        answers[sender] = say(stack, sender, "1")

    threads = [threading.Thread(target=pick, args=(s,)) for s in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted("booked" if "You're booked" in a else "taken" if "just taken" in a else a
                      for a in answers.values())
    assert outcomes == ["booked", "taken"]
    loser = next(a for a in answers.values() if "just taken" in a)
    assert "1) " in loser  # fresh offers follow
    with db(stack).connect() as conn:
        doubles = conn.execute(text(
            "SELECT COUNT(*) FROM appointments a JOIN appointments b ON a.provider_id = b.provider_id "
            "AND a.id < b.id AND a.start < b.\"end\" AND b.start < a.\"end\" "
            "WHERE a.status IN ('booked','confirmed') AND b.status IN ('booked','confirmed')")).scalar_one()
    assert doubles == 0


def test_a_reminder_due_while_everything_is_down_goes_out_once_after_restart(stack: Stack) -> None:
    assert stack.stop() == 0
    start = datetime.now(UTC) + timedelta(minutes=30, seconds=25)  # the half-hour rule comes due in 25 s
    with db(stack).begin() as conn:
        patient_id = conn.execute(text("SELECT id FROM patients WHERE phone = :p"), {"p": DEMO_PHONE}).scalar_one()
        type_id = conn.execute(text("SELECT id FROM appointment_types WHERE code = 'lab_review'")).scalar_one()
        created = (datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None)
        conn.execute(text("INSERT INTO appointments (patient_id, provider_id, appointment_type_id, start, \"end\", "
                          "status, location, created_at, updated_at) VALUES (:p, 1, :t, :s, :e, 'booked', 'here', "
                          ":c, :c)"), {"p": patient_id, "t": type_id, "s": start.replace(tzinfo=None),
                                       "e": (start + timedelta(minutes=20)).replace(tzinfo=None), "c": created})
        appointment_id = conn.execute(text("SELECT MAX(id) FROM appointments")).scalar_one()
    # the booking's job goes into the persistent store (as the action server does), then nothing runs
    subprocess.run([str(Path(CLINICBOT).parent / "python"), "-c",
                    "from bot.reminders.scheduler import sync_appointment; from bot.settings import get_settings; "
                    f"sync_appointment(get_settings(), {appointment_id})"], env=stack.env(), check=True, timeout=60,
                   cwd=PROJECT_ROOT)
    with db(stack).connect() as conn:
        job = conn.execute(text("SELECT id FROM apscheduler_jobs WHERE id = :j"),
                           {"j": f"reminder-{appointment_id}-half_hour"}).scalar_one_or_none()
    assert job is not None
    time.sleep(max(0.0, (start - timedelta(minutes=30) - datetime.now(UTC)).total_seconds()) + 2)

    def sends() -> list[Any]:
        with db(stack).connect() as conn:
            return list(conn.execute(text("SELECT rule_name, status, message_id FROM reminder_sends "
                                          "WHERE appointment_id = :a"), {"a": appointment_id}))

    assert sends() == []
    stack.start(timeout_s=300)
    deadline = time.monotonic() + 60
    while not sends() and time.monotonic() < deadline:
        time.sleep(1)
    assert stack.stop() == 0
    stack.start(timeout_s=300)
    time.sleep(5)
    [(rule, status, message_id)] = sends()
    assert (rule, status) == ("half_hour", "outbox")
    with db(stack).connect() as conn:
        body = conn.execute(text("SELECT text FROM messages WHERE id = :m"), {"m": message_id}).scalar_one()
        reminders = conn.execute(text("SELECT COUNT(*) FROM messages WHERE text = :b"), {"b": body}).scalar_one()
    assert "Maple Street Family Medicine" in body and "STOP" in body and reminders == 1

    preview = subprocess.run([str(CLINICBOT), "reminders", "preview", "--days", "7", "--json"], env=stack.env(),
                             capture_output=True, text=True, timeout=60, check=True, cwd=PROJECT_ROOT)
    planned = json.loads(preview.stdout)
    assert planned and {"appointment_id", "patient_id", "send_at", "text"} <= set(planned[0])
    assert appointment_id not in [p["appointment_id"] for p in planned if p["rule"] == "half_hour"]
