"""Waitlist backfill on the real store under a controlled clock: a freed time goes to the first patient in line,
the first YES books it through the booking's compare-and-set (two patients answering at once: one booking),
an unanswered offer expires and the next patient is offered it, quiet hours hold an offer back, opt-outs and caps
pass a patient over, and an offer to move a visit sooner moves it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import reminders, scheduling
from bot.messaging.optouts import set_opt_out
from bot.settings import Settings
from bot.store import (
    ActivityEvent,
    Appointment,
    AuditEvent,
    AvailabilitySlot,
    WaitlistEntry,
    WaitlistOffer,
    session_scope,
)
from bot.store.states import OfferStatus, WaitlistStatus
from bot.waitlist import answer, sweep
from tests.waitlist_helpers import (
    PHONES,
    RecordingSender,
    full_morning,
    local,
    patient_id,
    wait_for_wednesday,
)

A, B, C = PHONES


@pytest.fixture
def clinic(seeded: Settings) -> Iterator[Settings]:
    cfg = seeded.model_copy(deep=True)
    cfg.waitlist.enabled = True
    cfg.waitlist.offers_at_once = 1
    cfg.waitlist.offer_expiry_minutes = 30
    yield cfg
    reminders.stop_scheduler(cfg)


def offers(settings: Settings) -> list[tuple[str, str]]:
    """(patient's phone, offer status) in the order offers were made."""
    with session_scope(settings.database_url) as session:
        return [(o.entry.patient.phone, o.status) for o in session.scalars(select(WaitlistOffer)
                                                                            .order_by(WaitlistOffer.id))]


def appointments_at(settings: Settings, when: str) -> list[int]:
    hour, minute = (int(p) for p in when.split(":"))
    with session_scope(settings.database_url) as session:
        return [a.patient_id for a in session.scalars(select(Appointment).where(
            Appointment.start == local(settings, 9, hour, minute), Appointment.status.in_(scheduling.ACTIVE_STATUSES)))]


def test_a_freed_time_goes_to_the_first_in_line_and_yes_books_it(clinic: Settings) -> None:
    booked = full_morning(clinic)
    wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    wait_for_wednesday(clinic, B, local(clinic, 7, 10))
    sender = RecordingSender()
    assert not sweep(clinic, sender, local(clinic, 8, 10)).offered  # nothing free yet
    scheduling.cancel(clinic.database_url, booked["09:20"])
    report = sweep(clinic, sender, local(clinic, 8, 10, 1))
    assert (report.offered, report.sent) == (1, 1)
    [text] = sender.to(A)
    assert "Maple Street Family Medicine" in text and "Wed, Jan 9 at 9:20 am" in text and "Dr. Anika Patel" in text
    assert "Reply YES by 10:31 am" in text and "STOP" in text
    assert sender.to(B) == []
    reply = answer(clinic, A, "Yes", local(clinic, 8, 10, 5))
    assert reply is not None and reply.outcome == "accepted"
    assert "you're booked" in reply.reply and "Wed, Jan 9 at 9:20 am" in reply.reply
    assert appointments_at(clinic, "09:20") == [patient_id(clinic, A)]
    assert not sweep(clinic, sender, local(clinic, 8, 10, 6)).offered  # B: nothing left to offer
    with session_scope(clinic.database_url) as session:
        statuses = dict(session.execute(select(WaitlistEntry.patient_id, WaitlistEntry.status)).all())
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        ledger = [(e.kind, e.label) for e in session.scalars(select(ActivityEvent).order_by(ActivityEvent.id))]
    assert statuses[patient_id(clinic, A)] == WaitlistStatus.BOOKED
    assert statuses[patient_id(clinic, B)] == WaitlistStatus.WAITING
    assert [a for a in actions if a.startswith(("waitlist", "appointment"))] == [
        "waitlist_joined", "waitlist_joined", "appointment_cancelled", "waitlist_offer_sent", "appointment_booked",
        "waitlist_offer_accepted"]
    assert ("appointment", "booked") in ledger and ("waitlist", "accepted") in ledger


def test_two_patients_answering_yes_at_once_make_one_booking(clinic: Settings) -> None:
    clinic.waitlist.offers_at_once = 2
    booked = full_morning(clinic)
    wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    wait_for_wednesday(clinic, B, local(clinic, 7, 10))
    sender = RecordingSender()
    scheduling.cancel(clinic.database_url, booked["09:40"])
    assert sweep(clinic, sender, local(clinic, 8, 11)).sent == 2
    assert len(sender.to(A)) == len(sender.to(B)) == 1
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def say_yes(phone: str) -> None:
        start.wait()
        reply = answer(clinic, phone, "YES", local(clinic, 8, 11, 2))
        assert reply is not None
        outcomes[phone] = reply.outcome

    threads = [threading.Thread(target=say_yes, args=(phone,)) for phone in (A, B)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["accepted", "taken"]
    winner = next(p for p, o in outcomes.items() if o == "accepted")
    loser = next(p for p, o in outcomes.items() if o == "taken")
    assert appointments_at(clinic, "09:40") == [patient_id(clinic, winner)]
    with session_scope(clinic.database_url) as session:
        assert scheduling.double_bookings(session) == 0
    late = answer(clinic, loser, "yes", local(clinic, 8, 11, 9))
    assert late is not None and late.outcome == "taken" and "just taken by someone else" in late.reply
    assert dict(offers(clinic)) == {winner: OfferStatus.ACCEPTED, loser: OfferStatus.TAKEN}


def test_an_unanswered_offer_expires_and_the_next_patient_is_offered_it(clinic: Settings) -> None:
    booked = full_morning(clinic)
    wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    wait_for_wednesday(clinic, B, local(clinic, 7, 10))
    wait_for_wednesday(clinic, C, local(clinic, 7, 11))
    sender = RecordingSender()
    scheduling.cancel(clinic.database_url, booked["09:00"])
    sweep(clinic, sender, local(clinic, 8, 14))
    assert offers(clinic) == [(A, OfferStatus.SENT)]
    assert not sweep(clinic, sender, local(clinic, 8, 14, 29)).offered  # still A's for one more minute
    report = sweep(clinic, sender, local(clinic, 8, 14, 30))
    assert (report.expired, report.sent) == (1, 1)
    assert offers(clinic) == [(A, OfferStatus.EXPIRED), (B, OfferStatus.SENT)]
    assert len(sender.to(B)) == 1 and sender.to(C) == []
    late = answer(clinic, A, "yes", local(clinic, 8, 14, 35))
    assert late is not None and late.outcome == "expired" and "went to the next person" in late.reply
    assert appointments_at(clinic, "09:00") == []
    no = answer(clinic, B, "no thanks", local(clinic, 8, 14, 40))
    assert no is not None and no.outcome == "declined"
    sweep(clinic, sender, local(clinic, 8, 14, 41))  # declined: on to the third patient at once
    assert offers(clinic)[-1] == (C, OfferStatus.SENT)
    yes = answer(clinic, C, "ok", local(clinic, 8, 14, 45))
    assert yes is not None and yes.outcome == "accepted"
    assert appointments_at(clinic, "09:00") == [patient_id(clinic, C)]


def test_quiet_hours_hold_an_offer_back_until_morning_and_keep_the_place_in_line(clinic: Settings) -> None:
    booked = full_morning(clinic)
    wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    wait_for_wednesday(clinic, B, local(clinic, 7, 10))
    sender = RecordingSender()
    scheduling.cancel(clinic.database_url, booked["09:20"])
    report = sweep(clinic, sender, local(clinic, 8, 21, 30))  # 9:30 pm: after the 9 pm limit
    assert (report.offered, report.held, report.sent) == (1, 1, 0)
    assert sender.sent == [] and offers(clinic) == [(A, OfferStatus.HELD)]
    assert sweep(clinic, sender, local(clinic, 9, 7, 59)).sent == 0  # 7:59 am: still quiet; B not offered either
    assert sender.sent == [] and offers(clinic) == [(A, OfferStatus.HELD)]
    assert sweep(clinic, sender, local(clinic, 9, 8, 0)).sent == 1
    assert offers(clinic) == [(A, OfferStatus.SENT)] and len(sender.to(A)) == 1
    [text] = sender.to(A)
    assert "Reply YES by 8:30 am" in text  # 30 minutes from the time it actually went


def test_opted_out_patients_are_passed_over_and_their_yes_stays_an_opt_in(clinic: Settings) -> None:
    booked = full_morning(clinic)
    wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    wait_for_wednesday(clinic, B, local(clinic, 7, 10))
    with session_scope(clinic.database_url) as session:
        set_opt_out(session, A, True)
    sender = RecordingSender()
    scheduling.cancel(clinic.database_url, booked["09:20"])
    sweep(clinic, sender, local(clinic, 8, 10))
    assert sender.to(A) == [] and len(sender.to(B)) == 1
    assert answer(clinic, A, "YES", local(clinic, 8, 10, 1)) is None  # the SMS channel treats it as START
    assert answer(clinic, C, "YES", local(clinic, 8, 10, 1)) is None  # no offer: not an answer either


def test_caps_pass_a_patient_over_for_the_day(clinic: Settings) -> None:
    clinic.reminders.max_per_day = 1
    booked = full_morning(clinic)
    wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    wait_for_wednesday(clinic, B, local(clinic, 7, 10))
    sender = RecordingSender()
    scheduling.cancel(clinic.database_url, booked["09:00"])
    sweep(clinic, sender, local(clinic, 8, 9))
    answer(clinic, A, "no", local(clinic, 8, 9, 5))  # A had today's one text and said no
    assert offers(clinic)[-1] == (A, OfferStatus.DECLINED)
    report = sweep(clinic, sender, local(clinic, 8, 9, 6))
    assert report.capped == 0 and offers(clinic)[-1] == (B, OfferStatus.SENT)  # 9:00 goes to B
    answer(clinic, B, "no", local(clinic, 8, 9, 7))
    scheduling.cancel(clinic.database_url, booked["09:40"])
    report = sweep(clinic, sender, local(clinic, 8, 9, 8))
    assert report.capped == 2 and len(sender.sent) == 2  # both had their text today: nothing more until tomorrow
    assert sweep(clinic, sender, local(clinic, 9, 8, 0)).sent == 1  # a new day: A, first in line, gets 9:40
    assert sender.sent[-1][0] == A and "9:40 am" in sender.sent[-1][1]


def test_an_offer_to_move_a_visit_sooner_moves_it_and_frees_the_old_time(clinic: Settings) -> None:
    booked = full_morning(clinic)
    with session_scope(clinic.database_url) as session:
        later = session.get(Appointment, booked["09:40"])
        assert later is not None
        later.patient_id = patient_id(clinic, A)  # A has 9:40 and would rather come earlier
    entry_id = wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    with session_scope(clinic.database_url) as session:
        entry = session.get(WaitlistEntry, entry_id)
        assert entry is not None and entry.appointment_id == booked["09:40"]
    wait_for_wednesday(clinic, B, local(clinic, 7, 10))
    sender = RecordingSender()
    scheduling.cancel(clinic.database_url, booked["09:00"])
    sweep(clinic, sender, local(clinic, 8, 12))
    [text] = sender.to(A)
    assert "an earlier time opened for your follow-up visit" in text and "move to it" in text
    reply = answer(clinic, A, "yes", local(clinic, 8, 12, 3))
    assert reply is not None and reply.outcome == "accepted" and reply.appointment_id == booked["09:40"]
    assert appointments_at(clinic, "09:00") == [patient_id(clinic, A)]
    assert appointments_at(clinic, "09:40") == []
    sweep(clinic, sender, local(clinic, 8, 12, 4))  # the freed 9:40 goes to the next in line
    assert "Wed, Jan 9 at 9:40 am" in sender.to(B)[0]


def test_a_new_opening_in_the_schedule_is_offered_like_a_cancellation(clinic: Settings) -> None:
    full_morning(clinic)
    wait_for_wednesday(clinic, B, local(clinic, 7, 10), provider=None)  # any provider will do
    sender = RecordingSender()
    assert not sweep(clinic, sender, local(clinic, 8, 10)).offered
    with session_scope(clinic.database_url) as session:  # the clinic adds an afternoon for Lena Nguyen
        nguyen = scheduling.provider_by_key(session, "nguyen")
        assert nguyen is not None
        start = local(clinic, 9, 14)
        session.add(AvailabilitySlot(provider_id=nguyen.id, start=start, end=start + timedelta(minutes=20)))
    sweep(clinic, sender, local(clinic, 8, 10, 1))
    [text] = sender.to(B)
    assert "Lena Nguyen" in text and "Wed, Jan 9 at 2:00 pm" in text


def test_a_sweep_between_the_booking_and_the_yes_answer_keeps_the_offer_accepted(
        clinic: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway's sweep runs on its own clock: if it lands after the YES booked the time but before the answer
    marked the offer accepted, it must not call the offer 'taken by someone else' (the owner's dashboard counts
    a filled slot, the patient's later texts hear 'already booked')."""
    from bot.waitlist import replies
    booked = full_morning(clinic)
    wait_for_wednesday(clinic, A, local(clinic, 7, 9))
    sender = RecordingSender()
    scheduling.cancel(clinic.database_url, booked["09:20"])
    assert sweep(clinic, sender, local(clinic, 8, 10)).sent == 1
    real_book = replies.book

    def book_then_sweep(*args: object, **kwargs: object) -> int:
        appointment_id = real_book(*args, **kwargs)  # type: ignore[arg-type]
        assert sweep(clinic, sender, local(clinic, 8, 10, 2)).taken == 0
        return appointment_id

    monkeypatch.setattr(replies, "book", book_then_sweep)
    reply = answer(clinic, A, "YES", local(clinic, 8, 10, 2))
    assert reply is not None and reply.outcome == "accepted"
    assert offers(clinic) == [(A, OfferStatus.ACCEPTED)]
    again = answer(clinic, A, "yes", local(clinic, 8, 10, 4))
    assert again is not None and again.outcome == "already"
