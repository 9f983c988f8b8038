"""Leases in the clinic database: a name held by one process until it expires, renewed by its holder.

Taking one is a compare-and-set (``UPDATE ... WHERE name = :name AND (holder = :me OR expires_at < :now)``, or
the first INSERT of the name), so two processes never both hold it: on PostgreSQL the second UPDATE waits for the
first and then finds the row no longer matches; on SQLite writers are serialised. A holder that dies stops
renewing, and the lease is free again once it expires. Each call is its own short transaction.

Times are the processes' clocks (UTC): hosts that share a database keep them in step (NTP); the leases here
last 15 s or more, far longer than any such drift.

Names in use: ``scheduler`` (the one gateway that runs reminders and the retention job),
``conversation:<id>`` (one turn of a conversation at a time, whichever gateway took it),
``gateway:<id>`` (a gateway is alive: others publish live events for it).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.scale_models import Lease

SCHEDULER = "scheduler"


def process_id(role: str) -> str:
    """A holder id for this process: role, host, pid and a random part (a restarted pid is someone else)."""
    return f"{role}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> datetime:
    return datetime.now(UTC)


def try_acquire(engine: Engine, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take (or renew) the lease if it is free, expired, or already ours. True when we hold it now."""
    now = now or _now()
    with engine.begin() as conn:
        taken = conn.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount == 1:
            return True
        if conn.execute(select(Lease.name).where(Lease.name == name)).first() is not None:
            return False  # held by someone else, not expired
    try:
        with engine.begin() as conn:
            conn.execute(insert(Lease).values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        return True
    except IntegrityError:  # another process inserted it first
        return False


def renew(engine: Engine, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Extend a lease we hold. False when it is no longer ours (it expired and someone else took it)."""
    now = now or _now()
    with engine.begin() as conn:
        result = conn.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                              .values(expires_at=now + ttl))
        return result.rowcount == 1


def release(engine: Engine, name: str, holder: str) -> None:
    """Give the lease up (only if we still hold it)."""
    with engine.begin() as conn:
        conn.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def holder_of(engine: Engine, name: str, now: datetime | None = None) -> str | None:
    """Who holds the lease now (None when nobody does, or it expired)."""
    now = now or _now()
    with engine.connect() as conn:
        return conn.execute(select(Lease.holder).where(Lease.name == name, Lease.expires_at >= now)).scalar()


def live_holders(engine: Engine, prefix: str, now: datetime | None = None) -> list[str]:
    """Unexpired leases whose name starts with ``prefix`` (e.g. every gateway alive: ``gateway:``)."""
    now = now or _now()
    with engine.connect() as conn:
        return list(conn.execute(select(Lease.name).where(Lease.name.startswith(prefix, autoescape=True),
                                                          Lease.expires_at >= now)).scalars())


def drop_expired(engine: Engine, older_than: timedelta, now: datetime | None = None) -> int:
    """Remove leases that expired long ago (a killed process's conversation turns and presence)."""
    now = now or _now()
    with engine.begin() as conn:
        result = conn.execute(delete(Lease).where(Lease.expires_at < now - older_than))
        return int(result.rowcount or 0)
