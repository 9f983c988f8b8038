"""The staff queue: the conversations that need a person, as the console lists them.

Open and claimed handoffs (see ``bot.conversations.handoffs`` for the states), each with its reason and a
scrubbed preview of the patient's last message. An open handoff older than the console's
``escalate_after_minutes`` is marked escalated and listed first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.handoffs import REASONS
from bot.phi import scrub
from bot.store import Conversation, Handoff, Message
from bot.store import audit as audit_trail
from bot.store.models import utcnow
from bot.store.states import Author, HandoffStatus

log = logging.getLogger(__name__)
PREVIEW_CHARS = 120


@dataclass(frozen=True)
class QueueItem:
    conversation_id: str
    channel: str
    reason: str
    reason_label: str
    status: HandoffStatus  # open | claimed
    claimed_by: str
    waiting_since: datetime
    escalated: bool
    preview: str


def scrub_preview(text: str) -> str:
    """A short preview with PHI removed (bot.phi's preview mode: identifiers out, clinical content kept);
    hidden when the scrubber fails."""
    try:
        cleaned = scrub(text, mode="preview")
    except Exception:  # a scrubber failure must not show raw text
        log.exception("queue.preview_scrub_failed")
        return "(preview hidden)"
    return cleaned if len(cleaned) <= PREVIEW_CHARS else cleaned[: PREVIEW_CHARS - 1].rstrip() + "…"


def escalate_overdue(session: Session, *, after: timedelta, now: datetime | None = None) -> int:
    now = now or utcnow()
    overdue = list(session.scalars(select(Handoff).where(
        Handoff.status == HandoffStatus.OPEN, Handoff.escalated_at.is_(None), Handoff.created_at <= now - after)))
    for handoff in overdue:
        handoff.escalated_at = now
        log.warning("handoff.escalated handoff_id=%s conversation_id=%s reason=%s",
                    handoff.id, handoff.conversation_id, handoff.reason)
    return len(overdue)


def queue(session: Session, *, escalate_after: timedelta, now: datetime | None = None) -> list[QueueItem]:
    """Open and claimed handoffs: escalated first, then waiting ones, oldest first; claimed ones last."""
    escalate_overdue(session, after=escalate_after, now=now)
    rows = session.execute(select(Handoff, Conversation).join(Conversation, Conversation.id == Handoff.conversation_id)
                           .where(Handoff.status.in_((HandoffStatus.OPEN, HandoffStatus.CLAIMED)))).all()
    items = []
    for handoff, conversation in rows:
        last = session.scalars(select(Message.text).where(
            Message.conversation_id == conversation.id, Message.author == Author.PATIENT).order_by(Message.id.desc())
        ).first()
        items.append(QueueItem(conversation.id, conversation.channel, handoff.reason,
                               REASONS.get(handoff.reason, handoff.reason.replace("_", " ").capitalize()),
                               HandoffStatus(handoff.status), handoff.claimed_by, handoff.created_at,
                               handoff.escalated_at is not None, scrub_preview(last) if last else ""))
    items.sort(key=lambda i: (i.status == HandoffStatus.CLAIMED, not i.escalated, i.waiting_since))
    return items


def audit(session: Session, staff_username: str, action: str, conversation: Conversation,
          **detail: Any) -> None:
    audit_trail.record(session, actor_type="staff", actor_id=staff_username, patient_id=conversation.patient_id,
                       action=action, detail={"conversation_id": conversation.id, **detail})
