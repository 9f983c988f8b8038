"""``clinicbot waitlist [--all] [--json]``: who is waiting for a sooner time, in order of request, with their offers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.scheduling.timefmt import when_text
from bot.settings import get_settings
from bot.store import migrate, session_scope
from bot.waitlist import listing

HELP = "list the waitlist in order of request, with each patient's offers (--all includes closed entries)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="include entries that were booked, left or ended")
    parser.add_argument("--json", action="store_true", help="one JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    tz = settings.clinic.tz
    rows: list[dict[str, Any]] = []
    with session_scope(settings.database_url) as session:
        for entry, offers in listing(session, include_closed=args.all):
            window = f"{entry.date_from:%a, %b} {entry.date_from.day} - {entry.date_to:%a, %b} {entry.date_to.day}"
            if entry.time_from or entry.time_to:
                window += f", {entry.time_from or 'open'}-{entry.time_to or 'close'}"
            rows.append({
                "entry_id": entry.id, "since": entry.created_at.astimezone(tz).isoformat(), "status": entry.status,
                "patient_id": entry.patient_id, "patient": entry.patient.full_name,
                "appointment_type": entry.appointment_type.name,
                "provider": entry.provider.name if entry.provider else "any", "window": window,
                "sooner_than_appointment": entry.appointment_id, "channel": entry.channel,
                "offers": [{"offer_id": o.id, "start": o.start.astimezone(tz).isoformat(), "status": o.status,
                            "sent_at": o.sent_at.astimezone(tz).isoformat() if o.sent_at else None,
                            "when": when_text(o.start, tz)} for o in offers],
            })
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("nobody is on the waitlist", file=sys.stderr)
        return 0
    for r in rows:
        since = str(r["since"])[:16].replace("T", " ")
        print(f"{since}  #{r['entry_id']!s:<4} {r['status']!s:<8} {r['appointment_type']} with {r['provider']}, "
              f"{r['window']} ({r['patient']}, {r['channel'] or 'staff'})")
        for o in r["offers"]:
            print(f"      offer #{o['offer_id']}: {o['when']}  {o['status']}")
    return 0
