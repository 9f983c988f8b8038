"""Policy-check benchmark: are policy questions refused (recall) and information questions not (false refusals)?

    .venv/bin/python scripts/bench_policy.py            # the table
    .venv/bin/python scripts/bench_policy.py --misses   # each miss, one per line (never the blind set's)

Sets: ``policy_dev`` to ``policy_dev5`` are ``tests/data/policy_dev*.jsonl``, each by its own author (texting, typo,
parent, elderly and non-native voices, follow-ups such as "can i just double it", refusals hidden in stories and their
close neighbours to answer); once held out, they are now among the classifier's examples (marked "trained on", with
``dev``: knowledge/training/policy_studied.jsonl, scripts/policy_studied.py). Never trained on: ``policy_check``,
``policy_dev6`` (a sixth author's 160: a night-shift guard, a grandmother dictating, a mother of four, a recent
immigrant), ``policy_dev7`` (a seventh author's 160: a nurse's aide, an athlete, a man in his 80s in capitals, Haitian
Creole words), and the answer sets ``project``, ``dev19``, ``dev20`` and ``dev21`` of ``scripts/bench_answers.py`` (an
``answer`` item is a question to answer, any other a question to refuse). Each set is scored with the rules alone
(knowledge/guard.py, the floor), with the rules and the classifier (knowledge/policy.py), and, in the same run, with the
classifier as it was before the studied sets' questions joined its examples (at its threshold then, 0.5). The blind
set is scored by ``scripts/bench_answers.py`` only.
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
    **{f"dev{n}": ROOT / "tests" / "data" / f"answers_dev{n}.jsonl" for n in (19, 20, 21)},
}
# the sets the classifier's examples include (knowledge/training/policy_studied.jsonl): their figures are not checks
TRAINED_ON = ("policy_dev", "policy_dev2", "policy_dev3", "policy_dev4", "policy_dev5", "dev")


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
    from knowledge.policy import EVEN_ODDS, REFUSE_AT, PolicyCheck, policy_examples

    embedder = MiniLMEmbedder()
    check = PolicyCheck(embedder)
    started = time.perf_counter()
    check.fit()
    figures: dict[str, float] = {"classifier fit s": round(time.perf_counter() - started, 1)}
    # the classifier as it was before the studied sets' questions joined its examples, at its threshold then
    before = PolicyCheck(embedder, policy_examples(studied=None), dict.fromkeys(REFUSE_AT, EVEN_ODDS))
    before.fit()

    rows = ["| set | check | to refuse | refused (recall) | to answer | refused anyway (false refusals) | ms per question |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, path in SETS.items():
        items = load(path)
        checks = (("rules", lambda q: policy_hit(q)), ("rules + classifier", check.kind),
                  ("rules + classifier without the studied sets", before.kind))
        for label, decide in checks:
            started = time.perf_counter()
            refused = [decide(q) is not None for q, _ in items]
            ms = (time.perf_counter() - started) * 1000 / max(1, len(items))
            must = [r for (_, m), r in zip(items, refused, strict=True) if m]
            may = [r for (_, m), r in zip(items, refused, strict=True) if not m]
            recall, false = sum(must) / max(1, len(must)), sum(may) / max(1, len(may))
            figures[f"{name} {label} refusal recall"] = round(recall, 3)
            figures[f"{name} {label} false refusals"] = round(false, 3)
            rows.append(f"| {name}{' (trained on)' if name in TRAINED_ON else ''} | {label} | {len(must)} | {recall:.3f} | {len(may)} | "
                        f"{sum(may)} ({false:.3f}) | {ms:.1f} |")
            if misses and label == "rules + classifier":
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
