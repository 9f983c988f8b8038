"""How console pages are rendered: Jinja2 templates from ``adapters/static/console_*.html`` (autoescaped),
never cached by the browser, never framed. Filters: ``local`` (a stored time in the clinic's zone), ``pct``,
``num`` and ``minutes`` (the dashboard's figures)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.gateway.headers import serves_https
from bot.scheduling.timefmt import clock, short_date
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent.parent / "static"


def local(value: datetime | str | None, timezone: str, now: datetime | None = None) -> str:
    """A stored time as the front desk reads it, in the clinic's zone: '2:05 pm' today, 'Tue, Dec 1, 2:05 pm'
    otherwise."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    tz = ZoneInfo(timezone)
    here = moment.astimezone(tz)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    return clock(here) if here.date() == today else f"{short_date(here)}, {clock(here)}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def minutes(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.0f} min"
    if value < 24 * 60:
        return f"{int(value // 60)} h {int(value % 60):02d} min"
    return f"{int(value // 1440)} d {int(value % 1440 // 60)} h"


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(STATIC), autoescape=select_autoescape(["html"]))
    env.filters.update(local=local, pct=pct, num=num, minutes=minutes)
    return env


def render(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(**values), status_code=status_code,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def secure_cookies(settings: Settings) -> bool:
    """Cookies are marked Secure when the clinic serves the console over https."""
    return serves_https(settings)
