"""The one writer of conversation and message rows: find-or-create, messages in and out, delivery statuses.

Everything that stores a message or opens a conversation (the conversation service, the SMS channel, reminders,
the actions, verification) calls these functions inside its own transaction; nobody else constructs a
``Conversation`` or a ``Message``. State changes of a conversation (bot, waiting for staff, with staff) are
the handoff state machine's (``bot.conversations.handoffs``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store import Conversation, Message
from bot.store.models import utcnow
from bot.store.states import Author, Channel, MessageStatus


def find_conversation(session: Session, channel: str, channel_user: str) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(Conversation.channel == channel, Conversation.channel_user == channel_user)
    ).first()


def find_or_create_conversation(session: Session, channel: Channel | str, channel_user: str) -> Conversation:
    """The conversation of this channel user, created when there is none (safe when two requests race:
    the loser of the unique constraint reads the winner's row). Flushed, not committed."""
    found = find_conversation(session, channel, channel_user)
    if found is not None:
        return found
    conversation = Conversation(channel=str(channel), channel_user=channel_user)
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:  # created by a concurrent request
        found = find_conversation(session, channel, channel_user)
        assert found is not None
        return found
    return conversation


def ensure_conversation(session: Session, conversation_id: str) -> Conversation:
    """The conversation with this id; created as a ``rasa`` conversation when the engine was reached directly
    (tests, tools): there is no patient channel behind it."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(id=conversation_id, channel=Channel.RASA, channel_user=conversation_id)
        session.add(conversation)
        session.flush()
    return conversation


def find_inbound(session: Session, conversation_id: str, client_message_id: str) -> Message | None:
    """A message this client already sent (same ``message_id``, or the same Twilio MessageSid)."""
    return session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                 Message.client_message_id == client_message_id)).first()


def record_inbound(session: Session, conversation: Conversation, text: str, *, status: MessageStatus,
                   client_message_id: str | None = None, meta: dict[str, Any] | None = None) -> Message:
    message = Message(conversation_id=conversation.id, direction="in", author=Author.PATIENT, text=text,
                      status=status, client_message_id=client_message_id, meta=meta or {})
    session.add(message)
    conversation.last_activity_at = utcnow()
    session.flush()
    return message


def record_outbound(session: Session, conversation_id: str, text: str, *, author: Author | str,
                    status: MessageStatus, reply_to_id: int | None = None, meta: dict[str, Any] | None = None,
                    provider_id: str | None = None) -> Message:
    message = Message(conversation_id=conversation_id, direction="out", author=str(author), text=text,
                      status=status, reply_to_id=reply_to_id, meta=meta or {}, provider_id=provider_id)
    session.add(message)
    session.flush()
    return message


def mark_inbound(session: Session, message_id: int, status: MessageStatus) -> None:
    message = session.get(Message, message_id)
    if message is not None:
        message.status = status


def mark_delivery(session: Session, message_id: int, status: MessageStatus, *, provider_ids: list[str],
                  error: str = "") -> None:
    """What the provider said about a message we sent (its ids, its status, an error code: never text)."""
    message = session.get(Message, message_id)
    if message is not None:
        message.status = status
        message.provider_id = provider_ids[0] if provider_ids else None
        message.meta = {**message.meta, "sids": provider_ids, **({"error": error} if error else {})}


def mark_delivery_by_provider_id(session: Session, provider_id: str, status: MessageStatus,
                                 error: str = "") -> Message | None:
    """A provider's status callback for one of our messages; the message, or None when it is not ours."""
    message = session.scalars(select(Message).where(Message.provider_id == provider_id)).first()
    if message is not None:
        message.status = status
        if error:
            message.meta = {**message.meta, "error": error}
    return message


def set_flags(conversation: Conversation, **flags: object) -> None:
    """Merge flags into the conversation's (a JSON column: assign a new dict so the change is saved)."""
    conversation.flags = {**(conversation.flags or {}), **flags}


def message_view(message: Message) -> dict[str, Any]:
    """What a client may see of a message (no internal fields)."""
    return {
        "id": message.id,
        "author": message.author,
        "text": message.text,
        "at": message.created_at.isoformat(),
        **({"source": message.meta["source"]} if message.meta.get("source") else {}),
    }


def replies_to(session: Session, message_id: int) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.reply_to_id == message_id).order_by(Message.id)))


def history(session: Session, conversation_id: str, after_id: int = 0, limit: int = 200) -> list[Message]:
    return list(session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after_id)
        .order_by(Message.id)
        .limit(limit)
    ))
