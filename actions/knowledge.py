"""Open questions answered from the clinic's knowledge store (Chroma + the local model), source named.

Retrieval and generation are blocking and load models on first use, so they run off the event loop (the action
server started by ``clinicbot up`` loads them at start: ``bot.runtime.action_server --warm-up``).
"""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker

from actions.common import log, settings
from knowledge.answer import Answer, get_answerer


async def answer_from_knowledge(tracker: Tracker) -> Answer | None:
    """A grounded answer to the patient's latest message, or None (no passage close enough, a safety
    policy hit, or the knowledge store unavailable)."""
    question = str(tracker.latest_message.get("text") or "")
    if not question.strip():
        return None
    try:
        result = await asyncio.to_thread(get_answerer(settings()).answer, question)
    except Exception:
        log.exception("knowledge.answer_failed conversation_id=%s", tracker.sender_id)
        return None
    log.info("knowledge.answered conversation_id=%s grounded=%s reason=%s", tracker.sender_id, result.grounded,
             result.reason.split(":")[0])
    return result if result.grounded else None
