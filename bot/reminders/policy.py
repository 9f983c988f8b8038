"""When a reminder may go out: the rule's time moved inside the quiet hours, and the per-patient caps.

Pure functions of the settings, the appointment and the clock; planning, delivery and the scheduler use them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.settings import ReminderRule, Settings, parse_hhmm
from bot.store import Appointment, Patient
from bot.store.states import ReminderStatus

# what counts toward the per-patient caps
COUNTED = (ReminderStatus.SENT, ReminderStatus.OUTBOX, ReminderStatus.CLAIMED)


def patient_tz(patient: Patient, settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(patient.timezone) if patient.timezone else settings.clinic.tz
    except (ValueError, KeyError):
        return settings.clinic.tz


def in_quiet_window(at: datetime, settings: Settings, tz: ZoneInfo) -> bool:
    quiet = settings.reminders.quiet_hours
    local = at.astimezone(tz).time()
    return parse_hhmm(quiet.start) <= local < parse_hhmm(quiet.end)


def next_window_start(at: datetime, settings: Settings, tz: ZoneInfo) -> datetime:
    local = at.astimezone(tz)
    start = parse_hhmm(settings.reminders.quiet_hours.start)
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
    end = parse_hhmm(settings.reminders.quiet_hours.end)
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



def over_cap(sent: list[datetime], at: datetime, settings: Settings, tz: ZoneInfo) -> bool:
    day = at.astimezone(tz).date()
    same_day = sum(1 for s in sent if s.astimezone(tz).date() == day)
    in_week = sum(1 for s in sent if at - timedelta(days=7) < s <= at)
    return same_day >= settings.reminders.max_per_day or in_week >= settings.reminders.max_per_week

