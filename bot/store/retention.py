"""Retention: message text and the engine's conversation events are kept ``retention_days`` and then
purged. The audit trail, appointments and results are kept."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import create_engine, inspect, text, update

from bot.settings import Settings
from bot.settings.stored import driver_url
from bot.store import Message, session_scope

log = logging.getLogger("clinicbot.retention")
PURGED = ""


@dataclass(frozen=True)
class PurgeCounts:
    messages: int
    tracker_events: int


def purge(settings: Settings, now: datetime) -> PurgeCounts:
    cutoff = now - timedelta(days=settings.retention_days)
    with session_scope(settings.database_url) as session:
        result = session.execute(
            update(Message).where(Message.created_at < cutoff, Message.text != PURGED)
            .values(text=PURGED, meta={"purged": True}))
        messages = int(getattr(result, "rowcount", 0) or 0)
    tracker_events = _purge_tracker(settings.rasa.tracker_store_url, cutoff)
    log.info("retention.purged messages=%d tracker_events=%d days=%d", messages, tracker_events,
             settings.retention_days)
    return PurgeCounts(messages, tracker_events)


def _purge_tracker(url: str, cutoff: datetime) -> int:
    """Rasa's SQL tracker store keeps one row per event with a UNIX ``timestamp``."""
    engine = create_engine(driver_url(url))
    try:
        if not inspect(engine).has_table("events"):
            return 0
        with engine.begin() as conn:
            result = conn.execute(text("DELETE FROM events WHERE timestamp < :cutoff"),
                                  {"cutoff": cutoff.timestamp()})
            return int(result.rowcount or 0)
    finally:
        engine.dispose()
