"""The staff console at ``/console``: sign in, the queue of conversations that need a person, a
conversation's transcript (opening it is audited), claim, reply on the patient's channel, hand back; and
the owner's settings page.

Every page needs a signed-in session (else 303 to ``/console/login``); every form post carries the
session's CSRF token. Templates are ``adapters/static/console_*.html`` (Jinja2, autoescaped).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import console_settings
from adapters.live import LiveHub
from adapters.webchat import STATIC
from bot import audit as audit_trail
from bot import staff, staff_queue
from bot.clinic_hours import is_open, staff_reply_eta
from bot.conversations import ConversationService, message_view
from bot.settings import Settings
from bot.store import Conversation, Message
from bot.store.models import utcnow

log = logging.getLogger(__name__)
router = APIRouter()
SESSION_COOKIE = "clinicbot_staff"
LOGIN_CSRF_COOKIE = "clinicbot_login_csrf"
MAX_REPLY_CHARS = 1600
OFF_HOURS_NOTICE_EVERY = timedelta(hours=6)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(STATIC), autoescape=select_autoescape(["html"]))


def render(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(**values), status_code=status_code,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.conversations._sessions


def _secure_cookies(settings: Settings) -> bool:
    return settings.servers.public_url.startswith("https://")


def current_staff(request: Request | WebSocket) -> staff.StaffIdentity | None:
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    with request.app.state.conversations._sessions() as session:
        identity = staff.resume_session(
            session, token, idle=timedelta(minutes=settings.console.session_idle_minutes),
            max_age=timedelta(hours=settings.console.session_max_hours))
        session.commit()
    return identity


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


async def _checked_form(request: Request, identity: staff.StaffIdentity) -> dict[str, str] | None:
    form = await _form(request)
    return form if staff.csrf_ok(identity, form.get("csrf_token")) else None


def _csrf_refused() -> HTMLResponse:
    return HTMLResponse("This form has expired. Go back, reload the page and try again.", status_code=403)


# -- sign in ------------------------------------------------------------------------------------
@router.get("/console/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return _login_form(request)


def _login_form(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render("console_login.html", status_code, clinic=_settings(request).clinic, csrf_token=token,
                      error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=_secure_cookies(_settings(request)))
    return response


@router.post("/console/login")
async def login(request: Request) -> Response:
    settings = _settings(request)
    form = await _form(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, form.get("csrf_token", "")):
        return _login_form(request, "Your sign-in form expired. Please try again.", 403)
    with _sessions(request)() as session:
        user = staff.authenticate(session, form.get("username", ""), form.get("password", ""))
        token = staff.start_session(session, user, idle=timedelta(minutes=settings.console.session_idle_minutes)) \
            if user else ""
        session.commit()
    if not token:
        return _login_form(request, "Wrong username or password.", 401)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=_secure_cookies(settings))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    identity = current_staff(request)
    if identity is not None and await _checked_form(request, identity) is not None:
        with _sessions(request)() as session:
            staff.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
            session.commit()
    response = to_login()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- the queue and conversations ----------------------------------------------------------------
@router.get("/console", response_model=None)
async def queue_page(request: Request) -> Response:
    identity = current_staff(request)
    if identity is None:
        return to_login()
    settings = _settings(request)
    items = await asyncio.to_thread(_load_queue, _sessions(request), settings)  # the scrubber is CPU work
    return render("console_queue.html", me=identity, clinic=settings.clinic, items=items,
                  eta=staff_reply_eta(settings.clinic, utcnow()))


def _load_queue(sessions: sessionmaker[Session], settings: Settings) -> list[staff_queue.QueueItem]:
    with sessions() as session:
        items = staff_queue.queue(session, escalate_after=timedelta(minutes=settings.console.escalate_after_minutes))
        session.commit()
    return items


def _transcript(session: Session, conversation_id: str, after: int = 0) -> list[dict[str, Any]]:
    messages = session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                     Message.id > after).order_by(Message.id))
    return [{**message_view(m), "direction": m.direction, "status": m.status} for m in messages]


@router.get("/console/conversations/{conversation_id}", response_model=None)
async def conversation_page(request: Request, conversation_id: str, error: str = "") -> Response:
    identity = current_staff(request)
    if identity is None:
        return to_login()
    with _sessions(request)() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return HTMLResponse("No such conversation.", status_code=404)
        staff_queue.audit(session, identity.username, "conversation_opened", conversation)
        session.commit()
        log.info("console.conversation_opened conversation_id=%s user_id=%s", conversation_id, identity.user_id)
        messages = _transcript(session, conversation_id)
        claimed_by = staff_queue.holder(session, conversation_id)
    return render("console_conversation.html", me=identity, clinic=_settings(request).clinic,
                  conversation=conversation, messages=messages, claimed_by=claimed_by, error=error,
                  max_reply=MAX_REPLY_CHARS)


@router.get("/console/conversations/{conversation_id}/messages", response_model=None)
async def conversation_messages(request: Request, conversation_id: str, after: int = 0) -> Response:
    identity = current_staff(request)
    if identity is None:
        return JSONResponse({"error": {"code": "signed_out", "message": "sign in again"}}, status_code=401)
    with _sessions(request)() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return JSONResponse({"error": {"code": "not_found", "message": "no such conversation"}},
                                status_code=404)
        return JSONResponse({"state": conversation.state, "claimed_by": staff_queue.holder(session, conversation_id),
                             "messages": _transcript(session, conversation_id, after)})


def _back(conversation_id: str, error: str = "") -> RedirectResponse:
    suffix = f"?error={error}" if error else ""
    return RedirectResponse(f"/console/conversations/{conversation_id}{suffix}", status_code=303)


@router.post("/console/conversations/{conversation_id}/claim")
async def claim(request: Request, conversation_id: str) -> Response:
    identity = current_staff(request)
    if identity is None:
        return to_login()
    if await _checked_form(request, identity) is None:
        return _csrf_refused()
    try:
        with _sessions(request)() as session:
            staff_queue.claim(session, conversation_id, identity.username)
            session.commit()
    except staff_queue.QueueError:
        return _back(conversation_id, "claimed_by_other")
    await request.app.state.live.publish_console({"type": "queue", "conversation_id": conversation_id})
    return _back(conversation_id)


@router.post("/console/conversations/{conversation_id}/reply")
async def reply(request: Request, conversation_id: str) -> Response:
    identity = current_staff(request)
    if identity is None:
        return to_login()
    form = await _checked_form(request, identity)
    if form is None:
        return _csrf_refused()
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        return _back(conversation_id, "empty_reply" if not text else "reply_too_long")
    with _sessions(request)() as session:
        if staff_queue.holder(session, conversation_id) != identity.username:
            return _back(conversation_id, "claim_first")
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        staff_queue.audit(session, identity.username, "staff_replied", conversation)
        session.commit()
    service: ConversationService = request.app.state.conversations
    await service.post_outbound(conversation_id, text, author="staff", meta={"staff": identity.display_name})
    return _back(conversation_id)


@router.post("/console/conversations/{conversation_id}/handback")
async def hand_back(request: Request, conversation_id: str) -> Response:
    identity = current_staff(request)
    if identity is None:
        return to_login()
    if await _checked_form(request, identity) is None:
        return _csrf_refused()
    try:
        with _sessions(request)() as session:
            staff_queue.hand_back(session, conversation_id, identity.username)
            session.commit()
    except staff_queue.QueueError:
        return _back(conversation_id, "claimed_by_other")
    await request.app.state.live.publish_console({"type": "queue", "conversation_id": conversation_id})
    return RedirectResponse("/console", status_code=303)


# -- owner settings -----------------------------------------------------------------------------
@router.get("/console/settings", response_model=None)
async def settings_page(request: Request) -> Response:
    identity = current_staff(request)
    if identity is None:
        return to_login()
    if not identity.is_owner:
        return HTMLResponse("Only the practice owner can change settings.", status_code=403)
    return render("console_settings.html", me=identity, clinic=_settings(request).clinic,
                  form=console_settings.form_values(_settings(request)), errors=[], saved=False)


@router.post("/console/settings", response_model=None)
async def save_settings(request: Request) -> Response:
    identity = current_staff(request)
    if identity is None:
        return to_login()
    if not identity.is_owner:
        return HTMLResponse("Only the practice owner can change settings.", status_code=403)
    form = await _checked_form(request, identity)
    if form is None:
        return _csrf_refused()
    settings = _settings(request)
    errors = console_settings.apply(settings, form)
    if not errors:
        with _sessions(request)() as session:
            audit_trail.record(session, actor_type="staff", actor_id=identity.username, patient_id=None,
                               action="settings_changed", detail={"sections": ["hours", "reminders"]})
            session.commit()
        await _reschedule(settings)
    return render("console_settings.html", 422 if errors else 200, me=identity, clinic=settings.clinic,
                  form=form if errors else console_settings.form_values(settings), errors=errors,
                  saved=not errors)


async def _reschedule(settings: Settings) -> None:
    """Tell the reminder scheduler about new rules, when there is one (bot.reminders.reschedule_all)."""
    try:
        from bot import reminders  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    reschedule = getattr(reminders, "reschedule_all", None)
    if reschedule is None:
        return
    result = reschedule(settings)
    if inspect.isawaitable(result):
        await result
    log.info("console.reminders_rescheduled")


# -- live updates -------------------------------------------------------------------------------
@router.websocket("/ws/console")
async def console_socket(socket: WebSocket) -> None:
    identity = current_staff(socket)
    origin = socket.headers.get("origin", "")
    host = socket.headers.get("host", "")
    if identity is None or (origin and origin.split("://", 1)[-1] != host):
        await socket.close(code=1008)
        return
    hub: LiveHub = socket.app.state.live
    await socket.accept()

    async def on_text(text: str) -> None:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            event = json.loads(text)
            if event.get("type") == "typing":
                await _staff_typing(socket, str(event["conversation_id"]), bool(event.get("on", True)))

    await hub.serve_console(socket, on_text)


async def _staff_typing(socket: WebSocket, conversation_id: str, on: bool) -> None:
    with socket.app.state.conversations._sessions() as session:
        conversation = session.get(Conversation, conversation_id)
    if conversation is not None and conversation.state == "staff":
        await socket.app.state.live.typing(conversation, on, who="staff")


class OffHoursNotice:
    """Inbound listener: a patient writing to staff outside office hours is told when someone will reply."""

    def __init__(self, settings: Settings, service: ConversationService) -> None:
        self._settings = settings
        self._service = service

    async def __call__(self, conversation: Conversation, message: Message) -> None:
        now = utcnow()
        if message.status != "with_staff" or is_open(self._settings.clinic, now):
            return
        with self._service._sessions() as session:
            row = session.get(Conversation, conversation.id)
            if row is None:
                return
            last = str(row.flags.get("off_hours_notice_at", ""))
            if last and now - datetime.fromisoformat(last) < OFF_HOURS_NOTICE_EVERY:
                return
            row.flags = {**row.flags, "off_hours_notice_at": now.isoformat()}
            session.commit()
        eta = staff_reply_eta(self._settings.clinic, now)
        await self._service.post_outbound(
            conversation.id, f"Thanks, your message is with our front desk. The office is closed now; "
            f"someone will reply {eta}. For an emergency, call 911.", author="system")
