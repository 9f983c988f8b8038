"""``clinicbot`` command line: one module per command under ``bot/runtime/commands``.

Each command module defines ``HELP`` (one line), ``configure(parser)`` and ``run(args) -> int``.
Modules are imported only when their command runs, so ``clinicbot --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot.settings import SettingsError

# command name -> module under bot.runtime.commands
COMMANDS: dict[str, str] = {
    "up": "up",
    "parse": "parse",
    "demo-data": "demo_data",
    "migrate": "migrate",
    "train": "train",
    "audit": "audit",
    "purge": "purge",
    "scrub": "scrub",
    "triage": "triage",
    "ingest": "ingest",
    "tune": "tune",
    "ask": "ask",
    "staff": "staff",
    "reminders": "reminders",
    "appointments": "appointments",
    "waitlist": "waitlist",
}

HELPS: dict[str, str] = {
    "up": "start the Rasa engine, the action server and the gateway, supervised",
    "parse": "classify messages (one per line on stdin) with the trained Rasa model",
    "demo-data": "seed the demo clinic into the clinic store",
    "migrate": "bring the clinic store schema up to date",
    "train": "train the Rasa assistant when its training data changed",
    "audit": "who saw, disclosed or changed what, when, from which conversation or staff account",
    "purge": "purge message text and engine events older than retention_days (the audit trail is kept)",
    "scrub": "remove PHI from lines on stdin",
    "triage": "triage symptom messages (one per line on stdin)",
    "ingest": "load the knowledge documents into the knowledge store",
    "tune": "QLoRA fine-tune the local model's adapter",
    "ask": "answer questions (one per line on stdin) from the knowledge store",
    "staff": "manage staff console accounts (clinicbot staff add NAME --role staff|owner)",
    "reminders": "preview appointment reminders (clinicbot reminders preview --days 7 [--json])",
    "appointments": "list a patient's appointments and their status (--phone NUMBER [--json])",
    "waitlist": "list the waitlist in order of request, with each patient's offers ([--all] [--json])",
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinicbot", description="Clinicbot: a clinic's assistant.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, module_name in COMMANDS.items():
        cmd = sub.add_parser(name, help=HELPS.get(name, ""), description=HELPS.get(name, ""))
        if name == chosen:
            module = importlib.import_module(f"bot.runtime.commands.{module_name}")
            module.configure(cmd)
            cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except SettingsError as exc:
        print(f"clinicbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
