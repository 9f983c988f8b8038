"""Waitlist entries: a verified patient joins for a visit type, a provider (or any) and a window of days and
hours; leaves; and the list as the ``clinicbot waitlist`` command shows it.

A patient waits once per visit type: asking again replaces the earlier window. When the patient already has an
upcoming visit of that type, the entry is for an earlier time than it ("anything sooner?"): only earlier times are
offered, and taking one moves that visit (the old time is freed for the next patient on the list).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.scheduling.slots import SEARCH_DAYS, upcoming
from bot.scheduling.timeparse import Preference
from bot.scheduling.words import CLOSE, OPEN, Bound
from bot.settings import Settings
from bot.store import Appointment, WaitlistEntry, WaitlistOffer
from bot.store import activity as activity_ledger
from bot.store import audit as audit_trail
from bot.store.states import LIVE_OFFERS, OfferStatus, WaitlistStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Joined:
    entry_id: int
    date_from: date
    date_to: date
    sooner_than: Appointment | None  # the visit an accepted offer moves
    replaced: bool  # the patient was already waiting for this visit type


def _bound_text(value: Bound | None) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value if value in (OPEN, CLOSE) else ""


def _bound(value: str) -> Bound | None:
    if value in (OPEN, CLOSE):
        return value
    if not value:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def preference_of(entry: WaitlistEntry) -> Preference:
    """The entry's window as a scheduling preference (days and hours, in the clinic's zone)."""
    return Preference(date_from=entry.date_from, date_to=entry.date_to, time_from=_bound(entry.time_from),
                      time_to=_bound(entry.time_to))


def window(preference: Preference, today: date, settings: Settings) -> tuple[date, date]:
    """The days a patient will wait for: what they asked (from today on), else the next ``SEARCH_DAYS`` days; never
    more than ``waitlist.max_window_days`` ahead."""
    first = max(preference.date_from or today, today)
    last = preference.date_to or first + timedelta(days=SEARCH_DAYS)
    last = min(max(last, first), today + timedelta(days=settings.waitlist.max_window_days))
    return min(first, last), last


def join(session: Session, settings: Settings, *, patient_id: int, appointment_type_id: int, provider_id: int | None,
         preference: Preference, now: datetime, channel: str, conversation_id: str | None) -> Joined:
    """Put the patient on the list (or replace their earlier window for this visit type); audited."""
    today = now.astimezone(settings.clinic.tz).date()
    first, last = window(preference, today, settings)
    tz = settings.clinic.tz
    sooner = next((a for a in upcoming(session, patient_id, now) if a.appointment_type_id == appointment_type_id
                   and (provider_id is None or a.provider_id == provider_id)
                   and a.start.astimezone(tz).date() >= first), None)
    if sooner is not None:  # waiting for an earlier time than this visit: nothing after it is offered
        last = min(last, sooner.start.astimezone(tz).date())
    earlier = list(session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.patient_id == patient_id, WaitlistEntry.appointment_type_id == appointment_type_id,
        WaitlistEntry.status == WaitlistStatus.WAITING)))
    for old in earlier:
        _close(session, old, WaitlistStatus.LEFT)
    entry = WaitlistEntry(patient_id=patient_id, appointment_type_id=appointment_type_id, provider_id=provider_id,
                          appointment_id=sooner.id if sooner else None, date_from=first, date_to=last,
                          time_from=_bound_text(preference.time_from), time_to=_bound_text(preference.time_to),
                          channel=channel, conversation_id=conversation_id, status=WaitlistStatus.WAITING,
                          created_at=now, updated_at=now)
    session.add(entry)
    session.flush()
    audit_trail.record(session, actor_type="conversation" if conversation_id else "system",
                       actor_id=conversation_id or "waitlist", patient_id=patient_id, action="waitlist_joined",
                       detail={"entry_id": entry.id, "sooner_than": entry.appointment_id}, at=now)
    activity_ledger.record(session, "waitlist", "joined", channel=channel, conversation_id=conversation_id,
                           ref=entry.id, at=now)
    log.info("waitlist.joined entry_id=%s replaced=%d sooner=%s", entry.id, len(earlier), sooner is not None)
    return Joined(entry.id, first, last, sooner, bool(earlier))


def leave(session: Session, patient_id: int, now: datetime, conversation_id: str | None = None,
          channel: str = "") -> int:
    """Take the patient off the list (every visit type); returns how many entries were waiting."""
    entries = list(session.scalars(select(WaitlistEntry).where(WaitlistEntry.patient_id == patient_id,
                                                               WaitlistEntry.status == WaitlistStatus.WAITING)))
    for entry in entries:
        _close(session, entry, WaitlistStatus.LEFT)
        audit_trail.record(session, actor_type="conversation" if conversation_id else "system",
                           actor_id=conversation_id or "waitlist", patient_id=patient_id, action="waitlist_left",
                           detail={"entry_id": entry.id}, at=now)
        activity_ledger.record(session, "waitlist", "left", channel=channel, conversation_id=conversation_id,
                               ref=entry.id, at=now)
    return len(entries)


def _close(session: Session, entry: WaitlistEntry, status: WaitlistStatus) -> None:
    """The entry leaves the list; its held offers are withdrawn (a texted one stays answerable until it expires)."""
    entry.status = status
    session.execute(update(WaitlistOffer).where(WaitlistOffer.entry_id == entry.id,
                                                WaitlistOffer.status == OfferStatus.HELD)
                    .values(status=OfferStatus.WITHDRAWN))


def waiting(session: Session) -> list[WaitlistEntry]:
    """Entries on the list, in order of request (the order offers go out in)."""
    return list(session.scalars(select(WaitlistEntry).where(WaitlistEntry.status == WaitlistStatus.WAITING)
                                .order_by(WaitlistEntry.created_at, WaitlistEntry.id)))


def listing(session: Session, include_closed: bool = False) -> list[tuple[WaitlistEntry, list[WaitlistOffer]]]:
    """Entries (waiting ones, or all) with their offers, in order of request."""
    query = select(WaitlistEntry).order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    if not include_closed:
        query = query.where(WaitlistEntry.status == WaitlistStatus.WAITING)
    entries = list(session.scalars(query))
    offers: dict[int, list[WaitlistOffer]] = {e.id: [] for e in entries}
    if entries:
        for offer in session.scalars(select(WaitlistOffer).where(WaitlistOffer.entry_id.in_(list(offers)))
                                     .order_by(WaitlistOffer.id)):
            offers[offer.entry_id].append(offer)
    return [(e, offers[e.id]) for e in entries]


def live_offer(session: Session, entry_id: int) -> WaitlistOffer | None:
    return session.scalars(select(WaitlistOffer).where(WaitlistOffer.entry_id == entry_id,
                                                       WaitlistOffer.status.in_(LIVE_OFFERS))).first()
