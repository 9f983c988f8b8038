"""What patients asked: the intents the engine read, copied from Rasa's tracker store into the activity ledger.

The tracker store keeps one row per event (``events``: id, sender_id, type_name, timestamp, intent_name ...) and
is purged after ``retention_days``; the ledger keeps only the intent's name, the channel and the opaque
conversation id, so the dashboard can count a year. The gateway copies new user events every minute, from the
last event id it copied (kept as the ledger row's ``ref``); nothing is read twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from bot.settings import Settings
from bot.store import ActivityEvent, Conversation, session_scope
from bot.store import activity as activity_ledger

log = logging.getLogger(__name__)
BATCH = 5000


def tracker_engine(url: str) -> Engine:
    """An engine on the tracker store (Rasa's ``postgresql://`` URL through psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, poolclass=NullPool)


def copy_intents(settings: Settings, tracker: Engine | None = None) -> int:
    """Copy user events newer than the last one copied; returns how many."""
    engine = tracker or tracker_engine(settings.rasa.tracker_store_url)
    try:
        if not inspect(engine).has_table("events"):
            return 0
        copied = 0
        while True:
            with session_scope(settings.database_url) as session:
                last = session.scalar(select(func.max(ActivityEvent.ref)).where(ActivityEvent.kind == "intent")) or 0
                with engine.connect() as conn:
                    newest = conn.execute(text("SELECT MAX(id) FROM events")).scalar() or 0
                    if newest < last:  # the tracker store was emptied and started again: start from its beginning
                        last = 0
                    rows = conn.execute(text(
                        "SELECT id, sender_id, timestamp, intent_name FROM events "
                        "WHERE id > :last AND type_name = 'user' ORDER BY id LIMIT :batch"),
                        {"last": last, "batch": BATCH}).all()
                if not rows:
                    return copied
                senders = {str(r[1]) for r in rows}
                channels = dict(session.execute(select(Conversation.id, Conversation.channel)
                                                .where(Conversation.id.in_(senders))).all())
                for event_id, sender, stamp, intent in rows:
                    activity_ledger.record(session, "intent", str(intent or "unknown"),
                                           channel=channels.get(str(sender), "rasa"), conversation_id=str(sender)[:32],
                                           ref=int(event_id), at=datetime.fromtimestamp(float(stamp or 0), UTC))
                copied += len(rows)
            log.info("reports.intents_copied events=%d last_event_id=%s", len(rows), rows[-1][0])
            if len(rows) < BATCH:
                return copied
    finally:
        if tracker is None:
            engine.dispose()
