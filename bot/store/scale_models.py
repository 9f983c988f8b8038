"""Clinic store tables that let several processes share one store: the send ledger (a text handed to the SMS
provider exactly once), leases (one scheduler, one turn per conversation, gateway presence), live events between
gateways and the owner's saved settings. Same ``Base`` as ``bot.store.models``; schema changes go through the
Alembic migrations (0006_scale)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, UTCDateTime, utcnow


class OutboundSend(Base):
    """One text handed to the SMS provider, recorded before the call (status ``sending``) and after it.

    ``idempotency_key`` names what is being sent (``reminder-<appointment>-<rule>``), so it is recorded once
    however often a job runs. A row left ``sending`` by a process that died is reconciled against the
    provider's own list of messages (``body_sha256`` and the number, never the text) before anything is
    sent again."""

    __tablename__ = "outbound_sends"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    to_number: Mapped[str] = mapped_column(String(20))  # E.164
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(16))  # twilio | outbox | the sender's name
    # sending | sent | outbox | failed | opted_out
    status: Mapped[str] = mapped_column(String(16), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str] = mapped_column(String(32), default="")
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False)  # settled from the provider's list


class Lease(Base):
    """A named lease that one process holds until it expires, renewed by its holder: the reminder scheduler
    (``scheduler``), a conversation's turn (``conversation:<id>``), a gateway's presence (``gateway:<id>``).
    Taken with a compare-and-set, so two processes never both hold it."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LiveEvent(Base):
    """A push for pages and consoles connected to another gateway (a new message, typing, the queue changed).
    Holds ids, never text: each gateway reads the message row itself. Kept a few minutes."""

    __tablename__ = "live_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    origin: Mapped[str] = mapped_column(String(64))  # the gateway that published it (and delivered it itself)
    topic: Mapped[str] = mapped_column(String(16))  # chat | console
    sender: Mapped[str] = mapped_column(String(128), default="")  # the web chat page's id (chat events)
    kind: Mapped[str] = mapped_column(String(16))  # message | typing | queue
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class OwnerSettings(Base):
    """What the owner saved on the settings page (hours, reminders), merged over config.yml by every process.
    One row; ``version`` goes up with each save, and every process polls it."""

    __tablename__ = "owner_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
