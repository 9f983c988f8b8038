"""``clinicbot migrate``: bring the clinic store's schema to the newest revision."""

from __future__ import annotations

import argparse

from bot.settings import get_settings
from bot.store import migrate

HELP = "bring the clinic store schema up to date"


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    print("clinic store schema is up to date")
    return 0
