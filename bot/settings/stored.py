"""The owner's changes from the settings page, kept in the clinic database (table ``owner_settings``, one row
with a ``version`` that goes up on each save) so that every process that shares the database sees them: each
polls the version every couple of seconds and applies a newer one in place.

This module sits below the store (settings are read before anything else), so it reaches the table through
SQLAlchemy Core with a table definition of its own; ``bot.store.scale_models.OwnerSettings`` is the same table for
the migrations (a test holds the two together).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

log = logging.getLogger(__name__)

ROW_ID = 1
owner_settings = Table(
    "owner_settings", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("updated_at", DateTime, nullable=False),  # naive UTC, as the store keeps every time
    Column("updated_by", String(100), nullable=False),
)
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def driver_url(url: str) -> str:
    """The URL with the driver this environment has: ``postgresql://`` (what Rasa's tracker store and most
    guides write) means psycopg 3 here."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _engine(url: str) -> Engine | None:
    """A small engine for this URL; None for a SQLite file that does not exist yet (reading must not create it)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": 10})
            else:
                engine = create_engine(driver_url(url), pool_size=1, max_overflow=2, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def read(url: str) -> tuple[int, dict[str, Any]] | None:
    """(version, changes) saved by the owner; None when there are none (or the store is not there yet)."""
    engine = _engine(url)
    if engine is None:
        return None
    try:
        with engine.connect() as conn:
            row = conn.execute(select(owner_settings.c.version, owner_settings.c.data)
                               .where(owner_settings.c.id == ROW_ID)).first()
    except SQLAlchemyError as exc:  # not migrated yet, or the database is down: nothing to apply now
        log.debug("settings.owner_read_failed error=%s", type(exc).__name__)
        return None
    return (int(row.version), dict(row.data)) if row is not None else None


def version(url: str) -> int | None:
    """The version of the owner's saved changes (cheap: one indexed read), None when none are saved."""
    engine = _engine(url)
    if engine is None:
        return None
    try:
        with engine.connect() as conn:
            found = conn.execute(select(owner_settings.c.version).where(owner_settings.c.id == ROW_ID)).scalar()
    except SQLAlchemyError as exc:
        log.debug("settings.owner_poll_failed error=%s", type(exc).__name__)
        return None
    return int(found) if found is not None else None


def write(url: str, changes: dict[str, Any], by: str) -> int:
    """Save the owner's changes as the next version; returns it."""
    engine = _engine(url)
    if engine is None:
        raise FileNotFoundError(f"no clinic store at {url}: run `clinicbot migrate` first")
    at = datetime.now(UTC).replace(tzinfo=None)
    values = {"data": changes, "updated_at": at, "updated_by": by[:100]}
    for _ in range(3):
        with engine.begin() as conn:
            bumped = conn.execute(update(owner_settings).where(owner_settings.c.id == ROW_ID)
                                  .values(version=owner_settings.c.version + 1, **values))
            if bumped.rowcount == 1:
                return int(conn.execute(select(owner_settings.c.version)
                                        .where(owner_settings.c.id == ROW_ID)).scalar_one())
        try:
            with engine.begin() as conn:
                conn.execute(owner_settings.insert().values(id=ROW_ID, version=1, **values))
            return 1
        except IntegrityError:  # saved at the same moment by another process: bump that one
            continue
    raise RuntimeError("could not save the owner's settings")
