"""Live updates over websockets: staff replies, reminders and late answers reach the chat page at once.

``/ws/chat?sender=ID``  the patient's page. Events: ``{"type": "message", "message": {...}}`` and
``{"type": "typing", "on": true|false}``. The page keeps polling ``/api/chat/messages`` as a fallback.
The staff console subscribes through ``/ws/console`` (see ``adapters.console``) for ``queue`` events.

With several gateways a page may be connected to one while its message, a staff reply or a reminder is handled
by another: each push is delivered here and shared through the clinic database (``LiveRelay``, ids only), and
each gateway delivers what the others shared to the pages and consoles connected to it.

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
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.conversations.rows import message_view
from bot.store import Conversation, Message, leases, live_events
from bot.store.models import utcnow
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


def _view(message: Message) -> dict[str, Any]:
    return {**message_view(message), "direction": "out", "status": message.status}


class LiveRelay:
    """Pushes shared between gateways through the ``live_events`` table: published only while another gateway is
    alive (each keeps a ``gateway:<id>`` lease), read by polling a few times a second."""

    def __init__(self, engine: Engine, origin: str, *, poll_s: float = 0.25, presence_ttl_s: float = 6.0,
                 max_age_s: float = 15.0) -> None:
        self._engine = engine
        self.origin = origin
        self.poll_s = poll_s
        self._presence_ttl = timedelta(seconds=presence_ttl_s)
        self._max_age = timedelta(seconds=max_age_s)
        self.peers = 0
        self._seen: dict[int, None] = {}  # ids delivered recently (ordered: oldest first)
        # made by the writer task in the loop that runs it (a queue belongs to one event loop)
        self._outgoing: asyncio.Queue[live_events.Outgoing] | None = None

    async def share(self, topic: str, kind: str, *, sender: str = "", message_id: int | None = None,
                    data: dict[str, Any] | None = None) -> None:
        """Queue an event for the other gateways (written in order, in batches, off the request's path)."""
        if self.peers and self._outgoing is not None:
            self._outgoing.put_nowait(live_events.Outgoing(topic, kind, sender, message_id, data or {}))

    async def _write(self) -> None:
        outgoing = self._outgoing = asyncio.Queue()
        while True:
            batch = [await outgoing.get()]
            while not outgoing.empty() and len(batch) < 200:
                batch.append(outgoing.get_nowait())
            try:
                await asyncio.to_thread(live_events.publish_all, self._engine, self.origin, batch)
            except Exception:
                log.exception("live.share_failed events=%d", len(batch))

    def _presence(self) -> int:
        leases.try_acquire(self._engine, f"gateway:{self.origin}", self.origin, self._presence_ttl)
        return len([n for n in leases.live_holders(self._engine, "gateway:") if n != f"gateway:{self.origin}"])

    async def keep_presence(self) -> None:
        """Say this gateway is alive, and count the others, every couple of seconds."""
        while True:
            try:
                self.peers = await asyncio.to_thread(self._presence)
            except Exception:
                log.exception("live.presence_failed")
            await asyncio.sleep(self._presence_ttl.total_seconds() / 3)

    def leave(self) -> None:
        leases.release(self._engine, f"gateway:{self.origin}", self.origin)

    def fresh(self, after_id: int) -> list[live_events.Event]:
        cutoff = utcnow() - self._max_age
        found = [e for e in live_events.since(self._engine, after_id, self.origin)
                 if e.id not in self._seen and e.at >= cutoff]
        for event in found:
            self._seen[event.id] = None
        while len(self._seen) > 5000:
            del self._seen[next(iter(self._seen))]
        return found

    async def run(self, hub: LiveHub) -> None:
        """Share this gateway's events, and deliver what the other gateways shared to the pages and consoles
        connected here."""
        writer = asyncio.create_task(self._write())
        try:
            await self._read(hub)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _read(self, hub: LiveHub) -> None:
        last = -1
        while True:
            await asyncio.sleep(self.poll_s if self.peers else 1.0)
            if not self.peers:
                last = -1
                continue
            try:
                if last < 0:
                    last = await asyncio.to_thread(live_events.newest_id, self._engine)
                for event in await asyncio.to_thread(self.fresh, last):
                    last = max(last, event.id)
                    await hub.deliver_shared(event)
            except Exception:
                log.exception("live.relay_failed")


class LiveHub:
    """Who is listening: chat pages by web sender id, and the staff consoles."""

    def __init__(self, relay: LiveRelay | None = None, sessions: Callable[[], Session] | None = None) -> None:
        self._chat: defaultdict[str, set[WebSocket]] = defaultdict(set)
        self._console: set[WebSocket] = set()
        self.relay = relay
        self._sessions = sessions
        self._addresses: Counter[str] = Counter()

    def chat_listeners(self, sender: str) -> int:
        return len(self._chat.get(sender, ()))

    async def _send(self, sockets: set[WebSocket], event: dict[str, Any]) -> None:
        for socket in list(sockets):
            try:
                await socket.send_json(event)
            except Exception:  # a closed page: forget it
                sockets.discard(socket)

    async def _deliver_chat(self, sender: str, event: dict[str, Any]) -> None:
        if sender in self._chat:
            await self._send(self._chat[sender], event)

    async def publish_chat(self, sender: str, event: dict[str, Any]) -> None:
        await self._deliver_chat(sender, event)
        if self.relay is not None:
            if event.get("type") == "message":  # ids only leave the process: text stays in the messages table
                await self.relay.share("chat", "message", sender=sender, message_id=int(event["message"]["id"]))
            else:
                await self.relay.share("chat", str(event.get("type", "")), sender=sender, data=event)

    async def publish_console(self, event: dict[str, Any]) -> None:
        await self._send(self._console, event)
        if self.relay is not None:
            await self.relay.share("console", str(event.get("type", "")), data=event)

    def _load_view(self, message_id: int) -> dict[str, Any] | None:
        if self._sessions is None:
            return None
        with self._sessions() as session:
            message = session.get(Message, message_id)
            return _view(message) if message is not None else None

    async def deliver_shared(self, event: live_events.Event) -> None:
        """An event another gateway shared: to the pages and consoles connected here."""
        if event.topic == "console":
            if self._console:
                await self._send(self._console, event.data)
        elif event.sender in self._chat:
            if event.kind == "message" and event.message_id is not None:
                view = await asyncio.to_thread(self._load_view, event.message_id)
                if view is not None:
                    await self._deliver_chat(event.sender, {"type": "message", "message": view})
            elif event.kind != "message":
                await self._deliver_chat(event.sender, event.data)

    async def typing(self, conversation: Conversation, on: bool, who: str = "bot") -> None:
        if conversation.channel == Channel.WEB:
            await self.publish_chat(conversation.channel_user, {"type": "typing", "on": on, "who": who})

    # ConversationService listeners ---------------------------------------------------------------
    async def on_outbound(self, conversation: Conversation, message: Message) -> None:
        if conversation.channel == Channel.WEB:
            await self.publish_chat(conversation.channel_user, {"type": "message", "message": _view(message)})
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
