"""Live updates over websockets: staff replies, reminders and late answers reach the chat page at once.

``/ws/chat?sender=ID``  the patient's page. Events: ``{"type": "message", "message": {...}}`` and
``{"type": "typing", "on": true|false}``. The page keeps polling ``/api/chat/messages`` as a fallback.
The staff console subscribes through ``/ws/console`` (see ``adapters.console``) for ``queue`` events.

Sockets are bounded: a few per chat page id and a few dozen per client address (more are told why and closed),
text frames of at most 4 KB and 120 a minute; a binary frame is answered with an ``error`` event, not a dropped
socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import Counter, defaultdict
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
MAX_PER_SENDER = 4  # tabs of one chat page
MAX_PER_ADDRESS = 40  # a clinic's front desk, or a family behind one router
MAX_FRAME_CHARS = 4096
MAX_FRAMES_PER_MINUTE = 120
MAX_BAD_FRAMES = 10  # binary or oversized frames before the socket is closed


def socket_address(socket: WebSocket) -> str:
    return socket.client.host if socket.client else "unknown"


class LiveHub:
    """Who is listening: chat pages by web sender id, and the staff consoles."""

    def __init__(self) -> None:
        self._chat: defaultdict[str, set[WebSocket]] = defaultdict(set)
        self._console: set[WebSocket] = set()
        self._addresses: Counter[str] = Counter()

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
    def refusal(self, address: str, sender: str | None = None) -> str | None:
        """Why one more socket from this address (and chat page) is refused, or None."""
        if sender is not None and len(self._chat.get(sender, ())) >= MAX_PER_SENDER:
            return "this chat is already open in too many tabs; close one and reload"
        if self._addresses[address] >= MAX_PER_ADDRESS:
            return "too many live connections from your network; the page will keep working without one"
        return None

    async def serve(self, socket: WebSocket, group: set[WebSocket],
                    on_text: Callable[[str], Awaitable[None]] | None = None) -> None:
        """Keep an accepted socket registered until it closes; answers "ping" with "pong", passes other text on.
        Binary and oversized frames get an ``error`` event; a flood of frames closes the socket (1008)."""
        address = socket_address(socket)
        group.add(socket)
        self._addresses[address] += 1
        window: list[float] = []
        bad = 0
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                now = time.monotonic()
                window = [t for t in window if now - t < 60] + [now]
                if len(window) > MAX_FRAMES_PER_MINUTE:
                    await socket.close(code=1008, reason="too many messages")
                    break
                text = message.get("text")
                problem = "binary frames are not supported: send JSON text" if text is None \
                    else "the message is too long" if len(text) > MAX_FRAME_CHARS else None
                if problem:
                    bad += 1
                    if bad > MAX_BAD_FRAMES:
                        await socket.close(code=1003, reason="text frames only")
                        break
                    await socket.send_json({"type": "error", "code": "unsupported_frame", "message": problem})
                elif text == "ping":
                    await socket.send_json({"type": "pong"})
                elif on_text is not None and text is not None:
                    await on_text(text)
        except (WebSocketDisconnect, RuntimeError):  # closed under us
            pass
        finally:
            group.discard(socket)
            self._addresses[address] -= 1
            if self._addresses[address] <= 0:
                del self._addresses[address]

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
    refused = hub.refusal(socket_address(socket), sender)
    if refused:
        await refuse(socket, refused)
        return
    await socket.send_json({"type": "hello"})
    await hub.serve_chat(socket, sender)


async def refuse(socket: WebSocket, reason: str) -> None:
    """Tell an accepted socket why it cannot stay, then close it (1008: policy)."""
    log.info("live.refused reason=%s", reason.split(";")[0].replace(" ", "_"))
    with contextlib.suppress(Exception):
        await socket.send_json({"type": "error", "code": "too_many_connections", "message": reason})
        await socket.close(code=1008)
