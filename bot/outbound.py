"""Messages the clinic sends on its own (staff replies, reminders, late answers): one way out per channel.

An ``SmsSender`` delivers one text to one number and says what happened. Until SMS credentials are set,
the ``OutboxSender`` keeps messages in the outbox (stored, marked not sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.store import Message, SmsOptOut

SendStatus = Literal["sent", "outbox", "failed", "opted_out"]


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    provider_id: str | None = None  # e.g. Twilio's message SID
    error: str | None = None  # provider error code, never message text


class SmsSender(Protocol):
    """Blocking by contract: async callers use ``asyncio.to_thread(sender.send, ...)``."""

    def send(self, to: str, body: str) -> SendResult: ...


class OutboxSender:
    """No SMS provider configured: nothing leaves the building; the message waits in the outbox."""

    def send(self, to: str, body: str) -> SendResult:
        return SendResult("outbox")


def sms_sender_for(settings: Settings) -> SmsSender:
    """The SMS provider the settings ask for; the outbox when no credentials are configured.

    Twilio credentials come from TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER or ``sms.*``."""
    from adapters.twilio_rest import TwilioSender  # the twilio client loads only when asked for

    return TwilioSender.from_settings(settings) or OutboxSender()


def is_opted_out(session: Session, phone: str) -> bool:
    return session.get(SmsOptOut, phone) is not None


def record_outbound(session: Session, conversation_id: str, text: str, *, author: str, status: str,
                    meta: dict[str, Any] | None = None) -> Message:
    message = Message(conversation_id=conversation_id, direction="out", author=author, text=text, status=status,
                      meta=meta or {})
    session.add(message)
    session.flush()
    return message
