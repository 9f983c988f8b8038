"""``clinicbot demo-data``: seed the demo clinic ("Maple Street Family Medicine") with 90 days of history."""

from __future__ import annotations

import argparse
import sys

from bot.runtime import demo
from bot.runtime.demo_history import seed_history
from bot.settings import get_settings
from bot.store import migrate, session_scope
from bot.store.db import is_empty

HELP = "seed the demo clinic into the clinic store"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reset", action="store_true", help="wipe the clinic store and seed it again")
    parser.add_argument("--no-history", action="store_true",
                        help="leave out the 90 days of synthetic history the dashboard shows")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    if not is_empty(settings.database_url) and not args.reset:
        print("the clinic store already has data; use --reset to wipe it and seed the demo clinic again",
              file=sys.stderr)
        return 1
    with session_scope(settings.database_url) as session:
        if args.reset:
            demo.wipe(session)
        counts = demo.seed(session, settings)
        if not args.no_history:
            counts |= {f"history {k}": v for k, v in seed_history(session, settings).items()}
    print("seeded the demo clinic: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
    return 0
