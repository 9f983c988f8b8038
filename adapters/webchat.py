"""Web chat: the patient's page at ``/`` and its JSON API.

``POST /api/chat``  ``{"sender", "message", "metadata"?, "message_id"?}`` -> ``{"messages": [{"text"}...]}``
``GET /api/chat/messages?sender=...&after=ID``  the conversation so far (history, late answers, staff replies)
"""

from __future__ import annotations

import asyncio
import html
import logging
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, StringConstraints, field_validator

from adapters.live import SENDER_PATTERN, HubDep
from bot.conversations.rows import message_view
from bot.conversations.service import ConversationService, InboundResult
from bot.gateway.deps import ServiceDep, SettingsDep
from bot.gateway.errors import ERROR_RESPONSES, ApiError, ErrorDetail, ErrorResponse, error_body
from bot.scheduling.hours import describe_hours
from bot.settings import Settings
from bot.store.states import Author, ConversationState

log = logging.getLogger("clinicbot.webchat")
router = APIRouter()
HOLDING_TEXT = "Thanks, I'm still working on that. Give me a moment: the answer will appear here."
_LATE: set[asyncio.Task[InboundResult]] = set()  # turns answered after their request returned (kept referenced)
STATIC = Path(__file__).resolve().parent / "static"
# Metadata keys a web page may pass on to the engine; anything else is dropped.
ALLOWED_METADATA = {"locale", "page"}
MAX_MESSAGE_ID = 2**62  # ids in ``after`` beyond any real row are refused, not looked up
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetaValue = (Annotated[str, StringConstraints(max_length=256)] | bool
             | Annotated[int, Field(ge=-(2**53), le=2**53)] | Annotated[float, Field(allow_inf_nan=False)])


class ChatRequest(BaseModel):
    sender: str = Field(pattern=SENDER_PATTERN, description="a random id the page keeps for this browser")
    message: str = Field(description="what the patient typed")
    metadata: dict[MetaKey, MetaValue] | None = Field(
        default=None, max_length=16,
        description=f"passed on to the assistant; only {sorted(ALLOWED_METADATA)} are kept")
    message_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$",
                                   description="the page's id for this message: a retry with it is answered once")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("message is empty")
        if "\x00" in value:
            raise ValueError("message contains a NUL character")
        return value


class MessageView(BaseModel):
    id: int
    author: str  # patient | bot | staff | system
    text: str
    at: str
    source: str | None = None
    direction: str | None = None
    status: str | None = None


class ChatResponse(BaseModel):
    """200: the answer (or why there is none: duplicate, with_staff). 202 (``working``): the answer takes
    longer than the reply budget; ``messages`` holds a "give me a moment" and the answer follows on the page's
    live channel and in ``GET /api/chat/messages``."""

    status: str  # answered | duplicate | with_staff | working
    message_id: int
    messages: list[MessageView]


class ChatPending(BaseModel):
    """503 (the engine is restarting: the message is kept and answered here later) or 504 (the engine took it
    but did not answer in time: send it again)."""

    status: str
    message_id: int
    error: ErrorDetail


class History(BaseModel):
    state: str  # new | bot | waiting_staff | staff
    messages: list[MessageView]


@lru_cache(maxsize=1)
def _page_template() -> str:
    return (STATIC / "webchat.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def chat_page(settings: SettingsDep) -> HTMLResponse:
    clinic = settings.clinic
    values = {"clinic_name": clinic.name, "clinic_phone": clinic.phone, "clinic_address": clinic.address,
              "clinic_hours": describe_hours(clinic)}
    page = _page_template()
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", html.escape(value))
    return HTMLResponse(page)


@router.get("/static/{name}", response_class=Response,
            responses={200: {"description": "the page's script or style sheet",
                             "content": {"text/javascript": {}, "text/css": {}}},
                       404: {"model": ErrorResponse, "description": "no such file"}})
async def static_file(name: str) -> Response:
    types = {".js": "text/javascript", ".css": "text/css"}
    path = STATIC / name
    if "/" in name or path.suffix not in types or not path.is_file():
        raise ApiError(404, "not_found", "no such file")
    return Response(path.read_bytes(), media_type=types[path.suffix],
                    headers={"Cache-Control": "no-cache"})


@router.post("/api/chat", response_model=ChatResponse,
             responses={**ERROR_RESPONSES, 202: {"model": ChatResponse}, 503: {"model": ChatPending},
                        504: {"model": ChatPending}})
async def chat(body: ChatRequest, settings: SettingsDep, service: ServiceDep, hub: HubDep) -> JSONResponse:
    if len(body.message) > settings.gateway.max_message_chars:
        raise ApiError(413, "message_too_long",
                       f"the message has {len(body.message)} characters; the limit is "
                       f"{settings.gateway.max_message_chars}. Please shorten it or send it in parts.")
    conversation = await asyncio.to_thread(service.open_conversation, "web", body.sender)
    metadata = {k: v for k, v in (body.metadata or {}).items() if k in ALLOWED_METADATA}
    typing = conversation.state != ConversationState.STAFF
    if typing:
        await hub.typing(conversation, True)

    try:
        accepted = await service.accept(conversation, body.message, client_message_id=body.message_id,
                                        metadata=metadata)
    except BaseException:
        if typing:
            await hub.typing(conversation, False)
        raise

    async def answer() -> InboundResult:
        try:
            return await service.route(accepted)
        finally:
            if typing:
                await hub.typing(conversation, False)

    task = asyncio.create_task(answer())
    try:
        # the reply budget: past reply_wait_s the page gets "give me a moment"; the answer follows on the
        # page's live channel (and its history) as soon as it is made. The turn itself is not cancelled.
        result = await asyncio.wait_for(asyncio.shield(task), settings.gateway.reply_wait_s)
    except TimeoutError:
        if task.done():  # answered in the very instant the budget ran out: sent as usual, with no holding line
            result = task.result()  # after the answer (a page reading after the holding line had missed it)
        else:
            return await _holding(task, conversation.id, accepted.message_id, service, settings)
    if result.status == "pending":
        return JSONResponse(
            {**error_body("engine_unavailable", "The assistant is restarting. Your message is saved and will be "
                          "answered here shortly."), "status": "pending", "message_id": result.message_id},
            status_code=503, headers={"Retry-After": str(settings.gateway.retry_after_s)},
        )
    if result.status == "failed":
        return JSONResponse(
            {**error_body("engine_timeout", "Sorry, the assistant took too long to answer. Please send your "
                          f"message again, or call {settings.clinic.phone}."), "status": "failed",
             "message_id": result.message_id},
            status_code=504,
        )
    return JSONResponse(ChatResponse(status=result.status, message_id=result.message_id,
                                     messages=[MessageView(**message_view(m)) for m in result.replies]).model_dump(
        exclude_none=True))


async def _holding(task: asyncio.Task[InboundResult], conversation_id: str, message_id: int,
                   service: ConversationService, settings: Settings) -> JSONResponse:
    """The reply budget ran out: "give me a moment" now (202); the turn goes on and its answer follows on the
    page's live channel and in its history."""
    _LATE.add(task)
    task.add_done_callback(_LATE.discard)
    holding = await service.post_outbound(conversation_id, HOLDING_TEXT, author=Author.SYSTEM, meta={"holding": True})
    log.warning("webchat.reply_late conversation_id=%s message_id=%s wait_s=%s", conversation_id, message_id,
                settings.gateway.reply_wait_s)
    return JSONResponse(ChatResponse(status="working", message_id=message_id,
                                     messages=[MessageView(**message_view(holding))]).model_dump(exclude_none=True),
                        status_code=202)


@router.get("/api/chat/messages", response_model=History, responses=ERROR_RESPONSES)
async def chat_messages(
    service: ServiceDep,
    sender: Annotated[str, Query(pattern=SENDER_PATTERN)],
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID)] = 0,
) -> JSONResponse:
    conversation = await asyncio.to_thread(service.find_conversation, "web", sender)
    if conversation is None:
        return JSONResponse(History(state="new", messages=[]).model_dump())
    messages = await asyncio.to_thread(service.history, conversation.id, after)
    views = [MessageView(**message_view(m), direction=m.direction, status=m.status) for m in messages]
    return JSONResponse(History(state=conversation.state, messages=views).model_dump(exclude_none=True))
