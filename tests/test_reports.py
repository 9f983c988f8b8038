"""The dashboard's aggregates against a small history counted by hand, around the spring daylight-saving change
(Sun 2030-03-10 in Chicago): a message at 11:30 pm on Saturday is Saturday's (though Sunday in UTC), and days,
rates, percentiles and weeks come out as a person counting the rows would get them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.reports import build, custom
from bot.reports.intents import copy_intents
from bot.reports.periods import local_day, offset_stretches
from bot.settings import ReminderRule, Settings
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
    session_scope,
)


def at(settings: Settings, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 3, day, hour, minute, tzinfo=settings.clinic.tz)


@pytest.fixture
def history(seeded: Settings) -> Settings:
    cfg = seeded.model_copy(deep=True)
    cfg.reminders.rules = [ReminderRule(name="two_days", before_hours=48, template="{clinic_name} {time} STOP")]
    s = cfg
    with session_scope(cfg.database_url) as session:
        convs = {name: Conversation(id=name, channel=channel, channel_user=name) for name, channel in
                 [("c1", "web"), ("c2", "sms"), ("c3", "sms"), ("c4", "web"), ("c5", "web"), ("c6", "sms"),
                  ("c7", "web")]}
        session.add_all(convs.values())
        session.flush()

        def msg(cid: str, when: datetime, author: str = "patient") -> None:
            session.add(Message(conversation_id=cid, direction="in" if author == "patient" else "out", author=author,
                                text="", status="answered", created_at=when))

        def ledger(kind: str, label: str, cid: str, when: datetime) -> None:
            session.add(ActivityEvent(kind=kind, label=label, channel=convs[cid].channel, conversation_id=cid, at=when))

        msg("c1", at(s, 8, 10)), msg("c1", at(s, 8, 10, 1)), msg("c1", at(s, 8, 10, 1), "bot")
        msg("c1", at(s, 9, 23, 30))  # Saturday night: Sunday 05:30 in UTC
        msg("c2", at(s, 10, 0, 30)), msg("c2", at(s, 10, 12))  # Sunday, before and after the clocks change
        msg("c3", at(s, 11, 9))
        msg("c4", at(s, 7, 23, 59)), msg("c4", at(s, 12, 0, 1))  # outside the period
        msg("c1", at(s, 8, 10, 17), "staff"), msg("c3", at(s, 11, 9, 4), "staff"), msg("c5", at(s, 9, 15), "staff")
        for cid, reason, opened, escalated in [("c1", "requested_human", at(s, 8, 10, 5), False),
                                               ("c3", "triage_flag", at(s, 11, 9), False),
                                               ("c5", "requested_human", at(s, 9, 14), True),
                                               ("c6", "staff_opened", at(s, 10, 9), False),
                                               ("c7", "low_confidence", at(s, 11, 16), False)]:
            session.add(Handoff(conversation_id=cid, reason=reason, created_at=opened, status="closed",
                                escalated_at=opened + timedelta(minutes=20) if escalated else None))
        for cid, label, when in [("c1", "book_appointment", at(s, 8, 10)), ("c1", "request_human", at(s, 8, 10, 1)),
                                 ("c1", "clinic_info", at(s, 9, 23, 30)), ("c2", "lab_results", at(s, 10, 0, 30)),
                                 ("c2", "thank_you", at(s, 10, 12)), ("c3", "report_symptoms", at(s, 11, 9)),
                                 ("c4", "greet", at(s, 12, 0, 1))]:
            ledger("intent", label, cid, when)
        for label, cid, when in [("red_flag", "c3", at(s, 11, 9)), ("urgent", "c3", at(s, 11, 9, 2)),
                                 ("self_care", "c2", at(s, 10, 12))]:
            ledger("triage", label, cid, when)
        for label, cid, when in [("booked", "c1", at(s, 8, 10, 3)), ("booked", "c2", at(s, 10, 12, 1)),
                                 ("cancelled", "c1", at(s, 9, 23, 31)), ("confirmed", "c3", at(s, 11, 9, 1))]:
            ledger("appointment", label, cid, when)
        for label, cid in [("joined", "c1"), ("joined", "c2"), ("offered", "c2"), ("offered", "c6"),
                           ("accepted", "c2"), ("expired", "c6")]:
            ledger("waitlist", label, cid, at(s, 10, 13))
        ledger("reminder_reply", "confirm", "c2", at(s, 10, 14))

        patient = session.scalars(select(Patient)).first()
        provider = session.scalars(select(Provider)).first()
        kind = session.scalars(select(AppointmentType)).first()
        assert patient and provider and kind

        def visit(start: datetime, status: str) -> Appointment:
            appointment = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type_id=kind.id,
                                      start=start, end=start + timedelta(minutes=20), status=status,
                                      created_at=start - timedelta(days=9))
            session.add(appointment)
            session.flush()
            return appointment

        for day, status in [(8, "completed"), (8, "completed"), (8, "no_show"), (8, "cancelled"), (11, "completed"),
                            (11, "no_show"), (13, "no_show")]:
            visit(at(s, day, 9), status)
        for start, due, status in [(at(s, 12, 10), at(s, 10, 10), "sent"),  # on the rule's time
                                   (at(s, 12, 6), at(s, 10, 8), "sent"),  # 6 am visit: 48 h before is quiet
                                   (at(s, 13, 10), at(s, 11, 10), "skipped_opt_out"),
                                   (at(s, 13, 11), at(s, 11, 11), "skipped_cap"),
                                   (at(s, 20, 10), at(s, 18, 10), "sent")]:  # due after the period
            appointment = visit(start, "booked")
            session.add(ReminderSend(appointment_id=appointment.id, patient_id=patient.id, rule_name="two_days",
                                     due_at=due, sent_at=due if status == "sent" else None, status=status))
    return cfg


def board(settings: Settings, channel: str | None = None) -> object:
    with session_scope(settings.database_url) as session:
        return build(session, settings, custom(date(2030, 3, 8), date(2030, 3, 11), settings.clinic.tz), channel)


def test_days_conversations_messages_and_self_service_by_hand(history: Settings) -> None:
    dash = board(history)
    assert dash.table("daily").rows == [  # type: ignore[attr-defined]
        ("2030-03-08", 1, 2, 1, 0, 0.0),
        ("2030-03-09", 1, 1, 0, 1, 1.0),  # 11:30 pm Saturday stays Saturday
        ("2030-03-10", 1, 2, 0, 1, 1.0),  # 12:30 am CST and noon CDT: one Sunday
        ("2030-03-11", 1, 1, 1, 0, 0.0),
    ]
    figures = dash.figures  # type: ignore[attr-defined]
    assert (figures["conversations"], figures["patient_messages"], figures["self_service_rate"]) == (4, 6, 0.5)
    sms = board(history, "sms")
    assert [r[:4] for r in sms.table("daily").rows] == [  # type: ignore[attr-defined]
        ("2030-03-08", 0, 0, 0), ("2030-03-09", 0, 0, 0), ("2030-03-10", 1, 2, 0), ("2030-03-11", 1, 1, 1)]


def test_intents_with_their_self_service_by_hand(history: Settings) -> None:
    rows = {r[0]: r[2:] for r in board(history).table("intents").rows}  # type: ignore[attr-defined]
    assert rows == {"book_appointment": (1, 0, 0.0), "request_human": (1, 0, 0.0), "clinic_info": (1, 1, 1.0),
                    "lab_results": (1, 1, 1.0), "thank_you": (1, 1, 1.0), "report_symptoms": (1, 0, 0.0)}
    web = {r[0] for r in board(history, "web").table("intents").rows}  # type: ignore[attr-defined]
    assert web == {"book_appointment", "request_human", "clinic_info"}


def test_handoffs_reply_times_and_escalations_by_hand(history: Settings) -> None:
    dash = board(history)
    rows = {r[0]: r[2:] for r in dash.table("handoffs").rows}  # type: ignore[attr-defined]
    assert rows["requested_human"] == (2, 1, 2, 36.0, 60.0)  # replies after 12 and 60 minutes
    assert rows["triage_flag"] == (1, 0, 1, 4.0, 4.0)
    assert rows["low_confidence"] == (1, 0, 0, None, None)
    assert rows["staff_opened"][:2] == (1, 0) and rows["staff_opened"][3:] == (None, None)
    figures = dash.figures  # type: ignore[attr-defined]
    assert (figures["median_first_reply_min"], figures["p90_first_reply_min"], figures["unanswered"]) == (12.0, 60.0, 1)
    assert (figures["handoffs"], figures["escalated"], figures["red_flags"]) == (5, 1, 1)
    triage = {r[0]: r[2] for r in dash.table("triage").rows}  # type: ignore[attr-defined]
    assert triage == {"red_flag": 1, "emergency": 0, "urgent": 1, "routine": 0, "self_care": 1}
    assert dash.red_flags_by_day == {"2030-03-11": 1}  # type: ignore[attr-defined]


def test_appointments_no_shows_reminders_and_waitlist_by_hand(history: Settings) -> None:
    dash = board(history)
    assert dash.table("appointments").rows == [("booked", 2), ("moved", 0), ("cancelled", 1), ("confirmed", 1)]  # type: ignore[attr-defined]
    assert dash.table("appointments_daily").rows[1] == ("2030-03-09", 0, 0, 1, 0)  # type: ignore[attr-defined]
    assert dash.table("no_shows").rows == [("2030-03-04", 2, 1, 1 / 3), ("2030-03-11", 1, 1, 0.5)]  # type: ignore[attr-defined]
    reminders = {r[0]: r[2] for r in dash.table("reminders").rows}  # type: ignore[attr-defined]
    assert reminders == {"sent": 2, "outbox": 0, "failed": 0, "confirmed": 1, "rescheduled": 0,
                         "cancelled_by_reply": 0, "opted_out": 1, "held_quiet": 1, "skipped_cap": 1, "cancelled": 0}
    waitlist = {r[0]: r[2] for r in dash.table("waitlist").rows}  # type: ignore[attr-defined]
    assert waitlist == {"joined": 2, "left": 0, "offered": 2, "accepted": 1, "declined": 0, "expired": 1, "taken": 0}
    assert dash.figures["no_show_rate"] == 0.4  # type: ignore[attr-defined]
    web = board(history, "web")
    assert {r[0]: r[2] for r in web.table("reminders").rows}["sent"] == 0  # type: ignore[attr-defined]
    assert {r[0]: r[2] for r in web.table("waitlist").rows}["joined"] == 1  # type: ignore[attr-defined]


def test_every_export_is_counts_and_rates_only(history: Settings) -> None:
    with session_scope(history.database_url) as session:
        names = {p.first_name for p in session.scalars(select(Patient))} | {p.phone for p in session.scalars(select(Patient))}
    for table in board(history).tables.values():  # type: ignore[attr-defined]
        text = table.csv()
        assert not [n for n in names if n in text], table.name


def test_a_local_day_in_sql_follows_daylight_saving(history: Settings) -> None:
    period = custom(date(2030, 3, 1), date(2030, 3, 31), history.clinic.tz)
    assert [minutes for _, minutes in offset_stretches(period)] == [-360, -300]
    with session_scope(history.database_url) as session:
        day = local_day(Message.created_at, period, "sqlite")
        seen = dict(session.execute(select(Message.created_at, day).where(Message.conversation_id == "c2")).all())
    assert sorted(seen.values()) == ["2030-03-10", "2030-03-10"]


def test_intents_are_copied_from_the_tracker_store_once_with_their_channel(seeded: Settings, tmp_path: Path) -> None:
    """Rasa's SQL tracker store (its ``events`` table as Rasa 3.6 creates it) to the ledger: user events only,
    each once, with the channel of the conversation behind the sender; the tracker's purge loses nothing."""
    tracker = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with tracker.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                             "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                             "action_name VARCHAR(255), data TEXT)")
        for sender, kind, intent in [("w1", "user", "lab_results"), ("w1", "action", None), ("s1", "user", "greet"),
                                     ("s1", "bot", None), ("zz", "user", "nlu_fallback")]:
            conn.exec_driver_sql("INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) "
                                 "VALUES (?, ?, ?, ?, '{}')", (sender, kind, 1_900_000_000.0, intent))
    with session_scope(seeded.database_url) as session:
        session.add_all([Conversation(id="w1", channel="web", channel_user="page-1"),
                         Conversation(id="s1", channel="sms", channel_user="+15555550199")])
    assert copy_intents(seeded, tracker) == 3
    assert copy_intents(seeded, tracker) == 0  # nothing twice
    with tracker.begin() as conn:
        conn.exec_driver_sql("DELETE FROM events WHERE id < 3")  # the retention purge
        conn.exec_driver_sql("INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) "
                             "VALUES ('w1', 'user', 1900000100.0, 'book_appointment', '{}')")
    assert copy_intents(seeded, tracker) == 1
    with session_scope(seeded.database_url) as session:
        rows = [(e.label, e.channel, e.conversation_id) for e in session.scalars(
            select(ActivityEvent).where(ActivityEvent.kind == "intent").order_by(ActivityEvent.id))]
    assert rows == [("lab_results", "web", "w1"), ("greet", "sms", "s1"), ("nlu_fallback", "rasa", "zz"),
                    ("book_appointment", "web", "w1")]
