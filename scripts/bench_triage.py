"""Triage benchmark: rules alone, the learned model alone, and both, on the project's set and the blind set.

    python scripts/bench_triage.py                       # the shipped adapter (or <data_dir>/triage-adapter)
    python scripts/bench_triage.py --adapter var/triage-adapter

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
    rss_before = rss_mb()
    started = time.monotonic()
    model = TriageModel.load(base, adapter)
    load_s = time.monotonic() - started
    model.score("warm up")
    out: dict[str, Any] = {"adapter": str(adapter), "model_load_s": round(load_s, 1),
                           "model_rss_mb": round(rss_mb() - rss_before, 1), "peak_rss_mb": round(peak_rss_mb(), 1)}
    texts_for_latency: list[str] = []
    for name, path in SETS.items():
        rows = _load(path)
        gold = [g for _, g in rows]
        rules = [triage(t).urgency for t, _ in rows]
        scores = [model.score(t) for t, _ in rows]
        alone = [s.level for s in scores]
        both = [more_urgent(r, m) for r, m in zip(rules, alone, strict=True)]
        for system, levels in (("rules", rules), ("model", alone), ("combined", both)):
            f = figures(gold, levels)
            for key in ("emergency_recall", "accuracy", "false_emergency_rate"):
                out[f"{name}_{system}_{key}"] = f[key]
        out[f"{name}_n"] = len(rows)
        out[f"{name}_emergencies"] = sum(g == "emergency" for g in gold)
        out[f"{name}_model_raised"] = sum(m != r and more_urgent(r, m) == m for r, m in zip(rules, alone, strict=True))
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
        model.score("warm up")
        both_ms = []
        for text in sample:
            t0 = time.perf_counter()
            triage(text)
            model.score(text)
            both_ms.append(1000 * (time.perf_counter() - t0))
        out[f"latency_{threads}thread_median_ms"] = round(statistics.median(both_ms), 1)
        out[f"latency_{threads}thread_p95_ms"] = round(_percentile(both_ms, 0.95), 1)
    out["latency_2_over_1_thread_p95"] = round(out["latency_2thread_p95_ms"] / out["latency_1thread_p95_ms"], 2)
    torch.set_num_threads(1)
    return out


def _table(r: dict[str, Any]) -> str:
    lines = ["| set | system | emergency recall | four-level accuracy | false emergencies |", "| --- | --- | --- | --- | --- |"]
    for name in SETS:
        for system in ("rules", "model", "combined"):
            lines.append(f"| {name} ({r[name + '_n']}, {r[name + '_emergencies']} emergencies) | {system} | "
                         f"{r[f'{name}_{system}_emergency_recall']:.3f} | {r[f'{name}_{system}_accuracy']:.3f} | "
                         f"{r[f'{name}_{system}_false_emergency_rate']:.3f} |")
    lines += [
        "",
        f"latency per message (rules alone, median): {r['latency_rules_median_ms']} ms",
        f"latency per message, rules + model, 1 torch thread (median / p95): {r['latency_1thread_median_ms']} / "
        f"{r['latency_1thread_p95_ms']} ms",
        f"latency per message, rules + model, 2 torch threads (median / p95): {r['latency_2thread_median_ms']} / "
        f"{r['latency_2thread_p95_ms']} ms (p95 ratio 2/1 threads: {r['latency_2_over_1_thread_p95']})",
        f"model: load {r['model_load_s']} s, resident memory +{r['model_rss_mb']} MB (process peak {r['peak_rss_mb']} MB)",
    ]
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
