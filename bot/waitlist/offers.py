"""Texting one waitlist offer, at most once: the offer is marked sent (and audited) in the store before the SMS
provider is called, as reminders are. The text names the clinic, the time, until when a YES takes it, and how to
opt out."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.conversations.rows import find_or_create_conversation, record_outbound
from bot.messaging.optouts import is_opted_out
from bot.messaging.outbound import SmsSender
from bot.reminders.policy import in_quiet_window, patient_tz
from bot.scheduling.slots import ACTIVE_STATUSES, LEAD_TIME, SlotOffer, is_free
from bot.scheduling.timefmt import clock, when_text
from bot.settings import Settings
from bot.store import Appointment, Patient, Provider, WaitlistOffer, session_scope
from bot.store import activity as activity_ledger
from bot.store import audit as audit_trail
from bot.store.states import Channel, MessageStatus, OfferStatus

log = logging.getLogger(__name__)


def as_slot_offer(offer: WaitlistOffer, provider_name: str = "") -> SlotOffer:
    """The offered time in the form the booking's compare-and-set takes."""
    return SlotOffer(offer.provider_id, provider_name, offer.start, offer.end, tuple(offer.slot_ids))


def offer_text(session: Session, settings: Settings, offer: WaitlistOffer) -> str:
    tz = patient_tz(offer.entry.patient, settings)
    provider = session.get(Provider, offer.provider_id)
    who = provider.name if provider else "one of our providers"
    kind = offer.entry.appointment_type.name.lower()
    until = clock(offer.expires_at.astimezone(tz)) if offer.expires_at else ""
    moving = session.get(Appointment, offer.entry.appointment_id) if offer.entry.appointment_id else None
    if moving is not None and moving.status in ACTIVE_STATUSES:
        return (f"{settings.clinic.name}: an earlier time opened for your {kind}: {when_text(offer.start, tz)} "
                f"with {who} (you have {when_text(moving.start, tz)}). Reply YES by {until} to move to it. "
                "Reply STOP to opt out.")
    return (f"{settings.clinic.name}: a {kind} opened with {who} on {when_text(offer.start, tz)}. "
            f"Reply YES by {until} to book it. Reply STOP to opt out.")


def send_offer(settings: Settings, sender: SmsSender, offer_id: int, now: datetime) -> str:
    """Text one held offer if it may go now; returns what happened (sent, outbox, failed, withdrawn, held)."""
    expiry = timedelta(minutes=settings.waitlist.offer_expiry_minutes)
    with session_scope(settings.database_url) as session:
        offer = session.get(WaitlistOffer, offer_id)
        if offer is None or offer.status != OfferStatus.HELD:
            return "not_held"
        patient = session.get(Patient, offer.patient_id)
        assert patient is not None
        if not in_quiet_window(now, settings, patient_tz(patient, settings)):
            return "held"
        gone = not is_free(session, as_slot_offer(offer)) or offer.start - LEAD_TIME <= now
        if gone or patient.sms_opted_out or is_opted_out(session, patient.phone):
            offer.status = OfferStatus.WITHDRAWN
            log.info("waitlist.offer_withdrawn offer_id=%s reason=%s", offer_id, "gone" if gone else "opted_out")
            return "withdrawn"
        offer.status, offer.sent_at = OfferStatus.SENT, now
        offer.expires_at = min(now + expiry, offer.start - LEAD_TIME)
        text = offer_text(session, settings, offer)
        phone = patient.phone
        conversation = find_or_create_conversation(session, Channel.SMS, phone)
        audit_trail.record(session, actor_type="system", actor_id="waitlist", patient_id=patient.id,
                           action="waitlist_offer_sent", at=now,
                           detail={"offer_id": offer.id, "entry_id": offer.entry_id, "conversation_id": conversation.id})
        activity_ledger.record(session, "waitlist", "offered", channel=Channel.SMS, conversation_id=conversation.id,
                               ref=offer.id, at=now)
        conversation_id = conversation.id
    # the offer is marked sent and committed: whatever happens next, it is not texted twice
    result = sender.send(phone, text)
    with session_scope(settings.database_url) as session:
        status = MessageStatus.FAILED if result.status == "opted_out" else MessageStatus(result.status)
        message = record_outbound(session, conversation_id, text, author="system", status=status,
                                  meta={"kind": "waitlist_offer", "offer_id": offer_id},
                                  provider_id=result.provider_id)
        row = session.get(WaitlistOffer, offer_id)
        assert row is not None
        row.message_id = message.id
        if result.status in ("failed", "opted_out"):  # nobody can answer it: the next patient gets the time
            row.status = OfferStatus.WITHDRAWN
    log.info("waitlist.offer_sent offer_id=%s status=%s message_id=%s", offer_id, result.status, message.id)
    return result.status
