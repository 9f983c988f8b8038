"""The staff queue: conversations that need a person, claimed, answered and handed back by staff.

A handoff is ``open`` (waiting), ``claimed`` (a staff member holds the conversation: the assistant is
silent) or ``closed`` (handed back). An open handoff older than the console's ``escalate_after_minutes``
is marked escalated and listed first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit as audit_trail
from bot.handoffs import open_handoff
from bot.store import Conversation, Handoff, Message
from bot.store.models import utcnow

log = logging.getLogger(__name__)
PREVIEW_CHARS = 120
REASONS = {
    "requested_human": "Asked for a person",
    "triage_flag": "Triage flag",
    "urgent_triage": "Urgent triage",
    "failed_verification": "Failed verification",
    "low_confidence": "Assistant unsure twice",
    "critical_lab": "Critical lab value",
    "staff_opened": "Opened by staff",
}


class QueueError(Exception):
    """A console action that cannot be done now (for example the conversation is claimed by someone else)."""


@dataclass(frozen=True)
class QueueItem:
    conversation_id: str
    channel: str
    reason: str
    reason_label: str
    status: str  # open | claimed
    claimed_by: str
    waiting_since: datetime
    escalated: bool
    preview: str


def scrub_preview(text: str) -> str:
    """A short preview with PHI removed (bot.phi's preview mode: identifiers out, clinical content kept);
    hidden when no scrubber is available."""
    try:
        from bot.phi import scrub  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return "(preview hidden)"
    try:
        cleaned = scrub(text, mode="preview")
    except Exception:  # a scrubber failure must not show raw text
        log.exception("queue.preview_scrub_failed")
        return "(preview hidden)"
    cleaned = str(getattr(cleaned, "text", cleaned))
    return cleaned if len(cleaned) <= PREVIEW_CHARS else cleaned[: PREVIEW_CHARS - 1].rstrip() + "…"


def escalate_overdue(session: Session, *, after: timedelta, now: datetime | None = None) -> int:
    now = now or utcnow()
    overdue = list(session.scalars(select(Handoff).where(
        Handoff.status == "open", Handoff.escalated_at.is_(None), Handoff.created_at <= now - after)))
    for handoff in overdue:
        handoff.escalated_at = now
        log.warning("handoff.escalated handoff_id=%s conversation_id=%s reason=%s",
                    handoff.id, handoff.conversation_id, handoff.reason)
    return len(overdue)


def queue(session: Session, *, escalate_after: timedelta, now: datetime | None = None) -> list[QueueItem]:
    """Open and claimed handoffs: escalated first, then waiting ones, oldest first; claimed ones last."""
    escalate_overdue(session, after=escalate_after, now=now)
    rows = session.execute(select(Handoff, Conversation).join(Conversation, Conversation.id == Handoff.conversation_id)
                           .where(Handoff.status.in_(("open", "claimed")))).all()
    items = []
    for handoff, conversation in rows:
        last = session.scalars(select(Message.text).where(
            Message.conversation_id == conversation.id, Message.author == "patient").order_by(Message.id.desc())
        ).first()
        items.append(QueueItem(conversation.id, conversation.channel, handoff.reason,
                               REASONS.get(handoff.reason, handoff.reason.replace("_", " ").capitalize()),
                               handoff.status, handoff.claimed_by, handoff.created_at,
                               handoff.escalated_at is not None, scrub_preview(last) if last else ""))
    items.sort(key=lambda i: (i.status == "claimed", not i.escalated, i.waiting_since))
    return items


def audit(session: Session, staff_username: str, action: str, conversation: Conversation,
          **detail: Any) -> None:
    audit_trail.record(session, actor_type="staff", actor_id=staff_username, patient_id=conversation.patient_id,
                       action=action, detail={"conversation_id": conversation.id, **detail})


def claim(session: Session, conversation_id: str, staff_username: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise QueueError("no such conversation")
    handoff = open_handoff(session, conversation_id)
    if handoff is None:
        handoff = Handoff(conversation_id=conversation_id, reason="staff_opened")
        session.add(handoff)
    elif handoff.status == "claimed" and handoff.claimed_by != staff_username:
        raise QueueError(f"already claimed by {handoff.claimed_by}")
    handoff.status, handoff.claimed_by = "claimed", staff_username
    conversation.state = "staff"
    conversation.handoff_reason = handoff.reason
    audit(session, staff_username, "conversation_claimed", conversation)
    log.info("handoff.claimed conversation_id=%s", conversation_id)
    return conversation


def hand_back(session: Session, conversation_id: str, staff_username: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise QueueError("no such conversation")
    handoff = open_handoff(session, conversation_id)
    if handoff is not None:
        if handoff.status == "claimed" and handoff.claimed_by != staff_username:
            raise QueueError(f"claimed by {handoff.claimed_by}")
        handoff.status, handoff.closed_at = "closed", utcnow()
    conversation.state = "bot"
    conversation.handoff_reason = ""
    audit(session, staff_username, "conversation_handed_back", conversation)
    log.info("handoff.closed conversation_id=%s", conversation_id)
    return conversation


def holder(session: Session, conversation_id: str) -> str:
    """Who has claimed the conversation ('' if nobody)."""
    handoff = open_handoff(session, conversation_id)
    return handoff.claimed_by if handoff is not None and handoff.status == "claimed" else ""
