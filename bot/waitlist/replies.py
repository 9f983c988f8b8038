"""A patient's YES or NO to a waitlist offer, texted back to the clinic's number.

The first YES books the time through the same compare-and-set on the availability blocks as any booking
(``bot.scheduling.slots``): when two patients answer at once, exactly one gets it and the other is told it was
taken. An offer to move a visit sooner moves that visit (its old time is freed for the next patient on the list).
A YES or NO within a day of an offer is an answer to it, never an SMS keyword (YES would otherwise opt the number
back in); a number that opted out is not answered here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.conversations.rows import find_or_create_conversation
from bot.messaging.optouts import is_opted_out
from bot.reminders.policy import patient_tz
from bot.reminders.scheduler import sync_appointment
from bot.scheduling.slots import ACTIVE_STATUSES, SlotTaken, book, describe_appointment, move
from bot.scheduling.timefmt import clock
from bot.scheduling.words import AGREE_WORDS, NO_WORDS
from bot.settings import Settings
from bot.store import Appointment, Patient, WaitlistEntry, WaitlistOffer, session_scope
from bot.store import activity as activity_ledger
from bot.store import audit as audit_trail
from bot.store.models import utcnow
from bot.store.states import Channel, OfferStatus, WaitlistStatus
from bot.waitlist.offers import as_slot_offer
from bot.waitlist.sweep import expire

log = logging.getLogger(__name__)

ANSWER_WINDOW = timedelta(hours=24)
YES = frozenset({*AGREE_WORDS, "yes please", "book it", "book", "i'll take it", "ill take it", "yes book it",
                 "yes i'll take it", "move it", "yes move it"})
NO = frozenset({*NO_WORDS, "no thanks", "no thank you", "pass", "not that one"})


@dataclass(frozen=True)
class OfferAnswer:
    outcome: str  # accepted | taken | expired | declined | already
    reply: str
    appointment_id: int | None = None


def answer(settings: Settings, phone: str, text: str, now: datetime | None = None) -> OfferAnswer | None:
    """What this text does to the number's latest waitlist offer; None when it is not an answer to one."""
    word = re.sub(r"[^a-z' ]", "", text.lower()).strip()
    word = " ".join(word.split())
    if word not in YES | NO:
        return None
    now = now or utcnow()
    with session_scope(settings.database_url) as session:
        if is_opted_out(session, phone):
            return None
        offer = session.scalars(
            select(WaitlistOffer).join(Patient, Patient.id == WaitlistOffer.patient_id)
            .where(Patient.phone == phone, WaitlistOffer.sent_at >= now - ANSWER_WINDOW)
            .order_by(WaitlistOffer.sent_at.desc(), WaitlistOffer.id.desc())).first()
        if offer is None:
            return None
        offer_id, status, yes = offer.id, offer.status, word in YES
        if status == OfferStatus.SENT and offer.expires_at is not None and offer.expires_at <= now:
            expire(session, offer, now)
            status = OfferStatus.EXPIRED
        if status == OfferStatus.SENT and not yes:
            return _decline(session, settings, offer, now)
        if status != OfferStatus.SENT:
            return _already(session, settings, offer, status, yes, now)
    return _accept(settings, offer_id, phone, now)


def _decline(session: Session, settings: Settings, offer: WaitlistOffer, now: datetime) -> OfferAnswer:
    offer.status, offer.answered_at = OfferStatus.DECLINED, now
    audit_trail.record(session, actor_type="system", actor_id="waitlist", patient_id=offer.patient_id,
                       action="waitlist_offer_declined", detail={"offer_id": offer.id}, at=now)
    activity_ledger.record(session, "waitlist", "declined", channel=Channel.SMS, ref=offer.id, at=now)
    return OfferAnswer("declined", f"{settings.clinic.name}: OK, we'll keep you on the waitlist and text you if "
                                   "another time opens.")


def _already(session: Session, settings: Settings, offer: WaitlistOffer, status: str, yes: bool,
             now: datetime) -> OfferAnswer | None:
    """An answer to an offer that is no longer open."""
    name = settings.clinic.name
    if not yes:
        return None  # a "no" to a closed offer is left to the assistant
    if status == OfferStatus.ACCEPTED:
        booked = _booked(session, offer)
        text = describe_appointment(booked, settings.clinic.tz) if booked else "that time"
        return OfferAnswer("already", f"{name}: you're already booked: {text}.", booked.id if booked else None)
    if status == OfferStatus.EXPIRED:
        until = clock(offer.expires_at.astimezone(patient_tz(offer.entry.patient, settings))) if offer.expires_at else ""
        return OfferAnswer("expired", f"{name}: sorry, that offer ended at {until} and went to the next person on "
                                      "the list. You're still on the waitlist; we'll text you if another time opens.")
    return OfferAnswer("taken", _taken_text(settings))


def _taken_text(settings: Settings) -> str:
    return (f"{settings.clinic.name}: sorry, that time was just taken by someone else. You're still on the "
            "waitlist; we'll text you if another time opens.")


def _booked(session: Session, offer: WaitlistOffer) -> Appointment | None:
    entry = offer.entry
    if entry.appointment_id is not None:
        return session.get(Appointment, entry.appointment_id)
    return session.scalars(select(Appointment).where(Appointment.patient_id == offer.patient_id,
                                                     Appointment.start == offer.start,
                                                     Appointment.provider_id == offer.provider_id)).first()


def _accept(settings: Settings, offer_id: int, phone: str, now: datetime) -> OfferAnswer:
    """Book (or move) through the compare-and-set; the loser of a race is told the time was taken."""
    url = settings.database_url
    with session_scope(url) as session:
        offer = session.get(WaitlistOffer, offer_id)
        assert offer is not None
        entry = offer.entry
        slot = as_slot_offer(offer)
        moving = session.get(Appointment, entry.appointment_id) if entry.appointment_id else None
        moving_id = moving.id if moving is not None and moving.status in ACTIVE_STATUSES else None
        patient_id, type_id = offer.patient_id, entry.appointment_type_id
        # the booking audits itself, naming the patient's SMS conversation that said YES
        by = audit_trail.Actor("conversation", str(find_or_create_conversation(session, Channel.SMS, phone).id))
    try:
        if moving_id is not None:
            move(url, moving_id, slot, by=by)
            appointment_id = moving_id
        else:
            appointment_id = book(url, patient_id=patient_id, appointment_type_id=type_id, offer=slot,
                                  location=settings.clinic.address, by=by)
    except SlotTaken:
        with session_scope(url) as session:
            result = session.execute(update(WaitlistOffer).where(WaitlistOffer.id == offer_id,
                                                                 WaitlistOffer.status == OfferStatus.SENT)
                                     .values(status=OfferStatus.TAKEN, answered_at=now))
            lost = int(getattr(result, "rowcount", 0) or 0)
            if lost:
                audit_trail.record(session, actor_type="system", actor_id="waitlist", patient_id=patient_id,
                                   action="waitlist_offer_taken", detail={"offer_id": offer_id}, at=now)
                activity_ledger.record(session, "waitlist", "taken", channel=Channel.SMS, ref=offer_id, at=now)
        log.info("waitlist.offer_lost offer_id=%s", offer_id)
        return OfferAnswer("taken", _taken_text(settings))
    with session_scope(url) as session:
        offer = session.get(WaitlistOffer, offer_id)
        assert offer is not None
        offer.status, offer.answered_at = OfferStatus.ACCEPTED, now
        accepted = session.get(WaitlistEntry, offer.entry_id)
        assert accepted is not None
        accepted.status = WaitlistStatus.BOOKED
        session.execute(update(WaitlistOffer).where(  # the others offered this time find it taken
            WaitlistOffer.id != offer_id, WaitlistOffer.provider_id == offer.provider_id,
            WaitlistOffer.start == offer.start, WaitlistOffer.status.in_((OfferStatus.SENT, OfferStatus.HELD)))
            .values(status=OfferStatus.TAKEN))
        conversation = find_or_create_conversation(session, Channel.SMS, phone)
        kind = "moved" if moving_id is not None else "booked"
        audit_trail.record(session, actor_type="conversation", actor_id=conversation.id, patient_id=patient_id,
                           action="waitlist_offer_accepted",
                           detail={"offer_id": offer_id, "entry_id": accepted.id, "appointment_id": appointment_id},
                           at=now)
        activity_ledger.record(session, "appointment", kind, channel=Channel.SMS, conversation_id=conversation.id,
                               ref=appointment_id, at=now)
        activity_ledger.record(session, "waitlist", "accepted", channel=Channel.SMS, conversation_id=conversation.id,
                               ref=offer_id, at=now)
        booked = session.get(Appointment, appointment_id)
        assert booked is not None
        text = describe_appointment(booked, settings.clinic.tz)
    try:
        sync_appointment(settings, appointment_id)
    except Exception:  # the reminders catch up at the next reconcile; never fail the booking
        log.exception("reminders.sync_failed appointment_id=%s", appointment_id)
    log.info("waitlist.offer_accepted offer_id=%s appointment_id=%s moved=%s", offer_id, appointment_id,
             moving_id is not None)
    done = "done, your visit is now" if moving_id is not None else "you're booked:"
    return OfferAnswer("accepted", f"{settings.clinic.name}: {done} {text}. We'll send a reminder before your visit.",
                       appointment_id)
