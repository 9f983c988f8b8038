"""Appointment reminders: the owner's rules (config.yml ``reminders``) turned into jobs on APScheduler's
persistent SQLAlchemy job store, in the clinic database, so they survive restarts.

One job per (appointment, rule), id ``reminder-<appointment>-<rule>``, run at the rule's time moved inside the
quiet hours. A job that came due while every process was down runs once at the next start
(``misfire_grace_time=None``, coalesced). The store row ``ReminderSend`` (unique per appointment and rule) is
claimed before anything is sent, so a reminder goes out at most once even when two schedulers race or a job is
replayed. At send time the rules, quiet hours, opt-outs and caps (one a day, three a week per patient) are
checked again: rules changed while jobs were pending take effect, and ``reschedule_all`` (at start and every
minute) brings the job store in step with the appointments and the rules.

Replies: "C"/"confirm" and "R"/"reschedule" to a number that got a reminder act on that appointment. A bare
"cancel" is also an SMS opt-out keyword; it is claimed here (cancel the appointment, not the texts) only when
the number got a reminder in the last 48 hours, otherwise it stays an opt-out.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.outbound import SmsSender, is_opted_out, record_outbound, sms_sender_for
from bot.scheduling import ACTIVE_STATUSES
from bot.settings import ReminderRule, Settings, get_settings
from bot.store import Appointment, Conversation, Patient, ReminderSend, session_scope

log = logging.getLogger(__name__)

JOB_PREFIX = "reminder-"
COUNTED = ("sent", "outbox", "claimed")  # what counts toward the per-patient caps
RECONCILE_EVERY_S = 60
CANCEL_REPLY_WINDOW = timedelta(hours=48)
_REPLIES = {"c": "confirm_appointment", "confirm": "confirm_appointment", "confirmed": "confirm_appointment",
            "r": "reschedule_appointment", "reschedule": "reschedule_appointment", "cancel": "cancel_appointment"}
_schedulers: dict[str, Any] = {}  # one scheduler per process and database: the gateway's, or a paused writer


def job_id(appointment_id: int, rule_name: str) -> str:
    return f"{JOB_PREFIX}{appointment_id}-{rule_name}"


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def patient_tz(patient: Patient, settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(patient.timezone) if patient.timezone else settings.clinic.tz
    except (ValueError, KeyError):
        return settings.clinic.tz


def in_quiet_window(at: datetime, settings: Settings, tz: ZoneInfo) -> bool:
    quiet = settings.reminders.quiet_hours
    local = at.astimezone(tz).time()
    return _hhmm(quiet.start) <= local < _hhmm(quiet.end)


def next_window_start(at: datetime, settings: Settings, tz: ZoneInfo) -> datetime:
    local = at.astimezone(tz)
    start = _hhmm(settings.reminders.quiet_hours.start)
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz).astimezone(UTC)


def send_time(due: datetime, appointment_start: datetime, settings: Settings, tz: ZoneInfo) -> datetime:
    """The rule's time, moved into the allowed window: later to the window's opening if that is still before
    the visit, otherwise earlier to the previous window's close."""
    if in_quiet_window(due, settings, tz):
        return due
    forward = next_window_start(due, settings, tz)
    if forward < appointment_start:
        return forward
    local = due.astimezone(tz)
    end = _hhmm(settings.reminders.quiet_hours.end)
    day = local.date() if local.time() >= end else local.date() - timedelta(days=1)
    return (datetime.combine(day, end, tzinfo=tz) - timedelta(minutes=1)).astimezone(UTC)


def rule_applies(rule: ReminderRule, appointment: Appointment) -> bool:
    return not rule.appointment_types or appointment.appointment_type.code in rule.appointment_types


def planned_time(rule: ReminderRule, appointment: Appointment, settings: Settings) -> datetime | None:
    """When this rule's reminder for this visit should go out; None when the visit was booked after the rule's
    time (a reminder right after booking is noise)."""
    due = appointment.start - timedelta(hours=rule.before_hours)
    if due < appointment.created_at - timedelta(minutes=1):
        return None
    return send_time(due, appointment.start, settings, patient_tz(appointment.patient, settings))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(rule: ReminderRule, appointment: Appointment, settings: Settings) -> str:
    """The rule's template with its placeholders filled; always names the clinic and says how to opt out."""
    tz = patient_tz(appointment.patient, settings)
    local = appointment.start.astimezone(tz)
    values = _Blank(
        clinic_name=settings.clinic.name, clinic_phone=settings.clinic.phone,
        patient_first_name=appointment.patient.first_name, appointment_type=appointment.appointment_type.name,
        provider_name=appointment.provider.name, location=appointment.location or settings.clinic.address,
        date=f"{local:%a, %b} {local.day}",
        time=f"{local.strftime('%I:%M').lstrip('0')} {'am' if local.hour < 12 else 'pm'}",
    )
    text = " ".join(rule.template.format_map(values).split())
    if settings.clinic.name not in text:
        text = f"{settings.clinic.name}: {text}"
    if "stop" not in text.lower():
        text += " Reply STOP to opt out."
    return text


def _active_upcoming(session: Session, now: datetime) -> list[Appointment]:
    return list(session.scalars(select(Appointment).where(Appointment.start > now,
                                                          Appointment.status.in_(ACTIVE_STATUSES))
                                .order_by(Appointment.start)))


def _already(session: Session) -> set[tuple[int, str]]:
    return {(a, r) for a, r in session.execute(select(ReminderSend.appointment_id, ReminderSend.rule_name))}


# -- preview --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Planned:
    appointment_id: int
    patient_id: int
    to: str
    rule: str
    send_at: datetime
    text: str
    status: str  # send | skip_opt_out | skip_cap

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {"appointment_id": self.appointment_id, "patient_id": self.patient_id, "to": self.to,
                "rule": self.rule, "send_at": self.send_at.astimezone(tz).isoformat(), "text": self.text,
                "status": self.status}


def plan(session: Session, settings: Settings, now: datetime, until: datetime) -> list[Planned]:
    """What would be sent to whom and when, under the current rules, between now and ``until``."""
    if not settings.reminders.enabled:
        return []
    done = _already(session)
    rows: list[tuple[datetime, ReminderRule, Appointment]] = []
    for appointment in _active_upcoming(session, now):
        for rule in settings.reminders.rules:
            if (appointment.id, rule.name) in done or not rule_applies(rule, appointment):
                continue
            at = planned_time(rule, appointment, settings)
            if at is None:
                continue
            tz = patient_tz(appointment.patient, settings)
            if at < now:  # overdue: goes at the next run, inside the window
                at = now if in_quiet_window(now, settings, tz) else next_window_start(now, settings, tz)
                if at >= appointment.start:
                    continue
            if at <= until:
                rows.append((at, rule, appointment))
    rows.sort(key=lambda r: (r[0], r[2].id))
    counted: dict[int, list[datetime]] = defaultdict(list)
    for send in session.scalars(select(ReminderSend).where(ReminderSend.status.in_(COUNTED),
                                                           ReminderSend.sent_at.is_not(None))):
        assert send.sent_at is not None
        counted[send.patient_id].append(send.sent_at)
    out: list[Planned] = []
    for at, rule, appointment in rows:
        patient = appointment.patient
        status = "send"
        if patient.sms_opted_out or is_opted_out(session, patient.phone):
            status = "skip_opt_out"
        elif _over_cap(counted[patient.id], at, settings, patient_tz(patient, settings)):
            status = "skip_cap"
        else:
            counted[patient.id].append(at)
        out.append(Planned(appointment.id, patient.id, patient.phone, rule.name, at,
                           render(rule, appointment, settings), status))
    return out


def _over_cap(sent: list[datetime], at: datetime, settings: Settings, tz: ZoneInfo) -> bool:
    day = at.astimezone(tz).date()
    same_day = sum(1 for s in sent if s.astimezone(tz).date() == day)
    in_week = sum(1 for s in sent if at - timedelta(days=7) < s <= at)
    return same_day >= settings.reminders.max_per_day or in_week >= settings.reminders.max_per_week


# -- sending --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    status: str  # sent | outbox | failed | skipped_* | already | inactive | no_rule | not_due
    retry_at: datetime | None = None


def deliver(settings: Settings, appointment_id: int, rule_name: str, now: datetime,
            sender: SmsSender | None = None) -> Delivery:
    """Send (or deliberately skip) one reminder, at most once. ``retry_at`` says when to try again."""
    url = settings.database_url
    with session_scope(url) as session:
        appointment = session.get(Appointment, appointment_id)
        rule = next((r for r in settings.reminders.rules if r.name == rule_name), None)
        if appointment is None or appointment.status not in ACTIVE_STATUSES or appointment.start <= now:
            return Delivery("inactive")
        if not settings.reminders.enabled or rule is None or not rule_applies(rule, appointment):
            return Delivery("no_rule")
        at = planned_time(rule, appointment, settings)
        if at is None:
            return Delivery("no_rule")
        if at > now + timedelta(seconds=30):  # the rule moved later while the job waited
            return Delivery("not_due", at)
        tz = patient_tz(appointment.patient, settings)
        if not in_quiet_window(now, settings, tz):
            later = next_window_start(now, settings, tz)
            if later < appointment.start:
                return Delivery("not_due", later)
        patient = appointment.patient
        phone = patient.phone
        claim = ReminderSend(appointment_id=appointment_id, patient_id=patient.id, rule_name=rule_name,
                             due_at=at, status="claimed", sent_at=now)
        session.add(claim)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return Delivery("already")
        status = ""
        if not in_quiet_window(now, settings, tz):
            status = "skipped_quiet"
        elif patient.sms_opted_out or is_opted_out(session, phone):
            status = "skipped_opt_out"
        else:
            earlier = [s for s in session.scalars(select(ReminderSend.sent_at).where(
                ReminderSend.patient_id == patient.id, ReminderSend.status.in_(COUNTED),
                ReminderSend.id != claim.id, ReminderSend.sent_at.is_not(None))) if s is not None]
            if _over_cap(earlier, now, settings, tz):
                status = "skipped_cap"
        if status:
            claim.status, claim.sent_at = status, None
            log.info("reminder.skipped appointment_id=%s rule=%s reason=%s", appointment_id, rule_name, status)
            return Delivery(status)
        text = render(rule, appointment, settings)
        claim_id = claim.id
    # the claim is committed: whatever happens next, this reminder is not sent twice
    result = (sender or sms_sender_for(settings)).send(phone, text)
    with session_scope(url) as session:
        conversation = _sms_conversation(session, phone)
        message = record_outbound(session, conversation.id, text, author="system",
                                  status=result.status if result.status != "opted_out" else "failed",
                                  meta={"kind": "reminder", "appointment_id": appointment_id, "rule": rule_name})
        message.provider_id = result.provider_id
        row = session.get(ReminderSend, claim_id)
        assert row is not None
        row.status = {"opted_out": "skipped_opt_out"}.get(result.status, result.status)
        row.message_id = message.id
    log.info("reminder.sent appointment_id=%s rule=%s status=%s message_id=%s", appointment_id, rule_name,
             result.status, message.id)
    return Delivery(result.status)


def _sms_conversation(session: Session, phone: str) -> Conversation:
    found = session.scalars(select(Conversation).where(Conversation.channel == "sms",
                                                       Conversation.channel_user == phone)).first()
    if found is not None:
        return found
    conversation = Conversation(channel="sms", channel_user=phone)
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:  # the gateway opened it at the same moment
        found = session.scalars(select(Conversation).where(Conversation.channel == "sms",
                                                           Conversation.channel_user == phone)).one()
        return found
    return conversation


def fire(appointment_id: int, rule_name: str) -> None:
    """The job APScheduler runs (referenced by name, so it survives restarts): settings are read now."""
    settings = get_settings()
    now = datetime.now(UTC)
    try:
        outcome = deliver(settings, appointment_id, rule_name, now)
    except Exception:
        log.exception("reminder.failed appointment_id=%s rule=%s", appointment_id, rule_name)
        raise
    if outcome.retry_at is not None:
        scheduler = _schedulers.get(settings.database_url)
        if scheduler is not None:
            _add_job(scheduler, appointment_id, rule_name, outcome.retry_at)


# -- the scheduler --------------------------------------------------------------------------------
def _new_scheduler(settings: Settings) -> Any:
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.store import get_engine

    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=get_engine(settings.database_url),
                                                 tablename="apscheduler_jobs"),
                   "memory": MemoryJobStore()},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        timezone=UTC,
    )


def _add_job(scheduler: Any, appointment_id: int, rule_name: str, at: datetime) -> None:
    scheduler.add_job("bot.reminders:fire", "date", run_date=at, args=[appointment_id, rule_name],
                      id=job_id(appointment_id, rule_name), replace_existing=True, jobstore="default")


def start_scheduler(settings: Settings) -> Any:
    """Start this process's reminder scheduler (the gateway calls it once) and bring its jobs up to date."""
    running = _schedulers.get(settings.database_url)
    if running is not None and running.running and running.state == 1:
        return running
    scheduler = _new_scheduler(settings)
    scheduler.start(paused=True)  # bring the store up to date before anything runs
    _schedulers[settings.database_url] = scheduler
    try:
        reschedule_all(settings, scheduler)
    except Exception:  # the gateway still starts; the reconcile job below retries every minute
        log.exception("reminders.reschedule_failed")
    scheduler.resume()
    scheduler.add_job(_reconcile, "interval", seconds=RECONCILE_EVERY_S, id="reminders-reconcile",
                      jobstore="memory", replace_existing=True)
    log.info("reminders.scheduler.started jobs=%d", len(scheduler.get_jobs(jobstore="default")))
    return scheduler


def stop_scheduler(settings: Settings) -> None:
    scheduler = _schedulers.pop(settings.database_url, None)
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=False)


def _reconcile() -> None:
    settings = get_settings()
    try:
        reschedule_all(settings, _schedulers.get(settings.database_url))
    except Exception:
        log.exception("reminders.reconcile_failed")


def _writer(settings: Settings) -> Any:
    """A scheduler that only writes jobs into the shared store (the action server's), never runs them."""
    scheduler = _schedulers.get(settings.database_url)
    if scheduler is None:
        scheduler = _new_scheduler(settings)
        scheduler.start(paused=True)
        _schedulers[settings.database_url] = scheduler
    return scheduler


def _wanted(session: Session, settings: Settings, appointment: Appointment, done: set[tuple[int, str]]
            ) -> dict[str, datetime]:
    if not settings.reminders.enabled or appointment.status not in ACTIVE_STATUSES:
        return {}
    wanted = {}
    for rule in settings.reminders.rules:
        if (appointment.id, rule.name) in done or not rule_applies(rule, appointment):
            continue
        at = planned_time(rule, appointment, settings)
        if at is not None:
            wanted[job_id(appointment.id, rule.name)] = at
    return wanted


def _apply(scheduler: Any, wanted: dict[str, datetime], current: dict[str, Any], now: datetime) -> int:
    changes = 0
    for jid, at in wanted.items():
        run_at = max(at, now)
        job = current.get(jid)
        if job is not None and job.next_run_time is not None:
            if abs(job.next_run_time - run_at) < timedelta(seconds=1):
                continue
            if at <= now and job.next_run_time <= now + timedelta(seconds=1):  # overdue and already pending
                continue
        appointment_id, rule_name = _split(jid)
        _add_job(scheduler, appointment_id, rule_name, run_at)
        changes += 1
    return changes


def _split(jid: str) -> tuple[int, str]:
    appointment, rule = jid.removeprefix(JOB_PREFIX).split("-", 1)
    return int(appointment), rule


def reschedule_all(settings: Settings, scheduler: Any = None) -> int:
    """Make the job store match the appointments and the current rules; returns how many jobs changed."""
    scheduler = scheduler or _writer(settings)
    now = datetime.now(UTC)
    current = {j.id: j for j in scheduler.get_jobs(jobstore="default") if j.id.startswith(JOB_PREFIX)}
    with session_scope(settings.database_url) as session:
        done = _already(session)
        wanted: dict[str, datetime] = {}
        for appointment in _active_upcoming(session, now):
            wanted.update(_wanted(session, settings, appointment, done))
    changes = _apply(scheduler, wanted, current, now)
    for jid in set(current) - set(wanted):
        scheduler.remove_job(jid, jobstore="default")
        changes += 1
    if changes:
        log.info("reminders.rescheduled changes=%d jobs=%d", changes, len(wanted))
    return changes


def sync_appointment(settings: Settings, appointment_id: int) -> None:
    """After a booking, move or cancellation: this appointment's jobs follow it."""
    scheduler = _writer(settings)
    now = datetime.now(UTC)
    prefix = job_id(appointment_id, "")
    current = {j.id: j for j in scheduler.get_jobs(jobstore="default") if j.id.startswith(prefix)}
    with session_scope(settings.database_url) as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is not None and appointment.start <= now:
            appointment = None
        wanted = {} if appointment is None else _wanted(session, settings, appointment, _already(session))
    _apply(scheduler, wanted, current, now)
    for jid in set(current) - set(wanted):
        scheduler.remove_job(jid, jobstore="default")
    log.info("reminders.synced appointment_id=%s jobs=%d", appointment_id, len(wanted))


# -- replies --------------------------------------------------------------------------------------
def reminder_reply(session: Session, phone: str, text: str, now: datetime | None = None) -> str | None:
    """What the gateway should send the engine instead of this SMS, when it answers a reminder; else None."""
    word = re.sub(r"[^a-z]", "", text.lower())
    intent = _REPLIES.get(word)
    if intent is None:
        return None
    now = now or datetime.now(UTC)
    row = session.execute(
        select(ReminderSend.appointment_id, ReminderSend.sent_at)
        .join(Appointment, Appointment.id == ReminderSend.appointment_id)
        .join(Patient, Patient.id == ReminderSend.patient_id)
        .where(Patient.phone == phone, ReminderSend.status.in_(("sent", "outbox")),
               ReminderSend.sent_at.is_not(None), Appointment.start > now,
               Appointment.status.in_(ACTIVE_STATUSES))
        .order_by(ReminderSend.sent_at.desc(), func.coalesce(ReminderSend.id, 0).desc())).first()
    if row is None:
        return None
    appointment_id, sent_at = row
    if word == "cancel" and (sent_at is None or sent_at < now - CANCEL_REPLY_WINDOW):
        return None
    return f"/{intent}" + json.dumps({"appointment_id": str(appointment_id)})
