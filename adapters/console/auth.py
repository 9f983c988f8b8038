"""Signing in and out of the staff console, and the owner's page of staff accounts (unlocking a locked one).

The sign-in form carries its own CSRF token in a cookie; a signed-in session's cookie holds a random token whose
hash the store keeps (``bot.identity.staff``). Sign-in tries are throttled per name and per client address
(``bot.identity.login_throttle``): a wrong name and a wrong password get the same answer.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from adapters.console.previews import previews_of
from adapters.console.render import render, secure_cookies
from bot.gateway.deps import (
    SESSION_COOKIE,
    CheckedForm,
    OwnerPage,
    SessionsDep,
    SettingsDep,
    form_body,
    identify_staff,
)
from bot.identity import login_throttle, staff
from bot.settings import Settings
from bot.store import StaffUser, audit
from bot.store.models import utcnow

router = APIRouter()
LOGIN_CSRF_COOKIE = "clinicbot_login_csrf"
MAX_FIELD = 200
WRONG = "Wrong username or password."


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def client_address(request: Request) -> str:
    """The client's address (uvicorn puts the real one here behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def login_form(settings: Settings, error: str = "", status_code: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render("console_login.html", status_code, clinic=settings.clinic, csrf_token=token, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=secure_cookies(settings))
    if headers:
        response.headers.update(headers)
    return response


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    previews_of(request).warm()  # the queue's previews need the PHI analyzer: load it while staff sign in
    return login_form(settings)


@router.post("/console/login", response_class=RedirectResponse, status_code=303,
             responses={401: {"description": "wrong username or password", "content": {"text/html": {}}},
                        403: {"description": "the sign-in form expired", "content": {"text/html": {}}},
                        429: {"description": "too many tries: wait, or the account is locked",
                              "content": {"text/html": {}}}})
async def login(request: Request, settings: SettingsDep, sessions: SessionsDep,
                username: Annotated[str, Form(max_length=MAX_FIELD)] = "",
                password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
                csrf_token: Annotated[str, Form(max_length=MAX_FIELD)] = "") -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie.encode(), csrf_token.encode()):
        return login_form(settings, "Your sign-in form expired. Please try again.", 403)
    result = await asyncio.to_thread(
        staff.sign_in, sessions, username, password, address=client_address(request),
        policy=login_throttle.Policy.from_settings(settings.console),
        idle=timedelta(minutes=settings.console.session_idle_minutes))
    if result.refused == "wrong":
        return login_form(settings, WRONG, 401)
    if result.refused == "locked":
        return login_form(settings, "Too many failed sign-ins: this account is locked. Ask the practice owner "
                          "to unlock it.", 429)
    if result.refused == "wait":
        return login_form(settings, f"Too many failed sign-ins. Please wait {result.retry_after_s} seconds and "
                          "try again.", 429, headers={"Retry-After": str(result.retry_after_s)})
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="strict", path="/",
                        secure=secure_cookies(settings))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/console/logout", response_class=RedirectResponse, status_code=303, openapi_extra=form_body())
async def logout(request: Request, sessions: SessionsDep) -> Response:
    identity = await asyncio.to_thread(identify_staff, request)
    if identity is not None:
        form = await request.form()
        if staff.csrf_ok(identity, str(form.get("csrf_token") or "")):
            def end() -> None:
                with sessions() as session:
                    staff.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
                    audit.record(session, actor_type="staff", actor_id=identity.username, patient_id=None,
                                 action="staff_logout")
                    session.commit()

            await asyncio.to_thread(end)
    response = to_login()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- the owner's page of staff accounts -------------------------------------------------------------
@router.get("/console/staff", response_class=HTMLResponse)
def staff_page(me: OwnerPage, settings: SettingsDep, sessions: SessionsDep, done: str = "") -> HTMLResponse:
    policy = login_throttle.Policy.from_settings(settings.console)
    now = utcnow()
    with sessions() as session:
        users = list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
        accounts = [{"username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active,
                     "lock": login_throttle.status(session, u.username, now, policy)} for u in users]
    return render("console_staff.html", me=me, clinic=settings.clinic, accounts=accounts,
                  unlocked=done[:MAX_FIELD] if done in {u["username"] for u in accounts} else "")


@router.post("/console/staff/{username}/unlock", response_class=RedirectResponse, status_code=303,
             openapi_extra=form_body())
async def unlock_account(me: OwnerPage, form: CheckedForm, sessions: SessionsDep, username: str) -> Response:
    def work() -> bool:
        with sessions() as session:
            if session.scalars(select(StaffUser).where(StaffUser.username == username)).first() is None:
                return False
            lifted = staff.unlock(session, username, by=me.username)
            session.commit()
            return lifted

    lifted = await asyncio.to_thread(work)
    return RedirectResponse(f"/console/staff?done={username}" if lifted else "/console/staff", status_code=303)
