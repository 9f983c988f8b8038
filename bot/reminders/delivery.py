"""Sending one reminder (or deliberately skipping it), exactly once: the claim, the message and the send's
record are committed before the provider is called (``bot.reminders.sends``); a send left unfinished by a
process that died is settled against the provider's own records before anything is sent again
(``settle_unfinished``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.conversations.rows import find_or_create_conversation, record_outbound
from bot.messaging.optouts import is_opted_out
from bot.messaging.outbound import SendResult, SmsSender
from bot.reminders import sends
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
from bot.store import Appointment, Message, ReminderSend, session_scope
from bot.store.states import Channel, MessageStatus, ReminderStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    status: str  # a ReminderStatus (sent, outbox, failed, skipped_*), or already | inactive | no_rule | not_due
    retry_at: datetime | None = None


def deliver(settings: Settings, appointment_id: int, rule_name: str, now: datetime, sender: SmsSender) -> Delivery:
    """Send (or deliberately skip) one reminder, once. ``retry_at`` says when to try again."""
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
        conversation = find_or_create_conversation(session, Channel.SMS, phone)
        message = record_outbound(session, conversation.id, text, author="system", status=MessageStatus.SENDING,
                                  meta={"kind": "reminder", "appointment_id": appointment_id, "rule": rule_name})
        claim.message_id = message.id
        send_id = sends.begin(session, f"reminder-{appointment_id}-{rule_name}", phone, message.id, text, sender,
                              now).id
    # on record: whatever happens next, this reminder is sent once (or settled from the provider's records)
    outcome = sends.hand_over(url, send_id, phone, text, sender)
    log.info("reminder.sent appointment_id=%s rule=%s status=%s send_id=%s", appointment_id, rule_name, outcome,
             send_id)
    return Delivery(outcome)


def settle_unfinished(settings: Settings, sender: SmsSender, now: datetime) -> int:
    """Settle every send a dead process left unfinished: recorded as sent when the provider has it, sent again
    when it does not (if the reminder still may go). Returns how many were settled."""
    url = settings.database_url
    settled = 0
    for send in sends.unfinished(url, now, sends.send_deadline(settings)):
        found = sends.found_at_provider(sender, send)
        if found is False:
            continue  # cannot tell now: ask again next round; nothing is sent twice meanwhile
        if found is not None:
            assert not isinstance(found, bool)
            sends.finish(url, send.id, SendResult("sent", provider_id=found.sid), reconciled=True)
            log.info("reminder.reconciled send_id=%s found=true", send.id)
            settled += 1
            continue
        verdict, phone, text = _may_still_go(settings, send, now)
        if verdict == "wait":
            continue
        if verdict != "send":  # the visit is past or cancelled, or the number opted out meanwhile: not sent
            result = SendResult("opted_out") if verdict == "opted_out" else SendResult("failed", error=verdict)
            sends.finish(url, send.id, result, reconciled=True)
        elif sends.retry(url, send, now):
            log.info("reminder.reconciled send_id=%s found=false action=send_again", send.id)
            sends.hand_over(url, send.id, phone, text, sender)
        settled += 1
    return settled


def _may_still_go(settings: Settings, send: sends.Unfinished, now: datetime) -> tuple[str, str, str]:
    """("send", phone, text) when the unfinished reminder may still go now; "wait" outside the quiet window;
    otherwise why not (the visit is past or cancelled, the number opted out)."""
    with session_scope(settings.database_url) as session:
        message = session.get(Message, send.message_id) if send.message_id else None
        claim = session.scalars(select(ReminderSend).where(ReminderSend.message_id == send.message_id)).first()
        appointment = session.get(Appointment, claim.appointment_id) if claim else None
        if message is None or appointment is None:
            return "gone", "", ""
        if appointment.status not in ACTIVE_STATUSES or appointment.start <= now:
            return "stale", "", ""
        if appointment.patient.sms_opted_out or is_opted_out(session, send.to):
            return "opted_out", "", ""
        if not in_quiet_window(now, settings, patient_tz(appointment.patient, settings)):
            return "wait", "", ""
        return "send", send.to, message.text
