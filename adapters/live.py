"""Live updates over websockets: staff replies, reminders and late answers reach the chat page at once.

``/ws/chat?sender=ID``  the patient's page. Events: ``{"type": "message", "message": {...}}`` and
``{"type": "typing", "on": true|false}``. The page keeps polling ``/api/chat/messages`` as a fallback.
The staff console subscribes through ``/ws/console`` (see ``adapters.console``) for ``queue`` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect

from bot.conversations.rows import message_view
from bot.store import Conversation, Message
from bot.store.states import Channel

log = logging.getLogger(__name__)
router = APIRouter()
SENDER_PATTERN = r"^[A-Za-z0-9._:-]{8,128}$"  # a web chat page's random id: it is what lets a page read its history
_SENDER = re.compile(SENDER_PATTERN)


class LiveHub:
    """Who is listening: chat pages by web sender id, and the staff consoles."""

    def __init__(self) -> None:
        self._chat: defaultdict[str, set[WebSocket]] = defaultdict(set)
        self._console: set[WebSocket] = set()

    def chat_listeners(self, sender: str) -> int:
        return len(self._chat.get(sender, ()))

    async def _send(self, sockets: set[WebSocket], event: dict[str, Any]) -> None:
        for socket in list(sockets):
            try:
                await socket.send_json(event)
            except Exception:  # a closed page: forget it
                sockets.discard(socket)

    async def publish_chat(self, sender: str, event: dict[str, Any]) -> None:
        if sender in self._chat:
            await self._send(self._chat[sender], event)

    async def publish_console(self, event: dict[str, Any]) -> None:
        await self._send(self._console, event)

    async def typing(self, conversation: Conversation, on: bool, who: str = "bot") -> None:
        if conversation.channel == Channel.WEB:
            await self.publish_chat(conversation.channel_user, {"type": "typing", "on": on, "who": who})

    # ConversationService listeners ---------------------------------------------------------------
    async def on_outbound(self, conversation: Conversation, message: Message) -> None:
        if conversation.channel == Channel.WEB:
            view = {**message_view(message), "direction": "out", "status": message.status}
            await self.publish_chat(conversation.channel_user, {"type": "message", "message": view})
        await self.publish_console({"type": "queue", "conversation_id": conversation.id})

    async def on_inbound(self, conversation: Conversation, message: Message) -> None:
        await self.publish_console({"type": "queue", "conversation_id": conversation.id})

    # connections ---------------------------------------------------------------------------------
    async def serve(self, socket: WebSocket, group: set[WebSocket],
                    on_text: Callable[[str], Awaitable[None]] | None = None) -> None:
        """Keep a socket registered until it closes; answers "ping" with "pong", passes other text on."""
        group.add(socket)
        try:
            while True:
                text = await socket.receive_text()
                if text == "ping":
                    await socket.send_json({"type": "pong"})
                elif on_text is not None:
                    await on_text(text)
        except WebSocketDisconnect:
            pass
        finally:
            group.discard(socket)

    async def serve_chat(self, socket: WebSocket, sender: str) -> None:
        try:
            await self.serve(socket, self._chat[sender])
        finally:
            if not self._chat.get(sender):
                self._chat.pop(sender, None)

    async def serve_console(self, socket: WebSocket,
                            on_text: Callable[[str], Awaitable[None]] | None = None) -> None:
        await self.serve(socket, self._console, on_text)

    async def close_all(self) -> None:
        for socket in [*self._console, *(s for group in self._chat.values() for s in group)]:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(code=1001), 1)


def live_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live
    return hub


HubDep = Annotated[LiveHub, Depends(live_hub)]


@router.websocket("/ws/chat")
async def chat_socket(socket: WebSocket) -> None:
    sender = socket.query_params.get("sender", "")
    if not _SENDER.match(sender):
        await socket.close(code=1008)
        return
    hub: LiveHub = socket.app.state.live
    await socket.accept()
    await socket.send_json({"type": "hello"})
    await hub.serve_chat(socket, sender)
