"""``clinicbot tune``: QLoRA fine-tune the local model's adapter and report base versus tuned."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "QLoRA fine-tune the local model's adapter"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=0, help="optimizer steps (default: one epoch, at most 160)")
    parser.add_argument("--epochs", type=float, default=1.0, help="passes over the training set when --steps is 0")
    parser.add_argument("--eval-limit", type=int, default=16, help="held-out examples to generate per model")
    parser.add_argument("--out", type=Path, default=None, help="adapter folder (default: llm.adapter setting)")


def _progress(message: str) -> None:
    print(f"[tune] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from bot.llm.local import resolve_adapter, resolve_base_model
    from bot.llm.tune import TuneConfig, tune
    from bot.settings import get_settings

    settings = get_settings()
    out = args.out or resolve_adapter(settings)
    config = TuneConfig(steps=args.steps, epochs=args.epochs, eval_limit=args.eval_limit)
    report = tune(
        resolve_base_model(settings, _progress),
        out,
        clinic_name=settings.clinic.name,
        config=config,
        progress=_progress,
    )
    base, tuned = report["base"], report["tuned"]
    print(f"adapter: {out}")
    print(f"report:  {out / 'report.md'}")
    print(f"{'measure':<18}{'base':>8}{'tuned':>8}")
    for key in ("numbers_grounded", "refusal_accuracy", "rouge_l", "reading_grade"):
        print(f"{key:<18}{base[key]:>8}{tuned[key]:>8}")
    print(f"trainable {report['trainable_parameters']:,} ({100 * report['trainable_share']:.2f} %), "
          f"peak RSS {report['peak_rss_mb']} MB, {report['seconds']['total']} s")
    print(f"tuned beats base: {'yes' if report['tuned_beats_base'] else 'NO'}")
    return 0
