"""Fit the weights the answers choose their sentences by (knowledge/select.py: FEATURES) on the project's answer sets.

Every question of the sets that is to be answered is answered as a patient's would be (quoting only). Each time the
answerer scores a section's sentences, the candidates and their features are kept; a sentence is right when it holds
one of the question's key facts. The weights are those under which the right sentences take the most of a softmax over
the candidates, pulled toward the hand weights (``--pull``). The sentence similarity's weight stays at its hand value:
it sets the scale the selection's window (KEEP_WITHIN) is measured in, and a fitted sharpness stands in for it in the
softmax. Sets named with ``--check`` are scored by the same loss and their share of questions whose best sentence is
right is printed, fitted and by hand, but not fitted on. The blind set is never read.

    python scripts/fit_selection.py                       # fit on the default sets, check on dev12, write the file
    python scripts/fit_selection.py --dry-run             # print the fit without writing it
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # its sibling bench_answers.py, imported as mypy and pytest name it
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_answers import DOCUMENTS, SETS, load_set  # noqa: E402

from knowledge.select import FEATURES, HAND_WEIGHTS, WEIGHTS, WEIGHTS_FILE, SentenceSelector  # noqa: E402

DATA = ROOT / "tests" / "data"
FIT_SETS = ["project", "dev", *(f"dev{n}" for n in range(2, 12))]
CHECK_SETS = ["dev12"]
FIXED = "sentence"

Record = tuple[np.ndarray, np.ndarray]  # the candidates' features (n x len(FEATURES)), which of them are right


def set_path(name: str) -> Path:
    if name == "blind" or "blind" in Path(name).parts:
        raise SystemExit("the blind set is never fitted on or checked against here")
    return SETS.get(name) or (Path(name) if Path(name).suffix == ".jsonl" else DATA / f"answers_{name}.jsonl")


# one scoring kept whole: the question as the selection read it, the candidates' texts, their features (x) and which
# of them are right (scripts/train_reranker.py trains on the texts; the fit here reads x and right)
Scoring = dict[str, Any]


def collect_scorings(names: Sequence[str], store_dir: Path, unanswerable: Sequence[str] = ()) -> dict[str, list[Scoring]]:
    """Each set's scorings that have a right and a wrong sentence, from answering its questions (quoting only). The
    sets named in ``unanswerable`` hold questions no document answers (tests/data/answers_unknown.jsonl): every
    scoring of theirs is kept, none of its sentences right."""
    from bench_answers import _answerer

    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore("fit_selection", chroma_dir=store_dir, embedder=MiniLMEmbedder())
    ingest(DOCUMENTS, store)
    answerer = _answerer(store, "none")
    answerer.selector.reranker = None  # the features alone: what the weights are fitted on, what the scorer learns beside
    answerer.answer_check = None  # every question found is answered: the check is trained on these scorings, not by them
    answerer.warm_up()
    facts: list[list[str]] = []
    out: dict[str, list[Scoring]] = {}
    records: list[Scoring] = []
    none_right = False
    score = SentenceSelector.score

    def recording(self: SentenceSelector, question: str, passages: Any, names: Sequence[str] = (),
                  kinds: frozenset[str] | None = None, learned: bool = True) -> Any:
        rows = self.features(question, passages, names, kinds)
        right = np.array([any(p.lower() in text.lower() for group in facts for p in group) for *_, text, _ in rows])
        if (right.any() and not right.all()) or (none_right and len(rows) > 0):
            records.append({"question": question, "texts": [text for *_, text, _ in rows],
                            "x": np.array([values for *_, values in rows], dtype=float), "right": right})
        return score(self, question, passages, names, kinds, learned)

    SentenceSelector.score = recording  # type: ignore[method-assign]
    in_use = dict(WEIGHTS)
    WEIGHTS.update(HAND_WEIGHTS)  # the answers take the paths the hand weights give them, whatever file is there
    try:
        for name in [*names, *unanswerable]:
            records, none_right = [], name in unanswerable
            items = [i for i in load_set(set_path(name)) if i["kind"] == ("refuse" if none_right else "answer")]
            for item in items:
                facts[:] = item.get("facts", [])
                answerer.answer(item["question"])
            out[name] = records
            print(f"{name}: {len(items)} questions, {len(records)} scorings "
                  f"{'(none answers)' if none_right else 'with a right and a wrong sentence'}", flush=True)
    finally:
        SentenceSelector.score = score  # type: ignore[method-assign]
        WEIGHTS.update(in_use)
    return out


def collect(names: Sequence[str], store_dir: Path) -> dict[str, list[Record]]:
    """Each set's scored candidates with their right ones (:func:`collect_scorings` without the texts)."""
    return {name: [(s["x"], s["right"]) for s in scorings]
            for name, scorings in collect_scorings(names, store_dir).items()}


def unpack(params: np.ndarray) -> tuple[np.ndarray, float]:
    """(weights in FEATURES order, sharpness) from the free parameters (every weight but the fixed one, then the
    sharpness's log)."""
    free = [f for f in FEATURES if f != FIXED]
    weights = dict(zip(free, params[:-1], strict=True)) | {FIXED: HAND_WEIGHTS[FIXED]}
    return np.array([weights[f] for f in FEATURES]), float(np.exp(params[-1]))


def loss(params: np.ndarray, records: Sequence[Record], pull: float) -> tuple[float, np.ndarray]:
    """Mean -log(the right sentences' share of the softmax), plus the pull toward the hand weights; and its gradient."""
    weights, sharp = unpack(params)
    hand = np.array([HAND_WEIGHTS[f] for f in FEATURES])
    free = np.array([f != FIXED for f in FEATURES])
    total, grad_w, grad_log_sharp = 0.0, np.zeros(len(FEATURES)), 0.0
    for x, right in records:
        raw = x @ weights
        s = sharp * raw
        s -= s.max()
        p = np.exp(s) / np.exp(s).sum()
        mass = p[right].sum()
        q = np.where(right, p / mass, 0.0)
        total -= np.log(mass)
        grad_w += sharp * (x.T @ (p - q))
        grad_log_sharp += sharp * float(raw @ (p - q))
    n = max(1, len(records))
    total, grad_w, grad_log_sharp = total / n, grad_w / n, grad_log_sharp / n
    total += pull * float(((weights - hand)[free] ** 2).sum())
    grad_w += 2 * pull * (weights - hand) * free
    return total, np.append(grad_w[free], grad_log_sharp)


def top_right(records: Sequence[Record], weights: np.ndarray) -> float:
    """The share of scorings whose best sentence is a right one."""
    return float(np.mean([right[int(np.argmax(x @ weights))] for x, right in records])) if records else 0.0


def fit(records: Sequence[Record], pull: float) -> tuple[dict[str, float], float, float]:
    hand = np.array([HAND_WEIGHTS[f] for f in FEATURES if f != FIXED])
    start = np.append(hand, np.log(10.0))
    result = minimize(loss, start, args=(records, pull), jac=True, method="L-BFGS-B")
    weights, sharp = unpack(result.x)
    return {f: round(float(w), 4) for f, w in zip(FEATURES, weights, strict=True)}, sharp, float(result.fun)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=FIT_SETS, help="the answer sets fitted on")
    parser.add_argument("--check", nargs="*", default=CHECK_SETS, help="sets scored, not fitted on")
    parser.add_argument("--pull", type=float, default=0.05, help="how hard the weights are pulled to the hand ones")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    parser.add_argument("--records", type=Path, help="keep the scorings in this file (read them from it when there)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.records and args.records.is_file():
        with np.load(args.records) as saved:
            by_set = {name: [(saved[f"{name}/{i}/x"], saved[f"{name}/{i}/right"]) for i in range(int(saved[name]))]
                      for name in [*args.sets, *args.check]}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            by_set = collect([*args.sets, *args.check], Path(tmp))
        if args.records:
            arrays = {name: np.array(len(rs)) for name, rs in by_set.items()}
            for name, rs in by_set.items():
                for i, (x, right) in enumerate(rs):
                    arrays |= {f"{name}/{i}/x": x, f"{name}/{i}/right": right}
            np.savez_compressed(args.records, **arrays)  # type: ignore[arg-type]
    fitted_on = [r for name in args.sets for r in by_set[name]]
    if not fitted_on:
        raise SystemExit("no scorings to fit on: are the sets' key facts in the documents?")
    weights, sharp, final = fit(fitted_on, args.pull)
    hand_w = np.array([HAND_WEIGHTS[f] for f in FEATURES])
    fit_w = np.array([weights[f] for f in FEATURES])
    print(f"\nfitted on {len(fitted_on)} scorings in {time.monotonic() - started:.0f} s (sharpness {sharp:.1f})")
    print("| feature | by hand | fitted |\n| --- | --- | --- |")
    for f in FEATURES:
        print(f"| {f} | {HAND_WEIGHTS[f]:+.3f} | {weights[f]:+.3f} |")
    print("\n| set | scorings | best sentence right, by hand | fitted |\n| --- | --- | --- | --- |")
    for name in [*args.sets, *args.check]:
        rs = by_set[name]
        mark = " (check)" if name in args.check else ""
        print(f"| {name}{mark} | {len(rs)} | {top_right(rs, hand_w):.3f} | {top_right(rs, fit_w):.3f} |")
    if not args.dry_run:
        args.out.write_text(json.dumps({
            "weights": weights, "sharpness": round(sharp, 3), "pull": args.pull, "fitted_on": list(args.sets),
            "scorings": len(fitted_on), "loss": round(final, 4),
            "written_by": "scripts/fit_selection.py"}, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
