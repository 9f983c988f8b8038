"""Clinic store tables (SQLAlchemy 2). Schema changes go through Alembic migrations."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, always returns aware UTC (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the clinic store; use an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Clinic(Base):
    __tablename__ = "clinics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64))


class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(20))
    specialty: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AppointmentType(Base):
    __tablename__ = "appointment_types"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(Integer)


class AvailabilitySlot(Base):
    """A bookable block of a provider's time. ``appointment_id`` set means taken."""

    __tablename__ = "availability"
    __table_args__ = (UniqueConstraint("provider_id", "start", name="uq_slot_provider_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    appointment_id: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    provider: Mapped[Provider] = relationship()


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mrn: Mapped[str] = mapped_column(String(32), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")  # empty: the clinic's
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    # booked | confirmed | cancelled | completed | no_show
    status: Mapped[str] = mapped_column(String(20), default="booked")
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    patient: Mapped[Patient] = relationship()
    provider: Mapped[Provider] = relationship()
    appointment_type: Mapped[AppointmentType] = relationship()


class LabResult(Base):
    __tablename__ = "lab_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    panel: Mapped[str] = mapped_column(String(100))
    test_code: Mapped[str] = mapped_column(String(64))
    test_name: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    ref_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ref_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # final | preliminary | reviewed
    status: Mapped[str] = mapped_column(String(20), default="final")


class Conversation(Base):
    """One patient thread on one channel. ``id`` is the opaque id the Rasa engine sees."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "channel_user", name="uq_conversation_channel_user"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))  # web | sms
    channel_user: Mapped[str] = mapped_column(String(128))  # web chat sender id, or E.164 number for sms
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), nullable=True)
    # bot | waiting_staff | staff
    state: Mapped[str] = mapped_column(String(20), default="bot")
    handoff_reason: Mapped[str] = mapped_column(String(64), default="")
    flags: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "client_message_id", name="uq_message_client_id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    author: Mapped[str] = mapped_column(String(16))  # patient | bot | staff | system
    text: Mapped[str] = mapped_column(Text)
    # inbound: pending | answered | failed ; outbound: queued | sent | delivered | failed | outbox
    status: Mapped[str] = mapped_column(String(16))
    client_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reply_to_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    meta: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # e.g. Twilio SID


class Handoff(Base):
    __tablename__ = "handoffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    # requested_human | triage_flag | failed_verification | low_confidence | critical_lab | urgent_triage
    reason: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # open | claimed | closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # left unclaimed too long


class AuditEvent(Base):
    """Append-only: who saw or disclosed which patient's PHI, when and why."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # staff | conversation | system
    actor_id: Mapped[str] = mapped_column(String(100))
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64))  # verification_passed, results_shown, ...
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))  # argon2
    role: Mapped[str] = mapped_column(String(16), default="staff")  # staff | owner
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    """A signed-in console session. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user: Mapped[StaffUser] = relationship()


class SmsOptOut(Base):
    """A number that texted STOP (or a synonym). Only the opt-out confirmation may be sent to it."""

    __tablename__ = "sms_opt_outs"
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    keyword: Mapped[str] = mapped_column(String(16), default="STOP")


class InboundReceipt(Base):
    """Provider message ids already processed (Twilio retries webhooks): each is handled once."""

    __tablename__ = "inbound_receipts"
    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. Twilio MessageSid
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderSend(Base):
    """One reminder for one appointment under one rule: sent (or skipped) at most once."""

    __tablename__ = "reminder_sends"
    __table_args__ = (UniqueConstraint("appointment_id", "rule_name", name="uq_reminder_once"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    rule_name: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # sent | outbox | skipped_opt_out | skipped_cap | skipped_quiet | cancelled
    status: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


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


class VerificationAttempt(Base):
    """Identity checks before any PHI: three failures lock verification for a while."""

    __tablename__ = "verification_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
