"""The model contract every generation backend meets (local 4-bit, OpenAI-compatible HTTP, fake)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypedDict

_SENTENCE_RE = re.compile(r"[^.!?]*[.!?]+(?=\s|$)")
_WORD_RE = re.compile(r"[a-z0-9]{2}")


def cut_at_repeat(text: str) -> str | None:
    """The text before its first finished sentence that repeats an earlier one; None when none repeats.

    A small model with nothing left to say loops ("I can't help with that. I can't help with that. ..."):
    generation stops at the first repeat, and the repeat is dropped."""
    seen: set[str] = set()
    for match in _SENTENCE_RE.finditer(text):
        key = " ".join(match.group().lower().split())
        if not _WORD_RE.search(key):  # "m." of "8 a.m. to 5 p.m." is no sentence: its repeat ended drafts at "5 p."
            continue
        if key in seen:
            return text[: match.start()].strip()
        seen.add(key)
    return None


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class LLM(Protocol):
    """Turns chat messages into text. Implementations load heavy libraries lazily."""

    name: str

    def generate(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None,
                 deadline: float | None = None, copy_from: Sequence[str] | None = None) -> str:
        """The whole reply (greedy, deterministic where the backend allows). ``deadline`` (a
        ``time.monotonic()`` value): stop generating then; the text may be cut short. ``copy_from``: sentences
        the reply must copy (bot/llm/copying.py), for a backend that can hold its decoding to them."""
        ...

    def stream(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None) -> Iterator[str]:
        """The reply in chunks as they are produced."""
        ...


@dataclass
class FakeLLM:
    """For tests: returns queued replies in order (or a default) and records every call."""

    replies: list[str] = field(default_factory=list)
    default: str = ""
    calls: list[list[ChatMessage]] = field(default_factory=list)
    name: str = "fake"
    delay_s: float = 0.0  # a slow model that cannot be interrupted (it ignores the deadline)

    def generate(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None,
                 deadline: float | None = None, copy_from: Sequence[str] | None = None) -> str:
        self.calls.append(list(messages))
        if self.delay_s:
            time.sleep(self.delay_s)
        return self.replies.pop(0) if self.replies else self.default

    def stream(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None) -> Iterator[str]:
        text = self.generate(messages, max_new_tokens=max_new_tokens)
        yield from (text[i : i + 16] for i in range(0, len(text), 16))
