"""Sending one reminder (or deliberately skipping it), at most once: the claim row is committed before the
provider is called."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.conversations.rows import find_or_create_conversation, record_outbound
from bot.messaging.optouts import is_opted_out
from bot.messaging.outbound import SmsSender
from bot.reminders.planning import render
from bot.reminders.policy import (
    COUNTED,
    in_quiet_window,
    next_window_start,
    over_cap,
    patient_tz,
    planned_time,
    rule_applies,
)
from bot.scheduling.slots import ACTIVE_STATUSES
from bot.settings import Settings
from bot.store import Appointment, ReminderSend, session_scope
from bot.store.states import Channel, MessageStatus, ReminderStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    status: str  # a ReminderStatus (sent, outbox, failed, skipped_*), or already | inactive | no_rule | not_due
    retry_at: datetime | None = None


def deliver(settings: Settings, appointment_id: int, rule_name: str, now: datetime, sender: SmsSender) -> Delivery:
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
                             due_at=at, status=ReminderStatus.CLAIMED, sent_at=now)
        session.add(claim)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return Delivery("already")
        status: ReminderStatus | None = None
        if not in_quiet_window(now, settings, tz):
            status = ReminderStatus.SKIPPED_QUIET
        elif patient.sms_opted_out or is_opted_out(session, phone):
            status = ReminderStatus.SKIPPED_OPT_OUT
        else:
            earlier = [s for s in session.scalars(select(ReminderSend.sent_at).where(
                ReminderSend.patient_id == patient.id, ReminderSend.status.in_(COUNTED),
                ReminderSend.id != claim.id, ReminderSend.sent_at.is_not(None))) if s is not None]
            if over_cap(earlier, now, settings, tz):
                status = ReminderStatus.SKIPPED_CAP
        if status:
            claim.status, claim.sent_at = status, None
            log.info("reminder.skipped appointment_id=%s rule=%s reason=%s", appointment_id, rule_name, status)
            return Delivery(status)
        text = render(rule, appointment, settings)
        claim_id = claim.id
    # the claim is committed: whatever happens next, this reminder is not sent twice
    result = sender.send(phone, text)
    with session_scope(url) as session:
        conversation = find_or_create_conversation(session, Channel.SMS, phone)
        message = record_outbound(session, conversation.id, text, author="system",
                                  status=MessageStatus.FAILED if result.status == "opted_out" else MessageStatus(result.status),
                                  meta={"kind": "reminder", "appointment_id": appointment_id, "rule": rule_name},
                                  provider_id=result.provider_id)
        row = session.get(ReminderSend, claim_id)
        assert row is not None
        row.status = ReminderStatus.SKIPPED_OPT_OUT if result.status == "opted_out" else ReminderStatus(result.status)
        row.message_id = message.id
    log.info("reminder.sent appointment_id=%s rule=%s status=%s message_id=%s", appointment_id, rule_name,
             result.status, message.id)
    return Delivery(result.status)

