"""Handoffs to staff: the one state machine of a conversation's owner.

    bot --request--> waiting_staff --claim--> staff --hand_back--> bot
                           └──────────────hand_back──────────────┘
    bot --claim (staff opened it)--> staff

A handoff row is ``open`` (waiting for a person), ``claimed`` (a staff member holds the conversation: the
assistant is silent) or ``closed`` (handed back). These functions are the only ones that change
``Conversation.state`` or a handoff's status; they work inside the caller's transaction.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import Conversation, Handoff
from bot.store.models import utcnow
from bot.store.states import ConversationState, HandoffStatus

log = logging.getLogger(__name__)

REASONS = {
    "requested_human": "Asked for a person",
    "triage_flag": "Triage flag",
    "urgent_triage": "Urgent triage",
    "failed_verification": "Failed verification",
    "low_confidence": "Assistant unsure twice",
    "critical_lab": "Critical lab value",
    "critical_value": "Critical value asked about",
    "medical_question": "Medical question for the care team",
    "staff_opened": "Opened by staff",
    "engine_timeout": "Assistant did not answer in time",
}


_WITH_STAFF = "Our staff have your conversation and will reply here."
_PERSON_HINTS = (
    (re.compile(r'\s*(?:Or t|T)ype "person" to reach our staff at [^.!?]*[.!?]'), " " + _WITH_STAFF),
    (re.compile(r'\s*To talk with a person, type "person" or call ([^.!?]*)[.!?]'), r" To talk sooner, call \1."),
    (re.compile(r', or type "person" and our staff will help'), ""),
)


def without_person_hint(text: str) -> str:
    """A reply for a conversation already waiting for staff: no 'type "person"' (they have asked, or the
    assistant has asked for them), but that staff will answer here."""
    for pattern, replacement in _PERSON_HINTS:
        text = pattern.sub(replacement, text)
    return text.strip()


class HandoffError(Exception):
    """A console action that cannot be done now (for example the conversation is claimed by someone else)."""


def open_handoff(session: Session, conversation_id: str) -> Handoff | None:
    return session.scalars(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id,
               Handoff.status.in_((HandoffStatus.OPEN, HandoffStatus.CLAIMED)))
        .order_by(Handoff.id.desc())
    ).first()


def request_handoff(session: Session, conversation: Conversation, *, reason: str,
                    summary: dict[str, Any] | None = None, merge: dict[str, Any] | None = None) -> bool:
    """Ask for a person. Returns True for a new handoff; when one is already open, its summary gains ``merge``
    (default: ``summary``) so staff see what came since, and False is returned."""
    waiting = open_handoff(session, conversation.id)
    if waiting is not None:
        extra = summary if merge is None else merge
        if extra:
            waiting.summary = {**(waiting.summary or {}), **extra}
        return False
    session.add(Handoff(conversation_id=conversation.id, reason=reason, summary=summary or {}))
    if conversation.state != ConversationState.STAFF:
        conversation.state = ConversationState.WAITING_STAFF
    conversation.handoff_reason = reason
    conversation.last_activity_at = utcnow()
    log.info("handoff.requested conversation_id=%s reason=%s", conversation.id, reason)
    return True


def claim(session: Session, conversation_id: str, staff_username: str) -> Conversation:
    """A staff member takes the conversation (from the queue, or by opening it): the assistant goes quiet."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HandoffError("no such conversation")
    handoff = open_handoff(session, conversation_id)
    if handoff is None:
        handoff = Handoff(conversation_id=conversation_id, reason="staff_opened")
        session.add(handoff)
    elif handoff.status == HandoffStatus.CLAIMED and handoff.claimed_by != staff_username:
        raise HandoffError(f"already claimed by {handoff.claimed_by}")
    handoff.status, handoff.claimed_by = HandoffStatus.CLAIMED, staff_username
    conversation.state = ConversationState.STAFF
    conversation.handoff_reason = handoff.reason
    log.info("handoff.claimed conversation_id=%s", conversation_id)
    return conversation


def hand_back(session: Session, conversation_id: str, staff_username: str) -> Conversation:
    """Staff hand the conversation back to the assistant; the handoff is closed."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HandoffError("no such conversation")
    handoff = open_handoff(session, conversation_id)
    if handoff is not None:
        if handoff.status == HandoffStatus.CLAIMED and handoff.claimed_by != staff_username:
            raise HandoffError(f"claimed by {handoff.claimed_by}")
        handoff.status, handoff.closed_at = HandoffStatus.CLOSED, utcnow()
    conversation.state = ConversationState.BOT
    conversation.handoff_reason = ""
    # staff have dealt with it: an earlier emergency no longer answers every message
    conversation.flags = {**(conversation.flags or {}), "emergency_active": False}
    log.info("handoff.closed conversation_id=%s", conversation_id)
    return conversation


def holder(session: Session, conversation_id: str) -> str:
    """Who has claimed the conversation ('' if nobody)."""
    handoff = open_handoff(session, conversation_id)
    return handoff.claimed_by if handoff is not None and handoff.status == HandoffStatus.CLAIMED else ""
