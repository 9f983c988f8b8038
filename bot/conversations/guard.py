"""Red flags answered first: checked on every inbound message, in every state, before anything else.

Deterministic rules (bot.triage) decide first; the learned triage model (bot.triage.net) is a second net
under them that can only add an emergency the rules missed, never remove one; the Rasa engine never decides.
A flagged message gets the emergency answer at once (the fixed text of the rules module), the conversation is
flagged and handed to staff. The check never blocks the event loop: the rules run on a worker thread and the
model on its own, awaited without holding a thread.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.triage.categories import CATEGORY_LABELS
from bot.triage.red_flags import RedFlag, detect_red_flags, emergency_message, flag_label

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.triage.net import TriageNet

log = logging.getLogger("clinicbot.safety")
ALERTED = "Our care team has been alerted and will contact you here."


@dataclass(frozen=True)
class Emergency:
    flags: list[str]
    labels: list[str]
    reply: str
    decided_by: str = "rules"  # or "model": the learned net caught what the rules missed
    p_emergency: float | None = None


class RedFlagGuard:
    def __init__(self, clinic_name: str, net: TriageNet | None = None) -> None:
        self.clinic_name = clinic_name
        self.net = net

    @classmethod
    def from_settings(cls, settings: Settings) -> RedFlagGuard:
        """The guard with this process's triage net (not loaded yet: call :meth:`start` when serving)."""
        from bot.triage.net import get_triage_net

        return cls(settings.clinic.name, get_triage_net(settings, own_threads=True))

    def start(self) -> None:
        """Load the model in the background; until it is ready the rules answer alone."""
        if self.net is not None:
            self.net.start()

    async def check(self, text: str) -> Emergency | None:
        """The rules on a worker thread, then the model awaited without holding one."""
        flags = await asyncio.to_thread(detect_red_flags, text)
        if flags:
            return Emergency([f.id for f in flags], [f.label for f in flags],
                             emergency_message(flags, self.clinic_name))
        score = await self.net.score_async(text) if self.net is not None else None
        if score is None or score.level != "emergency":
            return None
        category = score.emergency_category
        flag = RedFlag(category, CATEGORY_LABELS[category])
        log.warning("triage.model_emergency category=%s p_emergency=%.2f", category, score.levels["emergency"])
        return Emergency([flag.id], [flag.label], emergency_message([flag], self.clinic_name), "model",
                         round(score.levels["emergency"], 3))

    def follow_up(self, flag_ids: list[str]) -> str:
        """What each later message gets until staff take the conversation: the emergency step again, and that
        the care team knows."""
        flags = [RedFlag(f, flag_label(f) or f) for f in flag_ids]
        return f"{emergency_message(flags, self.clinic_name)} {ALERTED}"
