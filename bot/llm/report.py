"""The tuning report: report.json, report.md and loss.png (matplotlib, Agg backend) in the adapter folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_ROWS = [
    ("numbers_grounded", "Answers whose numbers all appear in the context", "higher"),
    ("refusal_accuracy", "Refusal accuracy (refuses exactly when it should)", "higher"),
    ("rouge_l", "ROUGE-L against the reference answer", "higher"),
    ("reading_grade", "Reading grade (Flesch-Kincaid, source label left out; aim 6-8)", "6-8"),
]


def plot_losses(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.plot(range(1, len(losses) + 1), losses, color="#9bb", linewidth=0.8, label="step")
    window = 10
    if len(losses) >= window:
        smooth = [sum(losses[i - window : i]) / window for i in range(window, len(losses) + 1)]
        ax.plot(range(window, len(losses) + 1), smooth, color="#046", linewidth=1.6, label="mean of 10")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("QLoRA fine-tuning loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def markdown(report: dict[str, Any]) -> str:
    base, tuned = report["base"], report["tuned"]
    lines = [
        "# Adapter tuning report",
        "",
        f"Base model `{report['base_model']}` in {report['quantization']}, LoRA r={report['config']['lora_r']}; "
        f"{report['steps']} steps on {report['examples']['train']} examples, "
        f"evaluated on {report['examples']['evaluated']} of {report['examples']['heldout']} held-out examples "
        "(greedy decoding).",
        "",
        f"- Trainable parameters: {report['trainable_parameters']:,} of {report['total_parameters']:,} "
        f"({100 * report['trainable_share']:.2f} %)",
        f"- Peak memory (RSS): {report['peak_rss_mb']} MB",
        f"- Time: {report['seconds']['total']} s (training {report['seconds']['train']} s, "
        f"base evaluation {report['seconds']['eval_base']} s, tuned evaluation {report['seconds']['eval_tuned']} s)",
        f"- Tuned beats base: **{'yes' if report['tuned_beats_base'] else 'no'}**",
        "",
        "| Held-out measure | Base | Tuned | Better |",
        "| --- | --- | --- | --- |",
    ]
    for key, label, better in _ROWS:
        lines.append(f"| {label} | {base[key]} | {tuned[key]} | {better} |")
    if "reference_reading_grade" in report:
        lines += ["", f"The reference answers of the same sample read at grade {report['reference_reading_grade']}."]
    lines += ["", "![training loss](loss.png)", "", "## Sample answers", ""]
    for b, t in zip(base.get("samples", []), tuned.get("samples", []), strict=False):
        lines += [
            f"**Q:** {b['question']}",
            "",
            f"- reference: {b['reference']}",
            f"- base: {b['prediction']}",
            f"- tuned: {t['prediction']}",
            "",
        ]
    return "\n".join(lines)


def write_report(report: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    plot_losses(report["losses"], folder / "loss.png")
    (folder / "report.md").write_text(markdown(report), encoding="utf-8")
