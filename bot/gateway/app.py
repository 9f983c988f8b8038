"""The gateway's ASGI app. ``create_app()`` is the factory uvicorn runs (``--factory``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from adapters import console, live, twilio_sms, webchat
from bot import reminders
from bot.conversations import ConversationService
from bot.engine import RasaClient
from bot.gateway.errors import error_body, install_error_handlers
from bot.outbound import sms_sender_for
from bot.retention import purge
from bot.safety import RedFlagGuard
from bot.settings import Settings, get_settings
from bot.store import migrate
from bot.store.db import session_factory

log = logging.getLogger("clinicbot.gateway")


async def _periodic(name: str, every_s: float, job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` every ``every_s`` seconds; a failing run is logged and the loop goes on."""
    while True:
        await asyncio.sleep(every_s)
        try:
            result = await job()
            if result:
                log.info("gateway.%s result=%s", name, result)
        except Exception:
            log.exception("gateway.%s_failed", name)


def create_app(settings: Settings | None = None, engine: RasaClient | None = None,
               guard: RedFlagGuard | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or RasaClient(settings.servers.rasa_url, settings.servers.action_url,
                                  settings.rasa.request_timeout_s)
    migrate(settings.database_url)
    guard = guard or RedFlagGuard.from_settings(settings)
    service = ConversationService(session_factory(settings.database_url), engine, guard=guard)
    # channels: SMS replies go out through the sender; web pages and consoles get live pushes
    hub = live.LiveHub()
    sms_delivery = twilio_sms.SmsDelivery(session_factory(settings.database_url), sms_sender_for(settings),
                                          settings.sms.max_segments)
    service.on_outbound(sms_delivery)
    service.on_outbound(hub.on_outbound)
    service.on_inbound(hub.on_inbound)
    service.on_inbound(console.OffHoursNotice(settings, service))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def purge_now() -> str:
            counts = await asyncio.to_thread(purge, settings, datetime.now(UTC))
            return f"messages:{counts.messages},tracker_events:{counts.tracker_events}"

        tasks = [
            asyncio.create_task(_periodic("pending_answered", settings.gateway.retry_pending_every_s,
                                          service.retry_pending)),
            asyncio.create_task(_periodic("retention_purge", 24 * 3600, purge_now)),
        ]
        guard.start()  # the triage model loads in the background; the rules answer alone until it is ready
        await asyncio.to_thread(reminders.start_scheduler, settings)  # persistent jobs: due ones run now
        log.info("gateway.started port=%s", settings.servers.gateway_port)
        try:
            yield
        finally:
            reminders.stop_scheduler(settings)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await engine.aclose()

    app = FastAPI(title="Clinicbot gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.conversations = service
    app.state.live = hub
    app.state.sms = sms_delivery
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
    app.include_router(live.router)
    app.include_router(twilio_sms.router)
    app.include_router(console.router)
    return app
