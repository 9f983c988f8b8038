"""The triage model's training data: hand-written messages (``data/*.txt``) plus a small generator's variety.

Each ``data/*.txt`` file holds one message per line under a header that labels the lines after it::

    @ emergency chest_pain        # level, then the red-flag category (emergencies only)
    crushing pain in my chest and my left arm feels heavy
    @ urgent                      # lower levels have no category ("none")
    ...

``#`` starts a comment line; blank lines are skipped. :mod:`bot.triage.generate` adds vital-sign and
meter-reading messages, long rambling messages with the danger in the middle, and SMS-shorthand copies.
The split is by item and seeded: a generated copy stays in its source's split, so no validation message
has a near-twin in training. The project's own set (tests/data/triage_messages.jsonl) is not used here:
it stays an evaluation set, and the blind set is never read.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from bot.triage.categories import CATEGORY_IDS, LEVELS
from bot.triage.generate import generated
from bot.triage.items import Item, group_of

DATA_DIR = Path(__file__).resolve().parent / "data"

__all__ = ["DATA_DIR", "DataError", "Item", "counts", "fingerprint", "hand_written", "load_items", "parse_file",
           "split"]


class DataError(ValueError):
    """A training file breaks the format (the message names the file and line)."""


def parse_file(path: Path) -> list[Item]:
    items: list[Item] = []
    level: str | None = None
    category = "none"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            fields = line[1:].split("#")[0].split()
            if not fields or fields[0] not in LEVELS:
                raise DataError(f"{path.name}:{number}: a header needs a level ({', '.join(LEVELS)})")
            level = fields[0]
            category = fields[1] if len(fields) > 1 else "none"
            if category not in CATEGORY_IDS or (level == "emergency") == (category == "none"):
                raise DataError(f"{path.name}:{number}: emergencies need a category, other levels none "
                                f"(got {level} {category})")
            continue
        if level is None:
            raise DataError(f"{path.name}:{number}: a message before any '@ level' header")
        items.append(Item(line, level, category, group_of(line), "hand"))
    return items


def hand_written(data_dir: Path = DATA_DIR) -> list[Item]:
    """Every hand-written item, duplicates (same words, any case) dropped: the first one wins."""
    seen: set[str] = set()
    items: list[Item] = []
    for path in sorted(data_dir.glob("*.txt")):
        for item in parse_file(path):
            if item.group not in seen:
                seen.add(item.group)
                items.append(item)
    return items


def load_items(data_dir: Path = DATA_DIR) -> list[Item]:
    """Hand-written items plus the generated ones (deterministic)."""
    hand = hand_written(data_dir)
    return hand + generated(hand)


def split(items: list[Item]) -> tuple[list[Item], list[Item]]:
    train = [i for i in items if i.split == "train"]
    validation = [i for i in items if i.split == "validation"]
    return train, validation


def fingerprint(items: list[Item], spec: str) -> str:
    """What an adapter was trained on: every item with its label and split, plus the prompt and label spec."""
    digest = hashlib.sha256(spec.encode())
    for item in items:
        digest.update(json.dumps([item.text, item.level, item.category, item.split]).encode())
    return digest.hexdigest()


def counts(items: list[Item]) -> dict[str, dict[str, int]]:
    """Items per level, per category and per source (for the tune report)."""
    return {
        "level": dict(Counter(i.level for i in items).most_common()),
        "category": dict(Counter(i.category for i in items).most_common()),
        "source": dict(Counter(i.source for i in items).most_common()),
    }
