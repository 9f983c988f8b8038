"""Web chat: the patient's page at ``/`` and its JSON API.

``POST /api/chat``  ``{"sender", "message", "metadata"?, "message_id"?}`` -> ``{"messages": [{"text"}...]}``
``GET /api/chat/messages?sender=...&after=ID``  the conversation so far (history, late answers, staff replies)
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError, field_validator

from bot.clinic_hours import describe_hours
from bot.conversations import ConversationService, message_view
from bot.gateway.errors import ApiError, error_body
from bot.settings import Settings

router = APIRouter()
STATIC = Path(__file__).resolve().parent / "static"
SENDER_PATTERN = r"^[A-Za-z0-9._:-]{8,128}$"  # a random id: it is what lets a page read its history
MAX_BODY_BYTES = 64 * 1024
# Metadata keys a web page may pass on to the engine; anything else is dropped.
ALLOWED_METADATA = {"locale", "page"}


class ChatRequest(BaseModel):
    sender: str = Field(pattern=SENDER_PATTERN, description="a random id the page keeps for this browser")
    message: str
    metadata: dict[str, str | int | float | bool] | None = None
    message_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("message is empty")
        if "\x00" in value:
            raise ValueError("message contains a NUL character")
        return value


def _service(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversations
    return service


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@lru_cache(maxsize=1)
def _page_template() -> str:
    return (STATIC / "webchat.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request) -> HTMLResponse:
    clinic = _settings(request).clinic
    values = {"clinic_name": clinic.name, "clinic_phone": clinic.phone, "clinic_address": clinic.address,
              "clinic_hours": describe_hours(clinic)}
    page = _page_template()
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", html.escape(value))
    return HTMLResponse(page)


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    types = {".js": "text/javascript", ".css": "text/css"}
    path = STATIC / name
    if "/" in name or path.suffix not in types or not path.is_file():
        raise ApiError(404, "not_found", "no such file")
    return Response(path.read_bytes(), media_type=types[path.suffix],
                    headers={"Cache-Control": "no-cache"})


async def _read_chat_request(request: Request, max_chars: int) -> ChatRequest:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the request body is over {MAX_BODY_BYTES // 1024} KB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "the body must be UTF-8 encoded JSON") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        raise ApiError(400, "invalid_json", "the body must be a JSON object such as "
                       '{"sender": "abc123", "message": "hi"}') from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", 'the body must be a JSON object with "sender" and "message"')
    try:
        chat = ChatRequest.model_validate(data)
    except ValidationError as exc:
        problems = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)",
                     "problem": "required" if e["type"] == "missing" else e["msg"].removeprefix("Value error, ")}
                    for e in exc.errors()]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise ApiError(422, "invalid_request", summary, fields=problems) from None
    if len(chat.message) > max_chars:
        raise ApiError(413, "message_too_long",
                       f"the message has {len(chat.message)} characters; the limit is {max_chars}. "
                       "Please shorten it or send it in parts.")
    return chat


@router.post("/api/chat")
async def chat(request: Request) -> JSONResponse:
    settings = _settings(request)
    body = await _read_chat_request(request, settings.gateway.max_message_chars)
    service = _service(request)
    conversation = service.open_conversation("web", body.sender)
    metadata = {k: v for k, v in (body.metadata or {}).items() if k in ALLOWED_METADATA}
    hub = getattr(request.app.state, "live", None)
    if hub is not None and conversation.state != "staff":
        await hub.typing(conversation, True)
    try:
        result = await service.handle_inbound(conversation, body.message, client_message_id=body.message_id,
                                              metadata=metadata)
    finally:
        if hub is not None and conversation.state != "staff":
            await hub.typing(conversation, False)
    if result.status == "pending":
        retry = str(settings.gateway.retry_after_s)
        return JSONResponse(
            {**error_body("engine_unavailable", "The assistant is restarting. Your message is saved and will be "
                          "answered here shortly."), "status": "pending", "message_id": result.message_id},
            status_code=503, headers={"Retry-After": retry},
        )
    if result.status == "failed":
        return JSONResponse(
            {**error_body("engine_timeout", "Sorry, the assistant took too long to answer. Please send your "
                          f"message again, or call {settings.clinic.phone}."), "status": "failed",
             "message_id": result.message_id},
            status_code=504,
        )
    return JSONResponse({"status": result.status, "message_id": result.message_id,
                         "messages": [message_view(m) for m in result.replies]})


@router.get("/api/chat/messages")
async def chat_messages(
    request: Request,
    sender: Annotated[str, Query(pattern=SENDER_PATTERN)],
    after: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    service = _service(request)
    conversation = service.find_conversation("web", sender)
    if conversation is None:
        return JSONResponse({"messages": [], "state": "new"})
    messages = service.history(conversation.id, after_id=after)
    return JSONResponse({"state": conversation.state, "messages": [
        {**message_view(m), "direction": m.direction, "status": m.status} for m in messages]})
