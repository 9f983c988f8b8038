"""Security headers on every answer, and whether cookies must be ``Secure``.

Pages (the web chat and the console) get a content security policy that allows scripts, styles and
connections from the gateway itself only: no inline script or style, no other site, never framed. Every answer
says not to sniff content types and not to send a referrer; answers that may carry PHI (the chat API, the
console) are never cached. When the clinic's public address is https, browsers are told to keep using https
(HSTS) and cookies are marked ``Secure``.
"""

from __future__ import annotations

import os
import re

from bot.gateway.limits import ASGIApp, Message, Receive, Scope, Send
from bot.settings import Settings

_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
NO_STORE_PREFIXES = ("/api/", "/console", "/ws/")
COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def public_url(settings: Settings) -> str:
    """The gateway's address as patients and Twilio see it (``CLINICBOT_PUBLIC_URL``, else ``servers.public_url``)."""
    return (os.environ.get("CLINICBOT_PUBLIC_URL") or settings.servers.public_url).rstrip("/")


def serves_https(settings: Settings) -> bool:
    return public_url(settings).startswith("https://")


def page_policy(host: str) -> str:
    """The CSP of an HTML page served to ``host``: scripts, styles, images and sockets from the gateway only."""
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'{sockets}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


API_POLICY = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer (headers a route set itself are kept)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.decode("latin-1").lower() for k, _ in headers}
                content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
                extra = dict(COMMON)
                extra["content-security-policy"] = page_policy(host) if content_type.startswith("text/html") \
                    else API_POLICY
                if path.startswith(NO_STORE_PREFIXES):
                    extra["cache-control"] = "no-store"
                if self.https:
                    extra["strict-transport-security"] = "max-age=31536000; includeSubDomains"
                headers += [(k.encode(), v.encode()) for k, v in extra.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
