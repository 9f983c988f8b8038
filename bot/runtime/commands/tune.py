"""``clinicbot tune``: QLoRA fine-tune the local model's adapter and report base versus tuned."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "QLoRA fine-tune the local model's adapter"


def configure(parser: argparse.ArgumentParser) -> None:
    from knowledge.training.tune import TuneConfig

    d = TuneConfig()
    parser.add_argument("--steps", type=int, default=d.steps,
                        help=f"optimizer steps of --grad-accum examples (default: one epoch, at most "
                             f"{d.max_default_steps})")
    parser.add_argument("--epochs", type=float, default=d.epochs, help="passes over the training set when --steps is 0")
    parser.add_argument("--grad-accum", type=int, default=d.grad_accum, help="examples per optimizer step")
    parser.add_argument("--learning-rate", type=float, default=d.learning_rate, help="peak learning rate")
    parser.add_argument("--eval-limit", type=int, default=d.eval_limit, help="held-out examples to generate per model")
    parser.add_argument("--out", type=Path, default=None, help="adapter folder (default: llm.adapter setting)")


def _progress(message: str) -> None:
    print(f"[tune] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from bot.llm.local import resolve_adapter, resolve_base_model
    from bot.settings import get_settings
    from knowledge.training.tune import TuneConfig, tune

    settings = get_settings()
    out = args.out or resolve_adapter(settings)
    config = TuneConfig(steps=args.steps, epochs=args.epochs, eval_limit=args.eval_limit,
                        grad_accum=args.grad_accum, learning_rate=args.learning_rate)
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
