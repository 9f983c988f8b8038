"""The dashboard (``/console/dashboard``, staff and owners): what the assistant did over the last 7, 30 or 90 days
or a custom range, for every channel or one; charts with their numbers beside them, and each table as CSV
(``/console/dashboard/<table>.csv`` with the same query). Counts and rates only: no message text, no patient.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from adapters.console import charts
from adapters.console.render import render
from bot.gateway.deps import SessionsDep, SettingsDep, StaffPage
from bot.reports import CHANNELS, PRESETS, Dashboard, Period, build, custom, last_days
from bot.reports.traffic import SMALL_TALK
from bot.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter()
FromDay = Annotated[str, Query(alias="from")]
ToDay = Annotated[str, Query(alias="to")]


@dataclass(frozen=True)
class Filters:
    """The page's filters, as read from the URL (anything unreadable falls back to the last 30 days, all channels)."""

    range: str  # "7" | "30" | "90" | "custom"
    first: date | None
    last: date | None
    channel: str | None

    @classmethod
    def read(cls, range: str, first: str, last: str, channel: str) -> Filters:
        def day(text: str) -> date | None:
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None

        chosen = range if range in {str(p) for p in PRESETS} | {"custom"} else "30"
        start, end = day(first), day(last)
        if chosen == "custom" and (start is None or end is None):
            chosen = "30"
        return cls(chosen, start, end, channel if channel in CHANNELS else None)

    def period(self, settings: Settings) -> Period:
        tz = settings.clinic.tz
        if self.range == "custom" and self.first and self.last:
            return custom(self.first, self.last, tz)
        return last_days(int(self.range), datetime.now(tz).date(), tz)

    def params(self) -> str:
        values = {"range": self.range, "channel": self.channel or ""}
        if self.range == "custom" and self.first and self.last:
            values |= {"from": self.first.isoformat(), "to": self.last.isoformat()}
        return urlencode(values)


def _build(sessions: sessionmaker[Session], settings: Settings, query: Filters) -> Dashboard:
    started = time.perf_counter()
    with sessions() as session:
        board = build(session, settings, query.period(settings), query.channel)
    log.info("console.dashboard_built days=%d channel=%s ms=%.0f", len(board.period.days), query.channel or "all",
             (time.perf_counter() - started) * 1000)
    return board


def _short(day: str) -> str:
    value = date.fromisoformat(day)
    return f"{value:%b} {value.day}"


def chart_set(board: Dashboard) -> dict[str, Any]:
    """Every chart of the page, drawn from the board's tables."""
    daily = board.table("daily")
    days = [_short(str(d)) for d in daily.column("date")]
    intents = board.table("intents")
    handoffs = board.table("handoffs")
    no_shows = board.table("no_shows")
    changes = board.table("appointments_daily")
    return {
        "traffic": charts.line_chart(days, [
            charts.Series("Patient messages", [float(v or 0) for v in daily.column("patient_messages")], "s2"),
            charts.Series("Conversations", [float(v or 0) for v in daily.column("conversations")], "s1")],
            title="Per day"),
        "self_service": charts.line_chart(days, [charts.Series("Self-service rate", [
            v if isinstance(v, float) else None for v in daily.column("self_service_rate")], "s1")],
            title="Finished without staff, per day", percent=True),
        "intents": charts.bars([(str(r[1]), float(r[2] or 0)) for r in intents.rows if r[0] not in SMALL_TALK][:12],
                               title="Requests by what was asked"),
        "handoffs": charts.bars([(str(r[1]), float(r[2] or 0)) for r in handoffs.rows], title="Handoffs by reason",
                                css="s2"),
        "appointments": charts.columns(days, [float(sum(int(v or 0) for v in row[1:])) for row in changes.rows],
                                       title="Changes per day"),
        "no_shows": charts.line_chart([_short(str(d)) for d in no_shows.column("week_start")], [charts.Series(
            "No-show rate", [v if isinstance(v, float) else None for v in no_shows.column("no_show_rate")], "s2")],
            title="By week", percent=True),
        "red_flags": charts.columns(days, [float(board.red_flags_by_day.get(str(d), 0)) for d in daily.column("date")],
                                    title="Red flags per day", css="s3"),
        "reminders": charts.bars([(str(r[1]), float(r[2] or 0)) for r in board.table("reminders").rows],
                                 title="Reminders by outcome"),
        "triage": charts.bars([(str(r[1]), float(r[2] or 0)) for r in board.table("triage").rows],
                              title="Triage levels", css="s3"),
        "waitlist": charts.bars([(str(r[1]), float(r[2] or 0)) for r in board.table("waitlist").rows],
                                title="Waitlist steps"),
    }


@router.get("/console/dashboard", response_class=HTMLResponse)
async def dashboard_page(me: StaffPage, settings: SettingsDep, sessions: SessionsDep, range: str = "30",
                         channel: str = "", first: FromDay = "", last: ToDay = "") -> HTMLResponse:
    query = Filters.read(range, first, last, channel)
    board = await asyncio.to_thread(_build, sessions, settings, query)
    return render("console_dashboard.html", me=me, clinic=settings.clinic, board=board, query=query,
                  channels=CHANNELS, presets=PRESETS, charts=chart_set(board), params=query.params())


@router.get("/console/dashboard/{name}.csv", response_class=Response,
            responses={200: {"description": "the table as CSV; signed out, the sign-in page (after a 303)",
                             "content": {"text/csv": {}, "text/html": {}}},
                       404: {"description": "no such table", "content": {"text/plain": {}}}})
async def dashboard_csv(me: StaffPage, settings: SettingsDep, sessions: SessionsDep, name: str, range: str = "30",
                        channel: str = "", first: FromDay = "", last: ToDay = "") -> Response:
    query = Filters.read(range, first, last, channel)
    board = await asyncio.to_thread(_build, sessions, settings, query)
    table = board.tables.get(name)
    if table is None:
        return Response("no such table", status_code=404, media_type="text/plain")
    filename = f"clinicbot-{name}-{board.period.first}-{board.period.last}{'-' + query.channel if query.channel else ''}.csv"
    return Response(table.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
