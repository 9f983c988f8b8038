"""Outbound SMS through Twilio's REST API with the official ``twilio`` client.

``TwilioSender.send`` blocks (the twilio client is synchronous): async code calls it through
``asyncio.to_thread``. Rate limits (429) and Twilio-side errors (5xx, connection failures) are retried with
exponential backoff; a refusal such as 21610 (the recipient texted STOP to the number) is final.
``TwilioSender.sent_messages`` reads Twilio's own list of messages to a number (To/From/DateSent filters), which
is how a send left unfinished by a killed process is settled before anything is sent again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.messaging.outbound import OutboxSender, SendResult, SmsSender
from bot.reminders.sends import ProviderMessage
from bot.settings import Settings

log = logging.getLogger(__name__)
TWILIO_API = "https://api.twilio.com"
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
# The twilio client logs each request at INFO (URLs, headers); keep that out of the clinic's logs.
_quiet = logging.getLogger("clinicbot.twilio_http")
_quiet.setLevel(logging.WARNING)


class _RebasedHttpClient(TwilioHttpClient):
    """Sends what the client addresses to api.twilio.com to another base URL (a local fake in tests)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self._base = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self._base and url.startswith(TWILIO_API):
            url = self._base + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def twilio_credentials(settings: Settings) -> tuple[str, str, str] | None:
    """(account SID, auth token, from number) from the environment or settings; None if incomplete."""
    sid = os.environ.get("TWILIO_ACCOUNT_SID") or settings.sms.account_sid
    token = os.environ.get("TWILIO_AUTH_TOKEN") or settings.sms.auth_token
    number = os.environ.get("TWILIO_PHONE_NUMBER") or settings.sms.phone_number
    return (sid, token, number) if sid and token and number else None


def auth_token(settings: Settings) -> str:
    return os.environ.get("TWILIO_AUTH_TOKEN") or settings.sms.auth_token


def public_url(settings: Settings) -> str:
    """The gateway's address as Twilio sees it (CLINICBOT_PUBLIC_URL, else servers.public_url)."""
    return (os.environ.get("CLINICBOT_PUBLIC_URL") or settings.servers.public_url).rstrip("/")


class TwilioSender:
    provider_name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, from_number: str, *, api_base_url: str = "",
                 status_callback: str = "", attempts: int = 4, backoff_s: float = 1.0, timeout_s: float = 15.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = Client(account_sid, auth_token,
                              http_client=_RebasedHttpClient(api_base_url, timeout_s))
        self.from_number = from_number
        self._status_callback = status_callback
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSender | None:
        credentials = twilio_credentials(settings)
        if credentials is None:
            return None
        base = public_url(settings)
        # Twilio can only call back an address it can reach; skip the callback for a local address.
        callback = f"{base}/sms/twilio/status" if base.startswith("https://") else ""
        return cls(*credentials, api_base_url=settings.sms.api_base_url, status_callback=callback,
                   attempts=settings.sms.send_attempts, backoff_s=settings.sms.retry_backoff_s,
                   timeout_s=settings.sms.timeout_s)

    def send(self, to: str, body: str) -> SendResult:
        extra = {"status_callback": self._status_callback} if self._status_callback else {}
        delay = self._backoff_s
        error = ""
        for attempt in range(1, self._attempts + 1):
            try:
                message = self._client.messages.create(to=to, from_=self.from_number, body=body, **extra)
            except TwilioRestException as exc:
                error = str(exc.code or exc.status)
                if exc.code == OPTED_OUT:
                    log.info("sms.send.opted_out code=%s", exc.code)
                    return SendResult("opted_out", error=error)
                if exc.status != 429 and exc.status < 500:
                    log.warning("sms.send.refused status=%s code=%s", exc.status, exc.code)
                    return SendResult("failed", error=error)
                log.warning("sms.send.retry attempt=%d status=%s code=%s", attempt, exc.status, exc.code)
            except OSError as exc:  # requests' connection errors are OSErrors
                error = type(exc).__name__
                log.warning("sms.send.retry attempt=%d error=%s", attempt, error)
            else:
                log.info("sms.send.accepted sid=%s attempts=%d", message.sid, attempt)
                return SendResult("sent", provider_id=message.sid)
            if attempt < self._attempts:
                self._sleep(delay)
                delay *= 2
        log.error("sms.send.gave_up attempts=%d error=%s", self._attempts, error)
        return SendResult("failed", error=error)


    def sent_messages(self, to: str, since: datetime) -> list[ProviderMessage]:
        """What Twilio accepted from our number to ``to`` since ``since``: the messages it sent from that day on
        (``DateSent>=``, a day filter), and its newest page (a message still queued has no sent date yet)."""
        found: dict[str, Any] = {}
        day = since.strftime("%Y-%m-%d")
        for item in self._client.messages.list(to=to, from_=self.from_number, date_sent_after=day, limit=200):
            found[item.sid] = item
        for item in self._client.messages.list(to=to, from_=self.from_number, limit=50):
            found[item.sid] = item
        listed = [ProviderMessage(str(m.sid), m.body or "", m.date_created, str(m.status)) for m in found.values()]
        log.info("sms.provider_list.read found=%d", len(listed))
        return [m for m in listed if m.created_at is None or m.created_at >= since]


def sender_for(settings: Settings) -> SmsSender:
    """The SMS provider the settings ask for; the outbox when no credentials are configured.

    Twilio credentials come from TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER or ``sms.*``."""
    return TwilioSender.from_settings(settings) or OutboxSender()
