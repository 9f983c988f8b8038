"""Which provider or visit type a patient means: from an entity value or free text ("dr patel", "anyone",
"my yearly checkup"), against the clinic's settings."""

from __future__ import annotations

import re

from bot.settings import Settings

ANY_PROVIDER = re.compile(r"\b(any|anyone|anybody|whoever|no preference|doesn'?t matter|dont care|don'?t care|"
                          r"either|first available|whichever)\b")
TYPE_WORDS = {
    "annual_physical": ("physical", "annual", "checkup", "check up", "check-up", "wellness", "well visit", "yearly"),
    "sick_visit": ("sick", "ill", "fever", "cold", "flu", "cough", "sore", "pain", "acute", "same day"),
    "follow_up": ("follow", "f/u", "recheck", "re-check", "followup"),
    "lab_review": ("lab", "labs", "result", "results", "bloodwork", "blood work"),
}


def provider_key(cfg: Settings, text: str) -> str | None:
    """A provider's key from an entity value or free text; "any" for no preference."""
    words = text.lower().strip()
    if ANY_PROVIDER.search(words):
        return "any"
    for provider in cfg.providers:
        if words == provider.key:
            return provider.key
    for provider in cfg.providers:
        names = [n for n in re.sub(r"[^a-z ]", " ", provider.name.lower()).split() if n not in ("dr", "md", "do")]
        if any(re.search(rf"\b{re.escape(n)}\b", words) for n in names):
            return provider.key
    if re.search(r"\b(np|nurse practitioner|nurse)\b", words):
        nps = [p.key for p in cfg.providers if p.title.upper() == "NP"]
        if len(nps) == 1:
            return nps[0]
    return None


def appointment_type_code(cfg: Settings, text: str) -> str | None:
    words = text.lower().strip()
    codes = [t.code for t in cfg.appointment_types]
    if words in codes:
        return words
    for t in cfg.appointment_types:
        if t.name.lower() in words:
            return t.code
    for code, keys in TYPE_WORDS.items():
        if code in codes and any(re.search(rf"\b{re.escape(k)}", words) for k in keys):
            return code
    return None
