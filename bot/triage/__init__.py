"""Deterministic symptom triage: red flags first, then urgent / routine / self-care.

Public API (the gateway calls :func:`detect_red_flags` on every inbound message; the intake form
and ``clinicbot triage`` call :func:`triage`)::

    flags = detect_red_flags("my dad has crushing chest pain")     # [RedFlag("chest_pain", ...)]
    emergency_message(flags, "Maple Street Family Medicine")         # "...: ... Call 911 now ..."
    triage("fever 103.5 since yesterday").urgency                    # "urgent"

No doses, no diagnoses: advice is a next step and when to call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from bot.triage.normalize import mask_negated, normalize
from bot.triage.red_flags import FLAG_LABELS, RedFlag, detect_red_flags, emergency_message
from bot.triage.urgency import Context, classify_urgency

__all__ = [
    "FLAG_LABELS",
    "URGENCIES",
    "RedFlag",
    "TriageResult",
    "Urgency",
    "advice_for",
    "detect_red_flags",
    "emergency_message",
    "triage",
]

logger = logging.getLogger(__name__)

Urgency = Literal["emergency", "urgent", "routine", "self_care"]
URGENCIES: tuple[Urgency, ...] = ("emergency", "urgent", "routine", "self_care")


@dataclass(frozen=True)
class TriageResult:
    urgency: Urgency
    red_flags: list[str]
    advice: str
    reasons: list[str]  # why (for staff)


def _phone_for_sms(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return phone


def advice_for(urgency: Urgency, *, clinic_name: str = "", clinic_phone: str = "") -> str:
    """The next step for a non-emergency level (emergencies use :func:`emergency_message`)."""
    call = f"call us at {_phone_for_sms(clinic_phone)}" if clinic_phone else "call the clinic"
    prefix = f"{clinic_name.strip()}: " if clinic_name.strip() else ""
    if urgency == "urgent":
        text = f"We'd like to see you today. Please {call} for a same-day visit. If it gets worse, call 911."
    elif urgency == "routine":
        text = (
            f"Please book a visit with us in the next few days ({call} or reply BOOK). "
            "If it gets worse, call us sooner, or 911 in an emergency."
        )
    elif urgency == "self_care":
        text = (
            "This can usually be cared for at home: rest, fluids, and the care you normally use. "
            f"Please {call} if it lasts more than a few days, gets worse or worries you; 911 in an emergency."
        )
    else:
        text = "Call 911 now or go to the nearest ER."
    return prefix + text


def triage(
    text: str,
    *,
    age_years: float | None = None,
    severity: int | None = None,
    temperature_f: float | None = None,
    pregnant: bool | None = None,
    clinic_name: str = "",
    clinic_phone: str = "",
) -> TriageResult:
    """Triage one message. Values from an intake form (age, 0-10 severity, °F, pregnant) win over the text."""
    flags = detect_red_flags(text, age_years=age_years, pregnant=pregnant, temperature_f=temperature_f)
    if flags:
        result = TriageResult(
            urgency="emergency",
            red_flags=[f.id for f in flags],
            advice=emergency_message(flags, clinic_name),
            reasons=[f.label for f in flags],
        )
    else:
        norm = normalize(text)
        decision = classify_urgency(
            norm,
            mask_negated(norm),
            Context(age_years=age_years, severity=severity, temperature_f=temperature_f, pregnant=pregnant),
        )
        level: Urgency = decision.urgency  # type: ignore[assignment]
        result = TriageResult(
            urgency=level,
            red_flags=[],
            advice=advice_for(level, clinic_name=clinic_name, clinic_phone=clinic_phone),
            reasons=decision.reasons,
        )
    logger.debug("triage.result urgency=%s red_flags=%s", result.urgency, ",".join(result.red_flags))
    return result
