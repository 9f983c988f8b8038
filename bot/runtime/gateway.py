"""The gateway process: its ASGI app built from the channels (``adapters``) and the services, and
``python -m bot.runtime.gateway``, which the supervisor starts (structured logs, uvicorn)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI

from adapters import console, live, twilio_sms, webchat
from adapters.twilio_rest import sender_for
from bot import reminders, waitlist
from bot.conversations.guard import RedFlagGuard
from bot.conversations.notices import StaffHoldNotice
from bot.conversations.service import ConversationService
from bot.engine.client import RasaClient
from bot.gateway.errors import install_error_handlers
from bot.gateway.headers import SecurityHeaders, serves_https
from bot.gateway.health import router as health_router
from bot.gateway.limits import BodyLimits
from bot.identity import codes
from bot.messaging.sms_delivery import SmsDelivery
from bot.reports import intents as reports_intents
from bot.runtime.logging_setup import configure_logging
from bot.settings import Settings, get_settings
from bot.store import migrate
from bot.store.db import session_factory
from bot.store.retention import purge

log = logging.getLogger("clinicbot.gateway")
INTENTS_EVERY_S = 60  # what patients asked reaches the dashboard within a minute


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
    sessions = session_factory(settings.database_url)
    guard = guard or RedFlagGuard.from_settings(settings)
    service = ConversationService(
        sessions, engine, guard=guard,
        timeout_reply=(f"Sorry, I couldn't answer that in time. I've passed your message to our staff, who will "
                       f"reply here. If it is urgent, call {settings.clinic.name} at {settings.clinic.phone}; in an "
                       f"emergency, call 911."))
    # channels: SMS replies go out through the sender; web pages and consoles get live pushes
    sender = sender_for(settings)
    hub = live.LiveHub()
    sms_delivery = SmsDelivery(sessions, sender, settings.sms.max_segments)
    service.on_outbound(sms_delivery)
    service.on_outbound(hub.on_outbound)
    service.on_inbound(hub.on_inbound)
    service.on_inbound(StaffHoldNotice(settings, service))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def purge_now() -> str:
            counts = await asyncio.to_thread(purge, settings, datetime.now(UTC))
            return f"messages:{counts.messages},tracker_events:{counts.tracker_events}"

        async def copy_intents() -> str:
            copied = await asyncio.to_thread(reports_intents.copy_intents, settings)
            return f"intents:{copied}" if copied else ""

        async def sweep_waitlist() -> str:
            await asyncio.to_thread(waitlist.sweep, settings, sender)  # logs what it did
            return ""

        tasks = [
            asyncio.create_task(_periodic("pending_answered", settings.gateway.retry_pending_every_s,
                                          service.retry_pending)),
            asyncio.create_task(_periodic("retention_purge", 24 * 3600, purge_now)),
            asyncio.create_task(_periodic("waitlist_sweep", settings.waitlist.check_every_s, sweep_waitlist)),
            asyncio.create_task(_periodic("dashboard_intents", INTENTS_EVERY_S, copy_intents)),
            asyncio.create_task(_periodic("verification_codes_sent", 1.0,
                                          lambda: codes.deliver_pending(sessions, sms_delivery, datetime.now(UTC)))),
        ]
        guard.start()  # the triage model loads in the background; the rules answer alone until it is ready
        await asyncio.to_thread(reminders.start_scheduler, settings, sender)  # persistent jobs: due ones run now
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
    app.add_middleware(BodyLimits)
    app.add_middleware(SecurityHeaders, https=serves_https(settings))

    app.include_router(health_router)
    app.include_router(webchat.router)
    app.include_router(live.router)
    app.include_router(twilio_sms.router)
    app.include_router(console.router)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.runtime.gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    configure_logging("gateway", "INFO")
    uvicorn.run(create_app(), host=args.host, port=args.port, access_log=False, log_config=None,
                log_level="warning", ws_max_size=64 * 1024)


if __name__ == "__main__":
    main()
