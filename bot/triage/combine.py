"""The triage pipeline: ``rules -> model -> combine``. The final level is the more urgent of the two.

A rule hit is never lowered: the model can only raise a level (to emergency when its P(emergency) reaches the
threshold chosen on the validation split, and likewise to urgent or routine). When the model raises a message
to an emergency, the answer is still the fixed text of the rules module, chosen by the category the model names
(988 for a suicide or mental-health crisis, Poison Control and 911 for an overdose, 911 otherwise).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.triage import TriageResult, advice_for, triage
from bot.triage.categories import CATEGORY_LABELS, RANK
from bot.triage.model import ModelScore
from bot.triage.net import TriageNet
from bot.triage.red_flags import RedFlag, emergency_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Assessment:
    urgency: str
    decided_by: str  # "rules" (the rules reached this level; the model agreed or was lower) or "model" (raised)
    red_flags: list[str]  # the rules' flags, or the model's category when it raised the message to an emergency
    advice: str
    reasons: list[str]
    rules: TriageResult
    model: ModelScore | None = None
    model_note: str = field(default="")  # why the model did not take part, when it did not


def model_reason(score: ModelScore) -> str:
    probs = ", ".join(f"{k} {v:.2f}" for k, v in score.levels.items())
    return f"model: {score.level} ({probs}; category {score.category})"


def combine(rules: TriageResult, score: ModelScore | None, *, clinic_name: str = "", clinic_phone: str = "",
            model_note: str = "") -> Assessment:
    """The more urgent of the rules' result and the model's level (the model only ever raises)."""
    if score is None or RANK[score.level] <= RANK[rules.urgency]:
        reasons = rules.reasons + ([model_reason(score)] if score is not None else [])
        return Assessment(rules.urgency, "rules", rules.red_flags, rules.advice, reasons, rules, score,
                          model_note if score is None else "")
    if score.level == "emergency":
        category = score.emergency_category
        flags = [RedFlag(category, CATEGORY_LABELS[category])]
        return Assessment("emergency", "model", [category], emergency_message(flags, clinic_name),
                          [CATEGORY_LABELS[category], model_reason(score)], rules, score)
    advice = advice_for(score.level, clinic_name=clinic_name, clinic_phone=clinic_phone)  # type: ignore[arg-type]
    return Assessment(score.level, "model", [], advice, [*rules.reasons, model_reason(score)], rules, score)


def assess(
    text: str,
    net: TriageNet | None,
    *,
    model_text: str | None = None,
    age_years: float | None = None,
    severity: int | None = None,
    temperature_f: float | None = None,
    pregnant: bool | None = None,
    clinic_name: str = "",
    clinic_phone: str = "",
) -> Assessment:
    """Rules, then the model (when loaded), then the combination. ``model_text`` is what the model reads when
    it differs from what the rules read (the intake form writes the form's answers into it)."""
    rules = triage(text, age_years=age_years, severity=severity, temperature_f=temperature_f, pregnant=pregnant,
                   clinic_name=clinic_name, clinic_phone=clinic_phone)
    if net is None:
        return combine(rules, None, clinic_name=clinic_name, clinic_phone=clinic_phone, model_note="turned off")
    score = net.score(model_text or text)
    note = "" if score is not None else ("not loaded" if not net.ready else "no answer in time")
    result = combine(rules, score, clinic_name=clinic_name, clinic_phone=clinic_phone, model_note=note)
    if result.decided_by == "model":
        log.info("triage.model_raised rules=%s final=%s category=%s", rules.urgency, result.urgency,
                 score.category if score else "")
    return result
