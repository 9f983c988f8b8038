"""The gateway's ASGI app. ``create_app()`` is the factory uvicorn runs (``--factory``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from adapters import webchat
from bot.conversations import ConversationService
from bot.engine import RasaClient
from bot.gateway.errors import error_body, install_error_handlers
from bot.settings import Settings, get_settings
from bot.store import migrate
from bot.store.db import session_factory

log = logging.getLogger("clinicbot.gateway")


async def _retry_loop(service: ConversationService, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            answered = await service.retry_pending()
            if answered:
                log.info("gateway.pending_answered count=%d", answered)
        except Exception:
            log.exception("gateway.retry_failed")


def create_app(settings: Settings | None = None, engine: RasaClient | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or RasaClient(settings.servers.rasa_url, settings.servers.action_url,
                                  settings.rasa.request_timeout_s)
    migrate(settings.database_url)
    service = ConversationService(session_factory(settings.database_url), engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_retry_loop(service, settings.gateway.retry_pending_every_s))
        log.info("gateway.started port=%s", settings.servers.gateway_port)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await engine.aclose()

    app = FastAPI(title="Clinicbot gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.conversations = service
    install_error_handlers(app)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        components = await engine.health()
        missing = [name for name, ok in components.items() if not ok]
        body = {"status": "ok" if not missing else "unavailable", "components": components, "missing": missing,
                "pending_messages": service.pending_count()}
        if missing:
            body.update(error_body("unavailable", f"not answering: {', '.join(missing)}"))
        return JSONResponse(body, status_code=503 if missing else 200)

    app.include_router(webchat.router)
    return app
