"""Try a learned sentence scorer beside the hand weights: a cross-encoder on all-MiniLM-L6-v2, fine-tuned listwise.

A trial, not a shipped stage (knowledge/select.py does not read it yet). Every question to answer of the studied sets
is answered as a patient's would be (quoting only); each time the answerer scores a section's sentences, the question,
the candidates, their features and which of them hold a key fact are kept (scripts/fit_selection.py: collect_scorings). The
packaged all-MiniLM-L6-v2 reads (question, sentence) pairs with a linear head on its mean-pooled output and is trained
so the right sentences take the most of a softmax over each scoring's candidates. The check sets are never trained on;
for each, the share of scorings whose best sentence is right is printed by the hand weights alone and with the
cross-encoder's score added at several weights (``inf``: the cross-encoder alone). The blind set is never read.

    python scripts/try_reranker.py                        # train on the default sets, check on dev13-16 (about 25 min)
    python scripts/try_reranker.py --epochs 2 --save /tmp/reranker.pt
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # its siblings, imported as mypy and pytest name them
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fit_selection import FIT_SETS, Scoring, collect_scorings  # noqa: E402

from knowledge.select import FEATURES, HAND_WEIGHTS  # noqa: E402

CHECK_SETS = ["dev13", "dev14", "dev15", "dev16"]
MIXES = (0.0, 0.05, 0.1, 0.2, float("inf"))  # the cross-encoder's weight beside the hand score
MAX_CANDIDATES = 24  # a scoring with more candidates trains on every right one and a sample of the wrong ones

class CrossEncoder:
    """all-MiniLM-L6-v2 reading a (question, sentence) pair, mean-pooled, and a linear head: one score a pair."""

    def __init__(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from knowledge.embeddings import default_model_path

        path = str(default_model_path())
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.encoder = AutoModel.from_pretrained(path)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

    def scores(self, question: str, texts: Sequence[str]) -> Any:
        batch = self.tokenizer([question] * len(texts), list(texts), padding=True, truncation=True, max_length=128,
                               return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return self.head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)

    def train(self, scorings: Sequence[Scoring], epochs: int, seed: int = 0) -> None:
        torch = self.torch
        rng = random.Random(seed)
        torch.manual_seed(seed)
        optimizer = torch.optim.AdamW([{"params": self.encoder.parameters(), "lr": 3e-5},
                                       {"params": self.head.parameters(), "lr": 1e-3}])
        self.encoder.train()
        order = list(scorings)
        for epoch in range(epochs):
            rng.shuffle(order)
            started, total = time.monotonic(), 0.0
            for step, scoring in enumerate(order, 1):
                keep = list(range(len(scoring["texts"])))
                if len(keep) > MAX_CANDIDATES:
                    right = [i for i in keep if scoring["right"][i]]
                    wrong = [i for i in keep if not scoring["right"][i]]
                    keep = right + rng.sample(wrong, max(0, MAX_CANDIDATES - len(right)))
                logp = torch.log_softmax(self.scores(scoring["question"], [scoring["texts"][i] for i in keep]), 0)
                loss = -torch.logsumexp(logp[torch.tensor([bool(scoring["right"][i]) for i in keep])], 0)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss)
                if step % 100 == 0 or step == len(order):
                    print(f"  epoch {epoch + 1}: {step}/{len(order)} scorings, loss {total / step:.3f}, "
                          f"{time.monotonic() - started:.0f} s", flush=True)
        self.encoder.eval()

    def best_right(self, scorings: Sequence[Scoring], mixes: Sequence[float]) -> dict[float, float]:
        """For each weight of the cross-encoder beside the hand score, the share of scorings whose best is right."""
        hand = np.array([HAND_WEIGHTS[f] for f in FEATURES])
        hits = dict.fromkeys(mixes, 0)
        with self.torch.no_grad():
            for scoring in scorings:
                learned = self.scores(scoring["question"], scoring["texts"]).numpy()
                by_hand = scoring["x"] @ hand
                for mix in mixes:
                    total = learned if mix == float("inf") else by_hand + mix * learned
                    hits[mix] += bool(scoring["right"][int(np.argmax(total))])
        return {mix: hits[mix] / max(1, len(scorings)) for mix in mixes}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=[*FIT_SETS, "dev12"], help="the answer sets trained on")
    parser.add_argument("--check", nargs="*", default=CHECK_SETS, help="sets scored, never trained on")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--save", type=Path, help="keep the trained weights in this file")
    args = parser.parse_args(argv)
    if set(args.sets) & set(args.check):
        raise SystemExit("a check set is never trained on")
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        by_set = collect_scorings([*args.sets, *args.check], Path(tmp))
    trained_on = [s for name in args.sets for s in by_set[name]]
    model = CrossEncoder()
    model.train(trained_on, args.epochs)
    if args.save:
        torch.save({"encoder": model.encoder.state_dict(), "head": model.head.state_dict()}, args.save)
    labels = ["hand" if m == 0 else ("cross-encoder alone" if m == float("inf") else f"hand + {m} x CE") for m in MIXES]
    print(f"\ntrained on {len(trained_on)} scorings, {args.epochs} epoch(s), in {time.monotonic() - started:.0f} s")
    print(f"| check set | scorings | {' | '.join(labels)} |\n|{' --- |' * (len(labels) + 2)}")
    for name in args.check:
        shares = model.best_right(by_set[name], MIXES)
        print(f"| {name} | {len(by_set[name])} | {' | '.join(f'{shares[m]:.3f}' for m in MIXES)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
