"""Ninety days of the demo clinic's past, so the dashboard has something plausible to show from the first start.

Synthetic from end to end (a fixed random seed, patients of its own with 555-01xx-style numbers that are nobody's):
conversations on the web and by text, more on weekdays and in the mornings and evenings; what patients asked and
the assistant's answers; handoffs with the reasons patients really give, staff replies sooner during opening hours
than at night (some left long enough to escalate); red flags and intake triage levels; visits booked, moved,
cancelled and confirmed through the assistant; the visits of those weeks, seen or missed (fewer missed once
reminders ran a while); the reminders for them as the policy would have sent them (quiet hours, opt-outs, caps)
with the patients' answers; and waitlist offers. Rows go in through bulk inserts (a few seconds).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.reminders.policy import send_time
from bot.settings import Settings
from bot.store import (
    ActivityEvent,
    Appointment,
    AppointmentType,
    Conversation,
    Handoff,
    Message,
    Patient,
    Provider,
    ReminderSend,
)
from bot.store.models import new_id

DAYS = 90
SEED = 20261130
_FIRST = ["Ash", "Bay", "Cam", "Dale", "Eden", "Flynn", "Gray", "Hollis", "Indy", "Jules", "Kai", "Lane", "Marlo",
          "Noel", "Oak", "Pat", "Remy", "Shay", "Tate", "Wren"]
_LAST = ["Aster", "Brook", "Clover", "Dell", "Ember", "Flint", "Grove", "Heath", "Iris", "Jasper"]
# (intent, weight, how often it needs staff, what the patient typically says first)
TOPICS: list[tuple[str, float, float, str]] = [
    ("clinic_info", 15, 0.02, "what time do you close today"),
    ("book_appointment", 14, 0.06, "i need to book a checkup"),
    ("lab_results", 10, 0.07, "are my lab results back"),
    ("check_appointment", 8, 0.02, "when is my next appointment"),
    ("reschedule_appointment", 8, 0.08, "can i move my appointment to next week"),
    ("report_symptoms", 7, 0.30, "i have had a sore throat for 3 days"),
    ("confirm_appointment", 7, 0.01, "C"),
    ("prescription_refill", 6, 0.45, "i need a refill on my blood pressure pills"),
    ("request_human", 6, 1.0, "can i talk to a person"),
    ("cancel_appointment", 5, 0.05, "please cancel my appointment"),
    ("billing_question", 5, 0.40, "i have a question about my bill"),
    ("join_waitlist", 3, 0.03, "anything sooner?"),
    ("out_of_scope", 3, 0.10, "can you recommend a dentist"),
    ("nlu_fallback", 3, 0.45, "the thing from before"),
]
FOLLOW_UPS = [("inform", "tomorrow morning works"), ("affirm", "yes please"), ("thank_you", "thanks!"),
              ("inform", "Dr. Patel"), ("deny", "no that's all")]
REASON_OF = {"request_human": "requested_human", "report_symptoms": "urgent_triage", "lab_results": "critical_lab",
             "nlu_fallback": "low_confidence", "prescription_refill": "requested_human",
             "billing_question": "requested_human", "check_appointment": "failed_verification",
             "book_appointment": "failed_verification"}
CHANGE_OF = {"book_appointment": ("booked", 0.72), "reschedule_appointment": ("moved", 0.7),
             "cancel_appointment": ("cancelled", 0.9), "confirm_appointment": ("confirmed", 0.95)}


def seed_history(session: Session, settings: Settings, today: date | None = None, days: int = DAYS) -> dict[str, int]:
    """Seed ``days`` days before ``today`` (clinic time). Returns counts of what was created."""
    tz = settings.clinic.tz
    today = today or datetime.now(tz).date()
    rng = random.Random(SEED)
    providers = list(session.scalars(select(Provider)))
    types = list(session.scalars(select(AppointmentType)))
    patients = [{"mrn": f"HX{i:06d}", "first_name": _FIRST[i % 20], "last_name": _LAST[i // 20 % 10],
                 "date_of_birth": date(1945 + i % 60, 1 + i % 12, 1 + i % 28), "phone": f"+1555556{i:04d}",
                 "email": "", "timezone": "", "sms_opted_out": i % 41 == 0, "created_at": _utc(today, days + 30, tz)}
                for i in range(150)]
    session.execute(insert(Patient), patients)
    patient_ids = list(session.scalars(select(Patient.id).where(Patient.mrn.like("HX%")).order_by(Patient.id)))
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("conversations", "messages", "handoffs", "activity")}
    conversations: dict[str, str] = {}  # channel user -> conversation id

    def conversation(channel: str, user: str, at: datetime) -> str:
        if user not in conversations:
            conversations[user] = new_id()
            rows["conversations"].append({"id": conversations[user], "channel": channel, "channel_user": user,
                                          "state": "bot", "handoff_reason": "", "flags": {}, "created_at": at,
                                          "last_activity_at": at})
        return conversations[user]

    def message(cid: str, author: str, text: str, at: datetime) -> None:
        rows["messages"].append({"conversation_id": cid, "direction": "in" if author == "patient" else "out",
                                 "author": author, "text": text, "status": "answered" if author == "patient" else "sent",
                                 "created_at": at, "meta": {}})

    def ledger(kind: str, label: str, channel: str, cid: str | None, at: datetime) -> None:
        rows["activity"].append({"kind": kind, "label": label, "channel": channel, "conversation_id": cid, "at": at})

    weights = [t[1] for t in TOPICS]
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        weekday = day.weekday() < 5
        growth = 1 + 0.5 * (days - back) / days  # the clinic's patients find the assistant over the months
        for _ in range(_poisson(rng, (22 if weekday else 8) * growth)):
            at = _local_moment(rng, day, tz)
            channel = "sms" if rng.random() < 0.55 else "web"
            user = f"+1555556{rng.randrange(150):04d}" if channel == "sms" else f"web-{rng.randrange(900):04d}"
            cid = conversation(channel, user, at)
            intent, _, needs_staff, opening = rng.choices(TOPICS, weights)[0]
            message(cid, "patient", opening, at)
            message(cid, "bot", "…", at + timedelta(seconds=2))
            ledger("intent", intent, channel, cid, at)
            for follow, text in rng.sample(FOLLOW_UPS, rng.choice((0, 0, 1, 1, 2))):
                at += timedelta(seconds=rng.randrange(20, 200))
                message(cid, "patient", text, at)
                message(cid, "bot", "…", at + timedelta(seconds=2))
                ledger("intent", follow, channel, cid, at)
            if intent in CHANGE_OF and rng.random() < CHANGE_OF[intent][1]:
                ledger("appointment", CHANGE_OF[intent][0], channel, cid, at + timedelta(seconds=30))
            if intent == "report_symptoms":
                level = rng.choices(("self_care", "routine", "urgent", "emergency"), (35, 40, 22, 3))[0]
                ledger("triage", level, channel, cid, at + timedelta(seconds=40))
                needs_staff = 1.0 if level in ("urgent", "emergency") else 0.0
            if intent == "join_waitlist":
                ledger("waitlist", "joined", channel, cid, at + timedelta(seconds=30))
            if rng.random() < needs_staff:
                _handoff(rng, rows, settings, cid, REASON_OF.get(intent, "requested_human"), at + timedelta(seconds=5))
        if rng.random() < 0.45:  # a red flag: the emergency answer at once, and staff
            at = _local_moment(rng, day, tz)
            channel = rng.choice(("sms", "web"))
            cid = conversation(channel, f"+1555556{rng.randrange(150):04d}" if channel == "sms"
                               else f"web-rf-{back}", at)
            message(cid, "patient", "[red flag message]", at)
            message(cid, "system", "Call 911 now.", at + timedelta(seconds=1))
            ledger("triage", "red_flag", channel, cid, at)
            _handoff(rng, rows, settings, cid, "triage_flag", at + timedelta(seconds=1), urgent=True)
        for _ in range(_poisson(rng, 0.9 if weekday else 0.3)):  # a freed time offered from the waitlist
            at = _local_moment(rng, day, tz, start=8, end=20)
            ledger("waitlist", "offered", "sms", None, at)
            outcome = rng.choices(("accepted", "expired", "declined", "taken"), (55, 25, 15, 5))[0]
            ledger("waitlist", outcome, "sms", None, at + timedelta(minutes=rng.randrange(2, 30)))
            if outcome == "accepted":
                ledger("appointment", "booked", "sms", None, at + timedelta(minutes=3))
    for chunk in ("conversations", "messages", "handoffs", "activity"):
        model = {"conversations": Conversation, "messages": Message, "handoffs": Handoff,
                 "activity": ActivityEvent}[chunk]
        for i in range(0, len(rows[chunk]), 5000):
            session.execute(insert(model), rows[chunk][i:i + 5000])
    visits, sends = _visits(session, settings, rng, today, days, providers, types, patient_ids, rows)
    return {"conversations": len(rows["conversations"]), "messages": len(rows["messages"]),
            "handoffs": len(rows["handoffs"]), "activity": len(rows["activity"]), "past_visits": visits,
            "reminders": sends}


def _handoff(rng: random.Random, rows: dict[str, list[dict[str, Any]]], settings: Settings, cid: str, reason: str,
             at: datetime, urgent: bool = False) -> None:
    local = at.astimezone(settings.clinic.tz)
    open_now = 8 <= local.hour < 17 and local.weekday() < 5
    if open_now or urgent:
        wait = timedelta(minutes=min(rng.lognormvariate(math.log(3 if urgent else 6), 0.6), 240))
    else:  # answered after the next opening
        opening = local.replace(hour=8, minute=0, second=0)
        while opening <= local or opening.weekday() >= 5:
            opening += timedelta(days=1)
        wait = opening - local + timedelta(minutes=rng.lognormvariate(math.log(20), 0.6))
    replied = at + wait
    escalate = timedelta(minutes=settings.console.escalate_after_minutes)
    rows["handoffs"].append({"conversation_id": cid, "reason": reason, "summary": {}, "status": "closed",
                             "claimed_by": rng.choice(("dana", "maria", "sam")), "created_at": at,
                             "closed_at": replied + timedelta(minutes=rng.randrange(3, 20)),
                             "escalated_at": at + escalate if wait > escalate else None})
    rows["messages"].append({"conversation_id": cid, "direction": "out", "author": "staff",
                             "text": "Hi, this is the front desk.", "status": "sent", "created_at": replied,
                             "meta": {}})


def _visits(session: Session, settings: Settings, rng: random.Random, today: date, days: int,
            providers: list[Provider], types: list[AppointmentType], patient_ids: list[int],
            rows: dict[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """The past visits (seen, missed, cancelled) and their reminders as the policy would have sent them."""
    tz = settings.clinic.tz
    visits: list[dict[str, Any]] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        hours = settings.clinic.opening_hours(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()])
        if hours is None:
            continue
        missed_rate = 0.11 - 0.05 * (days - back) / days  # reminders and confirmations bring no-shows down
        for provider in providers:
            for _ in range(rng.randrange(6, 11)):
                minute = rng.randrange(hours[0].hour * 3, hours[1].hour * 3 - 1) * 20
                start = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(UTC)
                kind = rng.choice(types)
                roll = rng.random()
                status = "no_show" if roll < missed_rate else ("cancelled" if roll < missed_rate + 0.06 else "completed")
                visits.append({"patient_id": rng.choice(patient_ids), "provider_id": provider.id,
                               "appointment_type_id": kind.id, "start": start,
                               "end": start + timedelta(minutes=kind.duration_minutes), "status": status,
                               "location": settings.clinic.address, "created_at": start - timedelta(days=rng.randrange(3, 30)),
                               "updated_at": start})
    session.execute(insert(Appointment), visits)
    stored = session.execute(select(Appointment.id, Appointment.patient_id, Appointment.start, Appointment.status,
                                    Appointment.created_at).where(Appointment.location == settings.clinic.address,
                                                                  Appointment.start < _utc(today, 0, tz))
                           .order_by(Appointment.id)).all()
    opted_out = set(session.scalars(select(Patient.id).where(Patient.sms_opted_out.is_(True))))
    sends: list[dict[str, Any]] = []
    for appointment_id, patient_id, start, status, created in stored:
        for rule in settings.reminders.rules:
            due = start - timedelta(hours=rule.before_hours)
            if due < created:
                continue
            at = send_time(due, start, settings, tz)
            outcome = "skipped_opt_out" if patient_id in opted_out else (
                "skipped_cap" if rng.random() < 0.03 else "sent")
            if status == "cancelled" and rng.random() < 0.5:
                outcome = "cancelled"
            sends.append({"appointment_id": appointment_id, "patient_id": patient_id, "rule_name": rule.name,
                          "due_at": at, "sent_at": at if outcome == "sent" else None, "status": outcome})
            if outcome == "sent" and rule.before_hours >= 24:
                answer = rng.choices(("confirm", "reschedule", "cancel", ""), (38, 4, 3, 55))[0]
                if answer:
                    reply_at = at + timedelta(minutes=rng.randrange(2, 240))
                    rows["activity"].append({"kind": "reminder_reply", "label": answer, "channel": "sms",
                                             "conversation_id": None, "at": reply_at})
    for i in range(0, len(sends), 5000):
        session.execute(insert(ReminderSend), sends[i:i + 5000])
    replies = [r for r in rows["activity"] if r["kind"] == "reminder_reply"]
    if replies:
        session.execute(insert(ActivityEvent), replies)
    return len(visits), len(sends)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _local_moment(rng: random.Random, day: date, tz: Any, start: int = 7, end: int = 23) -> datetime:
    """A time of day when patients write: mornings and evenings most."""
    hour = rng.choices(range(start, end), [3 if h in (8, 9, 10, 18, 19, 20) else 2 if h < 17 else 1
                                           for h in range(start, end)])[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=tz).astimezone(UTC)


def _utc(today: date, back: int, tz: Any) -> datetime:
    return datetime.combine(today - timedelta(days=back), time(0, 0), tzinfo=tz).astimezone(UTC)
