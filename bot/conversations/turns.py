"""One turn of a conversation at a time, whichever gateway a message reaches.

Inside one process an ``asyncio.Lock`` per conversation queues its turns; across processes a lease in the clinic
database (``conversation:<id>``, ``bot.store.leases``) does, renewed while the turn lasts (an engine answer can
take a while) and released at its end. A gateway killed in the middle of a turn stops renewing, and the next
turn of that conversation proceeds once the lease expires. Every database call runs in a thread, off the event
loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import Engine

from bot.store import leases

log = logging.getLogger(__name__)


class TurnLock:
    def __init__(self, engine: Engine, holder: str | None = None, ttl_s: float = 30.0) -> None:
        self._engine = engine
        self.holder = holder or leases.process_id("gateway")
        self._ttl = timedelta(seconds=ttl_s)
        self._local: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def _local_lock(self, conversation_id: str) -> AsyncIterator[asyncio.Lock]:
        lock = self._local.setdefault(conversation_id, asyncio.Lock())
        self._users[conversation_id] = self._users.get(conversation_id, 0) + 1
        try:
            yield lock
        finally:
            self._users[conversation_id] -= 1
            if not self._users[conversation_id]:  # nobody waits for it: forget it
                del self._users[conversation_id], self._local[conversation_id]

    async def _take(self, name: str) -> bool:
        return await asyncio.to_thread(leases.try_acquire, self._engine, name, self.holder, self._ttl)

    async def _renew_while_held(self, name: str) -> None:
        while True:
            await asyncio.sleep(self._ttl.total_seconds() / 3)
            if not await asyncio.to_thread(leases.renew, self._engine, name, self.holder, self._ttl):
                log.warning("conversation.turn_lease_lost name_kind=conversation")
                return

    @asynccontextmanager
    async def _held(self, name: str) -> AsyncIterator[None]:
        renewer = asyncio.create_task(self._renew_while_held(name))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await asyncio.to_thread(leases.release, self._engine, name, self.holder)

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        """Wait for this conversation's turn (here and in every other gateway), then hold it."""
        name = f"conversation:{conversation_id}"
        async with self._local_lock(conversation_id) as lock, lock:
            delay = 0.02
            while not await self._take(name):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.25)
            async with self._held(name):
                yield

    @asynccontextmanager
    async def hold_if_free(self, conversation_id: str) -> AsyncIterator[bool]:
        """Hold the turn only if nobody does now (yields False otherwise: whoever holds it answers what waits)."""
        name = f"conversation:{conversation_id}"
        async with self._local_lock(conversation_id) as lock:
            if lock.locked():
                yield False
                return
            async with lock:
                if not await self._take(name):
                    yield False
                    return
                async with self._held(name):
                    yield True
