"""Policy-check benchmark: are policy questions refused (recall) and information questions not (false refusals)?

    .venv/bin/python scripts/bench_policy.py            # the table
    .venv/bin/python scripts/bench_policy.py --misses   # each miss, one per line (never the blind set's)

Sets: ``policy_dev`` is ``tests/data/policy_dev.jsonl`` (questions written to check that the learned check
generalises, never trained on: ``knowledge/training/policy.jsonl`` holds the training examples); ``policy_dev2`` is
``tests/data/policy_dev2.jsonl`` (another author's held-out questions in texting, typo, parent, elderly and
non-native voices, with context-free follow-ups such as "can i just double it"; never trained on); ``policy_dev3`` is
``tests/data/policy_dev3.jsonl`` (a third author's, kept as written: one of its questions, "how many days does a refill
take", is also a training example); ``policy_dev4`` is ``tests/data/policy_dev4.jsonl`` (a fourth author's 160
questions, half to refuse in hard wordings, half close neighbours to answer); ``policy_dev5`` is
``tests/data/policy_dev5.jsonl`` (a fifth author's 160, the same shape in other voices: a truck driver, a pharmacy
assistant, a teenager for a grandparent, a retired nurse; never trained on, kept as written: one of its
questions, "what is ferritin", is also a training example); ``policy_dev6`` is ``tests/data/policy_dev6.jsonl`` (a
sixth author's 160: a night-shift guard, a grandmother dictating, a mother of four, a recent immigrant; never studied);
``policy_dev7`` is ``tests/data/policy_dev7.jsonl`` (a seventh author's 160: a nurse's aide, an athlete, a man in his
80s in capitals, Haitian Creole words; never studied);
``dev`` and
``project`` are the answer sets of ``scripts/bench_answers.py`` (an ``answer`` item is a question to answer, any other
a question to refuse). Each set is scored with the rules alone (knowledge/guard.py, the floor) and with the rules and
the classifier (knowledge/policy.py). The blind set is scored by ``scripts/bench_answers.py`` only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

SETS = {
    "policy_dev": ROOT / "tests" / "data" / "policy_dev.jsonl",
    "policy_dev2": ROOT / "tests" / "data" / "policy_dev2.jsonl",
    "policy_check": ROOT / "tests" / "data" / "policy_check.jsonl",
    "policy_dev3": ROOT / "tests" / "data" / "policy_dev3.jsonl",
    "policy_dev4": ROOT / "tests" / "data" / "policy_dev4.jsonl",
    "policy_dev5": ROOT / "tests" / "data" / "policy_dev5.jsonl",
    "policy_dev6": ROOT / "tests" / "data" / "policy_dev6.jsonl",
    "policy_dev7": ROOT / "tests" / "data" / "policy_dev7.jsonl",
    "dev": ROOT / "tests" / "data" / "answer_questions.jsonl",
    "project": ROOT / "tests" / "data" / "retrieval_questions.jsonl",
}


def load(path: Path) -> list[tuple[str, bool]]:
    """(question, must be refused) pairs."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(str(r.get("text") or r["question"]), (r.get("label") or r.get("kind")) not in ("ok", "answer"))
            for r in rows]


def score(misses: bool = False) -> tuple[list[str], dict[str, float]]:
    """The table's rows and the figures (refusal recall and false-refusal rate per set and check)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.guard import policy_hit
    from knowledge.policy import PolicyCheck

    check = PolicyCheck(MiniLMEmbedder())
    started = time.perf_counter()
    check.fit()
    figures: dict[str, float] = {"classifier fit s": round(time.perf_counter() - started, 1)}
    rows = ["| set | check | to refuse | refused (recall) | to answer | refused anyway (false refusals) | ms per question |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, path in SETS.items():
        items = load(path)
        for label, decide in (("rules", lambda q: policy_hit(q)), ("rules + classifier", check.kind)):
            started = time.perf_counter()
            refused = [decide(q) is not None for q, _ in items]
            ms = (time.perf_counter() - started) * 1000 / max(1, len(items))
            must = [r for (_, m), r in zip(items, refused, strict=True) if m]
            may = [r for (_, m), r in zip(items, refused, strict=True) if not m]
            recall, false = sum(must) / max(1, len(must)), sum(may) / max(1, len(may))
            figures[f"{name} {label} refusal recall"] = round(recall, 3)
            figures[f"{name} {label} false refusals"] = round(false, 3)
            rows.append(f"| {name} | {label} | {len(must)} | {recall:.3f} | {len(may)} | "
                        f"{sum(may)} ({false:.3f}) | {ms:.1f} |")
            if misses and label != "rules":
                for (q, m), r in zip(items, refused, strict=True):
                    if m != r:
                        print(json.dumps({"set": name, "question": q, "must_refuse": m}))
    return rows, figures


def run() -> dict[str, float]:
    """The figures for scripts/bench.py."""
    return score()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    rows, figures = score(args.misses)
    print("\n".join(rows))
    print(f"\nclassifier fitted in {figures['classifier fit s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
