"""Each reminder handed to the SMS provider exactly once: the send ledger (``OutboundSend``).

Before the provider is called, the send is on record (status ``sending``, an idempotency key, the number and a
hash of the text) in the same commit as the reminder's claim and its message row; after the call, the outcome
is recorded. A process killed in between leaves ``sending`` behind: once no live send can still be under way
(``send_deadline``), the provider's own list of messages to that number is asked (``ProviderLog``). Found there:
it was sent, and is recorded so. Not found: it never left, and is sent again under the same key. A sender that
keeps no list (the outbox) never reached anyone, so its sends are simply made again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.messaging.outbound import OutboxSender, SendResult, SmsSender
from bot.settings import Settings
from bot.store import Message, OutboundSend, ReminderSend, session_scope
from bot.store.models import utcnow
from bot.store.states import MessageStatus, ReminderStatus

log = logging.getLogger(__name__)
SENDING = "sending"
CLOCK_SLACK = timedelta(seconds=60)  # our clock against the provider's, when matching its records


@dataclass(frozen=True)
class ProviderMessage:
    """One message in the provider's own records."""

    sid: str
    body: str
    created_at: datetime | None
    status: str


@runtime_checkable
class ProviderLog(Protocol):
    """A sender whose provider keeps a list of what it accepted (Twilio's Messages list)."""

    def sent_messages(self, to: str, since: datetime) -> list[ProviderMessage]: ...


def body_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provider_name(sender: SmsSender) -> str:
    if isinstance(sender, OutboxSender):
        return "outbox"
    return str(getattr(sender, "provider_name", type(sender).__name__))[:16]


def send_deadline(settings: Settings) -> timedelta:
    """The longest one send can take (every attempt timing out, with the backoffs between): after that, a send
    still marked ``sending`` belongs to a process that is gone."""
    sms = settings.sms
    backoffs = sum(sms.retry_backoff_s * 2**i for i in range(sms.send_attempts - 1))
    return timedelta(seconds=sms.send_attempts * sms.timeout_s + backoffs + 3)


def begin(session: Session, key: str, to: str, message_id: int, text: str, sender: SmsSender,
          now: datetime) -> OutboundSend:
    """Put the send on record (flushed; the caller commits before calling the provider)."""
    send = OutboundSend(idempotency_key=key, to_number=to, message_id=message_id, body_sha256=body_hash(text),
                        provider=provider_name(sender), status=SENDING, attempts=1, started_at=now)
    session.add(send)
    session.flush()
    return send


def hand_over(url: str, send_id: int, to: str, text: str, sender: SmsSender) -> str:
    """Call the provider for a send on record, then record what it said. Returns the send's status."""
    result = sender.send(to, text)
    finish(url, send_id, result)
    return result.status


def finish(url: str, send_id: int, result: SendResult, *, reconciled: bool = False) -> None:
    """Record the outcome on the ledger, the message and the reminder's claim."""
    with session_scope(url) as session:
        send = session.get(OutboundSend, send_id)
        assert send is not None
        send.status, send.provider_id = result.status, result.provider_id
        send.error, send.finished_at, send.reconciled = (result.error or "")[:32], utcnow(), reconciled
        _record_on_message(session, send.message_id, result)
    log.info("reminder.send.recorded send_id=%s status=%s reconciled=%s", send_id, result.status, reconciled)


def _record_on_message(session: Session, message_id: int | None, result: SendResult) -> None:
    if message_id is None:
        return
    message = session.get(Message, message_id)
    if message is not None:
        message.status = MessageStatus.FAILED if result.status == "opted_out" else MessageStatus(result.status)
        message.provider_id = result.provider_id
    claim = session.scalars(select(ReminderSend).where(ReminderSend.message_id == message_id)).first()
    if claim is not None:
        claim.status = (ReminderStatus.SKIPPED_OPT_OUT if result.status == "opted_out"
                        else ReminderStatus(result.status))


@dataclass(frozen=True)
class Unfinished:
    id: int
    to: str
    body_sha256: str
    provider: str
    started_at: datetime
    message_id: int | None


def unfinished(url: str, now: datetime, deadline: timedelta) -> list[Unfinished]:
    """Sends still ``sending`` although no live send could take this long."""
    with session_scope(url) as session:
        rows = session.scalars(select(OutboundSend).where(OutboundSend.status == SENDING,
                                                          OutboundSend.started_at < now - deadline)
                               .order_by(OutboundSend.id)).all()
        return [Unfinished(r.id, r.to_number, r.body_sha256, r.provider, r.started_at, r.message_id) for r in rows]


def found_at_provider(sender: SmsSender, send: Unfinished) -> ProviderMessage | bool | None:
    """The provider's record of this send; None when it has none; False when we cannot know (no list, or
    the provider did not answer)."""
    if send.provider == "outbox":
        return None  # the outbox reaches nobody: nothing can have left
    if not isinstance(sender, ProviderLog):
        return False
    try:
        listed = sender.sent_messages(send.to, send.started_at - CLOCK_SLACK)
    except Exception as exc:  # the provider is down: ask again on the next round
        log.warning("reminder.reconcile.lookup_failed send_id=%s error=%s", send.id, type(exc).__name__)
        return False
    for item in listed:
        fresh = item.created_at is None or item.created_at >= send.started_at - CLOCK_SLACK
        if fresh and body_hash(item.body) == send.body_sha256:
            return item
    return None


def retry(url: str, send: Unfinished, now: datetime) -> bool:
    """Mark a new attempt of a send that never reached the provider: a compare-and-set on its status and start
    time, so two reconcilers cannot both send it. True when this caller is to send it."""
    with session_scope(url) as session:
        result = session.execute(
            update(OutboundSend)
            .where(OutboundSend.id == send.id, OutboundSend.status == SENDING,
                   OutboundSend.started_at == send.started_at)
            .values(attempts=OutboundSend.attempts + 1, started_at=now))
        return bool(getattr(result, "rowcount", 0) == 1)
