"""Conversations that need a person: open, find and close handoffs in the clinic store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import Conversation, Handoff
from bot.store.models import utcnow


def open_handoff(session: Session, conversation_id: str) -> Handoff | None:
    return session.scalars(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(("open", "claimed")))
        .order_by(Handoff.id.desc())
    ).first()


def request_handoff(
    session: Session, conversation: Conversation, *, reason: str, summary: dict[str, Any] | None = None
) -> bool:
    """Mark the conversation as waiting for staff. Returns False when it already was."""
    if open_handoff(session, conversation.id) is not None:
        return False
    session.add(Handoff(conversation_id=conversation.id, reason=reason, summary=summary or {}))
    conversation.state = "waiting_staff"
    conversation.handoff_reason = reason
    conversation.last_activity_at = utcnow()
    return True
