"""The audit trail: who saw, disclosed or changed what, when, and from which conversation or staff account.
Append-only.

The store refuses UPDATE and DELETE on ``audit_events`` (a trigger on SQLite, a rule on PostgreSQL),
so nothing in the code base can rewrite history, and retention purges never touch it.

Events name their actor: a conversation (the opaque id the engine sees: the patient acting through the
assistant), a staff account (by username), or the system (reminders, the waitlist). ``detail`` never holds
message text or a patient's identifiers, only ids, counts and settings keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, insert, or_, select
from sqlalchemy.orm import Session

from bot.store.models import AuditEvent, utcnow

log = logging.getLogger("clinicbot.audit")
ActorType = Literal["staff", "conversation", "system"]

# Actions in use, so the trail reads the same everywhere.
ACTIONS = {
    # patients' PHI seen or disclosed
    "verification_passed", "verification_failed", "verification_locked", "verification_code_sent",
    "results_shown", "appointment_viewed", "critical_result_escalated", "reminder_sent",
    # changes to appointments (``appointment_changed`` is kept for events written before the split)
    "appointment_booked", "appointment_rescheduled", "appointment_cancelled", "appointment_confirmed",
    "appointment_changed",
    # the console
    "conversation_opened", "conversation_claimed", "conversation_handed_back", "staff_replied",
    "settings_changed", "staff_login", "staff_login_failed", "staff_locked", "staff_unlocked", "staff_logout",
    # the owner's dashboard and the waitlist
    "waitlist_joined", "waitlist_left", "waitlist_offer_sent", "waitlist_offer_accepted", "waitlist_offer_declined", "waitlist_offer_expired", "waitlist_offer_taken",
}


@dataclass(frozen=True)
class Actor:
    """Who made a change: ``Actor("conversation", conversation_id)``, ``Actor("staff", username)``."""

    type: ActorType
    id: str


SYSTEM = Actor("system", "clinicbot")


def _values(actor_type: str, actor_id: str, action: str, patient_id: int | None, detail: dict[str, Any] | None,
            at: datetime | None) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return {"actor_type": actor_type, "actor_id": actor_id[:100], "patient_id": patient_id, "action": action,
            "detail": detail or {}, "at": at or utcnow()}


def record(session: Session, *, actor_type: ActorType, actor_id: str, action: str, patient_id: int | None,
           detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEvent:
    event = AuditEvent(**_values(actor_type, actor_id, action, patient_id, detail, at))
    session.add(event)
    session.flush()
    log.info("audit.recorded action=%s actor_type=%s audit_id=%s", action, actor_type, event.id)
    return event


def record_in(conn: Connection, actor: Actor, action: str, *, patient_id: int | None,
              detail: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    """The same event written on a Core connection, inside the transaction that makes the change."""
    conn.execute(insert(AuditEvent).values(**_values(actor.type, actor.id, action, patient_id, detail, at)))
    log.info("audit.recorded action=%s actor_type=%s", action, actor.type)


def trail(session: Session, patient_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id)
                                .order_by(AuditEvent.at, AuditEvent.id)))


def events(session: Session, *, patient_id: int | None = None, staff: str | None = None,
           conversation_id: str | None = None, actions: list[str] | None = None, since: datetime | None = None,
           limit: int = 200) -> list[AuditEvent]:
    """The newest ``limit`` events matching every filter given, oldest first. ``conversation_id`` also finds
    events whose detail names the conversation (a staff member opening it)."""
    query = select(AuditEvent)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if staff is not None:
        query = query.where(AuditEvent.actor_type == "staff", AuditEvent.actor_id == staff)
    if conversation_id is not None:
        query = query.where(or_(AuditEvent.actor_id == conversation_id,
                                AuditEvent.detail["conversation_id"].as_string() == conversation_id))
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    newest = list(session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
    return newest[::-1]
