"""``clinicbot audit``: the audit trail, filtered.

``clinicbot audit --patient ID`` who saw, disclosed or changed one patient's records; ``--staff NAME`` what a
staff account did (sign-ins, failed ones, locks, conversations opened, settings changed); ``--conversation ID``
what happened in one conversation; ``--action`` one kind of event (repeatable); ``--since 2026-11-01`` or
``--since 24h``; ``--limit``; ``--json``. With no filter, the newest events.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.settings import get_settings
from bot.store import Patient, migrate, session_scope
from bot.store.audit import ACTIONS, events

HELP = "print who saw, disclosed or changed what, when, and from which conversation or staff account"


def _since(value: str) -> datetime:
    relative = re.fullmatch(r"(\d{1,5})([hd])", value.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return datetime.now(UTC) - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected a date such as 2026-11-01, or 24h, 7d") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _action(value: str) -> str:
    if value not in ACTIONS:
        raise argparse.ArgumentTypeError(f"unknown action; one of {', '.join(sorted(ACTIONS))}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patient", type=int, metavar="ID", help="one patient's id in the store")
    parser.add_argument("--staff", metavar="NAME", help="what one staff account did")
    parser.add_argument("--conversation", metavar="ID", help="one conversation (the id the console shows)")
    parser.add_argument("--action", type=_action, action="append", metavar="ACTION",
                        help="only this kind of event (repeatable), e.g. appointment_cancelled, staff_locked")
    parser.add_argument("--since", type=_since, metavar="WHEN", help="a date (2026-11-01) or a span (24h, 7d)")
    parser.add_argument("--limit", type=int, default=200, help="at most this many of the newest events (200)")
    parser.add_argument("--json", action="store_true", help="one JSON list instead of a table")


def _detail(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items())


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        if args.patient is not None and session.get(Patient, args.patient) is None:
            print(f"no patient with id {args.patient}")
            return 1
        found = events(session, patient_id=args.patient, staff=args.staff.lower() if args.staff else None,
                       conversation_id=args.conversation, actions=args.action, since=args.since,
                       limit=max(1, args.limit))
        rows: list[dict[str, Any]] = [{"id": e.id, "at": e.at.isoformat(), "actor_type": e.actor_type,
                                       "actor_id": e.actor_id, "patient_id": e.patient_id, "action": e.action,
                                       "detail": e.detail} for e in found]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no audit events for patient {args.patient}" if args.patient is not None else "no audit events")
        return 0
    for row in rows:
        shown = row["patient_id"] is not None and args.patient is None
        patient = f"  patient={row['patient_id']}" if shown else ""
        print(f"{row['at']}  {row['actor_type']}:{row['actor_id']}  {row['action']}{patient}  {_detail(row['detail'])}")
    return 0
