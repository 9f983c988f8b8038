"""The staff queue: the conversations that need a person, as the console lists them.

Open and claimed handoffs (see ``bot.conversations.handoffs`` for the states), each with its reason and a
scrubbed preview of the patient's last message. Waiting ones come first: red flags (the emergency answer went out;
call the patient), then urgent ones (urgent triage, a critical lab value), then those left unclaimed past the
console's ``escalate_after_minutes`` (marked escalated), then the rest, oldest first; claimed ones last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
    preview: str | None  # None: not scrubbed yet (the console fills it in)
    priority: str = ""  # red_flag | urgent | "" (see URGENT_REASONS)


URGENT_REASONS = {"urgent_triage", "critical_lab"}
Previewer = Callable[[int, str], "str | None"]  # (message id, text) -> scrubbed preview, or None for later


def priority_of(reason: str, summary: dict[str, object] | None) -> str:
    """A handoff's urgency for the queue: its reason, and red flags in what it carries for staff."""
    if reason == "triage_flag" or (summary or {}).get("red_flags"):
        return "red_flag"
    return "urgent" if reason in URGENT_REASONS else ""


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


def queue(session: Session, *, escalate_after: timedelta, now: datetime | None = None,
          preview: Previewer | None = None) -> list[QueueItem]:
    """Open and claimed handoffs in the order staff should take them (see the module's docstring)."""
    escalate_overdue(session, after=escalate_after, now=now)
    rows = session.execute(select(Handoff, Conversation).join(Conversation, Conversation.id == Handoff.conversation_id)
                           .where(Handoff.status.in_((HandoffStatus.OPEN, HandoffStatus.CLAIMED)))).all()
    items = []
    for handoff, conversation in rows:
        last = session.execute(select(Message.id, Message.text).where(
            Message.conversation_id == conversation.id, Message.author == Author.PATIENT).order_by(Message.id.desc())
        ).first()
        shown = "" if last is None else (preview or (lambda _id, text: scrub_preview(text)))(last[0], last[1])
        items.append(QueueItem(conversation.id, conversation.channel, handoff.reason,
                               REASONS.get(handoff.reason, handoff.reason.replace("_", " ").capitalize()),
                               HandoffStatus(handoff.status), handoff.claimed_by, handoff.created_at,
                               handoff.escalated_at is not None, shown,
                               priority_of(handoff.reason, handoff.summary)))
    items.sort(key=lambda i: (i.status == HandoffStatus.CLAIMED, i.priority != "red_flag", i.priority != "urgent",
                              not i.escalated, i.waiting_since))
    return items


def audit(session: Session, staff_username: str, action: str, conversation: Conversation,
          **detail: Any) -> None:
    audit_trail.record(session, actor_type="staff", actor_id=staff_username, patient_id=conversation.patient_id,
                       action=action, detail={"conversation_id": conversation.id, **detail})
