"""A client that sends a message again (same client message id) while the first copy is still with the engine
gets the first copy's answer, marked a duplicate, not a "we'll answer shortly": the engine is asked once (on the
run's backend: SQLite, or PostgreSQL under ``make test-scale``)."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.conversations.service import ConversationService
from bot.engine.client import RasaClient
from bot.settings import Settings
from bot.store.db import session_factory


def test_a_repeat_sent_while_the_first_copy_is_being_answered_gets_the_same_answer_once(store: Settings) -> None:
    asked: list[str] = []

    async def slow_engine(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        asked.append(body["message"])
        await asyncio.sleep(0.5)
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": "We open at 8 am."}])

    async def main() -> list[tuple[str, list[str]]]:
        engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                            transport=httpx.MockTransport(slow_engine))
        service = ConversationService(session_factory(store.database_url), engine)
        conversation = service.open_conversation("web", "repeat-page-000001")
        first = asyncio.create_task(service.handle_inbound(conversation, "when do you open", client_message_id="m-1"))
        await asyncio.sleep(0.2)  # the first copy is with the engine now
        second = await service.handle_inbound(conversation, "when do you open", client_message_id="m-1")
        results = [await first, second]
        await engine.aclose()
        return [(r.status, [m.text for m in r.replies]) for r in results]

    first, second = asyncio.run(main())
    assert first == ("answered", ["We open at 8 am."])
    assert second == ("duplicate", ["We open at 8 am."])
    assert asked == ["when do you open"]
