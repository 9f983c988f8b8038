"""A small, fully booked schedule in a week with no seeded data (Wed 2030-01-09, Dr. Patel, 9:00-10:00 in three
20-minute blocks) and patients waiting for it: what the waitlist tests build on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from bot import scheduling
from bot.messaging.outbound import SendResult
from bot.scheduling.timeparse import Preference
from bot.settings import Settings
from bot.store import Appointment, AppointmentType, AvailabilitySlot, Patient, Provider, session_scope
from bot.waitlist import join

PHONES = ("+15555550100", "+15555550101", "+15555550102")  # Jordan Demo, then two more demo patients


@dataclass
class RecordingSender:
    sent: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, to: str, body: str) -> SendResult:
        with self._lock:
            self.sent.append((to, body))
            return SendResult("sent", provider_id=f"SM{len(self.sent):032d}")

    def to(self, phone: str) -> list[str]:
        return [body for number, body in self.sent if number == phone]


def local(settings: Settings, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 1, day, hour, minute, tzinfo=settings.clinic.tz)


def patient_id(settings: Settings, phone: str) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalars(select(Patient.id).where(Patient.phone == phone)).one()


def full_morning(settings: Settings) -> dict[str, int]:
    """Wed Jan 9, 9:00, 9:20 and 9:40 with Dr. Patel, each booked by a patient not on the waitlist; returns the
    appointment ids by local time ("09:00" ...)."""
    booked: dict[str, int] = {}
    with session_scope(settings.database_url) as session:
        patel = session.scalars(select(Provider).where(Provider.key == "patel")).one()
        follow_up = session.scalars(select(AppointmentType).where(AppointmentType.code == "follow_up")).one()
        filler = session.scalars(select(Patient).where(Patient.phone == "+15555550110")).one()
        for minute in (0, 20, 40):
            start = local(settings, 9, 9, minute)
            appointment = Appointment(patient_id=filler.id, provider_id=patel.id, appointment_type_id=follow_up.id,
                                      start=start, end=start + timedelta(minutes=20), location="412 Maple Street",
                                      created_at=start - timedelta(days=20))
            session.add(appointment)
            session.flush()
            session.add(AvailabilitySlot(provider_id=patel.id, start=start, end=start + timedelta(minutes=20),
                                         appointment_id=appointment.id))
            booked[f"09:{minute:02d}"] = appointment.id
    return booked


def wait_for_wednesday(settings: Settings, phone: str, at: datetime, provider: str | None = "patel") -> int:
    """The patient joins the waitlist for a follow-up on Wed Jan 9 (any time) at ``at``; returns the entry id."""
    with session_scope(settings.database_url) as session:
        follow_up = session.scalars(select(AppointmentType).where(AppointmentType.code == "follow_up")).one()
        provider_id = scheduling.provider_by_key(session, provider).id if provider else None  # type: ignore[union-attr]
        pid = session.scalars(select(Patient.id).where(Patient.phone == phone)).one()
        day = local(settings, 9, 0).date()
        joined = join(session, settings, patient_id=pid, appointment_type_id=follow_up.id, provider_id=provider_id,
                      preference=Preference(date_from=day, date_to=day), now=at, channel="sms",
                      conversation_id=None)
        return joined.entry_id
