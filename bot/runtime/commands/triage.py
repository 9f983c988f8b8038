"""``clinicbot triage``: one symptom message per line on stdin, one JSON object per line on stdout.

Each output line is ``{"urgency", "red_flags", "advice", "decided_by"}`` in input order, one for one (an empty
line gets an answer too). The level is the more urgent of the red-flag and urgency rules and the learned triage
model (which can only raise it). ``--explain`` adds what each part said: the rules' level, hits and reasons,
the model's four probabilities, its category and its level. ``--rules-only`` leaves the model out.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from typing import Any

from bot.settings import get_settings

HELP = "triage symptom messages (one per line on stdin)"

logger = logging.getLogger(__name__)
LOAD_WAIT_S = 300.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reasons", action="store_true", help="add the reasons (for staff) to each object")
    parser.add_argument("--explain", action="store_true",
                        help="add the rule hits, the model's four probabilities and category, and who decided")
    parser.add_argument("--rules-only", action="store_true", help="leave the learned model out")
    parser.add_argument("--age", type=float, default=None, help="patient age in years, applied to every line")


def _explain(result: Any) -> dict[str, Any]:
    rules = result.rules
    model: dict[str, Any]
    if result.model is None:
        model = {"used": False, "why": result.model_note or "unavailable"}
    else:
        score = result.model
        model = {"used": True, "levels": {k: round(v, 4) for k, v in score.levels.items()}, "level": score.level,
                 "category": score.category, "category_p": score.category_p,
                 "emergency_category": score.emergency_category, "ms": round(1000 * score.seconds, 1)}
    return {"rules": {"urgency": rules.urgency, "red_flags": rules.red_flags, "reasons": rules.reasons},
            "model": model}


def run(args: argparse.Namespace) -> int:
    from bot.triage.combine import assess
    from bot.triage.net import get_triage_net

    settings = get_settings()
    net = None if args.rules_only else get_triage_net(settings, own_threads=True)
    if net is not None:
        net.timeout_s = max(net.timeout_s, 60.0)  # no patient is waiting on this command: let the model answer
    if net is not None and not net.wait(LOAD_WAIT_S):
        print(f"[triage] the model is not available ({net.error or 'still loading'}); the rules decide alone",
              file=sys.stderr)
    counts: Counter[str] = Counter()
    out = sys.stdout
    for line in sys.stdin:
        result = assess(line.rstrip("\r\n"), net, age_years=args.age, clinic_name=settings.clinic.name,
                        clinic_phone=settings.clinic.phone)
        counts[f"{result.urgency}:{result.decided_by}"] += 1
        obj: dict[str, object] = {"urgency": result.urgency, "red_flags": result.red_flags, "advice": result.advice,
                                  "decided_by": result.decided_by}
        if args.reasons:
            obj["reasons"] = result.reasons
        if args.explain:
            obj |= _explain(result)
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()
    logger.info("triage.cli.done lines=%d %s", sum(counts.values()),
                " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0
