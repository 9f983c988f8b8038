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
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.scheduling.timefmt import when_text
from bot.scheduling.timeparse import TimePreference
from bot.store import (
    Appointment,
    AppointmentType,
    AvailabilitySlot,
    Patient,
    Provider,
    ReminderSend,
    get_engine,
)
from bot.store.states import AppointmentStatus

log = logging.getLogger(__name__)

ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
BLOCK_MINUTES = 20
MIN_GAP_BETWEEN_OFFERS = timedelta(minutes=60)


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


def find_offers(session: Session, *, duration_minutes: int, preference: TimePreference, now: datetime,
                provider_id: int | None = None, limit: int = 3,
                exclude: Sequence[datetime] = ()) -> list[SlotOffer]:
    """Up to ``limit`` free times in the preferred window, spread out, closest to the asked-for time first."""
    earliest = max(preference.earliest, now + timedelta(minutes=30))
    need = blocks_needed(duration_minutes)
    query = (select(AvailabilitySlot, Provider.name).join(Provider, Provider.id == AvailabilitySlot.provider_id)
             .where(AvailabilitySlot.start >= earliest,
                    AvailabilitySlot.start < preference.latest + timedelta(minutes=BLOCK_MINUTES * need),
                    Provider.active.is_(True))
             .order_by(AvailabilitySlot.provider_id, AvailabilitySlot.start))
    if provider_id is not None:
        query = query.where(AvailabilitySlot.provider_id == provider_id)
    rows = session.execute(query).all()
    candidates: list[SlotOffer] = []
    for i, (slot, provider_name) in enumerate(rows):
        if slot.start > preference.latest or slot.appointment_id is not None:
            continue
        run = [r[0] for r in rows[i:i + need]]
        if len(run) < need or any(b.appointment_id is not None or b.provider_id != slot.provider_id for b in run):
            continue
        if any(later.start != earlier.end for earlier, later in itertools.pairwise(run)):
            continue
        if slot.start in exclude:
            continue
        candidates.append(SlotOffer(slot.provider_id, provider_name, slot.start,
                                    slot.start + timedelta(minutes=duration_minutes), tuple(b.id for b in run)))
    tz = preference.earliest.tzinfo or UTC
    if preference.around is not None:
        target = preference.around.hour * 60 + preference.around.minute

        def distance(offer: SlotOffer) -> tuple[int, datetime]:
            local = offer.start.astimezone(tz)
            return abs(local.hour * 60 + local.minute - target), offer.start

        candidates.sort(key=distance)
    else:
        candidates.sort(key=lambda o: (o.start, o.provider_id))
    chosen: list[SlotOffer] = []
    for offer in candidates:
        if all(abs(offer.start - c.start) >= MIN_GAP_BETWEEN_OFFERS for c in chosen):
            chosen.append(offer)
        if len(chosen) == limit:
            break
    for offer in candidates:  # not enough spread-out times: fill with what there is
        if len(chosen) == limit:
            break
        if offer not in chosen:
            chosen.append(offer)
    return sorted(chosen, key=lambda o: o.start)


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


def book(url: str, *, patient_id: int, appointment_type_id: int, offer: SlotOffer, location: str) -> int:
    """Create the appointment and claim its blocks atomically; raises :class:`SlotTaken` if any block is gone."""
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
        return appointment_id

    appointment_id = int(_retrying(url, work))  # type: ignore[call-overload]
    log.info("appointment.booked appointment_id=%s provider_id=%s", appointment_id, offer.provider_id)
    return appointment_id


def move(url: str, appointment_id: int, offer: SlotOffer) -> None:
    """Move an appointment to the offered time, releasing its old blocks; raises :class:`SlotTaken`."""
    now = datetime.now(UTC)

    def work(conn: object) -> None:
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

    _retrying(url, work)
    log.info("appointment.moved appointment_id=%s", appointment_id)


def cancel(url: str, appointment_id: int) -> bool:
    """Cancel and free the blocks. False when it was not active (already cancelled or past)."""
    now = datetime.now(UTC)

    def work(conn: object) -> bool:
        changed = conn.execute(update(Appointment)  # type: ignore[attr-defined]
                               .where(Appointment.id == appointment_id, Appointment.status.in_(ACTIVE_STATUSES))
                               .values(status=AppointmentStatus.CANCELLED, updated_at=now)).rowcount
        conn.execute(update(AvailabilitySlot).where(AvailabilitySlot.appointment_id == appointment_id)  # type: ignore[attr-defined]
                     .values(appointment_id=None))
        return bool(changed)

    done = bool(_retrying(url, work))
    log.info("appointment.cancelled appointment_id=%s changed=%s", appointment_id, done)
    return done


def confirm(url: str, appointment_id: int) -> bool:
    now = datetime.now(UTC)

    def work(conn: object) -> bool:
        return bool(conn.execute(update(Appointment)  # type: ignore[attr-defined]
                                 .where(Appointment.id == appointment_id, Appointment.status == AppointmentStatus.BOOKED)
                                 .values(status=AppointmentStatus.CONFIRMED, updated_at=now)).rowcount)

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
