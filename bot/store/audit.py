"""The audit trail: who saw or disclosed which patient's PHI, when and why. Append-only.

The store refuses UPDATE and DELETE on ``audit_events`` (a trigger on SQLite, a rule on PostgreSQL),
so nothing in the code base can rewrite history, and retention purges never touch it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import AuditEvent

log = logging.getLogger("clinicbot.audit")
ActorType = Literal["staff", "conversation", "system"]

# Actions in use, so the trail reads the same everywhere.
ACTIONS = {
    "verification_passed", "verification_failed", "verification_locked", "results_shown", "appointment_viewed",
    "appointment_booked", "appointment_changed", "conversation_opened", "conversation_claimed",
    "conversation_handed_back", "staff_replied", "settings_changed", "reminder_sent",
    "critical_result_escalated", "appointment_moved", "appointment_cancelled", "appointment_confirmed",
    "waitlist_joined", "waitlist_left", "waitlist_offer_sent", "waitlist_offer_accepted", "waitlist_offer_declined",
    "waitlist_offer_expired", "waitlist_offer_taken",
}


def record(session: Session, *, actor_type: ActorType, actor_id: str, action: str, patient_id: int | None,
           detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(actor_type=actor_type, actor_id=actor_id, patient_id=patient_id, action=action,
                       detail=detail or {}, **({"at": at} if at is not None else {}))
    session.add(event)
    session.flush()
    log.info("audit.recorded action=%s actor_type=%s audit_id=%s", action, actor_type, event.id)
    return event


def trail(session: Session, patient_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id)
                                .order_by(AuditEvent.at, AuditEvent.id)))
