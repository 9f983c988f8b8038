"""``clinicbot train``: train the Rasa assistant if its files changed since the last model."""

from __future__ import annotations

import argparse

from bot.engine.models import ensure_model
from bot.settings import get_settings

HELP = "train the Rasa assistant when its training data changed"


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    path = ensure_model(get_settings())
    print(path)
    return 0
