"""Every error answer is JSON with a code and a sentence a person can act on; never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("clinicbot.gateway")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra


class LoginRequired(Exception):
    """A console page was asked for without a signed-in staff session: go to the sign-in page."""


class OwnerOnly(Exception):
    """A page only the practice owner may use."""


class CsrfRefused(Exception):
    """A console form without the session's CSRF token (an old page, or another site's form)."""


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every error answer: ``{"error": {"code", "message"}}`` (some add fields, e.g. ``fields`` on a 422)."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in ((400, "Bad request"), (413, "Too large"), (422, "Invalid request"))
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _field_problems(exc: RequestValidationError) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        elif err.get("type") == "missing":
            msg = "required"
        problems.append({"field": ".".join(loc) or "(body)", "problem": msg})
    return problems


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, **exc.extra), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    @app.exception_handler(OwnerOnly)
    async def _owner_only(_: Request, exc: OwnerOnly) -> HTMLResponse:
        return HTMLResponse("Only the practice owner can change settings.", status_code=403)

    @app.exception_handler(CsrfRefused)
    async def _csrf(_: Request, exc: CsrfRefused) -> HTMLResponse:
        return HTMLResponse("This form has expired. Go back, reload the page and try again.", status_code=403)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        if any(err.get("type") == "json_invalid" or (tuple(err.get("loc", ())) == ("body",)
               and err.get("type") in ("model_attributes_type", "dict_type")) for err in exc.errors()):
            return JSONResponse(error_body("invalid_json", "the body must be a JSON object such as "
                                           '{"sender": "abc123", "message": "hi"}'), status_code=400)
        problems = _field_problems(exc)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(error_body("invalid_request", summary, fields=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(UnicodeDecodeError)
    async def _bad_encoding(_: Request, exc: UnicodeDecodeError) -> JSONResponse:
        return JSONResponse(error_body("invalid_encoding", "the body must be UTF-8 text"), status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("gateway.error path=%s type=%s", request.url.path, type(exc).__name__)
        return JSONResponse(error_body("internal_error", "something went wrong on our side; please try again"),
                            status_code=500)
