"""Run every benchmark and print one Markdown table for the README.

    make bench                       # all of them
    .venv/bin/python scripts/bench.py scrub knowledge   # some of them

Each benchmark is a module in scripts/ with ``run() -> dict``; numbers go in the table, lists are left out.
The figures depend on the machine and its load: run on a quiet machine, and say which one in the README.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = {
    "scrub": ("bench_scrub", "PHI scrubber"),
    "knowledge": ("bench_knowledge", "knowledge store"),
    "answers": ("bench_answers", "answers"),
    "llm": ("bench_llm", "local model"),
    "triage": ("bench_triage", "triage"),
    "startup": ("bench_startup", "processes"),
    "scheduling": ("bench_scheduling", "scheduling language (blind set)"),
    "load": ("bench_load", "load (50 patients)"),
    "dashboard": ("bench_dashboard", "owner's dashboard"),
    "scope": ("bench_scope", "assistant scope"),
    "policy": ("bench_policy", "answers policy check"),
}


def _rows(label: str, figures: dict[str, Any], command: str) -> list[str]:
    rows = []
    for key, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        shown = f"{value:.3f}" if isinstance(value, float) and abs(value) < 10 else (
            f"{value:.1f}" if isinstance(value, float) else str(value))
        rows.append(f"| {label} | {key} | {shown} | `{command}` |")
    return rows


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {sorted(BENCHMARKS)}", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    table = ["| part | figure | value | command |", "| --- | --- | --- | --- |"]
    for name in chosen:
        module_name, label = BENCHMARKS[name]
        print(f"[bench] {label}...", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            figures = importlib.import_module(module_name).run()
        except ModuleNotFoundError as exc:
            print(f"[bench] {label}: skipped ({exc})", file=sys.stderr)
            continue
        print(f"[bench] {label}: done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        results[name] = figures
        table += _rows(label, figures, f"python scripts/{module_name}.py")
    print(f"\nMachine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}")
    print("\n".join(table))
    out = Path("var") / "bench-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nraw results: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
