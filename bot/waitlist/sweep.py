"""The waitlist's sweep, run by the gateway every ``waitlist.check_every_s`` seconds: expire unanswered offers,
drop times that went, end entries whose window passed, then offer each free time that fits a waiting patient.

A time is free however it became so (a cancellation, a move, a new opening added to the schedule, in any
process), so nothing has to call the waitlist when a slot frees: the next sweep finds it. Patients are offered
times in order of request, each the soonest free time that fits their visit type, provider and window; one live
offer per patient, and at most ``waitlist.offers_at_once`` live offers per time. An offer that comes due during
the patient's quiet hours is held (it keeps their place in line) and texted when the window opens; a patient over
the reminder caps is passed over for now, an opted-out one always.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.messaging.optouts import is_opted_out
from bot.messaging.outbound import SmsSender
from bot.reminders.policy import in_quiet_window, over_cap, patient_tz
from bot.scheduling.slots import ACTIVE_STATUSES, LEAD_TIME, SlotOffer, asked_windows, free_times, is_free
from bot.settings import Settings
from bot.store import Appointment, AvailabilitySlot, WaitlistEntry, WaitlistOffer, session_scope
from bot.store import activity as activity_ledger
from bot.store import audit as audit_trail
from bot.store.models import utcnow
from bot.store.states import LIVE_OFFERS, Channel, OfferStatus, WaitlistStatus
from bot.waitlist.entries import preference_of, waiting
from bot.waitlist.offers import as_slot_offer, send_offer

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    expired: int = 0
    taken: int = 0  # texted offers whose time went to someone else
    withdrawn: int = 0  # held offers whose time went
    ended: int = 0
    offered: int = 0  # new offers made (texted now, or held)
    held: int = 0  # of them, held for quiet hours
    capped: int = 0  # patients passed over for now: at the caps
    sent: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


def sweep(settings: Settings, sender: SmsSender, now: datetime | None = None) -> SweepReport:
    """One pass; the texts go out after the store is updated."""
    report = SweepReport()
    if not settings.waitlist.enabled:
        return report
    now = now or utcnow()
    with session_scope(settings.database_url) as session:
        _expire(session, now, report)
        _drop_gone(session, now, report)
        _end_past(session, settings, now, report)
        to_send = list(session.scalars(select(WaitlistOffer.id).where(WaitlistOffer.status == OfferStatus.HELD)
                                       .order_by(WaitlistOffer.id)))
        to_send += _match(session, settings, now, report)
    for offer_id in dict.fromkeys(to_send):
        if send_offer(settings, sender, offer_id, now) in ("sent", "outbox"):
            report.sent += 1
    if report:
        log.info("waitlist.swept " + " ".join(f"{k}={v}" for k, v in vars(report).items()))
    return report


def _expire(session: Session, now: datetime, report: SweepReport) -> None:
    for offer in session.scalars(select(WaitlistOffer).where(WaitlistOffer.status == OfferStatus.SENT,
                                                             WaitlistOffer.expires_at <= now)):
        expire(session, offer, now)
        report.expired += 1


def expire(session: Session, offer: WaitlistOffer, now: datetime) -> None:
    """No answer in time: the offer ends and the next sweep offers the time to the next patient in line."""
    offer.status, offer.answered_at = OfferStatus.EXPIRED, now
    audit_trail.record(session, actor_type="system", actor_id="waitlist", patient_id=offer.patient_id,
                       action="waitlist_offer_expired", detail={"offer_id": offer.id, "entry_id": offer.entry_id},
                       at=now)
    activity_ledger.record(session, "waitlist", "expired", channel=Channel.SMS, ref=offer.id, at=now)


def _drop_gone(session: Session, now: datetime, report: SweepReport) -> None:
    """Live offers whose time was booked otherwise (in chat, by another patient's YES)."""
    for offer in session.scalars(select(WaitlistOffer).where(WaitlistOffer.status.in_(LIVE_OFFERS))):
        if is_free(session, as_slot_offer(offer)) or _booked_by_own_yes(session, offer):
            continue
        # Conditional: a YES answered in another process between this read and this write keeps its answer.
        ended = OfferStatus.TAKEN if offer.status == OfferStatus.SENT else OfferStatus.WITHDRAWN
        result = session.execute(update(WaitlistOffer).where(WaitlistOffer.id == offer.id,
                                                             WaitlistOffer.status == offer.status)
                                 .values(status=ended))
        if not getattr(result, "rowcount", 0):
            continue
        if ended == OfferStatus.TAKEN:
            activity_ledger.record(session, "waitlist", "taken", channel=Channel.SMS, ref=offer.id, at=now)
            report.taken += 1
        else:
            report.withdrawn += 1


def _booked_by_own_yes(session: Session, offer: WaitlistOffer) -> bool:
    """The time went to this offer's own patient: their YES is being booked (the answer marks the offer
    accepted itself), so the sweep does not call it taken by someone else."""
    holders = session.scalars(select(Appointment.patient_id).join(
        AvailabilitySlot, AvailabilitySlot.appointment_id == Appointment.id).where(
        AvailabilitySlot.id.in_(offer.slot_ids))).all()
    return bool(holders) and all(p == offer.patient_id for p in holders)


def _end_past(session: Session, settings: Settings, now: datetime, report: SweepReport) -> None:
    today = now.astimezone(settings.clinic.tz).date()
    for entry in session.scalars(select(WaitlistEntry).where(WaitlistEntry.status == WaitlistStatus.WAITING,
                                                             WaitlistEntry.date_to < today)):
        entry.status = WaitlistStatus.ENDED
        session.execute(update(WaitlistOffer).where(WaitlistOffer.entry_id == entry.id,
                                                    WaitlistOffer.status == OfferStatus.HELD)
                        .values(status=OfferStatus.WITHDRAWN))
        report.ended += 1


def _match(session: Session, settings: Settings, now: datetime, report: SweepReport) -> list[int]:
    """New offers, in order of request; returns the ids of those to text now."""
    entries = waiting(session)
    if not entries:
        return []
    at_once = settings.waitlist.offers_at_once
    live = Counter[tuple[int, datetime]]()
    busy: set[int] = set()
    offered: set[tuple[int, int, datetime]] = set()
    for offer in session.scalars(select(WaitlistOffer).join(WaitlistEntry, WaitlistEntry.id == WaitlistOffer.entry_id)
                                 .where(WaitlistEntry.status == WaitlistStatus.WAITING)):
        offered.add((offer.entry_id, offer.provider_id, offer.start))
        if offer.status in LIVE_OFFERS:
            live[(offer.provider_id, offer.start)] += 1
            busy.add(offer.entry_id)
    free = _FreeTimes(session, now, max(e.date_to for e in entries) + timedelta(days=1), settings)
    to_send: list[int] = []
    for entry in entries:
        if entry.id in busy:
            continue
        patient = entry.patient
        if patient.sms_opted_out or is_opted_out(session, patient.phone):
            continue
        chosen = next((t for t in _fitting(session, settings, entry, free, now)
                       if live[(t.provider_id, t.start)] < at_once and (entry.id, t.provider_id, t.start) not in offered),
                      None)
        if chosen is None:
            continue
        tz = patient_tz(patient, settings)
        quiet = not in_quiet_window(now, settings, tz)
        if not quiet and over_cap(_sent_times(session, patient.id), now, settings, tz):
            report.capped += 1
            continue
        offer = WaitlistOffer(entry_id=entry.id, patient_id=patient.id, provider_id=chosen.provider_id,
                              start=chosen.start, end=chosen.end, slot_ids=list(chosen.slot_ids),
                              status=OfferStatus.HELD, created_at=now)
        session.add(offer)
        session.flush()
        live[(chosen.provider_id, chosen.start)] += 1
        report.offered += 1
        if quiet:
            report.held += 1
            log.info("waitlist.offer_held offer_id=%s reason=quiet_hours", offer.id)
        else:
            to_send.append(offer.id)
    return to_send


class _FreeTimes:
    """Free times by (visit length, provider), read once per sweep."""

    def __init__(self, session: Session, now: datetime, last_day: object, settings: Settings) -> None:
        self._session = session
        self._lo = now + LEAD_TIME
        self._hi = datetime.combine(last_day, time(0, 0), tzinfo=settings.clinic.tz)  # type: ignore[arg-type]
        self._cache: dict[tuple[int, int | None], list[SlotOffer]] = {}

    def get(self, duration: int, provider_id: int | None) -> list[SlotOffer]:
        key = (duration, provider_id)
        if key not in self._cache:
            found = free_times(self._session, duration_minutes=duration, lo=self._lo, hi=self._hi,
                               provider_id=provider_id)
            self._cache[key] = sorted(found, key=lambda t: (t.start, t.provider_id))
        return self._cache[key]


def _fitting(session: Session, settings: Settings, entry: WaitlistEntry, free: _FreeTimes,
             now: datetime) -> list[SlotOffer]:
    """Free times in the entry's window for its visit type and provider, soonest first; for an entry waiting for an
    earlier time than a visit, only times before that visit."""
    today = now.astimezone(settings.clinic.tz).date()
    windows = asked_windows(preference_of(entry), settings.clinic, today)
    before: datetime | None = None
    if entry.appointment_id is not None:
        visit = session.get(Appointment, entry.appointment_id)
        if visit is not None and visit.status in ACTIVE_STATUSES:
            before = visit.start
    times = free.get(entry.appointment_type.duration_minutes, entry.provider_id)
    return [t for t in times if (before is None or t.start < before)
            and any(lo <= t.start < hi for lo, hi in windows)]


def _sent_times(session: Session, patient_id: int) -> list[datetime]:
    return [s for s in session.scalars(select(WaitlistOffer.sent_at).where(
        WaitlistOffer.patient_id == patient_id, WaitlistOffer.sent_at.is_not(None))) if s is not None]


def first_open(session: Session, settings: Settings, entry: WaitlistEntry, now: datetime) -> SlotOffer | None:
    """The soonest time free right now that fits the entry (the next sweep offers it by SMS)."""
    free = _FreeTimes(session, now, entry.date_to + timedelta(days=1), settings)
    return next(iter(_fitting(session, settings, entry, free, now)), None)
