"""Console sign-in throttling, per account name and per client address.

Each failed sign-in counts against the name typed (known account or not, so the answers never tell which names
exist) and against the client's address. After a few free tries every failure doubles the wait before the next
try is even checked (2 s, 4 s, 8 s ... at most 15 minutes); while waiting, even the right password is refused.
``lock_after`` failures in a row lock the account name until an owner unlocks it (or ``lock_minutes`` pass).

A try is reserved before the password is checked (an atomic ``UPDATE ... SET failures = failures + 1`` that
only matches when neither the name nor the address is waiting or locked), so twenty tries sent at once are
counted as twenty; a right password gives its reservation back.

Names and addresses are kept as SHA-256 hashes: a password typed into the name field is not stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.settings import ConsoleSettings
from bot.store import LoginThrottle

ACCOUNT, ADDRESS = "account", "address"
MAX_WAIT = timedelta(minutes=15)
# failures are forgotten after this long without another one
FORGET_AFTER = {ACCOUNT: timedelta(days=1), ADDRESS: timedelta(minutes=30)}


@dataclass(frozen=True)
class Policy:
    free_tries: int = 3
    lock_after: int = 10
    lock_minutes: int = 60  # 0: locked until an owner unlocks
    address_free_tries: int = 10

    @classmethod
    def from_settings(cls, console: ConsoleSettings) -> Policy:
        return cls(console.login_free_tries, console.login_lock_after, console.login_lock_minutes,
                   console.login_address_free_tries)

    def lock_expires(self, locked_at: datetime) -> datetime | None:
        return locked_at + timedelta(minutes=self.lock_minutes) if self.lock_minutes else None


@dataclass(frozen=True)
class Reservation:
    """One sign-in try: allowed (``refused`` empty) with the counts it reserved, or refused and why."""

    name_key: str
    address_key: str
    refused: str = ""  # "" | wait | locked
    retry_after_s: int = 0
    failures: int = 0  # the name's failures in a row, this try included
    address_blocked_until: datetime | None = None  # the address's wait before this try (restored on success)


def key_of(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode("utf-8", "replace")).hexdigest()


def wait_after(failures: int, free_tries: int) -> timedelta:
    """How long the next try waits after ``failures`` in a row: nothing for the free tries, then doubling."""
    if failures < free_tries:
        return timedelta(0)
    return min(MAX_WAIT, timedelta(seconds=2 ** min(failures - free_tries + 1, 20)))


def _ensure(session: Session, kind: str, key: str) -> None:
    """The row for this key exists (an INSERT that ignores a conflict: it also opens the write transaction, so
    on SQLite the reads that follow are under the write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(LoginThrottle).values(kind=kind, key=key, failures=0).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(LoginThrottle).values(kind=kind, key=key, failures=0)
                        .on_conflict_do_nothing())


def _expire(session: Session, kind: str, key: str, now: datetime, policy: Policy) -> None:
    """Forget old failures, and lift a lock whose time is up."""
    where = and_(LoginThrottle.kind == kind, LoginThrottle.key == key)
    session.execute(update(LoginThrottle).where(where, LoginThrottle.locked_at.is_(None),
                                                LoginThrottle.last_failure_at < now - FORGET_AFTER[kind])
                    .values(failures=0, blocked_until=None))
    if policy.lock_minutes:
        session.execute(update(LoginThrottle).where(
            where, LoginThrottle.locked_at < now - timedelta(minutes=policy.lock_minutes))
            .values(failures=0, blocked_until=None, locked_at=None))


def _take(session: Session, kind: str, key: str, now: datetime) -> bool:
    """Count one more try unless this key is waiting or locked (atomic: the check and the count are one UPDATE)."""
    taken = session.execute(update(LoginThrottle).where(
        LoginThrottle.kind == kind, LoginThrottle.key == key, LoginThrottle.locked_at.is_(None),
        or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now))
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
        .execution_options(synchronize_session=False))
    return bool(getattr(taken, "rowcount", 0))


def _seconds(until: datetime | None, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999)) if until is not None else 0


def reserve(session: Session, name: str, address: str, now: datetime, policy: Policy) -> Reservation:
    """Reserve a try for ``name`` from ``address`` (the caller commits at once), or say why it is refused."""
    name_key, address_key = key_of(ACCOUNT, name), key_of(ADDRESS, address)
    for kind, key in ((ACCOUNT, name_key), (ADDRESS, address_key)):
        _ensure(session, kind, key)
        _expire(session, kind, key, now, policy)
    account = session.get(LoginThrottle, (ACCOUNT, name_key), populate_existing=True)
    place = session.get(LoginThrottle, (ADDRESS, address_key), populate_existing=True)
    assert account is not None and place is not None
    if account.locked_at is not None:
        return Reservation(name_key, address_key, "locked")
    address_before = place.blocked_until
    if not _take(session, ACCOUNT, name_key, now) or not _take(session, ADDRESS, address_key, now):
        session.rollback()  # neither count stands
        account = session.get(LoginThrottle, (ACCOUNT, name_key), populate_existing=True)
        place = session.get(LoginThrottle, (ADDRESS, address_key), populate_existing=True)
        if account is not None and account.locked_at is not None:
            return Reservation(name_key, address_key, "locked")
        waits = [r.blocked_until for r in (account, place) if r is not None and r.blocked_until is not None]
        return Reservation(name_key, address_key, "wait", _seconds(max(waits) if waits else now, now))
    account = session.get(LoginThrottle, (ACCOUNT, name_key), populate_existing=True)
    place = session.get(LoginThrottle, (ADDRESS, address_key), populate_existing=True)
    assert account is not None and place is not None
    # the wait that applies if this try fails (given back on success)
    account.blocked_until = now + wait_after(account.failures, policy.free_tries) \
        if wait_after(account.failures, policy.free_tries) else None
    place.blocked_until = now + wait_after(place.failures, policy.address_free_tries) \
        if wait_after(place.failures, policy.address_free_tries) else None
    return Reservation(name_key, address_key, failures=account.failures, address_blocked_until=address_before)


def succeeded(session: Session, reservation: Reservation, now: datetime) -> None:
    """The password was right: the name's count starts over, the address gets its try back."""
    session.execute(update(LoginThrottle).where(LoginThrottle.kind == ACCOUNT,
                                                LoginThrottle.key == reservation.name_key)
                    .values(failures=0, blocked_until=None))
    session.execute(update(LoginThrottle).where(LoginThrottle.kind == ADDRESS,
                                                LoginThrottle.key == reservation.address_key,
                                                LoginThrottle.failures > 0)
                    .values(failures=LoginThrottle.failures - 1, blocked_until=reservation.address_blocked_until))
    # tidy up: names nobody has mistyped for two days
    session.execute(delete(LoginThrottle).where(LoginThrottle.locked_at.is_(None),
                                                LoginThrottle.last_failure_at < now - timedelta(days=2)))


def failed(session: Session, reservation: Reservation, now: datetime, policy: Policy) -> bool:
    """The password was wrong (the try is already counted). True when this failure locked the name."""
    if reservation.failures < policy.lock_after:
        return False
    locked = session.execute(update(LoginThrottle).where(
        LoginThrottle.kind == ACCOUNT, LoginThrottle.key == reservation.name_key,
        LoginThrottle.locked_at.is_(None)).values(locked_at=now))
    return bool(getattr(locked, "rowcount", 0))


@dataclass(frozen=True)
class AccountLock:
    failures: int
    locked_at: datetime | None
    waiting_until: datetime | None


def status(session: Session, name: str, now: datetime, policy: Policy) -> AccountLock:
    """What an owner sees of one account: failures in a row, locked since, waiting until."""
    row = session.get(LoginThrottle, (ACCOUNT, key_of(ACCOUNT, name)))
    if row is None:
        return AccountLock(0, None, None)
    expires = policy.lock_expires(row.locked_at) if row.locked_at else None
    locked_at = row.locked_at if row.locked_at and (expires is None or expires > now) else None
    waiting = row.blocked_until if row.blocked_until and row.blocked_until > now and not locked_at else None
    return AccountLock(row.failures if locked_at or waiting else 0, locked_at, waiting)


def unlock(session: Session, name: str) -> bool:
    """An owner lifts a lock (and the wait). True when the account was locked or waiting."""
    lifted = session.execute(update(LoginThrottle).where(
        LoginThrottle.kind == ACCOUNT, LoginThrottle.key == key_of(ACCOUNT, name),
        or_(LoginThrottle.locked_at.is_not(None), LoginThrottle.failures > 0))
        .values(failures=0, blocked_until=None, locked_at=None))
    return bool(getattr(lifted, "rowcount", 0))


def locked_names(session: Session, names: list[str], now: datetime, policy: Policy) -> dict[str, datetime]:
    """Which of these account names are locked now, and since when."""
    keys = {key_of(ACCOUNT, n): n for n in names}
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.kind == ACCOUNT,
                                                       LoginThrottle.key.in_(list(keys)),
                                                       LoginThrottle.locked_at.is_not(None)))
    out = {}
    for row in rows:
        assert row.locked_at is not None
        expires = policy.lock_expires(row.locked_at)
        if expires is None or expires > now:
            out[keys[row.key]] = row.locked_at
    return out
