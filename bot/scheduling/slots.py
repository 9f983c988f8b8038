"""Appointments on the clinic store: free slots, booking, moving, cancelling and confirming.

A visit takes as many consecutive 20-minute availability blocks of one provider as its type needs. Blocks are
claimed with a compare-and-set ``UPDATE ... WHERE appointment_id IS NULL`` inside the same transaction that
creates (or moves) the appointment: when two patients race for one block, exactly one update matches it, the
other transaction rolls back and that patient is offered other times. No double booking, on SQLite or
PostgreSQL.
"""

from __future__ import annotations

import itertools
import logging
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.scheduling.timefmt import when_text
from bot.scheduling.timeparse import Preference
from bot.settings import WEEKDAYS, ClinicProfile
from bot.store import (
    Appointment,
    AppointmentType,
    AvailabilitySlot,
    Patient,
    Provider,
    ReminderSend,
    get_engine,
)
from bot.store.audit import SYSTEM, Actor, record_in
from bot.store.states import AppointmentStatus

log = logging.getLogger(__name__)

ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
BLOCK_MINUTES = 20
MIN_GAP_BETWEEN_OFFERS = timedelta(minutes=60)  # offers in a window are spread out
NEAREST_GAP = timedelta(minutes=40)  # nearest offers when none fits: close to the asked time, still distinct
LEAD_TIME = timedelta(minutes=30)  # nothing sooner than this is offered
SEARCH_DAYS = 14  # how far ahead a preference without days (or without an end) looks
NEAREST_DAYS = 14  # how far around the asked days the nearest times are looked for


@dataclass(frozen=True)
class OfferSearch:
    """Offers for a preference: ``fits`` when every offer meets every constraint, else they are the nearest."""

    offers: list[SlotOffer]
    fits: bool


@dataclass(frozen=True)
class SlotOffer:
    provider_id: int
    provider_name: str
    start: datetime  # aware, UTC
    end: datetime
    slot_ids: tuple[int, ...]

    def as_slot(self) -> dict[str, object]:
        """What a Rasa slot keeps of an offer (JSON)."""
        return {"provider_id": self.provider_id, "provider_name": self.provider_name,
                "start": self.start.isoformat(), "end": self.end.isoformat(), "slot_ids": list(self.slot_ids)}

    @classmethod
    def from_slot(cls, value: dict[str, object]) -> SlotOffer:
        ids = value.get("slot_ids")
        return cls(int(str(value["provider_id"])), str(value["provider_name"]),
                   datetime.fromisoformat(str(value["start"])), datetime.fromisoformat(str(value["end"])),
                   tuple(int(i) for i in ids) if isinstance(ids, list) else ())


def describe_offer(offer: SlotOffer, tz: ZoneInfo) -> str:
    return f"{when_text(offer.start, tz)} with {offer.provider_name}"


def describe_appointment(appointment: Appointment, tz: ZoneInfo) -> str:
    place = f" at {appointment.location}" if appointment.location else ""
    return (f"{appointment.appointment_type.name} with {appointment.provider.name} on "
            f"{when_text(appointment.start, tz)}{place}")


def blocks_needed(duration_minutes: int) -> int:
    return max(1, -(-duration_minutes // BLOCK_MINUTES))


def find_offers(session: Session, *, duration_minutes: int, preference: Preference, now: datetime,
                clinic: ClinicProfile, provider_id: int | None = None, limit: int = 3,
                exclude: Sequence[datetime] = ()) -> OfferSearch:
    """Up to ``limit`` free times that meet every constraint of the preference, nearest first: closest to the
    asked time when one was given ("2pm", "around 2"), else soonest, spread out. When none fits, the nearest
    free times to what was asked (measured in time from the asked days and window), with ``fits`` False."""
    tz = clinic.tz
    today = now.astimezone(tz).date()
    windows = asked_windows(preference, clinic, today)
    first_day = windows[0][0].date() if windows else today
    last_day = windows[-1][1].date() if windows else today + timedelta(days=SEARCH_DAYS)
    lo = max(now + LEAD_TIME, datetime.combine(first_day - timedelta(days=NEAREST_DAYS), time(0, 0), tzinfo=tz))
    hi = datetime.combine(last_day + timedelta(days=NEAREST_DAYS + 1), time(0, 0), tzinfo=tz)
    candidates = [c for c in _free_runs(session, duration_minutes, lo, hi, provider_id) if c.start not in exclude]
    point = preference.exact is not None
    scored = [(_distance(c.start, windows, point), c) for c in candidates]
    fitting = [c for d, c in scored if d == 0]
    target = preference.target
    if fitting and target is not None:
        aim = target.hour * 60 + target.minute

        def off_target(offer: SlotOffer) -> tuple[int, datetime]:
            local = offer.start.astimezone(tz)
            return abs(local.hour * 60 + local.minute - aim), offer.start

        return OfferSearch(sorted(fitting, key=off_target)[:limit], True)
    if fitting:
        return OfferSearch(sorted(_spread(sorted(fitting, key=lambda o: (o.start, o.provider_id)),
                                          limit, MIN_GAP_BETWEEN_OFFERS), key=lambda o: o.start), True)
    nearest = [c for _, c in sorted(scored, key=lambda x: (x[0], x[1].start))]
    distance = {id(c): d for d, c in scored}
    chosen = _spread(nearest, limit, NEAREST_GAP)
    return OfferSearch(sorted(chosen, key=lambda o: (distance[id(o)], o.start)), False)


def asked_windows(preference: Preference, clinic: ClinicProfile, today: date) -> list[tuple[datetime, datetime]]:
    """The asked days and time window as moments in the clinic's zone, one (start, end) per day; "open" and
    "close" are the clinic's hours that day (the whole day when it is closed: nothing is free then anyway)."""
    tz = clinic.tz
    first = preference.date_from or today
    last = preference.date_to or first + timedelta(days=SEARCH_DAYS)
    out = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        hours = clinic.opening_hours(WEEKDAYS[day.weekday()]) or (time(0, 0), time(23, 59))
        start = _bound(preference.time_from, hours[0])
        end = _bound(preference.time_to, hours[1])
        out.append((datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz)))
    return out


def _bound(value: time | str | None, opening: time) -> time:
    return value if isinstance(value, time) else opening  # None, "open" and "close" are the day's hours


def _distance(start: datetime, windows: list[tuple[datetime, datetime]], point: bool) -> float:
    """Minutes from a start time to the nearest asked moment (0 inside a window; an exact time only at it)."""
    if not windows:
        return float("inf")
    k = (start.astimezone(windows[0][0].tzinfo).date() - windows[0][0].date()).days  # one window per day
    near = {0, len(windows) - 1} | {j for j in (k - 1, k, k + 1) if 0 <= j < len(windows)}
    best = float("inf")
    for lo, hi in (windows[j] for j in near):
        if point:
            gap = abs((start - lo).total_seconds())
        elif start < lo:
            gap = (lo - start).total_seconds()
        elif start >= hi:
            gap = (start - hi).total_seconds() + 60  # a visit starting at the window's end is outside it
        else:
            return 0.0
        best = min(best, gap / 60)
    return best


def _spread(ordered: list[SlotOffer], limit: int, gap: timedelta) -> list[SlotOffer]:
    """The first offers at least ``gap`` apart, topped up in order when there are not enough of them."""
    chosen: list[SlotOffer] = []
    for offer in ordered:
        if len(chosen) == limit:
            break
        if all(abs(offer.start - c.start) >= gap for c in chosen):
            chosen.append(offer)
    for offer in ordered:
        if len(chosen) == limit:
            break
        if offer not in chosen:
            chosen.append(offer)
    return chosen


def _free_runs(session: Session, duration_minutes: int, lo: datetime, hi: datetime,
               provider_id: int | None) -> list[SlotOffer]:
    """Every start from ``lo`` to ``hi`` where a provider has enough consecutive free blocks for the visit."""
    need = blocks_needed(duration_minutes)
    query = (select(AvailabilitySlot, Provider.name).join(Provider, Provider.id == AvailabilitySlot.provider_id)
             .where(AvailabilitySlot.start >= lo, AvailabilitySlot.start < hi + timedelta(minutes=BLOCK_MINUTES * need),
                    Provider.active.is_(True))
             .order_by(AvailabilitySlot.provider_id, AvailabilitySlot.start))
    if provider_id is not None:
        query = query.where(AvailabilitySlot.provider_id == provider_id)
    rows = session.execute(query).all()
    runs: list[SlotOffer] = []
    for i, (slot, provider_name) in enumerate(rows):
        if slot.start >= hi or slot.appointment_id is not None:
            continue
        run = [r[0] for r in rows[i:i + need]]
        if len(run) < need or any(b.appointment_id is not None or b.provider_id != slot.provider_id for b in run):
            continue
        if any(later.start != earlier.end for earlier, later in itertools.pairwise(run)):
            continue
        runs.append(SlotOffer(slot.provider_id, provider_name, _aware(slot.start),
                              _aware(slot.start) + timedelta(minutes=duration_minutes), tuple(b.id for b in run)))
    return runs


def free_times(session: Session, *, duration_minutes: int, lo: datetime, hi: datetime,
               provider_id: int | None = None) -> list[SlotOffer]:
    """Every start from ``lo`` to ``hi`` where a provider has enough free blocks for the visit (the waitlist's
    matching: a time freed by a cancellation, a move or a new opening shows up here)."""
    return _free_runs(session, duration_minutes, lo, hi, provider_id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SlotTaken(Exception):
    """Another patient took one of the blocks first."""


def _retrying(url: str, work: object, attempts: int = 8) -> object:
    """Run ``work(conn)`` in a write transaction, retrying while SQLite reports the file busy."""
    engine = get_engine(url)
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return work(conn)  # type: ignore[operator]
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            clock.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def is_free(session: Session, offer: SlotOffer) -> bool:
    """Whether every block of an offered time is still free (a read: the booking itself re-checks)."""
    taken = session.scalars(select(func.count()).select_from(AvailabilitySlot).where(
        AvailabilitySlot.id.in_(offer.slot_ids), AvailabilitySlot.appointment_id.is_not(None))).one()
    return taken == 0 and len(offer.slot_ids) > 0


def _patient_of(conn: object, appointment_id: int) -> int | None:
    return conn.execute(select(Appointment.patient_id).where(  # type: ignore[attr-defined]
        Appointment.id == appointment_id)).scalar()


def book(url: str, *, patient_id: int, appointment_type_id: int, offer: SlotOffer, location: str,
         by: Actor = SYSTEM) -> int:
    """Create the appointment and claim its blocks atomically; raises :class:`SlotTaken` if any block is gone.
    Each change below is audited in its own transaction, naming ``by``."""
    now = datetime.now(UTC)

    def work(conn: object) -> int:
        result = conn.execute(insert(Appointment).values(  # type: ignore[attr-defined]
            patient_id=patient_id, provider_id=offer.provider_id, appointment_type_id=appointment_type_id,
            start=offer.start, end=offer.end, status=AppointmentStatus.BOOKED, location=location, created_at=now, updated_at=now))
        appointment_id = int(result.inserted_primary_key[0])
        claimed = conn.execute(update(AvailabilitySlot)  # type: ignore[attr-defined]
                               .where(AvailabilitySlot.id.in_(offer.slot_ids),
                                      AvailabilitySlot.appointment_id.is_(None))
                               .values(appointment_id=appointment_id)).rowcount
        if claimed != len(offer.slot_ids):
            raise SlotTaken()
        record_in(conn, by, "appointment_booked", patient_id=patient_id, at=now,  # type: ignore[arg-type]
                  detail={"appointment_id": appointment_id, "provider_id": offer.provider_id,
                          "start": offer.start.isoformat()})
        return appointment_id

    appointment_id = int(_retrying(url, work))  # type: ignore[call-overload]
    log.info("appointment.booked appointment_id=%s provider_id=%s", appointment_id, offer.provider_id)
    return appointment_id


def move(url: str, appointment_id: int, offer: SlotOffer, by: Actor = SYSTEM) -> None:
    """Move an appointment to the offered time, releasing its old blocks; raises :class:`SlotTaken`."""
    now = datetime.now(UTC)

    def work(conn: object) -> None:
        before = conn.execute(select(Appointment.start).where(  # type: ignore[attr-defined]
            Appointment.id == appointment_id)).scalar()
        claimed = conn.execute(update(AvailabilitySlot)  # type: ignore[attr-defined]
                               .where(AvailabilitySlot.id.in_(offer.slot_ids),
                                      or_(AvailabilitySlot.appointment_id.is_(None),
                                          AvailabilitySlot.appointment_id == appointment_id))
                               .values(appointment_id=appointment_id)).rowcount
        if claimed != len(offer.slot_ids):
            raise SlotTaken()
        conn.execute(update(AvailabilitySlot)  # type: ignore[attr-defined]
                     .where(AvailabilitySlot.appointment_id == appointment_id,
                            AvailabilitySlot.id.not_in(offer.slot_ids))
                     .values(appointment_id=None))
        conn.execute(update(Appointment).where(Appointment.id == appointment_id)  # type: ignore[attr-defined]
                     .values(provider_id=offer.provider_id, start=offer.start, end=offer.end, status=AppointmentStatus.BOOKED,
                             updated_at=now))
        # reminders already sent stay on record (and count toward caps) but no longer block the new time's
        conn.execute(update(ReminderSend)  # type: ignore[attr-defined]
                     .where(ReminderSend.appointment_id == appointment_id, ReminderSend.rule_name.not_like("%@%"))
                     .values(rule_name=ReminderSend.rule_name + f"@{int(now.timestamp())}"))
        record_in(conn, by, "appointment_rescheduled", patient_id=_patient_of(conn, appointment_id),  # type: ignore[arg-type]
                  at=now, detail={"appointment_id": appointment_id, "provider_id": offer.provider_id,
                                  "from": _aware(before).isoformat() if before else None,
                                  "start": offer.start.isoformat()})

    _retrying(url, work)
    log.info("appointment.moved appointment_id=%s", appointment_id)


def cancel(url: str, appointment_id: int, by: Actor = SYSTEM) -> bool:
    """Cancel and free the blocks. False when it was not active (already cancelled or past)."""
    now = datetime.now(UTC)

    def work(conn: object) -> bool:
        changed = conn.execute(update(Appointment)  # type: ignore[attr-defined]
                               .where(Appointment.id == appointment_id, Appointment.status.in_(ACTIVE_STATUSES))
                               .values(status=AppointmentStatus.CANCELLED, updated_at=now)).rowcount
        conn.execute(update(AvailabilitySlot).where(AvailabilitySlot.appointment_id == appointment_id)  # type: ignore[attr-defined]
                     .values(appointment_id=None))
        if changed:
            record_in(conn, by, "appointment_cancelled", patient_id=_patient_of(conn, appointment_id),  # type: ignore[arg-type]
                      at=now, detail={"appointment_id": appointment_id})
        return bool(changed)

    done = bool(_retrying(url, work))
    log.info("appointment.cancelled appointment_id=%s changed=%s", appointment_id, done)
    return done


def confirm(url: str, appointment_id: int, by: Actor = SYSTEM) -> bool:
    now = datetime.now(UTC)

    def work(conn: object) -> bool:
        changed = bool(conn.execute(update(Appointment)  # type: ignore[attr-defined]
                                    .where(Appointment.id == appointment_id, Appointment.status == AppointmentStatus.BOOKED)
                                    .values(status=AppointmentStatus.CONFIRMED, updated_at=now)).rowcount)
        if changed:
            record_in(conn, by, "appointment_confirmed", patient_id=_patient_of(conn, appointment_id),  # type: ignore[arg-type]
                      at=now, detail={"appointment_id": appointment_id})
        return changed

    done = bool(_retrying(url, work))
    log.info("appointment.confirmed appointment_id=%s changed=%s", appointment_id, done)
    return done


def upcoming(session: Session, patient_id: int, now: datetime) -> list[Appointment]:
    return list(session.scalars(
        select(Appointment).where(Appointment.patient_id == patient_id, Appointment.start >= now,
                                  Appointment.status.in_(ACTIVE_STATUSES)).order_by(Appointment.start)))


def patient_appointments(session: Session, phone: str) -> list[tuple[Patient, Appointment]]:
    """Every appointment of the patients with this number, newest first (the ``appointments`` command)."""
    rows = session.execute(select(Patient, Appointment).join(Appointment, Appointment.patient_id == Patient.id)
                           .where(Patient.phone == phone).order_by(Appointment.start.desc()))
    return [(p, a) for p, a in rows.all()]


def appointment_type_by_code(session: Session, code: str) -> AppointmentType | None:
    return session.scalars(select(AppointmentType).where(AppointmentType.code == code)).first()


def provider_by_key(session: Session, key: str) -> Provider | None:
    return session.scalars(select(Provider).where(Provider.key == key)).first()


def double_bookings(session: Session) -> int:
    """Blocks claimed by more than one active appointment at the same time for one provider (should be 0)."""
    a, b = Appointment.__table__.alias("a"), Appointment.__table__.alias("b")
    overlap = select(func.count()).select_from(a.join(b, and_(
        a.c.provider_id == b.c.provider_id, a.c.id < b.c.id, a.c.start < b.c.end, b.c.start < a.c.end,
        a.c.status.in_(ACTIVE_STATUSES), b.c.status.in_(ACTIVE_STATUSES))))
    return int(session.execute(overlap).scalar_one())
