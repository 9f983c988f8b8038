"""Notices the clinic sends on its own while staff hold a conversation: an acknowledgement at most once per
interval (``console.staff_ack_every_minutes``), saying when someone will reply, and never one that contradicts a
staff reply just sent: while a staff member is answering, the assistant says nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.conversations import rows
from bot.conversations.service import ConversationService
from bot.scheduling.hours import is_open, staff_reply_eta
from bot.settings import Settings
from bot.store import Conversation, Message
from bot.store.models import utcnow
from bot.store.states import Author, MessageStatus

STAFF_ACTIVE = timedelta(minutes=30)  # a staff reply this recent means a person is in the conversation


def ack_text(settings: Settings, now: datetime) -> str:
    if is_open(settings.clinic, now):
        return "Thanks, your message is with our front desk; someone will reply here soon."
    eta = staff_reply_eta(settings.clinic, now)
    return (f"Thanks, your message is with our front desk. The office is closed now; someone will reply {eta}. "
            "For an emergency, call 911.")


def handed_back_text(settings: Settings) -> str:
    return (f"You're back with the {settings.clinic.name} assistant. I can help with appointments, lab results "
            "and clinic questions. To reach our staff again, just ask for a person.")


class StaffHoldNotice:
    """Inbound listener of the conversation service, for messages that arrive while staff hold it."""

    def __init__(self, settings: Settings, service: ConversationService) -> None:
        self._settings = settings
        self._service = service

    async def __call__(self, conversation: Conversation, message: Message) -> None:
        if message.status != MessageStatus.WITH_STAFF:
            return
        now = utcnow()
        if not await asyncio.to_thread(self._due, conversation.id, now):
            return
        await self._service.post_outbound(conversation.id, ack_text(self._settings, now), author=Author.SYSTEM)

    def _due(self, conversation_id: str, now: datetime) -> bool:
        """True (and noted) when no staff member is answering and the last acknowledgement is old enough (a
        database call: run off the event loop)."""
        every = timedelta(minutes=self._settings.console.staff_ack_every_minutes)
        with self._service.sessions() as session:
            row = session.get(Conversation, conversation_id)
            if row is None:
                return False
            last_staff = session.scalars(select(Message.created_at).where(
                Message.conversation_id == row.id, Message.author == Author.STAFF).order_by(Message.id.desc())).first()
            if last_staff is not None and now - last_staff < STAFF_ACTIVE:
                return False  # a person is answering: nothing from the assistant
            last = str(row.flags.get("staff_ack_at", ""))
            if last and now - datetime.fromisoformat(last) < every:
                return False
            rows.set_flags(row, staff_ack_at=now.isoformat())
            session.commit()
            return True
