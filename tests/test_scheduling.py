"""Free slots, booking without double booking (threads racing on the real SQLite store), moving, cancelling;
offers that meet every constraint a patient gave (nearest first), and the nearest ones when none does."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import scheduling
from bot.runtime import demo
from bot.scheduling.timeparse import Preference, parse_date_of_birth, parse_preference
from bot.settings import Settings
from bot.store import Appointment, AppointmentType, AvailabilitySlot, Provider, session_scope

CHICAGO = ZoneInfo("America/Chicago")
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)


def test_dates_of_birth_as_patients_type_them() -> None:
    today = MONDAY_9AM.date()
    for text in ["01/01/1980", "1-1-80", "jan 1 1980", "my birthday is january 1st 1980", "1980-01-01", "01011980",
                 "dob 01011980"]:
        assert parse_date_of_birth(text, today) == demo.DEMO_DOB, text
    assert parse_date_of_birth("13/45/1980", today) is None
    assert parse_date_of_birth("13011980", today) is None
    assert parse_date_of_birth("633484", today) is None  # a one-time code is not a date
    assert parse_date_of_birth("next tuesday", today) is None


def _ids(settings: Settings) -> tuple[int, int, int]:
    with session_scope(settings.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        follow_up = session.scalars(select(AppointmentType).where(AppointmentType.code == "follow_up")).one()
        physical = session.scalars(select(AppointmentType).where(AppointmentType.code == "annual_physical")).one()
        return patient.id, follow_up.id, physical.id


def _search(settings: Settings, pref: Preference, minutes: int = 20, provider: str | None = "patel",
            limit: int = 3) -> scheduling.OfferSearch:
    with session_scope(settings.database_url) as session:
        provider_id = scheduling.provider_by_key(session, provider).id if provider else None  # type: ignore[union-attr]
        return scheduling.find_offers(session, duration_minutes=minutes, preference=pref, now=datetime.now(UTC),
                                      clinic=settings.clinic, provider_id=provider_id, limit=limit)


def _offers(settings: Settings, minutes: int = 20, provider: str | None = "patel", text: str = "any",
            limit: int = 3) -> list[scheduling.SlotOffer]:
    pref = parse_preference(text, datetime.now(UTC), settings.clinic.tz)
    assert pref is not None
    return _search(settings, pref, minutes, provider, limit).offers


def _local(offer: scheduling.SlotOffer, settings: Settings) -> datetime:
    return offer.start.astimezone(settings.clinic.tz)


def _free_afternoon_start(settings: Settings) -> datetime:
    """A free 2 pm (or later) block of Dr. Patel's, at least two days ahead (the demo clinic's store)."""
    tz = settings.clinic.tz
    after = datetime.combine(datetime.now(tz).date() + timedelta(days=2), time(0, 0), tzinfo=tz)
    with session_scope(settings.database_url) as session:
        patel = scheduling.provider_by_key(session, "patel")
        assert patel is not None
        slots = session.scalars(select(AvailabilitySlot).where(
            AvailabilitySlot.provider_id == patel.id, AvailabilitySlot.start >= after,
            AvailabilitySlot.appointment_id.is_(None)).order_by(AvailabilitySlot.start)).all()
    starts = [s.start.astimezone(tz) for s in slots]
    free = set(starts)
    return next(s for s in starts if s.time() == time(14, 0) and s - timedelta(minutes=20) in free
                and s + timedelta(minutes=20) in free)


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


def test_an_exact_free_time_is_what_is_offered(seeded: Settings) -> None:
    at = _free_afternoon_start(seeded)
    search = _search(seeded, Preference(at.date(), at.date(), time(14, 0), time(14, 0)))
    assert search.fits and [_local(o, seeded) for o in search.offers] == [at]  # not 8, 9 and 10 am; no other day


def test_an_exact_time_on_a_range_of_days_is_offered_at_that_time_soonest_first(seeded: Settings) -> None:
    at = _free_afternoon_start(seeded)
    search = _search(seeded, Preference(at.date(), at.date() + timedelta(days=6), time(14, 0), time(14, 0)))
    starts = [_local(o, seeded) for o in search.offers]
    assert search.fits and starts[0] == at and starts == sorted(starts)
    assert all(s.time() == time(14, 0) and at.date() <= s.date() <= at.date() + timedelta(days=6) for s in starts)


def test_a_taken_exact_time_gets_the_nearest_times_that_day(seeded: Settings) -> None:
    at = _free_afternoon_start(seeded)
    patient_id, follow_up, _ = _ids(seeded)
    taken = _search(seeded, Preference(at.date(), at.date(), time(14, 0), time(14, 0))).offers[0]
    scheduling.book(seeded.database_url, patient_id=patient_id, appointment_type_id=follow_up, offer=taken,
                    location="here")
    search = _search(seeded, Preference(at.date(), at.date(), time(14, 0), time(14, 0)))
    starts = [_local(o, seeded) for o in search.offers]
    assert not search.fits and at not in starts
    assert abs(starts[0] - at) == timedelta(minutes=20)  # nearest first: 1:40 or 2:20 that day
    assert all(s.date() == at.date() and abs(s - at) <= timedelta(hours=1) for s in starts)


def test_offers_meet_every_constraint_of_a_range_and_a_window(seeded: Settings) -> None:
    now = datetime.now(UTC)
    pref = parse_preference("any day next week after 3", now, seeded.clinic.tz)
    assert pref is not None and pref.date_from is not None and pref.date_to is not None
    search = _search(seeded, pref, provider=None, limit=3)
    starts = [_local(o, seeded) for o in search.offers]
    assert search.fits and len(starts) == 3 and starts == sorted(starts)
    assert all(pref.date_from <= s.date() <= pref.date_to and s.time() >= time(15, 0) for s in starts)


def test_moving_to_next_tuesday_afternoon_offers_next_weeks_tuesday_not_tomorrow(seeded: Settings) -> None:
    now = datetime.now(UTC)
    pref = parse_preference("next tuesday afternoon", now, seeded.clinic.tz)
    assert pref is not None and pref.date_from is not None
    today = now.astimezone(seeded.clinic.tz).date()
    next_monday = today + timedelta(days=7 - today.weekday())
    assert pref.date_from == next_monday + timedelta(days=1)  # the next calendar week's Tuesday, never tomorrow
    search = _search(seeded, pref, provider=None)
    assert search.fits and search.offers
    assert all(_local(o, seeded).date() == pref.date_from and time(12) <= _local(o, seeded).time() < time(17)
               for o in search.offers)


def test_a_closed_day_says_so_and_offers_the_nearest_open_times(seeded: Settings) -> None:
    today = datetime.now(seeded.clinic.tz).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    search = _search(seeded, Preference(saturday, saturday, time(10, 0), time(10, 0)), provider=None)
    assert not search.fits and len(search.offers) == 3
    assert all(_local(o, seeded).weekday() < 5 for o in search.offers)
    assert {_local(o, seeded).date() for o in search.offers} <= {saturday - timedelta(days=1),
                                                                 saturday + timedelta(days=2)}


def test_open_and_close_are_the_clinics_hours_from_the_settings(seeded: Settings) -> None:
    clinic = seeded.clinic.model_copy(update={"hours": {**seeded.clinic.hours, "wed": "10:00-13:00"}})
    wednesday = date(2026, 12, 2)
    [(start, end)] = scheduling.asked_windows(Preference(wednesday, wednesday, "open", time(12)), clinic,
                                              wednesday - timedelta(days=1))
    assert (start.time(), end.time()) == (time(10, 0), time(12, 0))
    [(start, end)] = scheduling.asked_windows(Preference(wednesday, wednesday, time(17), "close"), clinic,
                                              wednesday - timedelta(days=1))
    assert (start.time(), end.time()) == (time(17, 0), time(13, 0))  # evening on a short day: nothing fits
