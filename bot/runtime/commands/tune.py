"""``clinicbot tune``: QLoRA fine-tune the local model's adapters and report base versus tuned.

``--task answers`` tunes the answering adapter (knowledge/training), ``--task triage`` the triage adapter
(bot/triage: label scoring, written to ``<data_dir>/triage-adapter`` unless ``--out``), ``--task all`` (the
default) both, triage first: it is the safety-critical one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "QLoRA fine-tune the local model's adapters (answers and triage)"


def configure(parser: argparse.ArgumentParser) -> None:
    from bot.triage.tune import TriageTuneConfig
    from knowledge.training.tune import TuneConfig

    d, t = TuneConfig(), TriageTuneConfig()
    parser.add_argument("--task", choices=["all", "answers", "triage"], default="all",
                        help="which adapter to tune (default: both, triage first)")
    parser.add_argument("--steps", type=int, default=0,
                        help=f"optimizer steps (default: answers one epoch of --grad-accum examples, at most "
                             f"{d.max_default_steps}; triage {t.epochs:g} epochs of {t.batch_size} messages)")
    parser.add_argument("--epochs", type=float, default=None, help="passes over the training set when --steps is 0")
    parser.add_argument("--grad-accum", type=int, default=d.grad_accum, help="answers: examples per optimizer step")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help=f"peak learning rate (default: answers {d.learning_rate:g}, triage {t.learning_rate:g})")
    parser.add_argument("--eval-limit", type=int, default=d.eval_limit,
                        help="answers: held-out examples to generate per model")
    parser.add_argument("--threads", type=int, default=t.threads, help="triage: torch threads (0: torch's default)")
    parser.add_argument("--thresholds-only", action="store_true",
                        help="triage: choose the thresholds again for the adapter in --out (or the one in use) "
                             "on the validation split, without tuning")
    parser.add_argument("--out", type=Path, default=None,
                        help="adapter folder (with one --task; default: llm.adapter, or <data_dir>/triage-adapter)")


def _progress(message: str) -> None:
    print(f"[tune] {message}", file=sys.stderr, flush=True)


def _answers(args: argparse.Namespace) -> None:
    from bot.llm.local import resolve_adapter, resolve_base_model
    from bot.settings import get_settings
    from knowledge.training.tune import TuneConfig, tune

    settings = get_settings()
    out = args.out or resolve_adapter(settings)
    d = TuneConfig()
    config = TuneConfig(steps=args.steps, epochs=args.epochs if args.epochs is not None else d.epochs,
                        eval_limit=args.eval_limit, grad_accum=args.grad_accum,
                        learning_rate=args.learning_rate or d.learning_rate)
    report = tune(resolve_base_model(settings, _progress), out, clinic_name=settings.clinic.name, config=config,
                  progress=_progress)
    base, tuned = report["base"], report["tuned"]
    print(f"answers adapter: {out}")
    print(f"report:  {out / 'report.md'}")
    print(f"{'measure':<18}{'base':>8}{'tuned':>8}")
    for key in ("numbers_grounded", "refusal_accuracy", "rouge_l", "reading_grade"):
        print(f"{key:<18}{base[key]:>8}{tuned[key]:>8}")
    print(f"trainable {report['trainable_parameters']:,} ({100 * report['trainable_share']:.2f} %), "
          f"peak RSS {report['peak_rss_mb']} MB, {report['seconds']['total']} s")
    print(f"tuned beats base: {'yes' if report['tuned_beats_base'] else 'NO'}")


def _triage(args: argparse.Namespace) -> None:
    from bot.llm.prepare import prepare_base_model
    from bot.settings import get_settings
    from bot.triage.net import resolve_triage_adapter
    from bot.triage.tune import TriageTuneConfig, rechoose_thresholds, tune_triage

    settings = get_settings()
    base = str(prepare_base_model(settings.models_dir, _progress))
    if args.thresholds_only:
        out = args.out or resolve_triage_adapter(settings)
        if out is None:
            raise SystemExit("no triage adapter to choose thresholds for: tune one first")
        report = rechoose_thresholds(base, out, threads=args.threads, progress=_progress)
    else:
        out = args.out or settings.data_dir / "triage-adapter"
        d = TriageTuneConfig()
        config = TriageTuneConfig(steps=args.steps, epochs=args.epochs if args.epochs is not None else d.epochs,
                                  learning_rate=args.learning_rate or d.learning_rate, threads=args.threads)
        report = tune_triage(base, out, config=config, progress=_progress)
    print(f"triage adapter: {out}")
    print(f"report:  {out / 'report.md'}")
    print(f"{'validation (' + str(report['items']['validation']) + ')':<34}{'recall':>8}{'accuracy':>10}{'false em.':>10}")
    for name, figures in (("rules alone", report["rules"]), ("base model alone (argmax)", report["base"]["model_argmax"]),
                          ("tuned model alone", report["tuned"]["model"]),
                          ("rules + tuned model", report["tuned"]["combined"])):
        print(f"{name:<34}{figures['emergency_recall']:>8}{figures['accuracy']:>10}{figures['false_emergency_rate']:>10}")
    print(f"thresholds {report['thresholds']}; trainable {report['trainable_parameters']:,}, "
          f"peak RSS {report['peak_rss_mb']} MB, {report['seconds']['total']} s")


def run(args: argparse.Namespace) -> int:
    if args.out is not None and args.task == "all":
        print("--out needs one --task (answers or triage)", file=sys.stderr)
        return 2
    if args.task in ("triage", "all"):
        _triage(args)
    if args.task in ("answers", "all"):
        _answers(args)
    return 0
