"""How console pages are rendered: Jinja2 templates from ``adapters/static/console_*.html`` (autoescaped),
never cached by the browser, never framed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.gateway.headers import serves_https
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent.parent / "static"


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(STATIC), autoescape=select_autoescape(["html"]))


def render(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(**values), status_code=status_code,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def secure_cookies(settings: Settings) -> bool:
    """Cookies are marked Secure when the clinic serves the console over https."""
    return serves_https(settings)
