"""Triage benchmark: rules alone, the learned model alone, and both, on the project's set and the blind set.

    python scripts/bench_triage.py                       # the shipped adapter (or <data_dir>/triage-adapter)
    python scripts/bench_triage.py --adapter var/triage-adapter

Both weight layouts of the same model are measured side by side: ``merged`` (the 4-bit layers dequantized once
and the adapter merged into them, the runtime default) and ``nf4`` (bitsandbytes' packed 4-bit layers).

Prints emergency recall, four-level accuracy and the false-emergency rate for each system and set, the
latency per message (rules alone; rules + model with one torch thread and with two, side by side) and the
model's memory. Only aggregate figures are printed: the blind set's messages are scored, never shown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = {"project": ROOT / "tests" / "data" / "triage_messages.jsonl",
        "blind": ROOT / "tests" / "data" / "blind" / "triage_blind.jsonl"}
LATENCY_MESSAGES = 120  # per thread setting, taken from both sets in a fixed order


def _load(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], r.get("level") or r["urgency"]) for r in rows]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


WEIGHTS = ("merged", "nf4")  # the runtime default first; both measured in the same run


def run(adapter: Path | None = None) -> dict[str, Any]:
    import torch

    from bot.llm.memory import peak_rss_mb, rss_mb
    from bot.llm.prepare import prepare_base_model
    from bot.settings import get_settings
    from bot.triage import triage
    from bot.triage.categories import more_urgent
    from bot.triage.evaluate import figures
    from bot.triage.model import TriageModel
    from bot.triage.net import resolve_triage_adapter

    settings = get_settings()
    adapter = adapter or resolve_triage_adapter(settings)
    if adapter is None:
        raise SystemExit("no triage adapter: run `clinicbot tune --task triage`")
    base = str(prepare_base_model(settings.models_dir))
    torch.set_num_threads(1)
    out: dict[str, Any] = {"adapter": str(adapter), "runtime_weights": settings.triage.weights}
    models: dict[str, TriageModel] = {}
    for weights in WEIGHTS:
        rss_before = rss_mb()
        started = time.monotonic()
        models[weights] = TriageModel.load(base, adapter, weights=weights)  # type: ignore[arg-type]
        out[f"{weights}_model_load_s"] = round(time.monotonic() - started, 1)
        models[weights].score("warm up")
        out[f"{weights}_model_rss_mb"] = round(rss_mb() - rss_before, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    texts_for_latency: list[str] = []
    for name, path in SETS.items():
        rows = _load(path)
        gold = [g for _, g in rows]
        rules = [triage(t).urgency for t, _ in rows]
        out[f"{name}_n"] = len(rows)
        out[f"{name}_emergencies"] = sum(g == "emergency" for g in gold)
        for weights, model in models.items():
            alone = [model.score(t).level for t, _ in rows]
            both = [more_urgent(r, m) for r, m in zip(rules, alone, strict=True)]
            for system, levels in (("rules", rules), ("model", alone), ("combined", both)):
                f = figures(gold, levels)
                for key in ("emergency_recall", "accuracy", "false_emergency_rate"):
                    out[f"{weights}_{name}_{system}_{key}"] = f[key]
            out[f"{weights}_{name}_model_raised"] = sum(m != r and more_urgent(r, m) == m
                                                        for r, m in zip(rules, alone, strict=True))
        texts_for_latency += [t for t, _ in rows]
    sample = texts_for_latency[:: max(1, len(texts_for_latency) // LATENCY_MESSAGES)][:LATENCY_MESSAGES]
    rules_ms = []
    for text in sample:
        t0 = time.perf_counter()
        triage(text)
        rules_ms.append(1000 * (time.perf_counter() - t0))
    out["latency_rules_median_ms"] = round(statistics.median(rules_ms), 2)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        timings: dict[str, list[float]] = {weights: [] for weights in models}
        for model in models.values():
            model.score("warm up")
        for text in sample:  # the two weight layouts alternate message by message: same machine load for both
            for weights, model in models.items():
                t0 = time.perf_counter()
                triage(text)
                model.score(text)
                timings[weights].append(1000 * (time.perf_counter() - t0))
        for weights, both_ms in timings.items():
            out[f"{weights}_latency_{threads}thread_median_ms"] = round(statistics.median(both_ms), 1)
            out[f"{weights}_latency_{threads}thread_p95_ms"] = round(_percentile(both_ms, 0.95), 1)
    for weights in models:
        out[f"{weights}_latency_2_over_1_thread_p95"] = round(
            out[f"{weights}_latency_2thread_p95_ms"] / out[f"{weights}_latency_1thread_p95_ms"], 2)
    for threads in (1, 2):
        out[f"latency_{threads}thread_p95_nf4_over_merged"] = round(
            out[f"nf4_latency_{threads}thread_p95_ms"] / out[f"merged_latency_{threads}thread_p95_ms"], 2)
    torch.set_num_threads(1)
    return out


def _table(r: dict[str, Any]) -> str:
    lines = ["| set | weights | system | emergency recall | four-level accuracy | false emergencies |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in SETS:
        for weights in WEIGHTS:
            for system in ("rules", "model", "combined"):
                if system == "rules" and weights != WEIGHTS[0]:
                    continue
                key = f"{weights}_{name}_{system}"
                lines.append(f"| {name} ({r[name + '_n']}, {r[name + '_emergencies']} emergencies) | "
                             f"{'-' if system == 'rules' else weights} | {system} | {r[key + '_emergency_recall']:.3f} | "
                             f"{r[key + '_accuracy']:.3f} | {r[key + '_false_emergency_rate']:.3f} |")
    lines += ["", f"latency per message (rules alone, median): {r['latency_rules_median_ms']} ms",
              f"runtime weights (triage.weights): {r['runtime_weights']}"]
    for weights in WEIGHTS:
        lines += [
            f"{weights}: rules + model, 1 torch thread (median / p95): {r[weights + '_latency_1thread_median_ms']} / "
            f"{r[weights + '_latency_1thread_p95_ms']} ms; 2 threads: {r[weights + '_latency_2thread_median_ms']} / "
            f"{r[weights + '_latency_2thread_p95_ms']} ms (p95 ratio 2/1 threads {r[weights + '_latency_2_over_1_thread_p95']})",
            f"{weights}: load {r[weights + '_model_load_s']} s, resident memory +{r[weights + '_model_rss_mb']} MB",
        ]
    lines += [f"p95 nf4 / merged: 1 thread {r['latency_1thread_p95_nf4_over_merged']}x, "
              f"2 threads {r['latency_2thread_p95_nf4_over_merged']}x; process peak {r['peak_rss_mb']} MB"]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args(argv)
    result = run(args.adapter)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
