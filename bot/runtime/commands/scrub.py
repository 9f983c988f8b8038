"""``clinicbot scrub``: remove PHI from each line on stdin; one scrubbed line out per line in.

Strict mode by default (only known-safe words, clinical terms and clinical values survive: for text
that leaves the clinic's control); ``--mode preview`` is what the staff console shows. The scrubber
loads once (a few seconds), then streams: each line is written and flushed as soon as it is
scrubbed, so the command also works interactively or behind a pipe.
"""

from __future__ import annotations

import argparse
import logging
import sys

HELP = "remove PHI from lines on stdin"

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="TEXT",
        help="also keep TEXT (repeatable), besides phi.allow_list in config.yml",
    )
    parser.add_argument(
        "--mode",
        choices=["strict", "preview"],
        default="strict",
        help="strict (default): keep only known-safe words and clinical terms; preview: the staff console's view",
    )


def run(args: argparse.Namespace) -> int:
    from bot.phi import get_scrubber
    from bot.settings import get_settings

    allow = tuple(dict.fromkeys([*get_settings().phi.allow_list, *args.allow]))
    scrubber = get_scrubber(allow, args.mode)
    count = 0
    for line in sys.stdin:
        body = line.rstrip("\r\n")
        sys.stdout.write(scrubber.scrub(body) + line[len(body) :])
        sys.stdout.flush()
        count += 1
    logger.info("phi.scrub.done", extra={"lines": count, "mode": args.mode})
    return 0
