"""Pushes shared between two gateways through the clinic store: a page on one gateway hears what the other stored;
nothing is shared while a gateway is alone; text never goes into the shared table."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from adapters.live import LiveHub, LiveRelay
from bot.conversations import rows
from bot.settings import Settings
from bot.store import LiveEvent, get_engine, session_scope
from bot.store.db import session_factory
from bot.store.states import Author, MessageStatus

SENDER = "relay-page-000001"


class FakeSocket:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def send_json(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def store_reply(settings: Settings, text: str) -> tuple[Any, Any]:
    with session_scope(settings.database_url) as session:
        conversation = rows.find_or_create_conversation(session, "web", SENDER)
        message = rows.record_outbound(session, conversation.id, text, author=Author.STAFF,
                                       status=MessageStatus.SENT)
        session.flush()
        session.expunge_all()
        return conversation, message


def test_a_page_on_the_other_gateway_gets_the_message_and_typing(store: Settings) -> None:
    engine, sessions = get_engine(store.database_url), session_factory(store.database_url)
    relay_a, relay_b = LiveRelay(engine, "gw-a", poll_s=0.05), LiveRelay(engine, "gw-b", poll_s=0.05)
    hub_a, hub_b = LiveHub(relay_a, sessions), LiveHub(relay_b, sessions)
    page, console = FakeSocket(), FakeSocket()
    hub_b._chat[SENDER].add(page)  # type: ignore[arg-type]
    hub_b._console.add(console)  # type: ignore[arg-type]
    conversation, message = store_reply(store, "Dana here, how can I help?")

    async def main() -> None:
        alone = await asyncio.to_thread(relay_a._presence)
        assert alone == 0
        await hub_a.on_outbound(conversation, message)  # nobody else alive yet: not shared
        relay_b.peers = await asyncio.to_thread(relay_b._presence)  # the second gateway comes up
        relay_a.peers = await asyncio.to_thread(relay_a._presence)
        assert (relay_a.peers, relay_b.peers) == (1, 1)
        runners = [asyncio.create_task(relay_b.run(hub_b)), asyncio.create_task(relay_a.run(hub_a))]
        await asyncio.sleep(0.3)
        await hub_a.typing(conversation, True, who="staff")
        await hub_a.on_outbound(conversation, message)
        for _ in range(100):
            if len(page.events) >= 2 and console.events:
                break
            await asyncio.sleep(0.05)
        for runner in runners:
            runner.cancel()

    asyncio.run(main())
    assert page.events == [{"type": "typing", "on": True, "who": "staff"},
                           {"type": "message", "message": {**rows.message_view(message), "direction": "out",
                                                           "status": "sent"}}]
    assert console.events == [{"type": "queue", "conversation_id": conversation.id}]
    with session_scope(store.database_url) as session:
        shared = session.scalars(select(LiveEvent)).all()
        assert len(shared) == 3 and all(e.origin == "gw-a" for e in shared)
        assert "Dana" not in repr([(e.data, e.sender) for e in shared])  # ids, never text
