"""The states and statuses stored in the clinic store, as enums shared by the gateway and the action server.

They are ``StrEnum``s: stored as their plain value (the columns are strings) and equal to it, so a row read back
compares equal to the member. Transitions live with their owners: conversation and handoff states in
``bot.conversations.handoffs``, message statuses in ``bot.conversations.rows``, reminder sends in
``bot.reminders.delivery``.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    WEB = "web"
    SMS = "sms"
    RASA = "rasa"  # the engine was reached directly (tests, tools): no patient channel


class ConversationState(StrEnum):
    BOT = "bot"  # the assistant answers
    WAITING_STAFF = "waiting_staff"  # handed off, nobody has claimed it yet: the assistant still answers
    STAFF = "staff"  # a staff member holds it: the assistant stays silent


class Author(StrEnum):
    PATIENT = "patient"
    BOT = "bot"
    STAFF = "staff"
    SYSTEM = "system"  # fixed texts: the emergency answer, notices, keywords, reminders


class MessageStatus(StrEnum):
    # inbound
    PENDING = "pending"  # stored, not answered yet (the engine was down, or is working on it)
    ANSWERED = "answered"
    FAILED = "failed"  # inbound: the engine took it but did not answer in time; outbound: the provider refused
    WITH_STAFF = "with_staff"  # arrived while staff held the conversation: for them only
    # outbound
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    READ = "read"
    OUTBOX = "outbox"  # no SMS provider configured: kept, not sent
    OPTED_OUT = "opted_out"  # not sent: the number opted out


class HandoffStatus(StrEnum):
    OPEN = "open"  # waiting for a person
    CLAIMED = "claimed"  # a staff member holds the conversation
    CLOSED = "closed"  # handed back to the assistant


class ReminderStatus(StrEnum):
    CLAIMED = "claimed"  # about to be sent: the claim is committed before the provider is called
    SENT = "sent"
    OUTBOX = "outbox"
    FAILED = "failed"
    SKIPPED_OPT_OUT = "skipped_opt_out"
    SKIPPED_CAP = "skipped_cap"
    SKIPPED_QUIET = "skipped_quiet"
    CANCELLED = "cancelled"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class WaitlistStatus(StrEnum):
    WAITING = "waiting"  # on the list: freed times in its window are offered to it
    BOOKED = "booked"  # took an offered time
    LEFT = "left"  # the patient (or staff) took it off the list
    ENDED = "ended"  # its window passed with nothing taken


class OfferStatus(StrEnum):
    """A freed time offered to one waiting patient. ``HELD`` and ``SENT`` are live: they count toward the owner's
    "offers at once" for that time and keep the patient's place in line."""

    HELD = "held"  # waiting for the patient's quiet hours to end before it is texted
    SENT = "sent"  # texted; the first YES before ``expires_at`` books it
    ACCEPTED = "accepted"  # this patient's YES booked it
    TAKEN = "taken"  # someone else took the time first (another YES, or a booking in chat)
    DECLINED = "declined"  # the patient answered NO
    EXPIRED = "expired"  # no answer in time: the next patient in line is offered it
    WITHDRAWN = "withdrawn"  # never texted: the time went, or the entry left the list, while it was held


LIVE_OFFERS = (OfferStatus.HELD, OfferStatus.SENT)
