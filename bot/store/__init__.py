"""The clinic store: SQLAlchemy models, sessions and migrations."""

from bot.store.db import get_engine, migrate, session_scope
from bot.store.models import (
    Appointment,
    AppointmentType,
    AuditEvent,
    AvailabilitySlot,
    Base,
    Clinic,
    Conversation,
    Handoff,
    LabResult,
    Message,
    Patient,
    Provider,
)

__all__ = [
    "Appointment",
    "AppointmentType",
    "AuditEvent",
    "AvailabilitySlot",
    "Base",
    "Clinic",
    "Conversation",
    "Handoff",
    "LabResult",
    "Message",
    "Patient",
    "Provider",
    "get_engine",
    "migrate",
    "session_scope",
]
