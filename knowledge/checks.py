"""The checks a model's draft must pass before it is sent (knowledge/answer.py quotes the chosen sentences instead)."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.guard import (
    fits_sms,
    has_dosing_language,
    informative_terms,
    is_repetitive,
    unsupported_numbers,
)
from knowledge.prompt import format_context
from knowledge.sentences import off_topic
from knowledge.types import Passage


def draft_problem(draft: str, final: str, passages: Sequence[Passage], question: str, *,
                  copied: list[Passage] | None, max_segments: int) -> str:
    """The first check the draft fails, or "". ``final`` is the draft with its source line, ``copied`` is
    ``copied_from(draft, passages)`` (worked out once)."""
    if len(draft) < 2:
        return "empty"
    context = format_context(passages)
    if unsupported_numbers(draft, context):
        return "numbers"
    if has_dosing_language(draft):
        return "dosing"
    if not fits_sms(final, max_segments):
        return "length"
    if is_repetitive(draft):
        return "repetitive"
    if len(informative_terms(draft, question, context, [p.title for p in passages])) < 2:
        return "uninformative"  # it only restates the question or the title
    if copied is None:
        return "unfaithful"
    if off_topic(draft, question, passages):
        return "off_topic"
    return ""
