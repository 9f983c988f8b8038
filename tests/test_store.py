from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from bot.runtime import demo
from bot.settings import Settings
from bot.store import Appointment, AvailabilitySlot, LabResult, Patient, migrate, session_scope
from bot.store.db import is_empty


def test_migrations_are_idempotent_and_the_store_starts_empty(settings: Settings) -> None:
    migrate(settings.database_url)
    migrate(settings.database_url)
    assert is_empty(settings.database_url)


def test_demo_clinic_has_jordan_demo_with_a_visit_in_three_days_and_labs(seeded: Settings) -> None:
    tz = seeded.clinic.tz
    with session_scope(seeded.database_url) as session:
        jordan = demo.demo_patient(session)
        assert jordan is not None
        assert (jordan.full_name, jordan.phone, jordan.date_of_birth.isoformat()) == (
            "Jordan Demo", "+15555550100", "1980-01-01")
        visit = session.scalars(select(Appointment).where(Appointment.patient_id == jordan.id)).one()
        local = visit.start.astimezone(tz)
        assert local.date() == datetime.now(tz).date() + timedelta(days=3)
        assert local.time() == time(10, 0)
        assert visit.provider.name == "Dr. Anika Patel"
        labs = {lab.test_code: lab for lab in session.scalars(select(LabResult).where(LabResult.patient_id == jordan.id))}
        assert labs["ldl"].value > (labs["ldl"].ref_high or 0)  # high LDL
        assert labs["hba1c"].value == 6.1 and labs["hba1c"].unit == "%"
        tsh = labs["tsh"]
        assert tsh.ref_low is not None and tsh.ref_high is not None and tsh.ref_low <= tsh.value <= tsh.ref_high


def test_demo_clinic_has_about_twenty_patients_and_two_weeks_of_open_slots(seeded: Settings) -> None:
    with session_scope(seeded.database_url) as session:
        assert 18 <= session.scalar(select(func.count()).select_from(Patient)) <= 25
        starts = [s.start for s in session.scalars(select(AvailabilitySlot).where(
            AvailabilitySlot.appointment_id.is_(None)))]
        assert (max(starts) - min(starts)).days >= 10
        for start in starts:  # inside opening hours
            local = start.astimezone(seeded.clinic.tz)
            hours = seeded.clinic.opening_hours(["mon", "tue", "wed", "thu", "fri", "sat", "sun"][local.weekday()])
            assert hours is not None and hours[0] <= local.time() < hours[1]


def test_reset_wipes_and_reseeds(seeded: Settings) -> None:
    with session_scope(seeded.database_url) as session:
        session.add(Patient(mrn="X1", first_name="Extra", last_name="Person",
                            date_of_birth=datetime(1990, 1, 1).date(), phone="+15555550999"))
    with session_scope(seeded.database_url) as session:
        demo.wipe(session)
        demo.seed(session, seeded)
    with session_scope(seeded.database_url) as session:
        assert session.scalars(select(Patient).where(Patient.mrn == "X1")).first() is None
        assert demo.demo_patient(session) is not None


def test_reset_wipes_every_table_that_points_at_a_wiped_one() -> None:
    """A new table with a foreign key to a conversation, patient or appointment must be wiped too, or
    `clinicbot demo-data --reset` fails on the first such row."""
    from bot.store.models import Base

    wiped = {model.__table__.name for model in demo.WIPED}  # type: ignore[attr-defined]
    for table in Base.metadata.sorted_tables:
        parents = {fk.column.table.name for fk in table.foreign_keys} - {table.name}
        if parents & wiped:
            assert table.name in wiped, f"{table.name} refers to {sorted(parents & wiped)} but is not wiped"
    order = [model.__table__.name for model in demo.WIPED]  # type: ignore[attr-defined]
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if table.name in order and fk.column.table.name in order and fk.column.table.name != table.name:
                assert order.index(table.name) < order.index(fk.column.table.name), f"{table.name} after its parent"
