"""The demo clinic's synthetic data: providers and visit types from settings, two weeks of
availability, about 20 patients, appointments and lab results (``seed``); ninety days of history for the
dashboard are in ``bot.runtime.demo_history``. Nothing here is a real person.

Jordan Demo (+15555550100, born 1980-01-01) is always present: tests and docs rely on them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.settings import WEEKDAYS, Settings
from bot.store import (
    ActivityEvent,
    Appointment,
    AppointmentType,
    AvailabilitySlot,
    Clinic,
    Conversation,
    Handoff,
    LabResult,
    Message,
    Patient,
    Provider,
    ReminderSend,
    VerificationAttempt,
    VerificationCode,
    WaitlistEntry,
    WaitlistOffer,
)

DEMO_PHONE = "+15555550100"
DEMO_DOB = date(1980, 1, 1)
SLOT_MINUTES = 20
AVAILABILITY_DAYS = 14

_FIRST = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jamie", "Kendall", "Logan",
          "Morgan", "Parker", "Quinn", "Reese", "Riley", "Rowan", "Sawyer", "Skyler", "Taylor", "Sage"]
_LAST = ["Alder", "Birch", "Cedar", "Dune", "Elm", "Fern", "Glen", "Hollow", "Ivy", "Juniper",
         "Kestrel", "Larch", "Moss", "North", "Oakley", "Pine", "Quarry", "Reed", "Stone", "Thorn"]


@dataclass(frozen=True)
class LabSpec:
    panel: str
    code: str
    name: str
    unit: str
    low: float | None
    high: float | None


LABS = {
    "total_cholesterol": LabSpec("Lipid panel", "total_cholesterol", "Total cholesterol", "mg/dL", None, 199),
    "ldl": LabSpec("Lipid panel", "ldl", "LDL cholesterol", "mg/dL", None, 99),
    "hdl": LabSpec("Lipid panel", "hdl", "HDL cholesterol", "mg/dL", 40, None),
    "triglycerides": LabSpec("Lipid panel", "triglycerides", "Triglycerides", "mg/dL", None, 149),
    "hba1c": LabSpec("Hemoglobin A1c", "hba1c", "HbA1c", "%", None, 5.6),
    "tsh": LabSpec("Thyroid", "tsh", "TSH", "mIU/L", 0.4, 4.0),
    "potassium": LabSpec("Basic metabolic panel", "potassium", "Potassium", "mmol/L", 3.5, 5.1),
    "sodium": LabSpec("Basic metabolic panel", "sodium", "Sodium", "mmol/L", 135, 145),
    "glucose": LabSpec("Basic metabolic panel", "glucose", "Glucose (fasting)", "mg/dL", 70, 99),
    "hemoglobin": LabSpec("Complete blood count", "hemoglobin", "Hemoglobin", "g/dL", 12.0, 17.5),
}


def _lab(patient: Patient, code: str, value: float, collected: datetime) -> LabResult:
    spec = LABS[code]
    return LabResult(patient_id=patient.id, panel=spec.panel, test_code=code, test_name=spec.name, value=value,
                     unit=spec.unit, ref_low=spec.low, ref_high=spec.high, collected_at=collected)


WIPED = (WaitlistOffer, WaitlistEntry, ActivityEvent, ReminderSend, VerificationAttempt, VerificationCode, Message,
         Handoff, Conversation, LabResult, AvailabilitySlot, Appointment, Patient, AppointmentType, Provider, Clinic)


def wipe(session: Session) -> None:
    """Delete every row (children first); the schema stays. The audit trail is append-only and kept, and so are
    staff accounts, opt-outs and webhook receipts."""
    for model in WIPED:
        session.execute(delete(model))
    session.flush()


def seed(session: Session, settings: Settings, today: date | None = None) -> dict[str, int]:
    """Seed the demo clinic into an empty store. Returns counts of what was created."""
    tz = settings.clinic.tz
    today = today or datetime.now(tz).date()
    rng = random.Random(20261123)

    clinic = settings.clinic
    session.add(Clinic(name=clinic.name, phone=clinic.phone, address=clinic.address, timezone=clinic.timezone))
    providers = [Provider(key=p.key, name=p.name, title=p.title, specialty=p.specialty) for p in settings.providers]
    types = [AppointmentType(code=t.code, name=t.name, duration_minutes=t.duration_minutes)
             for t in settings.appointment_types]
    session.add_all([*providers, *types])
    session.flush()

    # Two weeks of availability in SLOT_MINUTES blocks, within clinic hours and each provider's days.
    slots: list[AvailabilitySlot] = []
    for offset in range(AVAILABILITY_DAYS):
        day = today + timedelta(days=offset)
        weekday = WEEKDAYS[day.weekday()]
        hours = clinic.opening_hours(weekday)
        if hours is None:
            continue
        for cfg, provider in zip(settings.providers, providers, strict=True):
            if cfg.days and weekday not in cfg.days:
                continue
            start = datetime.combine(day, hours[0], tzinfo=tz)
            close = datetime.combine(day, hours[1], tzinfo=tz)
            while start + timedelta(minutes=SLOT_MINUTES) <= close:
                if not time(12, 0) <= start.time() < time(13, 0):  # lunch
                    slots.append(AvailabilitySlot(provider_id=provider.id, start=start,
                                                  end=start + timedelta(minutes=SLOT_MINUTES)))
                start += timedelta(minutes=SLOT_MINUTES)
    session.add_all(slots)

    patients = [Patient(mrn="MS000100", first_name="Jordan", last_name="Demo", date_of_birth=DEMO_DOB,
                        phone=DEMO_PHONE, email="jordan.demo@example.com")]
    for i in range(19):
        patients.append(Patient(
            mrn=f"MS{101 + i:06d}", first_name=_FIRST[i], last_name=_LAST[(i * 7) % len(_LAST)],
            date_of_birth=date(1940 + rng.randrange(0, 65), rng.randrange(1, 13), rng.randrange(1, 29)),
            phone=f"+1555555{101 + i:04d}", email=f"patient{101 + i}@example.com",
        ))
    session.add_all(patients)
    session.flush()

    by_key = {p.key: p for p in providers}
    by_code = {t.code: t for t in types}
    slot_index = {(s.provider_id, s.start): s for s in slots}
    appointments: list[Appointment] = []

    def book(patient: Patient, provider: Provider, appt_type: AppointmentType, start: datetime) -> None:
        appt = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type_id=appt_type.id,
                           start=start, end=start + timedelta(minutes=appt_type.duration_minutes),
                           location=clinic.address)
        session.add(appt)
        session.flush()
        appointments.append(appt)
        # take every slot the visit covers
        cursor = start
        while cursor < appt.end:
            slot = slot_index.get((provider.id, cursor))
            if slot is not None:
                slot.appointment_id = appt.id
            cursor += timedelta(minutes=SLOT_MINUTES)

    jordan = patients[0]
    book(jordan, by_key.get("patel", providers[0]), by_code.get("follow_up", types[0]),
         datetime.combine(today + timedelta(days=3), time(10, 0), tzinfo=tz))

    free = [s for s in slots if s.appointment_id is None and s.start.date() > today]
    for patient in patients[1:13]:
        slot = rng.choice(free)
        if slot.appointment_id is None:
            provider = next(p for p in providers if p.id == slot.provider_id)
            book(patient, provider, rng.choice(types), slot.start)

    collected = datetime.combine(today - timedelta(days=5), time(8, 30), tzinfo=tz).astimezone(UTC)
    labs = [
        _lab(jordan, "total_cholesterol", 228, collected),
        _lab(jordan, "ldl", 162, collected),
        _lab(jordan, "hdl", 48, collected),
        _lab(jordan, "triglycerides", 140, collected),
        _lab(jordan, "hba1c", 6.1, collected),
        _lab(jordan, "tsh", 2.1, collected),
    ]
    for patient in patients[1:10]:
        labs.append(_lab(patient, "glucose", rng.choice([84, 92, 105, 131]), collected))
        labs.append(_lab(patient, "potassium", rng.choice([3.9, 4.2, 4.6]), collected))
    # one critical value, for the staff-escalation path
    labs.append(_lab(patients[10], "potassium", 6.6, collected))
    session.add_all(labs)
    session.flush()
    return {"providers": len(providers), "appointment_types": len(types), "slots": len(slots),
            "patients": len(patients), "appointments": len(appointments), "lab_results": len(labs)}


def demo_patient(session: Session) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.phone == DEMO_PHONE)).first()
