"""The staff console's queue and conversations: the queue of conversations that need a person, a conversation's
transcript (opening it is audited), claim, reply on the patient's channel, hand back; live updates over
``/ws/console``.

Every page needs a signed-in session (else 303 to ``/console/login``); every form post carries the session's
CSRF token (``bot.gateway.deps``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.console.previews import previews_of
from adapters.console.render import render
from adapters.live import HubDep, LiveHub, refuse, socket_address
from bot.conversations import handoffs
from bot.conversations import queue as staff_queue
from bot.conversations.handoff_summary import summary_lines
from bot.conversations.notices import handed_back_text
from bot.conversations.rows import message_view
from bot.gateway.deps import (
    CheckedForm,
    DbSession,
    ServiceDep,
    SessionsDep,
    SettingsDep,
    StaffApi,
    StaffPage,
    form_body,
    identify_staff,
)
from bot.gateway.errors import ApiError
from bot.scheduling.hours import staff_reply_eta
from bot.settings import Settings
from bot.store import Conversation, Message
from bot.store.models import utcnow
from bot.store.states import Author, ConversationState

log = logging.getLogger(__name__)
router = APIRouter()
MAX_REPLY_CHARS = 1600


class TranscriptMessage(BaseModel):
    id: int
    author: str
    text: str
    at: str
    source: str | None = None
    direction: str
    status: str


class Transcript(BaseModel):
    state: str
    claimed_by: str
    messages: list[TranscriptMessage]


def _transcript(session: Session, conversation_id: str, after: int = 0) -> list[dict[str, Any]]:
    messages = session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                     Message.id > after).order_by(Message.id))
    return [{**message_view(m), "direction": m.direction, "status": m.status} for m in messages]


def _load_queue(sessions: sessionmaker[Session], settings: Settings,
                preview: staff_queue.Previewer) -> list[staff_queue.QueueItem]:
    with sessions() as session:
        items = staff_queue.queue(session, escalate_after=timedelta(minutes=settings.console.escalate_after_minutes),
                                  preview=preview)
        session.commit()
    return items


def _back(conversation_id: str, error: str = "") -> RedirectResponse:
    suffix = f"?error={error}" if error else ""
    return RedirectResponse(f"/console/conversations/{conversation_id}{suffix}", status_code=303)


@router.get("/console", response_class=HTMLResponse)
async def queue_page(request: Request, me: StaffPage, settings: SettingsDep, sessions: SessionsDep) -> HTMLResponse:
    previews = previews_of(request)
    items = await asyncio.to_thread(_load_queue, sessions, settings, previews.get)  # the scrubber is CPU work
    red_flags = sum(1 for i in items if i.priority == "red_flag" and i.status == "open")
    return render("console_queue.html", me=me, clinic=settings.clinic, items=items, red_flags=red_flags,
                  eta=staff_reply_eta(settings.clinic, utcnow()))


@router.get("/console/queue/previews")
async def queue_previews(request: Request, me: StaffApi, settings: SettingsDep,
                         sessions: SessionsDep) -> dict[str, dict[str, str]]:
    """The scrubbed previews the queue page could not show at once (the analyzer was still loading)."""
    previews = previews_of(request)
    items = await asyncio.to_thread(_load_queue, sessions, settings, previews.wait)
    return {"previews": {i.conversation_id: i.preview or "" for i in items}}


@router.get("/console/conversations/{conversation_id}", response_class=HTMLResponse)
def conversation_page(me: StaffPage, settings: SettingsDep, session: DbSession, conversation_id: str,
                      error: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return HTMLResponse("No such conversation.", status_code=404)
    waiting = handoffs.open_handoff(session, conversation_id)
    flagged = waiting is not None and staff_queue.priority_of(waiting.reason, waiting.summary) == "red_flag"
    staff_queue.audit(session, me.username, "conversation_opened", conversation)
    session.commit()
    log.info("console.conversation_opened conversation_id=%s user_id=%s", conversation_id, me.user_id)
    return render("console_conversation.html", me=me, clinic=settings.clinic, conversation=conversation,
                  messages=_transcript(session, conversation_id), claimed_by=handoffs.holder(session, conversation_id),
                  error=error, max_reply=MAX_REPLY_CHARS, red_flag=flagged,
                  handoff_reason=handoffs.REASONS.get(waiting.reason, waiting.reason) if waiting else "",
                  summary=summary_lines(waiting.summary) if waiting else [])


@router.get("/console/conversations/{conversation_id}/messages", response_model=Transcript)
def conversation_messages(me: StaffApi, session: DbSession, conversation_id: str,
                          after: Annotated[int, Query(ge=0, le=2**62)] = 0) -> Transcript:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ApiError(404, "not_found", "no such conversation")
    return Transcript(state=conversation.state, claimed_by=handoffs.holder(session, conversation_id),
                      messages=[TranscriptMessage(**m) for m in _transcript(session, conversation_id, after)])


@router.post("/console/conversations/{conversation_id}/claim", response_class=RedirectResponse, status_code=303,
             openapi_extra=form_body())
async def claim(me: StaffPage, form: CheckedForm, sessions: SessionsDep, hub: HubDep,
                conversation_id: str) -> Response:
    def work() -> None:
        with sessions() as session:
            conversation = handoffs.claim(session, conversation_id, me.username)
            staff_queue.audit(session, me.username, "conversation_claimed", conversation)
            session.commit()

    try:
        await asyncio.to_thread(work)
    except handoffs.HandoffError:
        return _back(conversation_id, "claimed_by_other")
    await hub.publish_console({"type": "queue", "conversation_id": conversation_id})
    return _back(conversation_id)


@router.post("/console/conversations/{conversation_id}/reply", response_class=RedirectResponse, status_code=303,
             openapi_extra=form_body(text="the reply"))
async def reply(me: StaffPage, form: CheckedForm, sessions: SessionsDep, service: ServiceDep,
                conversation_id: str) -> Response:
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        return _back(conversation_id, "empty_reply" if not text else "reply_too_long")

    def holds() -> bool:
        with sessions() as session:
            if handoffs.holder(session, conversation_id) != me.username:
                return False
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            staff_queue.audit(session, me.username, "staff_replied", conversation)
            session.commit()
            return True

    if not await asyncio.to_thread(holds):
        return _back(conversation_id, "claim_first")
    await service.post_outbound(conversation_id, text, author=Author.STAFF, meta={"staff": me.display_name})
    return _back(conversation_id)


@router.post("/console/conversations/{conversation_id}/handback", response_class=RedirectResponse, status_code=303,
             openapi_extra=form_body())
async def hand_back(me: StaffPage, form: CheckedForm, sessions: SessionsDep, hub: HubDep, service: ServiceDep,
                    settings: SettingsDep, conversation_id: str) -> Response:
    def work() -> None:
        with sessions() as session:
            conversation = handoffs.hand_back(session, conversation_id, me.username)
            staff_queue.audit(session, me.username, "conversation_handed_back", conversation)
            session.commit()

    try:
        await asyncio.to_thread(work)
    except handoffs.HandoffError:
        return _back(conversation_id, "claimed_by_other")
    await service.post_outbound(conversation_id, handed_back_text(settings), author=Author.SYSTEM)
    await hub.publish_console({"type": "queue", "conversation_id": conversation_id})
    return RedirectResponse("/console", status_code=303)


# -- live updates -------------------------------------------------------------------------------
@router.websocket("/ws/console")
async def console_socket(socket: WebSocket) -> None:
    identity = await asyncio.to_thread(identify_staff, socket)
    origin = socket.headers.get("origin", "")
    host = socket.headers.get("host", "")
    if identity is None or (origin and origin.split("://", 1)[-1] != host):
        await socket.close(code=1008)
        return
    hub: LiveHub = socket.app.state.live
    await socket.accept()
    refused = hub.refusal(socket_address(socket))
    if refused:
        await refuse(socket, refused)
        return

    async def on_text(text: str) -> None:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            event = json.loads(text)
            if event.get("type") == "typing":
                await _staff_typing(socket, str(event["conversation_id"]), bool(event.get("on", True)))

    await hub.serve_console(socket, on_text)


async def _staff_typing(socket: WebSocket, conversation_id: str, on: bool) -> None:
    service = socket.app.state.conversations
    conversation = await asyncio.to_thread(service.get, conversation_id)
    if conversation is not None and conversation.state == ConversationState.STAFF:
        await socket.app.state.live.typing(conversation, on, who="staff")
