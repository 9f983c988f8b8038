"""Open questions answered from the clinic's knowledge store (Chroma + the local model), source named.

Retrieval and generation are blocking and load models on first use, so they run off the event loop (the action server
started by ``clinicbot up`` loads them at start: ``bot.runtime.action_server --warm-up``). A question the
policy refuses and hands on (a dose, which medicine to take or whether to change one, what a symptom or value means
for the patient, a result in the critical range) gets the refusal and goes to the care team's queue, like a dose
question does.
"""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_for, log, settings
from bot.conversations.handoffs import request_handoff
from bot.store import session_scope
from knowledge.answer import Answer, get_answerer
from knowledge.replies import HANDED_OFF

MEDICINE_POLICIES = ("dose", "medicine")  # refused whatever the engine took the message for


async def answer_from_knowledge(tracker: Tracker, question: str | None = None) -> Answer | None:
    """The answer to the patient's latest message (or to ``question``, the caller's wording of it) when it is
    grounded or handed to a person, else None (no passage close enough, a question outside the clinic's business,
    or the knowledge store unavailable)."""
    question = str(tracker.latest_message.get("text") or "") if question is None else question
    if not question.strip():
        return None
    try:
        result = await asyncio.to_thread(get_answerer(settings()).answer, question)
    except Exception:
        log.exception("knowledge.answer_failed conversation_id=%s", tracker.sender_id)
        return None
    log.info("knowledge.answered conversation_id=%s grounded=%s reason=%s handoff=%s", tracker.sender_id,
             result.grounded, result.reason.split(":")[0], result.handoff or "-")
    return result if result.grounded or result.handoff else None


async def reply_from_knowledge(dispatcher: CollectingDispatcher, tracker: Tracker,
                               question: str | None = None) -> Answer | None:
    """Say the knowledge answer (and hand the conversation on when the answer says so); None when there is none."""
    found = await answer_from_knowledge(tracker, question)
    if found is None:
        return None
    if found.handoff:
        cfg = settings()
        with session_scope(cfg.database_url) as session:
            created = request_handoff(session, conversation_for(session, tracker), reason=found.handoff)
        log.info("handoff.requested conversation_id=%s reason=%s new=%s", tracker.sender_id, found.handoff, created)
    dispatcher.utter_message(text=found.answer)
    return found


async def refuse_medicine_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A question about a dose or which medicine to take is refused and goes to the care team, whichever intent
    the engine read in it ("how much tylenol for my 6 yo with a fever" is a symptom too): True when refused."""
    question = " ".join(str(tracker.latest_message.get("text") or "").split())
    if not question:
        return False
    try:
        answerer = get_answerer(settings())
        kind = await asyncio.to_thread(answerer.policy.kind, question)
    except Exception:
        log.exception("knowledge.policy_failed conversation_id=%s", tracker.sender_id)
        return False
    if kind not in MEDICINE_POLICIES:
        return False
    cfg = settings()
    with session_scope(cfg.database_url) as session:
        created = request_handoff(session, conversation_for(session, tracker), reason=HANDED_OFF[kind])
    log.info("knowledge.policy_refused conversation_id=%s kind=%s new=%s", tracker.sender_id, kind, created)
    dispatcher.utter_message(text=answerer.messages[kind])
    return True
