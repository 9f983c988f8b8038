"""``clinicbot audit --patient ID [--json]``: the audit trail of one patient."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.settings import get_settings
from bot.store import Patient, migrate, session_scope
from bot.store.audit import trail

HELP = "print who saw or disclosed a patient's PHI, when and why"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patient", type=int, required=True, metavar="ID", help="the patient's id in the store")
    parser.add_argument("--json", action="store_true", help="one JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        if session.get(Patient, args.patient) is None:
            print(f"no patient with id {args.patient}")
            return 1
        events = trail(session, args.patient)
        rows: list[dict[str, Any]] = [{"id": e.id, "at": e.at.isoformat(), "actor_type": e.actor_type, "actor_id": e.actor_id,
                 "patient_id": e.patient_id, "action": e.action, "detail": e.detail} for e in events]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no audit events for patient {args.patient}")
        return 0
    for row in rows:
        detail = ", ".join(f"{k}={v}" for k, v in row["detail"].items())
        print(f"{row['at']}  {row['actor_type']}:{row['actor_id']}  {row['action']}  {detail}")
    return 0
