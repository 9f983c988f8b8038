"""Leases in the clinic store: a compare-and-set that one holder wins, expiry, renewal, and the turn lock built on
them (on the run's backend: SQLite, or PostgreSQL under ``make test-scale``)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from bot.conversations.turns import TurnLock
from bot.settings import Settings
from bot.store import get_engine, leases

TTL = timedelta(seconds=15)


def test_one_holder_at_a_time_until_it_expires_or_lets_go(store: Settings) -> None:
    engine = get_engine(store.database_url)
    now = datetime.now(UTC)
    assert leases.try_acquire(engine, "scheduler", "gw-a", TTL, now)
    assert not leases.try_acquire(engine, "scheduler", "gw-b", TTL, now + timedelta(seconds=5))
    assert leases.try_acquire(engine, "scheduler", "gw-a", TTL, now + timedelta(seconds=5))  # ours: renewed
    assert leases.holder_of(engine, "scheduler", now + timedelta(seconds=10)) == "gw-a"
    # gw-a stops renewing (killed): once expired, gw-b takes it, and gw-a can no longer renew it
    later = now + timedelta(seconds=21)
    assert leases.holder_of(engine, "scheduler", later) is None
    assert leases.try_acquire(engine, "scheduler", "gw-b", TTL, later)
    assert not leases.renew(engine, "scheduler", "gw-a", TTL, later)
    assert leases.renew(engine, "scheduler", "gw-b", TTL, later)
    leases.release(engine, "scheduler", "gw-a")  # not its to release
    assert leases.holder_of(engine, "scheduler", later) == "gw-b"
    leases.release(engine, "scheduler", "gw-b")
    assert leases.try_acquire(engine, "scheduler", "gw-c", TTL, later)


def test_racing_holders_never_both_win(store: Settings) -> None:
    """Eight threads race for the same expired lease, twenty times: exactly one wins each time."""
    engine = get_engine(store.database_url)
    start = datetime.now(UTC)
    for round_ in range(20):
        at = start + timedelta(minutes=round_)  # the previous round's lease has expired by now
        barrier = threading.Barrier(8)
        won: list[str] = []

        def race(name: str, at: datetime = at, barrier: threading.Barrier = barrier, won: list[str] = won) -> None:
            barrier.wait()
            if leases.try_acquire(engine, "scheduler", name, TTL, at):
                won.append(name)

        threads = [threading.Thread(target=race, args=(f"gw-{round_}-{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1, won
        assert leases.holder_of(engine, "scheduler", at) == won[0]


def test_gateways_alive_are_counted_and_old_leases_cleared(store: Settings) -> None:
    engine = get_engine(store.database_url)
    now = datetime.now(UTC)
    leases.try_acquire(engine, "gateway:a", "a", TTL, now)
    leases.try_acquire(engine, "gateway:b", "b", TTL, now - timedelta(minutes=2))  # died two minutes ago
    leases.try_acquire(engine, "gateway_x", "x", TTL, now)  # '_' is not a wildcard
    assert leases.live_holders(engine, "gateway:", now) == ["gateway:a"]
    assert leases.drop_expired(engine, timedelta(minutes=1), now) == 1
    assert leases.holder_of(engine, "gateway:a", now) == "a"


def test_turns_of_one_conversation_queue_across_two_gateways(store: Settings) -> None:
    """Two turn locks (two gateways) on one conversation: the second waits for the first; another conversation
    does not wait at all."""
    engine = get_engine(store.database_url)
    first, second = TurnLock(engine, "gw-1"), TurnLock(engine, "gw-2")
    order: list[str] = []

    async def turn(lock: TurnLock, conversation: str, name: str, hold_s: float) -> None:
        async with lock.hold(conversation):
            order.append(f"{name}:in")
            await asyncio.sleep(hold_s)
            order.append(f"{name}:out")

    async def main() -> None:
        a = asyncio.create_task(turn(first, "conv-1", "a", 0.6))
        await asyncio.sleep(0.15)
        b = asyncio.create_task(turn(second, "conv-1", "b", 0.0))
        c = asyncio.create_task(turn(second, "conv-2", "c", 0.0))
        await asyncio.gather(a, b, c)
        async with second.hold_if_free("conv-1") as mine:
            assert mine
            async with first.hold_if_free("conv-1") as theirs:
                assert not theirs  # held by the other gateway: left to it

    asyncio.run(main())
    assert order.index("a:out") < order.index("b:in")
    assert order.index("c:out") < order.index("a:out")


def test_only_the_scheduler_lease_holder_runs_the_clinic_wide_duties(store: Settings) -> None:
    """The waitlist sweep and the intent copy are not safe twice at once: of two gateways' leaders only the one
    holding the lease runs them, and the other takes them over when it lets go."""
    from adapters.twilio_rest import sender_for
    from bot.runtime.leader import Duty, Leader

    runs: dict[str, int] = {"gw-1": 0, "gw-2": 0}

    def leader(holder: str) -> Leader:
        def count() -> str:
            runs[holder] += 1
            return ""
        return Leader(store, sender_for(store), holder, duties=[Duty("count", 0.05, count)])

    async def main() -> None:
        first, second = leader("gw-1"), leader("gw-2")
        await first.check()
        await second.check()
        assert first.holding and not second.holding
        await asyncio.sleep(0.5)
        assert runs["gw-1"] >= 3 and runs["gw-2"] == 0
        await first.stop()  # lets the lease go
        ran_first = runs["gw-1"]
        await second.check()
        assert second.holding
        await asyncio.sleep(0.5)
        await second.stop()
        assert runs["gw-2"] >= 3 and runs["gw-1"] == ran_first

    asyncio.run(main())
