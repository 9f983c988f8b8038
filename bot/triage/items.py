"""One training message for the triage model, and the seeded split it falls in (by the line it comes from)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

VALIDATION_SHARE = 0.15
SPLIT_SEED = "triage-split-1"


@dataclass(frozen=True)
class Item:
    text: str
    level: str
    category: str
    group: str  # the hand-written line an item comes from (generated copies share it)
    source: str  # "hand" | "vitals" | "ramble" | "sms"

    @property
    def split(self) -> str:
        digest = hashlib.sha1(f"{SPLIT_SEED}|{self.group}".encode()).digest()
        return "validation" if int.from_bytes(digest[:4], "big") / 2**32 < VALIDATION_SHARE else "train"


def group_of(text: str) -> str:
    return hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()[:16]
