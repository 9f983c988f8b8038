"""Conversations as the gateway sees them: every inbound message is stored first, then routed.

A message that arrives while the engine is down stays ``pending`` and is answered, in order, when the
engine is back; a message repeated with the same client id is answered once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.engine import EngineTimeout, EngineUnavailable, RasaClient
from bot.handoffs import request_handoff
from bot.safety import Emergency, RedFlagGuard
from bot.store import Conversation, Message
from bot.store.models import utcnow

log = logging.getLogger("clinicbot.conversations")

OutboundListener = Callable[[Conversation, Message], Awaitable[None]]


@dataclass
class InboundResult:
    conversation_id: str
    message_id: int
    status: str  # answered | pending | duplicate | with_staff | failed (claimed by staff: the engine is not asked)
    replies: list[Message] = field(default_factory=list)
    drained: int = 0


def message_view(message: Message) -> dict[str, Any]:
    """What a client may see of a message (no internal fields)."""
    return {
        "id": message.id,
        "author": message.author,
        "text": message.text,
        "at": message.created_at.isoformat(),
        **({"source": message.meta["source"]} if message.meta.get("source") else {}),
    }


class ConversationService:
    def __init__(self, sessions: sessionmaker[Session], engine: RasaClient,
                 guard: RedFlagGuard | None = None) -> None:
        self._sessions = sessions
        self._engine = engine
        self._guard = guard
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._listeners: list[OutboundListener] = []
        self._inbound_listeners: list[OutboundListener] = []

    def on_outbound(self, listener: OutboundListener) -> None:
        """Called for every message sent to a patient (web chat push, SMS send)."""
        self._listeners.append(listener)

    def on_inbound(self, listener: OutboundListener) -> None:
        """Called for every patient message once stored (the staff console's live view)."""
        self._inbound_listeners.append(listener)

    # -- conversations --------------------------------------------------------------------------
    def open_conversation(self, channel: str, channel_user: str) -> Conversation:
        with self._sessions() as session:
            found = self._find(session, channel, channel_user)
            if found is not None:
                return found
            conversation = Conversation(channel=channel, channel_user=channel_user)
            session.add(conversation)
            try:
                session.commit()
            except IntegrityError:  # created by a concurrent request
                session.rollback()
                found = self._find(session, channel, channel_user)
                assert found is not None
                return found
            log.info("conversation.opened conversation_id=%s channel=%s", conversation.id, channel)
            return conversation

    def find_conversation(self, channel: str, channel_user: str) -> Conversation | None:
        with self._sessions() as session:
            return self._find(session, channel, channel_user)

    @staticmethod
    def _find(session: Session, channel: str, channel_user: str) -> Conversation | None:
        return session.scalars(
            select(Conversation).where(Conversation.channel == channel, Conversation.channel_user == channel_user)
        ).first()

    def history(self, conversation_id: str, after_id: int = 0, limit: int = 200) -> list[Message]:
        with self._sessions() as session:
            return list(session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.id > after_id)
                .order_by(Message.id)
                .limit(limit)
            ))

    # -- inbound --------------------------------------------------------------------------------
    async def handle_inbound(
        self, conversation: Conversation, text: str, *, client_message_id: str | None = None,
        metadata: dict[str, Any] | None = None, engine_text: str | None = None,
    ) -> InboundResult:
        """Store, check for red flags, then route. ``engine_text`` is what the engine gets instead of the
        patient's words when the channel already knows what they mean (a reply to a reminder)."""
        async with self._locks[conversation.id]:
            with self._sessions() as session:
                if client_message_id:
                    earlier = session.scalars(select(Message).where(
                        Message.conversation_id == conversation.id,
                        Message.client_message_id == client_message_id)).first()
                    if earlier is not None:
                        log.info("message.duplicate conversation_id=%s message_id=%s", conversation.id, earlier.id)
                        replies = self._replies_to(session, earlier.id)
                        status = "duplicate" if earlier.status != "pending" else "pending"
                        return InboundResult(conversation.id, earlier.id, status, replies)
                row = session.get(Conversation, conversation.id)
                with_staff = row is not None and row.state == "staff"
                # While staff hold the conversation the assistant stays silent: the message goes to them only.
                message = Message(conversation_id=conversation.id, direction="in", author="patient", text=text,
                                  status="with_staff" if with_staff else "pending",
                                  client_message_id=client_message_id,
                                  meta={"metadata": metadata or {}, **({"engine_text": engine_text} if engine_text else {})})
                session.add(message)
                if row is not None:
                    row.last_activity_at = utcnow()
                session.commit()
                log.info("message.received conversation_id=%s message_id=%s chars=%d with_staff=%s",
                         conversation.id, message.id, len(text), with_staff)
            # Rules and the triage model are CPU work: off the event loop, so other conversations keep moving.
            emergency = await asyncio.to_thread(self._guard.check, text) if self._guard else None
            if emergency is not None:  # the emergency answer goes before anything else, notices included
                result = await self._answer_emergency(conversation.id, message.id, emergency, with_staff)
                await self._notify_inbound(row or conversation, message)
                return result
            await self._notify_inbound(row or conversation, message)
            if with_staff:
                return InboundResult(conversation.id, message.id, "with_staff")
            return await self._drain(conversation.id, wanted=message.id)

    async def _drain(self, conversation_id: str, wanted: int | None = None) -> InboundResult:
        """Send this conversation's pending messages to the engine in order (lock held by caller).

        The result describes ``wanted``; ``result.drained`` counts every message answered."""
        result = InboundResult(conversation_id, wanted or 0, "pending")
        with self._sessions() as session:
            pending = list(session.scalars(select(Message).where(
                Message.conversation_id == conversation_id, Message.direction == "in",
                Message.status == "pending").order_by(Message.id)))
            conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.state == "staff":
            return result
        for message in pending:
            client_meta = message.meta.get("metadata")
            metadata = {"channel": conversation.channel, **(client_meta if isinstance(client_meta, dict) else {})}
            try:
                replies = await self._engine.send(conversation_id, str(message.meta.get("engine_text") or message.text),
                                                  metadata)
            except EngineUnavailable as exc:
                log.warning("engine.unavailable conversation_id=%s message_id=%s reason=%s",
                            conversation_id, message.id, exc)
                return result
            except EngineTimeout as exc:
                log.error("engine.timeout conversation_id=%s message_id=%s reason=%s",
                          conversation_id, message.id, exc)
                with self._sessions() as session:
                    failed = session.get(Message, message.id)
                    if failed is not None:
                        failed.status = "failed"
                    session.commit()
                if message.id == wanted:
                    result.status = "failed"
                continue
            stored = self._store_replies(conversation_id, message.id, [r.text for r in replies if r.text])
            for reply in stored:
                await self._notify(conversation, reply)
            result.drained += 1
            if message.id == wanted:
                result.status, result.replies = "answered", stored
        return result

    async def _answer_emergency(self, conversation_id: str, message_id: int, emergency: Emergency,
                                with_staff: bool) -> InboundResult:
        """The emergency answer goes out before anything else; staff are alerted through a handoff."""
        with self._sessions() as session:
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            conversation.flags = {**(conversation.flags or {}), "red_flags": emergency.flags}
            if not with_staff:
                request_handoff(session, conversation, reason="triage_flag",
                                summary={"red_flags": emergency.flags, "labels": emergency.labels,
                                          "decided_by": emergency.decided_by})
            session.commit()
        [reply] = self._store_replies(conversation_id, message_id, [emergency.reply], author="system",
                                      meta={"red_flags": emergency.flags})
        log.warning("triage.red_flag conversation_id=%s message_id=%s flags=%s decided_by=%s", conversation_id,
                    message_id, ",".join(emergency.flags), emergency.decided_by)
        await self._notify(conversation, reply)
        return InboundResult(conversation_id, message_id, "answered", [reply])

    def _store_replies(self, conversation_id: str, in_reply_to: int, texts: list[str], *, author: str = "bot",
                       meta: dict[str, Any] | None = None) -> list[Message]:
        with self._sessions() as session:
            inbound = session.get(Message, in_reply_to)
            if inbound is not None:
                inbound.status = "answered"
            stored = [Message(conversation_id=conversation_id, direction="out", author=author, text=text,
                              status="sent", reply_to_id=in_reply_to, meta=meta or {}) for text in texts]
            session.add_all(stored)
            session.commit()
        log.info("message.answered conversation_id=%s message_id=%s replies=%d",
                 conversation_id, in_reply_to, len(stored))
        return stored

    async def post_outbound(self, conversation_id: str, text: str, *, author: str,
                            meta: dict[str, Any] | None = None) -> Message:
        """Store a message the clinic sends on its own (a staff reply, a notice) and deliver it on the
        conversation's channel through the outbound listeners."""
        with self._sessions() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            message = Message(conversation_id=conversation_id, direction="out", author=author, text=text,
                              status="queued" if conversation.channel == "sms" else "sent", meta=meta or {})
            session.add(message)
            conversation.last_activity_at = utcnow()
            session.commit()
        log.info("message.posted conversation_id=%s message_id=%s author=%s", conversation_id, message.id, author)
        await self._notify(conversation, message)
        return message

    async def _notify_inbound(self, conversation: Conversation, message: Message) -> None:
        for listener in self._inbound_listeners:
            try:
                await listener(conversation, message)
            except Exception:
                log.exception("inbound.listener_failed conversation_id=%s message_id=%s",
                              conversation.id, message.id)

    @staticmethod
    def _replies_to(session: Session, message_id: int) -> list[Message]:
        return list(session.scalars(select(Message).where(Message.reply_to_id == message_id).order_by(Message.id)))

    async def _notify(self, conversation: Conversation, message: Message) -> None:
        for listener in self._listeners:
            try:
                await listener(conversation, message)
            except Exception:  # a failing channel must not lose the stored reply
                log.exception("outbound.listener_failed conversation_id=%s message_id=%s",
                              conversation.id, message.id)

    async def retry_pending(self) -> int:
        """Answer every message kept while the engine was down. Returns how many were answered."""
        with self._sessions() as session:
            ids = list(session.scalars(select(Message.conversation_id).where(
                Message.direction == "in", Message.status == "pending").distinct()))
        answered = 0
        for conversation_id in ids:
            async with self._locks[conversation_id]:
                answered += (await self._drain(conversation_id)).drained
        return answered

    def pending_count(self) -> int:
        with self._sessions() as session:
            return len(list(session.scalars(select(Message.id).where(
                Message.direction == "in", Message.status == "pending"))))
