"""FastAPI dependencies every router shares, declared once with ``Annotated``: the settings, the conversation
service, a database session, the signed-in staff member (any role, or the owner) and a console form whose
CSRF token was checked.

A page that needs a signed-in staff member raises ``LoginRequired`` (answered with a redirect to the sign-in
page); a JSON route answers 401. See ``bot.gateway.errors`` for how each is answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from sqlalchemy.orm import Session, sessionmaker

from bot.conversations.service import ConversationService
from bot.gateway.errors import ApiError, CsrfRefused, LoginRequired, OwnerOnly
from bot.identity import staff
from bot.settings import Settings

SESSION_COOKIE = "clinicbot_staff"


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def conversation_service(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversations
    return service


def session_factory(request: Request) -> sessionmaker[Session]:
    return conversation_service(request).sessions


def db_session(request: Request) -> Iterator[Session]:
    """One clinic-store session for the request; the route commits what it changes."""
    with session_factory(request)() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(app_settings)]
ServiceDep = Annotated[ConversationService, Depends(conversation_service)]
SessionsDep = Annotated[sessionmaker[Session], Depends(session_factory)]
DbSession = Annotated[Session, Depends(db_session)]


def identify_staff(connection: Request | WebSocket) -> staff.StaffIdentity | None:
    """The staff member whose session cookie this request carries (the session's idle time is renewed)."""
    settings: Settings = connection.app.state.settings
    token = connection.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    service: ConversationService = connection.app.state.conversations
    with service.sessions() as session:
        identity = staff.resume_session(
            session, token, idle=timedelta(minutes=settings.console.session_idle_minutes),
            max_age=timedelta(hours=settings.console.session_max_hours))
        session.commit()
    return identity


def staff_for_page(request: Request) -> staff.StaffIdentity:
    identity = identify_staff(request)
    if identity is None:
        raise LoginRequired()
    return identity


def staff_for_api(request: Request) -> staff.StaffIdentity:
    identity = identify_staff(request)
    if identity is None:
        raise ApiError(401, "signed_out", "sign in again")
    return identity


def owner_for_page(identity: Annotated[staff.StaffIdentity, Depends(staff_for_page)]) -> staff.StaffIdentity:
    if not identity.is_owner:
        raise OwnerOnly()
    return identity


StaffPage = Annotated[staff.StaffIdentity, Depends(staff_for_page)]
StaffApi = Annotated[staff.StaffIdentity, Depends(staff_for_api)]
OwnerPage = Annotated[staff.StaffIdentity, Depends(owner_for_page)]


async def checked_form(request: Request, identity: StaffPage) -> dict[str, str]:
    """The posted console form, refused (403) unless it carries the session's CSRF token."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    if not staff.csrf_ok(identity, values.get("csrf_token")):
        raise CsrfRefused()
    return values


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


def form_body(**fields: str) -> dict[str, Any]:
    """``openapi_extra`` describing a console form post: its CSRF token and these fields (name -> what it is), so
    the OpenAPI document (and the fuzzing that reads it) knows every body the gateway takes."""
    properties: dict[str, Any] = {"csrf_token": {"type": "string", "description": "the session's CSRF token"}}
    properties.update({name: {"type": "string", "description": text} for name, text in fields.items()})
    schema = {"type": "object", "properties": properties, "required": ["csrf_token"]}
    return {"requestBody": {"required": True,
                            "content": {"application/x-www-form-urlencoded": {"schema": schema}}}}
