"""Appointment reminders: the owner's rules (config.yml ``reminders``) turned into jobs on APScheduler's
persistent SQLAlchemy job store, in the clinic database, so they survive restarts.

One job per (appointment, rule), id ``reminder-<appointment>-<rule>``, run at the rule's time moved inside the
quiet hours. A job that came due while every process was down runs once at the next start
(``misfire_grace_time=None``, coalesced). The store row ``ReminderSend`` (unique per appointment and rule) is
claimed, and the send put on record, before anything is sent, so a reminder goes out once even when two
schedulers race or a job is replayed; a send that a killed process left unfinished is settled against the
provider's records at start and every few seconds (``settle_unfinished``). Of several gateways, only the holder
of the ``scheduler`` lease runs this scheduler (``bot.runtime.leader``). At send time the rules, quiet hours, opt-outs and caps (one a day, three a week per patient) are
checked again: rules changed while jobs were pending take effect, and ``reschedule_all`` (at start and every
minute) brings the job store in step with the appointments and the rules.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.messaging.outbound import SmsSender
from bot.reminders.delivery import deliver, settle_unfinished
from bot.reminders.planning import active_upcoming, already_done
from bot.reminders.policy import planned_time, rule_applies
from bot.scheduling.slots import ACTIVE_STATUSES
from bot.settings import Settings, get_settings
from bot.store import Appointment, session_scope

log = logging.getLogger(__name__)

JOB_PREFIX = "reminder-"
RECONCILE_EVERY_S = 60
SETTLE_EVERY_S = 5  # also wakes the scheduler for jobs that other processes added to the store
_schedulers: dict[str, Any] = {}  # one scheduler per process and database: the gateway's, or a paused writer
_senders: dict[str, SmsSender] = {}  # the SMS sender the process that runs the jobs was started with


def job_id(appointment_id: int, rule_name: str) -> str:
    return f"{JOB_PREFIX}{appointment_id}-{rule_name}"


def fire(appointment_id: int, rule_name: str) -> None:
    """The job APScheduler runs (referenced by name, so it survives restarts): settings are read now."""
    settings = get_settings()
    now = datetime.now(UTC)
    sender = _senders.get(settings.database_url)
    if sender is None:  # only a process started with a sender runs jobs; a writer's jobs wait for it
        log.warning("reminder.no_sender appointment_id=%s rule=%s", appointment_id, rule_name)
        return
    try:
        outcome = deliver(settings, appointment_id, rule_name, now, sender)
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


def start_scheduler(settings: Settings, sender: SmsSender) -> Any:
    """Start this process's reminder scheduler (the gateway calls it once) and bring its jobs up to date.
    Reminders go out through ``sender``."""
    _senders[settings.database_url] = sender
    running = _schedulers.get(settings.database_url)
    if running is not None and running.running and running.state == 1:
        return running
    scheduler = _new_scheduler(settings)
    scheduler.start(paused=True)  # bring the store up to date before anything runs
    _schedulers[settings.database_url] = scheduler
    _settle()  # sends a killed process left unfinished are settled before anything new is sent
    try:
        reschedule_all(settings, scheduler)
    except Exception:  # the gateway still starts; the reconcile job below retries every minute
        log.exception("reminders.reschedule_failed")
    scheduler.resume()
    scheduler.add_job(_reconcile, "interval", seconds=RECONCILE_EVERY_S, id="reminders-reconcile",
                      jobstore="memory", replace_existing=True)
    scheduler.add_job(_settle, "interval", seconds=SETTLE_EVERY_S, id="reminders-settle",
                      jobstore="memory", replace_existing=True)
    log.info("reminders.scheduler.started jobs=%d", len(scheduler.get_jobs(jobstore="default")))
    return scheduler


def stop_scheduler(settings: Settings) -> None:
    _senders.pop(settings.database_url, None)
    scheduler = _schedulers.pop(settings.database_url, None)
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=False)


def _settle() -> None:
    settings = get_settings()
    sender = _senders.get(settings.database_url)
    if sender is None:
        return
    try:
        settled = settle_unfinished(settings, sender, datetime.now(UTC))
        if settled:
            log.info("reminders.settled sends=%d", settled)
    except Exception:
        log.exception("reminders.settle_failed")


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
        done = already_done(session)
        wanted: dict[str, datetime] = {}
        for appointment in active_upcoming(session, now):
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
        wanted = {} if appointment is None else _wanted(session, settings, appointment, already_done(session))
    _apply(scheduler, wanted, current, now)
    for jid in set(current) - set(wanted):
        scheduler.remove_job(jid, jobstore="default")
    log.info("reminders.synced appointment_id=%s jobs=%d", appointment_id, len(wanted))


