"""What a handoff's summary tells the person who picks it up, as labelled lines for the console.

The assistant stores a summary with each handoff (the intake's answers and its triage, the red flags the gateway's
check found, the lab or question that needed a person); this turns it into plain lines, and says which of the two
triage nets decided: the red-flag rules, or the tuned model that rated the message above the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.triage.red_flags import flag_label

DECIDED_BY = {
    "rules": "the red-flag rules",
    "model": "the triage model (it rated this above the rules)",
}
LEVELS = {"emergency": "Emergency", "urgent": "Urgent", "routine": "Routine", "self_care": "Self-care"}
_ANSWERS = (("for", "For"), ("age", "Age"), ("symptom", "Symptom"), ("since", "Since"), ("severity", "Severity"),
            ("temperature_f", "Temperature (°F)"), ("trouble_breathing", "Trouble breathing"), ("pregnant", "Pregnant"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def summary_lines(summary: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) lines for staff, most important first; empty when the summary says nothing useful."""
    summary = summary or {}
    lines: list[tuple[str, str]] = []
    urgency = summary.get("urgency")
    if isinstance(urgency, str) and urgency in LEVELS:
        lines.append(("Triage", LEVELS[urgency] + (f": {summary['next_step']}" if summary.get("next_step") else "")))
    flags = summary.get("red_flags")
    if isinstance(flags, list) and flags:
        lines.append(("Red flags", ", ".join(flag_label(str(f)) or str(f).replace("_", " ") for f in flags)))
    decided = summary.get("decided_by")
    if isinstance(decided, str) and decided in DECIDED_BY and (urgency or flags):
        lines.append(("Decided by", DECIDED_BY[decided]))
    model = summary.get("model")
    if isinstance(model, Mapping) and model:
        shown = sorted(((str(k), float(v)) for k, v in model.items() if isinstance(v, int | float)),
                       key=lambda kv: -kv[1])
        lines.append(("Model's levels", ", ".join(f"{LEVELS.get(k, k)} {v:.0%}" for k, v in shown)))
    reasons = summary.get("reasons")
    if isinstance(reasons, list) and reasons:
        lines.append(("Why", "; ".join(_text(r) for r in reasons)))
    for key, label in _ANSWERS:
        if summary.get(key) not in (None, ""):
            lines.append((label, _text(summary[key])))
    return lines
