"""Of several gateways sharing a clinic database, exactly one runs the reminder scheduler, the retention job and
the other clinic-wide duties the gateway hands it (the waitlist sweep, copying intents for the dashboard): the
holder of the ``scheduler`` lease (``bot.store.leases``).

Every gateway runs ``Leader.run``: the holder renews the lease every third of its time to live; the others try to
take it as often. A holder killed with SIGKILL stops renewing, and another gateway takes over within the lease's
time to live and a third (20 s with the default 15 s). A holder that cannot renew (the database is unreachable)
stops its scheduler before its lease can have expired, so two schedulers never run at once; even then a
reminder is claimed in the store before it is sent, so it goes out once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot import reminders
from bot.messaging.outbound import SmsSender
from bot.settings import Settings
from bot.store import get_engine, leases, live_events
from bot.store.retention import purge

log = logging.getLogger("clinicbot.leader")
RETENTION_FIRST_S = 60.0  # the first purge after taking over, then daily
RETENTION_EVERY_S = 24 * 3600.0
HOUSEKEEPING_EVERY_S = 60.0


@dataclass(frozen=True)
class Duty:
    """A job only the lease holder runs, every ``every_s`` seconds, in a thread; it returns what to log (or '')."""

    name: str
    every_s: float
    run: Callable[[], str]


class Leader:
    def __init__(self, settings: Settings, sender: SmsSender, holder: str, duties: list[Duty] | None = None) -> None:
        self.settings = settings
        self.sender = sender
        self.holder = holder
        self.duties = list(duties or [])
        self.ttl = timedelta(seconds=settings.gateway.lease_ttl_s)
        self.holding = False
        self._renewed = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def _engine(self) -> Engine:
        return get_engine(self.settings.database_url)

    async def check(self) -> None:
        """Renew the lease we hold, or try to take it; start or stop the scheduler to match."""
        try:
            if self.holding:
                if await asyncio.to_thread(leases.renew, self._engine, leases.SCHEDULER, self.holder, self.ttl):
                    self._renewed = time.monotonic()
                else:
                    await self._step_down("lost")
            elif await asyncio.to_thread(leases.try_acquire, self._engine, leases.SCHEDULER, self.holder, self.ttl):
                self._renewed = time.monotonic()
                await self._take_over()
        except Exception:
            log.exception("leader.lease_check_failed holding=%s", self.holding)
            if self.holding and time.monotonic() - self._renewed > 0.8 * self.ttl.total_seconds():
                await self._step_down("unrenewed")  # another gateway may take it any moment

    async def run(self) -> None:
        """Check every third of the lease's time to live (after the first ``check`` at start)."""
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            await self.check()

    async def _take_over(self) -> None:
        log.info("leader.took_over holder_kind=gateway ttl_s=%.0f", self.ttl.total_seconds())
        self.holding = True
        # persistent jobs: due ones run now; unfinished sends are settled first
        await asyncio.to_thread(reminders.start_scheduler, self.settings, self.sender)
        self._tasks = [asyncio.create_task(self._retention()), asyncio.create_task(self._housekeeping()),
                       *(asyncio.create_task(self._duty(duty)) for duty in self.duties)]

    async def _step_down(self, why: str) -> None:
        if not self.holding:
            return
        log.warning("leader.stepped_down reason=%s", why)
        self.holding = False
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await asyncio.to_thread(reminders.stop_scheduler, self.settings)

    async def stop(self) -> None:
        was_holding = self.holding
        await self._step_down("shutdown")
        if was_holding:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(leases.release, self._engine, leases.SCHEDULER, self.holder)

    async def _retention(self) -> None:
        await asyncio.sleep(RETENTION_FIRST_S)
        while True:
            try:
                counts = await asyncio.to_thread(purge, self.settings, datetime.now(UTC))
                log.info("leader.retention_purged messages=%d tracker_events=%d", counts.messages,
                         counts.tracker_events)
            except Exception:
                log.exception("leader.retention_failed")
            await asyncio.sleep(RETENTION_EVERY_S)

    async def _duty(self, duty: Duty) -> None:
        while True:
            await asyncio.sleep(duty.every_s)
            try:
                result = await asyncio.to_thread(duty.run)
                if result:
                    log.info("leader.%s result=%s", duty.name, result)
            except Exception:
                log.exception("leader.%s_failed", duty.name)

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_EVERY_S)
            try:
                events = await asyncio.to_thread(live_events.prune, self._engine, timedelta(minutes=5))
                stale = await asyncio.to_thread(leases.drop_expired, self._engine, timedelta(hours=1))
                if events or stale:
                    log.info("leader.housekeeping live_events=%d leases=%d", events, stale)
            except Exception:
                log.exception("leader.housekeeping_failed")
