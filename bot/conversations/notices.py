"""Notices the clinic sends on its own: a patient writing to staff outside office hours is told when someone
will reply (at most once every six hours)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.conversations import rows
from bot.conversations.service import ConversationService
from bot.scheduling.hours import is_open, staff_reply_eta
from bot.settings import Settings
from bot.store import Conversation, Message
from bot.store.models import utcnow
from bot.store.states import Author, MessageStatus

OFF_HOURS_NOTICE_EVERY = timedelta(hours=6)


class OffHoursNotice:
    """Inbound listener of the conversation service."""

    def __init__(self, settings: Settings, service: ConversationService) -> None:
        self._settings = settings
        self._service = service

    async def __call__(self, conversation: Conversation, message: Message) -> None:
        now = utcnow()
        if message.status != MessageStatus.WITH_STAFF or is_open(self._settings.clinic, now):
            return
        if not await asyncio.to_thread(self._due, conversation.id, now):
            return
        eta = staff_reply_eta(self._settings.clinic, now)
        await self._service.post_outbound(
            conversation.id, f"Thanks, your message is with our front desk. The office is closed now; "
            f"someone will reply {eta}. For an emergency, call 911.", author=Author.SYSTEM)

    def _due(self, conversation_id: str, now: datetime) -> bool:
        """True (and noted) when this conversation has had no notice for six hours."""
        with self._service.sessions() as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                return False
            last = str(row.flags.get("off_hours_notice_at", ""))
            if last and now - datetime.fromisoformat(last) < OFF_HOURS_NOTICE_EVERY:
                return False
            rows.set_flags(row, off_hours_notice_at=now.isoformat())
            session.commit()
            return True
