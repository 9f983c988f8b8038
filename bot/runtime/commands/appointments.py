"""``clinicbot appointments --phone NUMBER [--json]``: a patient's appointments and their status."""

from __future__ import annotations

import argparse
import json
import sys

from bot import scheduling
from bot.settings import get_settings
from bot.store import migrate, session_scope

HELP = "list a patient's appointments with their status (clinicbot appointments --phone +15555550100)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--phone", required=True, help="the patient's number in E.164, e.g. +15555550100")
    parser.add_argument("--json", action="store_true", help="one JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    tz = settings.clinic.tz
    with session_scope(settings.database_url) as session:
        rows = [{"appointment_id": a.id, "patient_id": p.id, "patient": p.full_name, "status": a.status,
                 "start": a.start.astimezone(tz).isoformat(), "provider": a.provider.name,
                 "appointment_type": a.appointment_type.name, "location": a.location}
                for p, a in scheduling.patient_appointments(session, args.phone)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no appointments for {args.phone}", file=sys.stderr)
        return 1
    for r in rows:
        start = str(r["start"])[:16].replace("T", " ")
        print(f"{start}  #{r['appointment_id']!s:<5} {r['status']!s:<10} "
              f"{r['appointment_type']} with {r['provider']} ({r['patient']})")
    return 0
