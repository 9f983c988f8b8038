"""The one prompt format used both to fine-tune the adapter and to answer patients.

The context is the sentences chosen to answer (knowledge/select.py), grouped under their section, not whole sections:
the model composes its answer from them, and the answer check holds it to them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.llm.base import ChatMessage
from knowledge.types import Passage

SYSTEM_PROMPT = (
    "You are the assistant of {clinic_name}. Answer the patient's question with the sentences of the context that "
    "answer it, in their words; leave out a sentence that does not answer it. "
    "Never give medicine doses and never diagnose: for those, say the care team will help. "
    "If the context does not answer the question, say you will pass it to the front desk."
)


def format_context(passages: Sequence[Passage]) -> str:
    return "\n\n".join(f"[{p.title}{' - ' + p.heading if p.heading else ''}]\n{p.text}" for p in passages)


def build_messages(question: str, passages: Sequence[Passage], clinic_name: str) -> list[ChatMessage]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(clinic_name=clinic_name)},
        {"role": "user", "content": f"Context:\n{format_context(passages)}\n\nQuestion: {question}"},
    ]
