"""``clinicbot triage``: one symptom message per line on stdin, one JSON object per line on stdout.

Each output line is ``{"urgency": ..., "red_flags": [...], "advice": ...}`` (plus ``"reasons"`` with
``--reasons``), in input order, one for one: an empty line gets an answer too.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter

from bot.settings import get_settings
from bot.triage import triage

HELP = "triage symptom messages (one per line on stdin)"

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reasons", action="store_true", help="add the reasons (for staff) to each object")
    parser.add_argument("--age", type=float, default=None, help="patient age in years, applied to every line")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    counts: Counter[str] = Counter()
    out = sys.stdout
    for line in sys.stdin:
        result = triage(
            line.rstrip("\r\n"),
            age_years=args.age,
            clinic_name=settings.clinic.name,
            clinic_phone=settings.clinic.phone,
        )
        counts[result.urgency] += 1
        obj: dict[str, object] = {"urgency": result.urgency, "red_flags": result.red_flags, "advice": result.advice}
        if args.reasons:
            obj["reasons"] = result.reasons
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()
    logger.info("triage.cli.done lines=%d %s", sum(counts.values()), " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0
