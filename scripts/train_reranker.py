"""Train the learned sentence scorer (knowledge/reranker.py) and show what it changes on sets it never saw.

Every question to answer of the training sets is answered as a patient's would be (quoting only, the hand weights);
each time the answerer scores a section's sentences, the question, the candidates, their features and which of them
hold a key fact are kept (scripts/fit_selection.py: collect_scorings). A LoRA adapter on the packaged all-MiniLM-L6-v2
and a linear head on its mean-pooled output are trained on (question, sentence) pairs so the right sentences take the
most of a softmax over each scoring's candidates, and saved into knowledge/reranker/ (a few MB). The check sets are
never trained on; for each, the share of scorings whose best sentence is right is printed by the hand weights alone
and with the learned score added at several weights (``alone``: the learned score only). The blind set is never read.

    python scripts/train_reranker.py                     # train on the studied sets, check on the newest (~25 min)
    python scripts/train_reranker.py --out /tmp/reranker --epochs 1   # a trial, the shipped adapter left alone
    python scripts/train_reranker.py --answer-check      # the answer check, into knowledge/answerable/ (~55 min)

The answer check is the same kind of scorer trained with a null candidate scored 0 beside each scoring's sentences:
the right sentences of a question to answer must beat it, and for a question no document answers
(tests/data/answers_unknown.jsonl) it must beat every sentence the answers chose from. Its score says whether a chosen
sentence answers at all, so a question the documents do not answer goes to the front desk (knowledge/answer.py).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # its siblings, imported as mypy and pytest name them
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fit_selection import FIT_SETS, collect_scorings, set_path  # noqa: E402

from knowledge.reranker import ADAPTER_DIR, ANSWERABLE_DIR, Reranker, RerankerTuneConfig, Scoring  # noqa: E402
from knowledge.select import FEATURES, HAND_WEIGHTS  # noqa: E402

TRAIN_SETS = [*FIT_SETS, "dev12"]  # the shipped scorer's (retrained on dev13-dev20 it chose worse: README)
CHECK_SETS = ["dev13", "dev14", "dev15", "dev16", "dev17"]
ANSWER_CHECK_SETS = [*FIT_SETS, *(f"dev{n}" for n in range(12, 21))]  # the answer check's (--answer-check)
ANSWER_CHECK_CHECKS = ["dev21"]
UNANSWERABLE = ["unknown"]  # tests/data/answers_unknown.jsonl: questions no document answers (--answer-check)
MIXES = (0.0, 0.05, 0.1, 0.2, float("inf"))  # the learned score's weight beside the hand score


def best_right(model: Reranker, scorings: Sequence[dict], mixes: Sequence[float]) -> dict[float, float]:
    """For each weight of the learned score beside the hand score, the share of scorings whose best is right."""
    hand = np.array([HAND_WEIGHTS[f] for f in FEATURES])
    hits = dict.fromkeys(mixes, 0)
    for scoring in scorings:
        learned = np.array(model.scores(scoring["question"], scoring["texts"]))
        by_hand = scoring["x"] @ hand
        for mix in mixes:
            total = learned if mix == float("inf") else by_hand + mix * learned
            hits[mix] += bool(scoring["right"][int(np.argmax(total))])
    return {mix: hits[mix] / max(1, len(scorings)) for mix in mixes}


def fingerprint(names: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update(set_path(name).read_bytes())
    return digest.hexdigest()[:16]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", help="the answer sets trained on")
    parser.add_argument("--check", nargs="*", help="sets scored, never trained on")
    parser.add_argument("--answer-check", action="store_true",
                        help=f"train the answer check instead (into {ANSWERABLE_DIR.relative_to(ROOT)}): a null "
                             "candidate scored 0, and the questions of --unanswerable, which no document answers")
    parser.add_argument("--unanswerable", nargs="*", default=UNANSWERABLE,
                        help="with --answer-check: sets of questions no document answers, trained on as such")
    parser.add_argument("--epochs", type=int, default=RerankerTuneConfig.epochs)
    parser.add_argument("--out", type=Path, help="where the adapter is saved (default: the packaged one's folder)")
    args = parser.parse_args(argv)
    args.out = args.out or (ANSWERABLE_DIR if args.answer_check else ADAPTER_DIR)
    args.unanswerable = args.unanswerable if args.answer_check else []
    args.sets = args.sets or (ANSWER_CHECK_SETS if args.answer_check else TRAIN_SETS)
    if args.check is None:
        args.check = ANSWER_CHECK_CHECKS if args.answer_check else CHECK_SETS
    if (set(args.sets) | set(args.unanswerable)) & set(args.check):
        raise SystemExit("a check set is never trained on")
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        by_set = collect_scorings([*args.sets, *args.check], Path(tmp), args.unanswerable)
    trained_on = [Scoring(s["question"], tuple(s["texts"]), tuple(bool(r) for r in s["right"]))
                  for name in [*args.sets, *args.unanswerable] for s in by_set[name]]
    config = RerankerTuneConfig(epochs=args.epochs, null=args.answer_check)
    model = Reranker(config=config)
    losses = model.train(trained_on)
    labels = ["hand" if m == 0 else ("learned alone" if m == float("inf") else f"hand + {m} x learned") for m in MIXES]
    rows = []
    for name in args.check:
        shares = best_right(model, by_set[name], MIXES)
        rows.append(f"| {name} | {len(by_set[name])} | {' | '.join(f'{shares[m]:.3f}' for m in MIXES)} |")
    table = [f"| check set | scorings | {' | '.join(labels)} |", f"|{' --- |' * (len(labels) + 2)}", *rows]
    model.save(args.out, {"trained_on": list(args.sets), "unanswerable": list(args.unanswerable),
                          "data": fingerprint([*args.sets, *args.unanswerable]), "scorings": len(trained_on),
                          "epochs": args.epochs, "losses": [round(v, 4) for v in losses],
                          "config": vars(config), "checked": table,
                          "seconds": round(time.monotonic() - started)})
    print(f"\ntrained on {len(trained_on)} scorings, {args.epochs} epoch(s), in {time.monotonic() - started:.0f} s; "
          f"saved in {args.out}")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
