"""Conversations as the gateway sees them: every inbound message is stored first, then routed.

A message that arrives while the engine is down stays ``pending`` and is answered, in order, when the
engine is back; a message repeated with the same client id is answered once. The red-flag check runs on every
message before anything else, off the event loop. Rows are written through ``bot.conversations.rows``.

Several gateways may share the database: a conversation's turns with the engine are taken one at a time across
all of them (``bot.conversations.turns``), and every database call of an async method runs in a thread, so a
slow or locked database holds up only the conversation that waits for it, never the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations import rows
from bot.conversations.guard import Emergency, RedFlagGuard
from bot.conversations.handoffs import request_handoff, without_person_hint
from bot.conversations.turns import TurnLock
from bot.engine.client import EngineTimeout, EngineUnavailable, RasaClient
from bot.store import Conversation, Message, activity
from bot.store.models import utcnow
from bot.store.states import Author, ConversationState, MessageStatus

log = logging.getLogger("clinicbot.conversations")

OutboundListener = Callable[[Conversation, Message], Awaitable[None]]
message_view = rows.message_view


@dataclass
class InboundResult:
    conversation_id: str
    message_id: int
    status: str  # answered | pending | duplicate | with_staff | failed (claimed by staff: the engine is not asked)
    replies: list[Message] = field(default_factory=list)
    drained: int = 0
    repeat: bool = False  # the client sent this message before (the same client message id)


TIMEOUT_REPLY = ("Sorry, I couldn't answer that in time. I've passed your message to our staff, who will reply "
                 "here. If it is urgent, call the clinic; in an emergency, call 911.")


class ConversationService:
    def __init__(self, sessions: sessionmaker[Session], engine: RasaClient,
                 guard: RedFlagGuard | None = None, turns: TurnLock | None = None,
                 timeout_reply: str = TIMEOUT_REPLY) -> None:
        self.sessions = sessions
        self.engine = engine
        self._guard = guard
        self.turns = turns or TurnLock(sessions.kw["bind"])
        self.timeout_reply = timeout_reply  # what a patient reads when the engine did not answer in time
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
        with self.sessions() as session:
            found = rows.find_conversation(session, channel, channel_user)
            if found is not None:
                return found
            conversation = rows.find_or_create_conversation(session, channel, channel_user)
            session.commit()
            log.info("conversation.opened conversation_id=%s channel=%s", conversation.id, channel)
            return conversation

    def find_conversation(self, channel: str, channel_user: str) -> Conversation | None:
        with self.sessions() as session:
            return rows.find_conversation(session, channel, channel_user)

    def get(self, conversation_id: str) -> Conversation | None:
        with self.sessions() as session:
            return session.get(Conversation, conversation_id)

    def history(self, conversation_id: str, after_id: int = 0, limit: int = 200) -> list[Message]:
        with self.sessions() as session:
            return rows.history(session, conversation_id, after_id, limit)

    # -- inbound --------------------------------------------------------------------------------
    async def handle_inbound(
        self, conversation: Conversation, text: str, *, client_message_id: str | None = None,
        metadata: dict[str, Any] | None = None, engine_text: str | None = None,
    ) -> InboundResult:
        """Store, check for red flags, then route. ``engine_text`` is what the engine gets instead of the
        patient's words when the channel already knows what they mean (a reply to a reminder)."""
        accepted = await self.accept(conversation, text, client_message_id=client_message_id, metadata=metadata,
                                     engine_text=engine_text)
        return await self.route(accepted)

    async def accept(
        self, conversation: Conversation, text: str, *, client_message_id: str | None = None,
        metadata: dict[str, Any] | None = None, engine_text: str | None = None, answered_inline: bool = False,
    ) -> InboundResult:
        """The first, fast half: store the message (once), check it for red flags and answer an emergency at
        once. The result's status is ``pending`` when the engine still has to answer (``route``).

        ``answered_inline``: the channel delivers this call's replies in its own response (an SMS emergency
        answer in the webhook's TwiML), so the outbound listeners do not send them again. No conversation lock is
        taken: the database orders and deduplicates what is stored, so a message is stored and checked at once
        even while the engine is still working on the one before (in this gateway or another)."""
        stored = await asyncio.to_thread(self._store_inbound, conversation.id, text, client_message_id, metadata,
                                         engine_text)
        if isinstance(stored, InboundResult):
            return stored
        row, message = stored
        with_staff = message.status == MessageStatus.WITH_STAFF
        emergency = await self._guard.check(text) if self._guard else None
        meta = {"answered_inline": True} if answered_inline else {}
        if emergency is not None:  # the emergency answer goes before anything else, notices included
            result = await self._answer_emergency(conversation.id, message.id, emergency, with_staff, meta)
            await self._notify_inbound(row, message)
            return result
        active = row.flags.get("emergency_active") if isinstance(row.flags, dict) else None
        if active and not with_staff and self._guard is not None:
            # until staff take it, every message gets the emergency step again and the news that they know
            known = row.flags.get("red_flags") if isinstance(row.flags, dict) else None
            flags = [str(f) for f in known] if isinstance(known, list) else []
            [reply] = await asyncio.to_thread(self._store_replies, conversation.id, message.id,
                                              [self._guard.follow_up(flags)], author=Author.SYSTEM,
                                              meta={"red_flags": flags, **meta})
            await self._notify(row, reply)
            await self._notify_inbound(row, message)
            return InboundResult(conversation.id, message.id, "answered", [reply])
        await self._notify_inbound(row, message)
        if with_staff:
            return InboundResult(conversation.id, message.id, "with_staff")
        return InboundResult(conversation.id, message.id, "pending")

    def _store_inbound(self, conversation_id: str, text: str, client_message_id: str | None,
                       metadata: dict[str, Any] | None, engine_text: str | None
                       ) -> InboundResult | tuple[Conversation, Message]:
        """Store an inbound message; a repeat of one already stored gets that one's outcome instead."""
        with self.sessions() as session:
            if client_message_id:
                earlier = rows.find_inbound(session, conversation_id, client_message_id)
                if earlier is not None:
                    log.info("message.duplicate conversation_id=%s message_id=%s", conversation_id, earlier.id)
                    status = "duplicate" if earlier.status != MessageStatus.PENDING else "pending"
                    return InboundResult(conversation_id, earlier.id, status, rows.replies_to(session, earlier.id),
                                         repeat=True)
            row = session.get(Conversation, conversation_id)
            assert row is not None
            with_staff = row.state == ConversationState.STAFF
            # While staff hold the conversation the assistant stays silent: the message goes to them only.
            try:
                message = rows.record_inbound(
                    session, row, text, status=MessageStatus.WITH_STAFF if with_staff else MessageStatus.PENDING,
                    client_message_id=client_message_id,
                    meta={"metadata": metadata or {}, **({"engine_text": engine_text} if engine_text else {})})
                session.commit()
            except IntegrityError:  # the same message stored by a concurrent request a moment ago
                session.rollback()
                return self._store_inbound(conversation_id, text, client_message_id, metadata, engine_text)
            log.info("message.received conversation_id=%s message_id=%s chars=%d with_staff=%s",
                     conversation_id, message.id, len(text), with_staff)
            return row, message

    async def route(self, accepted: InboundResult) -> InboundResult:
        """The second half: send what is pending to the engine (in order) and deliver its answers; the
        conversation's turn is held (across every gateway) while it does."""
        if accepted.status != "pending":
            return accepted
        async with self.turns.hold(accepted.conversation_id):
            result = await self._drain(accepted.conversation_id, wanted=accepted.message_id)
        if result.status == "pending":  # answered meanwhile by another turn: a repeat of it, or on another gateway
            outcome = await asyncio.to_thread(self._outcome, accepted.message_id)
            if outcome is not None:
                result.status, result.replies = outcome
        if accepted.repeat and result.status == "answered":  # the same answer, once: the client asked before
            result.status = "duplicate"
        result.repeat = accepted.repeat
        return result

    def _outcome(self, message_id: int) -> tuple[str, list[Message]] | None:
        """How an inbound message ended, once it has: answered (with its replies) or failed; None while pending."""
        with self.sessions() as session:
            message = session.get(Message, message_id)
            if message is not None and message.status == MessageStatus.ANSWERED:
                return "answered", rows.replies_to(session, message_id)
            if message is not None and message.status == MessageStatus.FAILED:
                return "failed", []
            return None

    def record_keyword(self, conversation: Conversation, text: str, *, client_message_id: str, word: str,
                       reply: str | None) -> None:
        """An SMS keyword (STOP, START, HELP) and the fixed answer the channel gave in its own response."""
        with self.sessions() as session:
            row = session.get(Conversation, conversation.id)
            assert row is not None
            inbound = rows.record_inbound(session, row, text, status=MessageStatus.ANSWERED,
                                          client_message_id=client_message_id, meta={"keyword": word})
            if reply:
                rows.record_outbound(session, row.id, reply, author=Author.SYSTEM, status=MessageStatus.SENT,
                                     reply_to_id=inbound.id, meta={"keyword": word})
            session.commit()

    async def _drain(self, conversation_id: str, wanted: int | None = None) -> InboundResult:
        """Send this conversation's pending messages to the engine in order (lock held by caller).

        The result describes ``wanted``; ``result.drained`` counts every message answered."""
        result = InboundResult(conversation_id, wanted or 0, "pending")
        pending, conversation = await asyncio.to_thread(self._pending_of, conversation_id)
        if conversation is None or conversation.state == ConversationState.STAFF:
            return result
        for message in pending:
            client_meta = message.meta.get("metadata")
            metadata = {"channel": conversation.channel, **(client_meta if isinstance(client_meta, dict) else {})}
            try:
                replies = await self.engine.send(conversation_id, str(message.meta.get("engine_text") or message.text),
                                                  metadata)
            except EngineUnavailable as exc:
                log.warning("engine.unavailable conversation_id=%s message_id=%s reason=%s",
                            conversation_id, message.id, exc)
                return result
            except EngineTimeout as exc:
                # never silence: the patient is told a person will answer, and staff find it in their queue
                log.error("engine.timeout conversation_id=%s message_id=%s reason=%s",
                          conversation_id, message.id, exc)
                stored = await asyncio.to_thread(self._timed_out, conversation_id, message.id)
                for reply in stored:
                    await self._notify(conversation, reply)
                if message.id == wanted:
                    result.status, result.replies = "answered", stored
                continue
            stored = await asyncio.to_thread(self._store_answer, conversation_id, message.id,
                                             [r.text for r in replies if r.text])
            for reply in stored:
                await self._notify(conversation, reply)
            result.drained += 1
            if message.id == wanted:
                result.status, result.replies = "answered", stored
        return result

    def _pending_of(self, conversation_id: str) -> tuple[list[Message], Conversation | None]:
        with self.sessions() as session:
            pending = list(session.scalars(select(Message).where(
                Message.conversation_id == conversation_id, Message.direction == "in",
                Message.status == MessageStatus.PENDING).order_by(Message.id)))
            return pending, session.get(Conversation, conversation_id)

    def _timed_out(self, conversation_id: str, message_id: int) -> list[Message]:
        """The engine took the message but did not answer in time: it is not sent again (it could act twice);
        the patient is told a person will answer, and staff get it in their queue."""
        with self.sessions() as session:
            row = session.get(Conversation, conversation_id)
            assert row is not None
            request_handoff(session, row, reason="engine_timeout", merge={}, summary={"message_id": message_id})
            session.commit()
        return self._store_replies(conversation_id, message_id, [self.timeout_reply], author=Author.SYSTEM,
                                   meta={"engine_timeout": True})

    def _store_answer(self, conversation_id: str, message_id: int, texts: list[str]) -> list[Message]:
        """The engine's replies; a conversation already waiting for staff is not told to type "person"."""
        with self.sessions() as session:
            state = session.scalars(select(Conversation.state).where(Conversation.id == conversation_id)).one()
        if state == ConversationState.WAITING_STAFF:
            texts = [without_person_hint(t) for t in texts]
        return self._store_replies(conversation_id, message_id, texts)

    async def _answer_emergency(self, conversation_id: str, message_id: int, emergency: Emergency,
                                with_staff: bool, meta: dict[str, Any]) -> InboundResult:
        """The emergency answer goes out before anything else; staff are alerted through a handoff."""
        def store() -> tuple[Conversation, Message]:
            with self.sessions() as session:
                conversation = session.get(Conversation, conversation_id)
                assert conversation is not None
                earlier = conversation.flags.get("red_flags") if isinstance(conversation.flags, dict) else None
                flags = sorted({*(earlier if isinstance(earlier, list) else []), *emergency.flags})
                rows.set_flags(conversation, red_flags=flags, emergency_active=not with_staff)
                activity.record(session, "triage", "red_flag", channel=conversation.channel,
                                conversation_id=conversation.id)
                if not with_staff:
                    request_handoff(session, conversation, reason="triage_flag",
                                    summary={"red_flags": emergency.flags, "labels": emergency.labels,
                                             "decided_by": emergency.decided_by})
                session.commit()
            [reply] = self._store_replies(conversation_id, message_id, [emergency.reply], author=Author.SYSTEM,
                                          meta={"red_flags": emergency.flags, **meta})
            return conversation, reply

        conversation, reply = await asyncio.to_thread(store)
        log.warning("triage.red_flag conversation_id=%s message_id=%s flags=%s decided_by=%s", conversation_id,
                    message_id, ",".join(emergency.flags), emergency.decided_by)
        await self._notify(conversation, reply)
        return InboundResult(conversation_id, message_id, "answered", [reply])

    def _store_replies(self, conversation_id: str, in_reply_to: int, texts: list[str], *,
                       author: Author = Author.BOT, meta: dict[str, Any] | None = None) -> list[Message]:
        with self.sessions() as session:
            rows.mark_inbound(session, in_reply_to, MessageStatus.ANSWERED)
            stored = [rows.record_outbound(session, conversation_id, text, author=author, status=MessageStatus.SENT,
                                           reply_to_id=in_reply_to, meta=meta) for text in texts]
            session.commit()
        log.info("message.answered conversation_id=%s message_id=%s replies=%d",
                 conversation_id, in_reply_to, len(stored))
        return stored

    async def post_outbound(self, conversation_id: str, text: str, *, author: Author,
                            meta: dict[str, Any] | None = None) -> Message:
        """Store a message the clinic sends on its own (a staff reply, a notice) and deliver it on the
        conversation's channel through the outbound listeners."""
        def store() -> tuple[Conversation, Message]:
            with self.sessions() as session:
                conversation = session.get(Conversation, conversation_id)
                if conversation is None:
                    raise KeyError(conversation_id)
                status = MessageStatus.QUEUED if conversation.channel == "sms" else MessageStatus.SENT
                message = rows.record_outbound(session, conversation_id, text, author=author, status=status,
                                               meta=meta)
                conversation.last_activity_at = utcnow()
                session.commit()
                return conversation, message

        conversation, message = await asyncio.to_thread(store)
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

    async def _notify(self, conversation: Conversation, message: Message) -> None:
        for listener in self._listeners:
            try:
                await listener(conversation, message)
            except Exception:  # a failing channel must not lose the stored reply
                log.exception("outbound.listener_failed conversation_id=%s message_id=%s",
                              conversation.id, message.id)

    async def retry_pending(self) -> int:
        """Answer every message kept while the engine was down (or left by a gateway that stopped). Returns how
        many were answered. A conversation whose turn someone holds now is left to them (its turn drains every
        pending message in order)."""
        def conversations_waiting() -> list[str]:
            with self.sessions() as session:
                return list(session.scalars(select(Message.conversation_id).where(
                    Message.direction == "in", Message.status == MessageStatus.PENDING).distinct()))

        answered = 0
        for conversation_id in await asyncio.to_thread(conversations_waiting):
            async with self.turns.hold_if_free(conversation_id) as mine:
                if mine:
                    answered += (await self._drain(conversation_id)).drained
        return answered

    def pending_count(self) -> int:
        with self.sessions() as session:
            return len(list(session.scalars(select(Message.id).where(
                Message.direction == "in", Message.status == MessageStatus.PENDING))))
