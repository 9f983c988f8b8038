"""The gateway process: its ASGI app built from the channels (``adapters``) and the services, and
``python -m bot.runtime.gateway``, which the supervisor starts (structured logs, uvicorn).

Several gateways can share one clinic database (``clinicbot up --gateways N``, or one per host behind a load
balancer): conversation turns are taken one at a time across them, live pushes are shared between them, the
owner's settings reach each within seconds, and one of them (the ``scheduler`` lease) runs reminders,
retention, the waitlist sweep and the dashboard's intent copy. Database and provider calls run in a thread
pool, never on the event loop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI

from adapters import console, live, twilio_sms, webchat
from adapters.twilio_rest import sender_for
from bot import waitlist
from bot.conversations.guard import RedFlagGuard
from bot.conversations.notices import StaffHoldNotice
from bot.conversations.service import ConversationService
from bot.conversations.turns import TurnLock
from bot.engine.client import RasaClient
from bot.gateway.errors import install_error_handlers
from bot.gateway.headers import SecurityHeaders, serves_https
from bot.gateway.health import router as health_router
from bot.gateway.limits import BodyLimits
from bot.identity import codes
from bot.messaging.outbound import SmsSender
from bot.messaging.sms_delivery import SmsDelivery
from bot.reports import intents as reports_intents
from bot.runtime.leader import Duty, Leader
from bot.runtime.logging_setup import configure_logging
from bot.settings import Settings, get_settings, refresh_owner_changes
from bot.store import get_engine, migrate
from bot.store.db import session_factory

log = logging.getLogger("clinicbot.gateway")
THREADS = 32  # database and provider calls run here, off the event loop
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


def _sweep_waitlist(settings: Settings, sender: SmsSender) -> str:
    waitlist.sweep(settings, sender)  # logs what it did
    return ""


def _copy_intents(settings: Settings) -> str:
    copied = reports_intents.copy_intents(settings)
    return f"intents:{copied}" if copied else ""


def create_app(settings: Settings | None = None, engine: RasaClient | None = None,
               guard: RedFlagGuard | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or RasaClient(settings.servers.rasa_url, settings.servers.action_url,
                                  settings.rasa.request_timeout_s)
    migrate(settings.database_url)
    sessions = session_factory(settings.database_url)
    guard = guard or RedFlagGuard.from_settings(settings)
    # a conversation's turn is held by one gateway at a time; a gateway that dies mid-turn frees it by the lease
    turns = TurnLock(get_engine(settings.database_url), ttl_s=settings.gateway.lease_ttl_s)
    service = ConversationService(
        sessions, engine, guard=guard, turns=turns,
        timeout_reply=(f"Sorry, I couldn't answer that in time. I've passed your message to our staff, who will "
                       f"reply here. If it is urgent, call {settings.clinic.name} at {settings.clinic.phone}; in an "
                       f"emergency, call 911."))
    me = service.turns.holder  # this gateway, in leases and shared events
    # channels: SMS replies go out through the sender; web pages and consoles get live pushes, shared with the
    # other gateways through the database
    sender = sender_for(settings)
    relay = live.LiveRelay(get_engine(settings.database_url), me)
    hub = live.LiveHub(relay, sessions)
    leader = Leader(settings, sender, me, duties=[
        Duty("waitlist_sweep", settings.waitlist.check_every_s, lambda: _sweep_waitlist(settings, sender)),
        Duty("dashboard_intents", INTENTS_EVERY_S, lambda: _copy_intents(settings)),
    ])
    sms_delivery = SmsDelivery(sessions, sender, settings.sms.max_segments)
    service.on_outbound(sms_delivery)
    service.on_outbound(hub.on_outbound)
    service.on_inbound(hub.on_inbound)
    service.on_inbound(StaffHoldNotice(settings, service))

    running = [0]  # lifespans entered: the background work belongs to the first (a test harness may nest one)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running[0] += 1
        if running[0] > 1:  # already serving in another event loop: start nothing twice
            try:
                yield
            finally:
                running[0] -= 1
            return
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(THREADS, "gateway-io"))

        async def owner_changes() -> bool:  # a save on any gateway's settings page reaches this one
            return await asyncio.to_thread(refresh_owner_changes, settings, 0.0)

        tasks = [
            asyncio.create_task(_periodic("pending_answered", settings.gateway.retry_pending_every_s,
                                          service.retry_pending)),
            asyncio.create_task(_periodic("settings_refreshed", 2.0, owner_changes)),
            asyncio.create_task(_periodic("verification_codes_sent", 1.0,
                                          lambda: codes.deliver_pending(sessions, sms_delivery, datetime.now(UTC)))),
            asyncio.create_task(relay.keep_presence()),
            asyncio.create_task(relay.run(hub)),
            asyncio.create_task(leader.run()),  # reminders, retention, waitlist and intents: on one gateway only
        ]
        guard.start()  # the triage model loads in the background; the rules answer alone until it is ready
        await leader.check()  # a single gateway (or the first) has its scheduler running when it answers
        log.info("gateway.started port=%s scheduler=%s", settings.servers.gateway_port, leader.holding)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await leader.stop()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(relay.leave)
            await engine.aclose()
            running[0] -= 1

    app = FastAPI(title="Clinicbot gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.conversations = service
    app.state.live = hub
    app.state.leader = leader
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
