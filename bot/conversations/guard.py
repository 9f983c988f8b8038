"""Red flags answered first: checked on every inbound message, in every state, before anything else.

Deterministic rules (bot.triage) decide; the language model and the Rasa engine never do. A flagged
message gets the emergency answer at once, the conversation is flagged and handed to staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.triage.red_flags import FLAG_LABELS, RedFlag, detect_red_flags, emergency_message

ALERTED = "Our care team has been alerted and will contact you here."


@dataclass(frozen=True)
class Emergency:
    flags: list[str]
    labels: list[str]
    reply: str


class RedFlagGuard:
    def __init__(self, clinic_name: str) -> None:
        self.clinic_name = clinic_name

    def check(self, text: str) -> Emergency | None:
        flags = detect_red_flags(text)
        if not flags:
            return None
        return Emergency([f.id for f in flags], [f.label for f in flags],
                         emergency_message(flags, self.clinic_name))

    def follow_up(self, flag_ids: list[str]) -> str:
        """What each later message gets until staff take the conversation: the emergency step again, and that
        the care team knows."""
        flags = [RedFlag(f, FLAG_LABELS.get(f, f)) for f in flag_ids]
        return f"{emergency_message(flags, self.clinic_name)} {ALERTED}"
