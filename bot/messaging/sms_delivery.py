"""Sending what the clinic says in an SMS conversation: split by the one SMS budget, sent off the event loop,
and the outcome recorded on the stored message."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.rows import mark_delivery
from bot.messaging.optouts import is_opted_out, set_opt_out
from bot.messaging.outbound import SmsSender
from bot.messaging.sms_budget import split_for_sms
from bot.store import Conversation, Message
from bot.store.states import Channel, MessageStatus

log = logging.getLogger(__name__)


class SmsDelivery:
    """Outbound listener of the conversation service: sends each stored message of an SMS conversation."""

    def __init__(self, sessions: sessionmaker[Session], sender: SmsSender, max_segments: int) -> None:
        self._sessions = sessions
        self.sender = sender
        self._max_segments = max_segments

    async def __call__(self, conversation: Conversation, message: Message) -> None:
        # a reply the webhook already gave in its own TwiML is not sent again
        if conversation.channel == Channel.SMS and not message.meta.get("answered_inline"):
            await self.deliver(conversation.channel_user, message.id, message.text)

    async def deliver(self, phone: str, message_id: int, text: str) -> MessageStatus:
        """Send one stored message; returns the status it ends in (sent, outbox, failed, opted_out)."""
        opted_out = await asyncio.to_thread(self._opted_out, phone)
        sids: list[str] = []
        status, error = MessageStatus.OPTED_OUT, ""
        if not opted_out:
            status = MessageStatus.SENT
            for part in split_for_sms(text, self._max_segments):
                result = await asyncio.to_thread(self.sender.send, phone, part)
                if result.provider_id:
                    sids.append(result.provider_id)
                if result.status != "sent":
                    status, error = MessageStatus(result.status), result.error or ""
                    break
        await asyncio.to_thread(self._record, phone, message_id, status, sids, error, opted_out)
        log.info("sms.outbound.done message_id=%s status=%s parts=%d", message_id, status, len(sids))
        return status

    def _opted_out(self, phone: str) -> bool:
        with self._sessions() as session:
            return is_opted_out(session, phone)

    def _record(self, phone: str, message_id: int, status: MessageStatus, sids: list[str], error: str,
                opted_out: bool) -> None:
        with self._sessions() as session:
            if status == MessageStatus.OPTED_OUT:
                set_opt_out(session, phone, True, word="CARRIER" if not opted_out else "STOP")
            mark_delivery(session, message_id, status, provider_ids=sids, error=error)
            session.commit()
