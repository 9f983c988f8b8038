"""Signing in and out of the staff console. The sign-in form carries its own CSRF token in a cookie; a signed-in
session's cookie holds a random token whose hash the store keeps (``bot.identity.staff``)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.console.previews import previews_of
from adapters.console.render import render, secure_cookies
from bot.gateway.deps import SESSION_COOKIE, DbSession, SettingsDep, identify_staff
from bot.identity import staff
from bot.settings import Settings

router = APIRouter()
LOGIN_CSRF_COOKIE = "clinicbot_login_csrf"


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def login_form(settings: Settings, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render("console_login.html", status_code, clinic=settings.clinic, csrf_token=token, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=secure_cookies(settings))
    return response


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    previews_of(request).warm()  # the queue's previews need the PHI analyzer: load it while staff sign in
    return login_form(settings)


@router.post("/console/login")
async def login(request: Request, settings: SettingsDep, session: DbSession) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, form.get("csrf_token", "")):
        return login_form(settings, "Your sign-in form expired. Please try again.", 403)
    user = staff.authenticate(session, form.get("username", ""), form.get("password", ""))
    token = staff.start_session(session, user, idle=timedelta(minutes=settings.console.session_idle_minutes)) \
        if user else ""
    session.commit()
    if not token:
        return login_form(settings, "Wrong username or password.", 401)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=secure_cookies(settings))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/console/logout")
async def logout(request: Request, session: DbSession) -> Response:
    identity = identify_staff(request)
    if identity is not None:
        form = await request.form()
        if staff.csrf_ok(identity, str(form.get("csrf_token") or "")):
            staff.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
            session.commit()
    response = to_login()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
