"""Deterministic red-flag rules: the messages that must be told to call 911 (or 988, or Poison Control).

Pipeline for one message (see :mod:`bot.triage.normalize` and :mod:`bot.triage.rules`):

1. normalize: lower case, shorthand and misspellings repaired ("siezing", "cant brth", "2 wk old").
2. mask: negated words and past history blanked ("no chest pain", "had a stroke in 2019").
3. rules: symptom lexicons within word windows, on the masked text; phrases whose meaning *is* a
   negation ("can't breathe", "won't stop bleeding", "better off without me") on the normalized text.
   Weak signs need company: a stroke sign with "sudden", one side, or a second sign; chest pain
   with no warning sign that has passed ("tight after running but fine now") is not an emergency.
4. vital signs and meter readings written as numbers past an unconditional cut-off (:mod:`bot.triage.vitals`).

Safety first: a real red-flag phrasing with no clear negation or benign explanation is an emergency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.triage import rules as r
from bot.triage.categories import CATEGORY_LABELS, CRISIS_LINE, POISON
from bot.triage.normalize import extract_age_years, extract_temperature_f, mask_negated, normalize
from bot.triage.vitals import dangerous_vitals

__all__ = [
    "FLAG_LABELS",
    "RedFlag",
    "detect_red_flags",
    "emergency_message",
    "extract_age_years",
    "extract_temperature_f",
    "flag_label",
    "mask_negated",
    "normalize",
]


@dataclass(frozen=True)
class RedFlag:
    id: str
    label: str


FLAG_LABELS: dict[str, str] = {
    "chest_pain": "Chest pain with warning signs",
    "stroke": "Possible stroke signs",
    "breathing": "Severe trouble breathing",
    "anaphylaxis": "Possible severe allergic reaction",
    "bleeding": "Severe bleeding",
    "suicide": "Suicidal thoughts or self-harm",
    "overdose": "Overdose or poisoning",
    "unresponsive": "Person unresponsive or collapsed",
    "seizure": "Seizure",
    "infant_fever": "Fever in a baby under 3 months",
    "pregnancy_bleeding": "Pregnancy with heavy bleeding or severe pain",
    "worst_headache": "Sudden or worst-ever headache",
    "abnormal_vitals": "Dangerous vital signs",
    "diabetic_emergency": "Very low or very high blood sugar with symptoms",
}

def flag_label(flag: str) -> str | None:
    """What a flag is called for people: the rules' label, or the triage model's category label."""
    return FLAG_LABELS.get(flag) or CATEGORY_LABELS.get(flag)


# Matched on the normalized text: the negation is part of the emergency.
_RAW: dict[str, re.Pattern[str]] = {
    "breathing": r.BREATHING_RAW,
    "bleeding": r.BLEEDING_RAW,
    "suicide": r.SUICIDE_RAW,
    "unresponsive": r.UNRESPONSIVE_RAW,
    "worst_headache": r.WORST_HEADACHE_RAW,
}
# Matched on the negation-masked text.
_PLAIN: dict[str, re.Pattern[str]] = {
    "chest_pain": r.CHEST_ALONE,
    "stroke": r.STROKE_STRONG,
    "breathing": r.BREATHING,
    "anaphylaxis": r.ANAPHYLAXIS,
    "bleeding": r.BLEEDING,
    "suicide": r.SUICIDE,
    "overdose": r.OVERDOSE,
    "unresponsive": r.UNRESPONSIVE,
    "seizure": r.SEIZURE,
    "worst_headache": r.WORST_HEADACHE,
}
_SUDDEN = re.compile(rf"\b(?:{r.SUDDEN})\b")
_RESOLVED = re.compile(r.RESOLVED)
_CHRONIC = re.compile(r.CHRONIC)


def _chest_pain(masked: str) -> bool:
    if not r.CHEST.search(masked):
        return False
    strong = r.CHEST_STRONG.search(masked) is not None
    if _RESOLVED.search(masked) and not strong:  # "tight after running but fine now"
        return False
    return strong or r.CHEST_WARNING.search(masked) is not None or not r.CHEST_BENIGN.search(masked)


def _stroke_by_weak_signs(masked: str) -> bool:
    """Weak stroke signs count with "sudden", on one side, or two of them together (not for weeks)."""
    if r.SOFT_BENIGN.search(masked) or _CHRONIC.search(masked):
        return False
    signs = {name for name, rx in r.STROKE_SOFT.items() if rx.search(masked)}
    if not signs:
        return False
    one_sided = bool(signs & {"limb", "vision"}) and r.ONE_SIDED.search(masked) is not None
    return len(signs) >= 2 or one_sided or _SUDDEN.search(masked) is not None


def _worst_headache(masked: str) -> bool:
    severe = r.HEADACHE_SEVERE.search(masked) is not None
    if r.HEADACHE_SUDDEN.search(masked) and severe:
        return True
    return r.HEADACHE_STIFF_NECK.search(masked) is not None and (severe or _SUDDEN.search(masked) is not None)


def detect_red_flags(
    text: str, *, age_years: float | None = None, pregnant: bool | None = None, temperature_f: float | None = None
) -> list[RedFlag]:
    """The red flags in one message, in a fixed order; ``[]`` when none."""
    norm = normalize(text)
    masked = mask_negated(norm)
    found: set[str] = {fid for fid, rx in _RAW.items() if rx.search(norm)}
    found |= {fid for fid, rx in _PLAIN.items() if rx.search(masked)}
    if r.GASP.search(masked) and not r.SLEEP.search(masked):
        found.add("breathing")
    if r.FAINTED.search(masked) and not _RESOLVED.search(masked):
        found.add("unresponsive")
    if _chest_pain(masked):
        found.add("chest_pain")
    if "stroke" not in found and _stroke_by_weak_signs(masked):
        found.add("stroke")
    if "worst_headache" not in found and _worst_headache(masked):
        found.add("worst_headache")
    if (pregnant or r.PREGNANT.search(masked)) and r.PREGNANCY_DANGER.search(masked):
        found.add("pregnancy_bleeding")
        found.discard("bleeding")
    age = age_years if age_years is not None else extract_age_years(norm)
    temp = temperature_f if temperature_f is not None else extract_temperature_f(masked)
    has_fever = (temp is not None and temp >= 100.4) or (temp is None and r.FEVER.search(masked) is not None)
    if age is not None and age < 0.26 and has_fever:  # "3 month old" counts: when in doubt, emergency
        found.add("infant_fever")
    if (vital := dangerous_vitals(text.lower(), infant=age is not None and age < 0.26)) is not None:
        found.add(vital)  # "O2 84", "pulse 38", "sugar 36": an emergency whatever else is said
    return [RedFlag(fid, label) for fid, label in FLAG_LABELS.items() if fid in found]


# --------------------------------------------------------------------------------------------
# The answer that goes first
# --------------------------------------------------------------------------------------------

_CRISIS_ONLY = CRISIS_LINE | POISON


def emergency_message(flags: list[RedFlag], clinic_name: str) -> str:
    """Short (at most two SMS segments, GSM characters only) emergency instructions for these flags.

    Flags may also be the learned model's categories (:mod:`bot.triage.categories`): a suicide or
    mental-health crisis gets 988, an overdose Poison Control, everything else 911."""
    ids = {f.id for f in flags}
    parts: list[str] = []
    needs_911 = bool(ids - _CRISIS_ONLY) or not ids
    crisis = bool(ids & CRISIS_LINE)
    if needs_911:
        parts.append("This may be an emergency. Call 911 now or go to the nearest ER. Do not wait for a reply.")
    if crisis:
        parts.append(
            "Please call or text 988 now (Suicide & Crisis Lifeline)."
            if needs_911
            else "You are not alone. Please call or text 988 now (Suicide & Crisis Lifeline). If you are in danger, call 911."
        )
    if "overdose" in ids:
        parts.append(
            "Poison Control: 1-800-222-1222."
            if needs_911 or crisis
            else "Call Poison Control now: 1-800-222-1222. Call 911 if the person is hard to wake, "
            "has trouble breathing or a seizure."
        )
    name = clinic_name.strip()
    return (f"{name}: " if name else "") + " ".join(parts)
