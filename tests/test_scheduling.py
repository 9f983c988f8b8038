"""Free slots, booking without double booking (threads racing on the real SQLite store), moving, cancelling,
and the natural-language day/time parsing the booking flow relies on."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import scheduling
from bot.runtime import demo
from bot.scheduling.timeparse import parse_date_of_birth, parse_preference, pick_option
from bot.settings import Settings
from bot.store import Appointment, AppointmentType, AvailabilitySlot, Provider, session_scope

CHICAGO = ZoneInfo("America/Chicago")
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(("text", "day", "start", "end"), [
    ("next tue afternoon", 24, time(12, 0), time(17, 0)),
    ("tmrw morning", 24, time(9, 0), time(12, 0)),  # not before now's time on a past day: starts at 00:00 next day
    ("friday at 2", 27, time(13, 0), time(16, 0)),
    ("wed at 10am", 25, time(9, 0), time(12, 0)),
    ("this afternoon", 23, time(12, 0), time(17, 0)),
    ("dec 3", 3, time(0, 0), time(23, 59)),
])
def test_day_and_time_preferences_are_read_in_the_clinic_zone(text: str, day: int, start: time, end: time) -> None:
    pref = parse_preference(text, MONDAY_9AM.astimezone(UTC), CHICAGO)
    assert pref is not None
    assert pref.earliest.astimezone(CHICAGO).day == day and pref.latest.astimezone(CHICAGO).day == day
    assert pref.latest.astimezone(CHICAGO).time() == end
    if text != "tmrw morning":
        assert pref.earliest.astimezone(CHICAGO).time() == start


def test_any_searches_the_next_two_weeks_and_nonsense_is_not_a_time() -> None:
    pref = parse_preference("any", MONDAY_9AM, CHICAGO)
    assert pref is not None and pref.any_time and (pref.latest - pref.earliest).days >= 13
    assert parse_preference("whenever works", MONDAY_9AM, CHICAGO) is not None
    assert parse_preference("my knee hurts", MONDAY_9AM, CHICAGO) is None
    assert parse_preference("2", MONDAY_9AM, CHICAGO) is None


def test_dates_of_birth_as_patients_type_them() -> None:
    today = MONDAY_9AM.date()
    for text in ["01/01/1980", "1-1-80", "jan 1 1980", "my birthday is january 1st 1980", "1980-01-01"]:
        assert parse_date_of_birth(text, today) == demo.DEMO_DOB, text
    assert parse_date_of_birth("13/45/1980", today) is None
    assert parse_date_of_birth("next tuesday", today) is None


def test_a_reply_picks_one_of_the_offered_times() -> None:
    starts = [datetime(2026, 11, 24, 13, 0, tzinfo=CHICAGO), datetime(2026, 11, 24, 14, 20, tzinfo=CHICAGO),
              datetime(2026, 11, 25, 9, 30, tzinfo=CHICAGO)]
    labels = ["Dr. Anika Patel", "Dr. Anika Patel", "Lena Nguyen"]
    picks = {t: pick_option(t, starts, labels, CHICAGO) for t in
             ["2", "the first one", "the 9:30 one", "1 pm", "wednesday", "last one", "lena", "hmm"]}
    assert picks == {"2": 1, "the first one": 0, "the 9:30 one": 2, "1 pm": 0, "wednesday": 2, "last one": 2,
                     "lena": 2, "hmm": None}


def _ids(settings: Settings) -> tuple[int, int, int]:
    with session_scope(settings.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        follow_up = session.scalars(select(AppointmentType).where(AppointmentType.code == "follow_up")).one()
        physical = session.scalars(select(AppointmentType).where(AppointmentType.code == "annual_physical")).one()
        return patient.id, follow_up.id, physical.id


def _offers(settings: Settings, minutes: int = 20, provider: str | None = "patel", text: str = "any",
            limit: int = 3) -> list[scheduling.SlotOffer]:
    now = datetime.now(UTC)
    pref = parse_preference(text, now, settings.clinic.tz)
    assert pref is not None
    with session_scope(settings.database_url) as session:
        provider_id = scheduling.provider_by_key(session, provider).id if provider else None  # type: ignore[union-attr]
        return scheduling.find_offers(session, duration_minutes=minutes, preference=pref, now=now,
                                      provider_id=provider_id, limit=limit)


def test_offers_are_free_times_of_the_asked_provider_spread_out(seeded: Settings) -> None:
    offers = _offers(seeded)
    assert len(offers) == 3
    with session_scope(seeded.database_url) as session:
        patel = scheduling.provider_by_key(session, "patel")
        assert patel is not None
        for offer in offers:
            assert offer.provider_id == patel.id
            slot = session.get(AvailabilitySlot, offer.slot_ids[0])
            assert slot is not None and slot.appointment_id is None
    starts = [o.start for o in offers]
    assert starts == sorted(starts) and all(b - a >= timedelta(hours=1) for a, b in itertools.pairwise(starts))


def test_a_forty_minute_visit_needs_two_consecutive_free_blocks(seeded: Settings) -> None:
    offers = _offers(seeded, minutes=40)
    assert offers and all(len(o.slot_ids) == 2 and o.end - o.start == timedelta(minutes=40) for o in offers)
    with session_scope(seeded.database_url) as session:
        for offer in offers:
            first, second = (session.get(AvailabilitySlot, i) for i in offer.slot_ids)
            assert first is not None and second is not None and first.end == second.start


def test_booking_claims_the_slot_and_a_second_booking_of_it_is_refused(seeded: Settings) -> None:
    patient_id, follow_up, _ = _ids(seeded)
    offer = _offers(seeded)[0]
    appointment_id = scheduling.book(seeded.database_url, patient_id=patient_id, appointment_type_id=follow_up,
                                     offer=offer, location="here")
    with pytest.raises(scheduling.SlotTaken):
        scheduling.book(seeded.database_url, patient_id=patient_id, appointment_type_id=follow_up, offer=offer,
                        location="here")
    with session_scope(seeded.database_url) as session:
        assert session.get(AvailabilitySlot, offer.slot_ids[0]).appointment_id == appointment_id  # type: ignore[union-attr]
        assert len(list(session.scalars(select(Appointment).where(Appointment.start == offer.start,
                                                                  Appointment.provider_id == offer.provider_id)))) == 1
    assert offer.start not in [o.start for o in _offers(seeded, limit=50)]


def test_threads_racing_for_one_slot_on_sqlite_book_it_exactly_once(seeded: Settings) -> None:
    patient_id, follow_up, _ = _ids(seeded)
    offer = _offers(seeded)[0]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def race() -> None:
        barrier.wait()
        try:
            scheduling.book(seeded.database_url, patient_id=patient_id, appointment_type_id=follow_up, offer=offer,
                            location="here")
            outcomes.append("booked")
        except scheduling.SlotTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["booked"] + ["taken"] * 7
    with session_scope(seeded.database_url) as session:
        assert scheduling.double_bookings(session) == 0
        # the losers left no half-made appointment behind
        assert len(list(session.scalars(select(Appointment).where(Appointment.start == offer.start,
                                                                  Appointment.provider_id == offer.provider_id)))) == 1


def test_moving_frees_the_old_time_and_cancelling_frees_the_slot(seeded: Settings) -> None:
    patient_id, follow_up, _ = _ids(seeded)
    first, second, _ = _offers(seeded)
    appointment_id = scheduling.book(seeded.database_url, patient_id=patient_id, appointment_type_id=follow_up,
                                     offer=first, location="here")
    scheduling.move(seeded.database_url, appointment_id, second)
    with session_scope(seeded.database_url) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None and appointment.start == second.start
        assert session.get(AvailabilitySlot, first.slot_ids[0]).appointment_id is None  # type: ignore[union-attr]
        assert session.get(AvailabilitySlot, second.slot_ids[0]).appointment_id == appointment_id  # type: ignore[union-attr]
    assert scheduling.cancel(seeded.database_url, appointment_id) is True
    assert scheduling.cancel(seeded.database_url, appointment_id) is False
    with session_scope(seeded.database_url) as session:
        assert session.get(Appointment, appointment_id).status == "cancelled"  # type: ignore[union-attr]
        assert session.get(AvailabilitySlot, second.slot_ids[0]).appointment_id is None  # type: ignore[union-attr]


def test_moving_onto_a_taken_time_is_refused_and_changes_nothing(seeded: Settings) -> None:
    patient_id, follow_up, _ = _ids(seeded)
    first, second, _ = _offers(seeded)
    mine = scheduling.book(seeded.database_url, patient_id=patient_id, appointment_type_id=follow_up, offer=first,
                           location="here")
    scheduling.book(seeded.database_url, patient_id=patient_id, appointment_type_id=follow_up, offer=second,
                    location="here")
    with pytest.raises(scheduling.SlotTaken):
        scheduling.move(seeded.database_url, mine, second)
    with session_scope(seeded.database_url) as session:
        assert session.get(Appointment, mine).start == first.start  # type: ignore[union-attr]
        assert scheduling.double_bookings(session) == 0
        assert session.scalars(select(Provider)).first() is not None
