"""How a text leaves the building: the ``SmsSender`` contract every SMS provider meets.

An ``SmsSender`` delivers one text to one number and says what happened. Until SMS credentials are set,
the ``OutboxSender`` keeps messages in the outbox (stored, marked not sent). The Twilio sender is in
``adapters.twilio_rest``; the process that starts the gateway picks one (``adapters.twilio_rest.sender_for``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

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
