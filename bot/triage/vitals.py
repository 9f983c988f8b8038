"""Vital signs and meter readings written as numbers ("O2 84", "pulse 38", "BP 70/40", "temp 105.4", "sugar 36")
that are an emergency on their own, whatever else the message says: the rules' floor under the triage model.

The cut-offs are the unconditional ones of the project's triage policy (the same ones the model's generated
training messages follow, :mod:`bot.triage.generate`): oxygen saturation under 90 %, a pulse of 40 or less or
150 or more, a systolic pressure under 80, a temperature of 105 °F or more or under 95 °F, and a blood sugar
under 40. Readings that need company to be an emergency (a high pressure with chest pain, a high sugar with
vomiting) are left to the model. A reading the patient says has passed ("was 38, now 72", "fine now") does not
count.
"""

from __future__ import annotations

import re

_NUM = r"(\d{2,3}(?:\.\d)?)"
_LINK = (r"(?:\s*(?:is|are|was|were|at|of|reading|level|says|showing|shows|read|reads|=|:|-|down to|up to|only|"
         r"just)\s*)*(?:\s*[a-z]+\s+){0,2}?")  # and at most two more words: "pulse ox keeps reading 86"
_O2 = re.compile(rf"\b(?:o2|spo2|sp02|oxygen|sats?|saturation|pulse ?ox(?:imeter)?|oximeter)\b(?:\s+sat)?{_LINK}\s*{_NUM}\s*%?")
_PULSE = re.compile(rf"\b(?:pulse|heart ?rate|hr|heartbeat)\b(?!\s*ox){_LINK}\s*{_NUM}|\b{_NUM}\s*bpm\b")
_SYSTOLIC = re.compile(rf"\b(?:bp|blood pressure|pressure|cuff){_LINK}\s*(\d{{2,3}})\s*(?:/|over)\s*\d{{2,3}}")
_TEMP = re.compile(rf"\b(?:temp(?:erature)?|fever(?: of)?|thermometer){_LINK}\s*{_NUM}\s*(?:°|degrees?|f\b)?")
_SUGAR = re.compile(rf"\b(?:sugar|glucose|bg|bs|cbg|cgm|meter)\b(?:\s+reading)?{_LINK}\s*{_NUM}")
_PASSED = re.compile(r"\b(?:now|back to|back up to|came up to|went up to|after (?:juice|eating|food))\s+\d{2,3}\b|"
                     r"\b(?:fine|better|ok|okay|normal) now\b|\bwent back (?:up|down)\b")


def _values(rx: re.Pattern[str], text: str) -> list[float]:
    out: list[float] = []
    for match in rx.finditer(text):
        value = next((g for g in match.groups() if g), None)
        if value is not None:
            out.append(float(value))
    return out


def dangerous_vitals(text: str, *, infant: bool = False) -> str | None:
    """``"abnormal_vitals"`` or ``"diabetic_emergency"`` for a reading that is an emergency on its own, else None.

    ``text`` is lower-cased (not normalized: its shorthand table reads "hr" as hour); ``infant``: the fever cut-off is the infant rule's."""
    if _PASSED.search(text):
        return None
    if any(50 <= v < 90 for v in _values(_O2, text)):
        return "abnormal_vitals"
    if any(15 <= v <= 40 or 150 <= v <= 250 for v in _values(_PULSE, text)):
        return "abnormal_vitals"
    if any(40 <= v < 80 for v in _values(_SYSTOLIC, text)):
        return "abnormal_vitals"
    if not infant and any(105 <= v <= 110 or 80 <= v < 95 for v in _values(_TEMP, text)):
        return "abnormal_vitals"
    if any(10 <= v < 40 for v in _values(_SUGAR, text)):
        return "diabetic_emergency"
    return None
