"""The Rasa engine and the action server, reached over HTTP (Rasa's REST channel and status routes)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger("clinicbot.engine")


class EngineUnavailable(Exception):
    """The Rasa engine could not be reached: it never saw the message, which is kept and retried."""


class EngineTimeout(Exception):
    """The engine took the message but did not answer in time. Re-sending could make it act twice,
    so the message is not retried; the patient is asked to send it again."""


def intent_message(intent: str, **entities: str) -> str:
    """A message that tells the engine the intent outright (Rasa's ``/intent{"entity": "value"}`` syntax),
    for a channel that already knows what the patient means (a reply to a reminder)."""
    return f"/{intent}" + (json.dumps(entities) if entities else "")


@dataclass(frozen=True)
class BotReply:
    text: str
    custom: dict[str, Any] | None = None


class RasaClient:
    def __init__(self, rasa_url: str, action_url: str, timeout_s: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.action_health_url = action_url.removesuffix("/webhook").rstrip("/") + "/health"
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        """One patient message in, the assistant's replies out (Rasa REST webhook)."""
        try:
            response = await self._client.post(
                f"{self.rasa_url}/webhooks/rest/webhook",
                json={"sender": conversation_id, "message": text, "metadata": metadata},
            )
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                raise EngineUnavailable(type(exc).__name__) from exc
            raise EngineTimeout(type(exc).__name__) from exc  # sent, and the engine is still working on it
        except httpx.HTTPError as exc:  # refused, or the connection dropped: the engine is down or restarting
            raise EngineUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code in (404, 409, 429):
            raise EngineUnavailable(f"status {response.status_code}")
        response.raise_for_status()
        replies = []
        for item in response.json():
            if item.get("text"):
                replies.append(BotReply(text=item["text"], custom=item.get("custom")))
            elif item.get("custom"):
                replies.append(BotReply(text="", custom=item["custom"]))
        return replies

    async def last_turn(self, conversation_id: str) -> tuple[str | None, list[str]]:
        """The form the engine is in and the actions of its last turn (after the patient's last message), to read
        a bare word in context; ``(None, [])`` when the engine cannot say quickly."""
        try:
            response = await self._client.get(f"{self.rasa_url}/conversations/{conversation_id}/tracker",
                                               params={"include_events": "AFTER_RESTART"}, timeout=3.0)
            tracker = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            return None, []
        loop = (tracker.get("active_loop") or {}).get("name")
        events = tracker.get("events") or []
        last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
        actions = [str(e.get("name")) for e in events[last_user + 1:] if e.get("event") == "action"]
        return (str(loop) if loop else None), actions

    async def engine_ready(self) -> bool:
        """The engine answers and has a model loaded."""
        try:
            response = await self._client.get(f"{self.rasa_url}/status", timeout=3.0)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def actions_ready(self) -> bool:
        try:
            response = await self._client.get(self.action_health_url, timeout=3.0)
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def health(self) -> dict[str, bool]:
        engine, actions = await asyncio.gather(self.engine_ready(), self.actions_ready())
        return {"rasa_engine": engine, "action_server": actions}
