"""``clinicbot purge``: apply the retention policy now (the gateway also runs it every day)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bot.settings import get_settings
from bot.store import migrate
from bot.store.retention import purge

HELP = "purge message text and engine events older than retention_days (the audit trail is kept)"


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    counts = purge(settings, datetime.now(UTC))
    print(f"purged {counts.messages} message texts and {counts.tracker_events} engine events older than "
          f"{settings.retention_days} days; the audit trail is kept")
    return 0
