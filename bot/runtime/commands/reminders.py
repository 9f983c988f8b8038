"""``clinicbot reminders preview --days N [--json]``: what reminders would go to whom, and when."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

from bot import reminders
from bot.settings import get_settings
from bot.store import migrate, session_scope

HELP = "preview the appointment reminders the current rules would send (clinicbot reminders preview --days 7)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    preview = sub.add_parser("preview", help="list what would be sent to whom and when")
    preview.add_argument("--days", type=int, default=7, help="how many days ahead (default 7)")
    preview.add_argument("--json", action="store_true", help="one JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    now = datetime.now(UTC)
    with session_scope(settings.database_url) as session:
        planned = reminders.plan(session, settings, now, now + timedelta(days=max(0, args.days)))
    tz = settings.clinic.tz
    if args.json:
        print(json.dumps([p.as_json(tz) for p in planned], indent=2))
        return 0
    if not planned:
        print(f"no reminders due in the next {args.days} days")
        return 0
    for p in planned:
        when = p.send_at.astimezone(tz).strftime("%a %b %d %H:%M")
        note = "" if p.status == "send" else f"  [{p.status.replace('_', ' ')}]"
        print(f"{when}  appt {p.appointment_id}  patient {p.patient_id}  {p.to}  {p.rule}{note}\n    {p.text}")
    return 0
