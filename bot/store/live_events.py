"""Live events shared between gateways: a page or a console connected to one gateway hears about a message that
another gateway stored (a staff reply, a late answer, a reminder), about typing and about queue changes.

Rows hold ids and small flags, never message text. Each gateway polls for rows it did not publish itself. On
PostgreSQL ids come from a sequence and a row with a lower id can commit after one with a higher id, so a poll
reads a little behind its high-water mark and skips the ids it already delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from bot.store.models import utcnow
from bot.store.scale_models import LiveEvent

LOOKBACK_IDS = 200  # rows committed out of id order are at most this far behind the newest one seen


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    topic: str  # chat | console
    sender: str
    kind: str  # message | typing | queue
    message_id: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Outgoing:
    topic: str
    kind: str
    sender: str
    message_id: int | None
    data: dict[str, Any]


def publish_all(engine: Engine, origin: str, events: list[Outgoing]) -> None:
    """Write events in the order given, in one transaction."""
    at = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(LiveEvent), [{"at": at, "origin": origin, "topic": e.topic, "sender": e.sender,
                                          "kind": e.kind, "message_id": e.message_id, "data": e.data}
                                         for e in events])


def newest_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(LiveEvent.id))).scalar() or 0)


def since(engine: Engine, after_id: int, origin: str, limit: int = 500) -> list[Event]:
    """Events with an id above ``after_id - LOOKBACK_IDS`` published by other gateways, oldest first."""
    with engine.connect() as conn:
        table = LiveEvent.__table__
        rows = conn.execute(select(table).where(table.c.id > after_id - LOOKBACK_IDS, table.c.origin != origin)
                            .order_by(table.c.id).limit(limit)).all()
    return [Event(r.id, r.at, r.topic, r.sender, r.kind, r.message_id, dict(r.data or {})) for r in rows]


def prune(engine: Engine, older_than: timedelta, now: datetime | None = None) -> int:
    with engine.begin() as conn:
        result = conn.execute(delete(LiveEvent).where(LiveEvent.at < (now or utcnow()) - older_than))
        return int(result.rowcount or 0)
