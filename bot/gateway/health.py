"""``GET /healthz``: 200 when the engine (with a model loaded) and the action server answer; 503 naming what is
missing, with how many patient messages are waiting for the engine."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bot.engine.client import RasaClient
from bot.gateway.deps import ServiceDep
from bot.gateway.errors import ErrorDetail, error_body

router = APIRouter()


class Health(BaseModel):
    status: str  # ok | unavailable
    components: dict[str, bool]
    missing: list[str]
    pending_messages: int
    error: ErrorDetail | None = None


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(request: Request, service: ServiceDep) -> JSONResponse:
    engine: RasaClient = request.app.state.engine
    components = await engine.health()
    missing = [name for name, ok in components.items() if not ok]
    body = {"status": "ok" if not missing else "unavailable", "components": components, "missing": missing,
            "pending_messages": await asyncio.to_thread(service.pending_count)}
    if missing:
        body.update(error_body("unavailable", f"not answering: {', '.join(missing)}"))
    return JSONResponse(body, status_code=503 if missing else 200)
