"""The triage tune's report: report.json, report.md and loss.png in the adapter folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.llm.report import plot_losses
from bot.triage.categories import CATEGORY_IDS, CATEGORY_LABELS


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _row(name: str, f: dict[str, Any]) -> str:
    return (f"| {name} | {_pct(f['emergency_recall'])} ({f['emergency_recall'] and f['emergencies'] - f['missed_emergencies']}"
            f"/{f['emergencies']}) | {_pct(f['accuracy'])} | {_pct(f['false_emergency_rate'])} "
            f"({f['false_emergencies']}) | {f['under_triaged']} |")


def markdown(report: dict[str, Any]) -> str:
    tuned, base = report["tuned"], report["base"]
    counts_train, counts_val = report["counts"]["train"], report["counts"]["validation"]
    t = report["thresholds"]
    lines = [
        "# Triage adapter tuning report",
        "",
        f"Base model `{Path(report['base_model']).name}` in {report['quantization']}, LoRA r={report['config']['lora_r']} "
        f"on {', '.join(report['config']['target_modules'])}; {report['steps']} steps of {report['config']['batch_size']} "
        f"on {report['items']['train']} training items, measured on {report['items']['validation']} validation items "
        "(held out by item, seeded; a generated copy stays with its source). Label scoring at one position: "
        "four level tokens and the category tokens.",
        "",
        f"- Trainable parameters: {report['trainable_parameters']:,} of {report['total_parameters']:,} "
        f"({100 * report['trainable_share']:.2f} %)",
        f"- Peak memory (RSS) while tuning: {report['peak_rss_mb']} MB",
        f"- Time: {report['seconds']['total']} s (training {report['seconds']['train']} s, base scoring "
        f"{report['seconds']['eval_base']} s, tuned scoring {report['seconds']['eval_tuned']} s)",
        f"- Scoring latency on validation (tuned, one message at a time): median "
        f"{report['validation_latency_ms']['median']} ms, p95 {report['validation_latency_ms']['p95']} ms",
        f"- Thresholds chosen on validation: raise to emergency at P(emergency) >= {t['emergency']}, to urgent at "
        f"P(emergency)+P(urgent) >= {t['urgent']}, to routine at P(not self-care) >= {t['routine']}",
        f"- Training data fingerprint: `{report['fingerprint'][:16]}`",
        "",
        "## Validation split",
        "",
        "| system | emergency recall | four-level accuracy | false emergencies | under-triaged |",
        "| --- | --- | --- | --- | --- |",
        _row("rules alone", report["rules"]),
        _row("base model alone (argmax)", base["model_argmax"]),
        _row("tuned model alone (argmax)", tuned["model_argmax"]),
        _row("tuned model alone (thresholds)", tuned["model"]),
        _row("rules + tuned model", tuned["combined"]),
        "",
        f"Category named right on emergencies: base {base['category_accuracy_on_emergencies']}, "
        f"tuned {tuned['category_accuracy_on_emergencies']}.",
        "",
        "![training loss](loss.png)",
        "",
        "## Categories and counts",
        "",
        "| category | what it covers | train | validation | validation caught: rules / rules + model |",
        "| --- | --- | --- | --- | --- |",
    ]
    for cid in CATEGORY_IDS:
        caught = report["per_category"].get(cid)
        shown = f"{caught['rules']} / {caught['combined']} of {caught['n']}" if caught else "-"
        lines.append(f"| `{cid}` | {CATEGORY_LABELS[cid]} | {counts_train['category'].get(cid, 0)} | "
                     f"{counts_val['category'].get(cid, 0)} | {shown} |")
    lines += ["", "| level | train | validation |", "| --- | --- | --- |"]
    for level, n in counts_train["level"].items():
        lines.append(f"| {level} | {n} | {counts_val['level'].get(level, 0)} |")
    lines += ["", "| source | train | validation |", "| --- | --- | --- |"]
    for source, n in counts_train["source"].items():
        lines.append(f"| {source} | {n} | {counts_val['source'].get(source, 0)} |")
    lines += ["", "Sources: `hand` written one by one for this job; `vitals`, `ramble` and `sms` made by "
              "`bot/triage/generate.py` from hand-written pieces.", ""]
    return "\n".join(lines)


def write_report(report: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot_losses(report["losses"], folder / "loss.png")
    (folder / "report.md").write_text(markdown(report), encoding="utf-8")
