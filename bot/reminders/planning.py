"""What would go to whom and when under the current rules (``clinicbot reminders preview``), and each
reminder's text."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messaging.optouts import is_opted_out
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
from bot.scheduling.timefmt import clock, short_date
from bot.settings import ReminderRule, Settings
from bot.store import Appointment, ReminderSend


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
        date=short_date(local),
        time=clock(local),
    )
    text = " ".join(rule.template.format_map(values).split())
    if settings.clinic.name not in text:
        text = f"{settings.clinic.name}: {text}"
    if "stop" not in text.lower():
        text += " Reply STOP to opt out."
    return text


def active_upcoming(session: Session, now: datetime) -> list[Appointment]:
    return list(session.scalars(select(Appointment).where(Appointment.start > now,
                                                          Appointment.status.in_(ACTIVE_STATUSES))
                                .order_by(Appointment.start)))


def already_done(session: Session) -> set[tuple[int, str]]:
    return {(a, r) for a, r in session.execute(select(ReminderSend.appointment_id, ReminderSend.rule_name))}



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
    done = already_done(session)
    rows: list[tuple[datetime, ReminderRule, Appointment]] = []
    for appointment in active_upcoming(session, now):
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
        elif over_cap(counted[patient.id], at, settings, patient_tz(patient, settings)):
            status = "skip_cap"
        else:
            counted[patient.id].append(at)
        out.append(Planned(appointment.id, patient.id, patient.phone, rule.name, at,
                           render(rule, appointment, settings), status))
    return out

