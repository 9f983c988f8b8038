"""Open questions answered from the clinic's knowledge store (Chroma + the local model), source named.

Retrieval and generation are blocking and load models on first use, so they run off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import threading

from rasa_sdk import Tracker

from actions.common import log, settings
from knowledge.answer import Answer, get_answerer


async def answer_from_knowledge(tracker: Tracker, question: str | None = None) -> Answer | None:
    """A grounded answer to the patient's latest message (or to ``question``, the caller's wording of it), or
    None (no passage close enough, a safety policy hit, or the knowledge store unavailable)."""
    question = str(tracker.latest_message.get("text") or "") if question is None else question
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


def _warm_up() -> None:
    try:
        get_answerer(settings()).warm_up()
    except Exception:
        log.exception("knowledge.warm_up_failed")
    from actions.clinic import warm_up_scope  # the scope check's examples, on the same embedding model

    warm_up_scope()


if os.environ.get("CLINICBOT_WARM_UP") == "1":  # set by `clinicbot up` for the action server it starts
    threading.Thread(target=_warm_up, name="knowledge-warm-up", daemon=True).start()
