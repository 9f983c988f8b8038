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
        Index("ix_messages_author_created", "author", "created_at", "conversation_id"),  # the dashboard's counts
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
    __table_args__ = (Index("ix_handoffs_created_at", "created_at"),)
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
    __table_args__ = (UniqueConstraint("appointment_id", "rule_name", name="uq_reminder_once"),
                      Index("ix_reminder_sends_due_at", "due_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    rule_name: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # sent | outbox | skipped_opt_out | skipped_cap | skipped_quiet | cancelled
    status: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class VerificationAttempt(Base):
    """Identity checks before any PHI: failures lock verification for a while (``bot.identity.verification``)."""

    __tablename__ = "verification_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # name_dob (web: what the patient knows) | sms_dob (the number on file + date of birth) | code (a one-time
    # code texted to the number on file) | staff (a staff member checked, in the console)
    method: Mapped[str] = mapped_column(String(16), default="name_dob", server_default="name_dob")



class ActivityEvent(Base):
    """What the assistant did, for the owner's dashboard: a kind and a label (an intent's name, "booked", a
    triage level ...), the channel and the opaque conversation id. Counts only: never text, never a patient."""

    __tablename__ = "activity_events"
    # covering: the dashboard counts by kind, time, label and channel without reading the rows
    __table_args__ = (Index("ix_activity_kind_at", "kind", "at", "label", "channel", "conversation_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))  # intent | appointment | triage | reminder_reply | waitlist
    label: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), default="")
    conversation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ref: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the tracker event, appointment or offer


class WaitlistEntry(Base):
    """A patient waiting for a sooner time: a visit type, a provider (None: any) and a window of days and hours
    in the clinic's zone. ``appointment_id`` is the visit to move sooner, when they have one."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_status_created", "status", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), nullable=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), nullable=True)
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    time_from: Mapped[str] = mapped_column(String(5), default="")  # "HH:MM", "open", or "" for the day's hours
    time_to: Mapped[str] = mapped_column(String(5), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")  # where the patient asked
    conversation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    patient: Mapped[Patient] = relationship()
    appointment_type: Mapped[AppointmentType] = relationship()
    provider: Mapped[Provider | None] = relationship()


class WaitlistOffer(Base):
    """One freed time offered to one waiting patient by SMS (see ``states.OfferStatus``)."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (Index("ix_waitlist_offers_time", "provider_id", "start"),
                      Index("ix_waitlist_offers_status", "status", "expires_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="held")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entry: Mapped[WaitlistEntry] = relationship()


class VerificationCode(Base):
    """A one-time code texted to a patient's number on file to verify a web chat. Only an HMAC is kept."""

    __tablename__ = "verification_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0)  # wrong entries so far
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | used | void
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the SMS, in the patient's thread
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)  # claimed to send


class LoginThrottle(Base):
    """Failed console sign-ins per account name and per client address (both kept as hashes)."""

    __tablename__ = "login_throttle"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # account | address
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the name or address
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row, since the last success
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # back-off
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # accounts: until unlocked
