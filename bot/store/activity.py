"""The activity ledger: what the assistant did, one row per act, for the owner's dashboard (``bot.reports``).

A row is a kind, a label, a channel and the opaque conversation id: an intent the engine read ("intent",
"lab_results"), an appointment booked, moved, cancelled or confirmed through the assistant ("appointment",
"booked"), an intake's triage level ("triage", "urgent"), a reply to a reminder ("reminder_reply", "confirm"), a
waitlist step ("waitlist", "accepted"). Never text, never a patient id: counts and rates are all it can give.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.store.models import ActivityEvent, utcnow

KINDS = frozenset({"intent", "appointment", "triage", "reminder_reply", "waitlist"})
APPOINTMENT_LABELS = ("booked", "moved", "cancelled", "confirmed")
WAITLIST_LABELS = ("joined", "left", "offered", "accepted", "declined", "expired", "taken")


def record(session: Session, kind: str, label: str, *, channel: str = "", conversation_id: str | None = None,
           ref: int | None = None, at: datetime | None = None) -> None:
    """Add one row in the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown activity kind {kind!r}")
    session.add(ActivityEvent(kind=kind, label=label[:64], channel=channel, conversation_id=conversation_id,
                              ref=ref, at=at or utcnow()))
