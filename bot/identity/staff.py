"""Staff accounts for the console: argon2 password hashes, throttled sign-in, sessions that expire, CSRF
tokens, roles.

A session's cookie carries a random token; the store keeps only its SHA-256, the user, a CSRF token and
when it expires (idle timeout, renewed on use, and an absolute limit from sign-in). Sign-in tries are throttled
per name and per client address (``login_throttle``) and audited.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.identity import login_throttle
from bot.store import StaffSession, StaffUser
from bot.store import audit as audit_trail
from bot.store.models import utcnow

log = logging.getLogger(__name__)
ROLES = ("staff", "owner")
MIN_PASSWORD_CHARS = 10
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a miss takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A problem with an account request, worded for the person making it."""


@dataclass(frozen=True)
class StaffIdentity:
    user_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, *, role: str = "staff",
                display_name: str = "") -> StaffUser:
    username = username.strip().lower()
    if not username or len(username) > 100 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise StaffError("a username is letters, digits, '.', '-' or '_' (up to 100)")
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise StaffError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if session.scalars(select(StaffUser).where(StaffUser.username == username)).first() is not None:
        raise StaffError(f"a staff user named {username!r} already exists")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role,
                     display_name=display_name or username)
    session.add(user)
    session.flush()
    log.info("staff.user_created user_id=%s role=%s", user.id, role)
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    user = session.scalars(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        log.info("staff.login_failed known_user=%s", user is not None)
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def normalise_username(username: str) -> str:
    return username.strip().lower()[:100]


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in try: a session token, or why not (wrong | wait | locked)."""

    token: str = ""
    refused: str = ""
    retry_after_s: int = 0


def sign_in(sessions: sessionmaker[Session], username: str, password: str, *, address: str,
            policy: login_throttle.Policy, idle: timedelta, now: datetime | None = None) -> SignIn:
    """Check a sign-in under the throttle (blocking: argon2). A wrong name and a wrong password look the same:
    same answer, same time, same counting."""
    now = now or utcnow()
    name = normalise_username(username)
    with sessions() as session:
        reservation = login_throttle.reserve(session, name, address, now, policy)
        session.commit()
    if reservation.refused:
        log.info("staff.login_refused reason=%s retry_after_s=%d", reservation.refused, reservation.retry_after_s)
        return SignIn(refused=reservation.refused, retry_after_s=reservation.retry_after_s)
    with sessions() as session:
        user = authenticate(session, name, password)
        if user is not None:
            login_throttle.succeeded(session, reservation, now)
            token = start_session(session, user, idle=idle, now=now)
            audit_trail.record(session, actor_type="staff", actor_id=user.username, patient_id=None,
                               action="staff_login", detail={"address": address}, at=now)
            session.commit()
            return SignIn(token=token)
        known = session.scalars(select(StaffUser.username).where(StaffUser.username == name)).first()
        actor = known or "unknown"
        audit_trail.record(session, actor_type="staff", actor_id=actor, patient_id=None, action="staff_login_failed",
                           detail={"address": address, "failures": reservation.failures}, at=now)
        if login_throttle.failed(session, reservation, now, policy):
            audit_trail.record(session, actor_type="staff", actor_id=actor, patient_id=None, action="staff_locked",
                               detail={"address": address, "failures": reservation.failures}, at=now)
            log.warning("staff.login_locked known_user=%s failures=%d", known is not None, reservation.failures)
        session.commit()
    return SignIn(refused="wrong")


def unlock(session: Session, username: str, *, by: str) -> bool:
    """An owner lifts a sign-in lock (audited). True when the account was locked or waiting."""
    name = normalise_username(username)
    lifted = login_throttle.unlock(session, name)
    if lifted:
        audit_trail.record(session, actor_type="staff", actor_id=by, patient_id=None, action="staff_unlocked",
                           detail={"account": name})
    return lifted


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: StaffUser, *, idle: timedelta, now: datetime | None = None) -> str:
    """A new session for ``user``; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                             created_at=now, last_seen_at=now, expires_at=now + idle))
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))  # tidy up old ones
    log.info("staff.login user_id=%s", user.id)
    return token


def resume_session(session: Session, token: str, *, idle: timedelta, max_age: timedelta,
                   now: datetime | None = None) -> StaffIdentity | None:
    """The signed-in staff member for a cookie token, renewing its idle timeout; None if expired or unknown."""
    if not token:
        return None
    now = now or utcnow()
    row = session.get(StaffSession, _digest(token))
    if row is None:
        return None
    if row.expires_at <= now or row.created_at + max_age <= now or not row.user.active:
        session.delete(row)
        return None
    row.last_seen_at = now
    row.expires_at = min(now + idle, row.created_at + max_age)
    user = row.user
    return StaffIdentity(user.id, user.username, user.display_name or user.username, user.role, row.csrf_token)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def csrf_ok(identity: StaffIdentity, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(identity.csrf_token.encode(), (submitted or "").encode())
