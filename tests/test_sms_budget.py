"""One SMS budget: the answer check, the lab explanations and the sender all ask bot/messaging/sms_budget.py, so an answer
that passes the check arrives whole. Before, the check counted one long message in 153-character parts while the
channel sends up to three separate messages split between sentences: a 431-character answer passed and lost its last
two sentences and its source line on the way out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import actions.labs
from bot.messaging.outbound import SendResult
from bot.messaging.sms_budget import fits_sms, split_for_sms
from bot.messaging.sms_delivery import SmsDelivery
from bot.settings import PROJECT_ROOT, Settings
from bot.store import Conversation, Message, session_scope
from bot.store.db import session_factory
from knowledge.answer import Answerer, with_sources
from knowledge.checks import draft_problem
from knowledge.documents import load_documents
from knowledge.sentences import copied_from, plain_sentences, sms_safe
from knowledge.types import Passage

PATIENT = "+15555550177"
LIPIDS = "Lipid panel (cholesterol test)"


@dataclass
class RecordingSender:
    sent: list[str] = field(default_factory=list)

    def send(self, to: str, body: str) -> SendResult:
        self.sent.append(body)
        return SendResult(status="sent", provider_id=f"SM{len(self.sent):032d}")


class NoStore:
    def query(self, text: str, k: int) -> list[object]:
        return []


def _document_sentences(title: str) -> list[str]:
    [doc] = [d for d in load_documents(PROJECT_ROOT / "knowledge" / "documents") if d.title == title]
    return [s for s in plain_sentences(sms_safe(doc.body)) if not s.startswith("#") and len(s.split()) > 3]


def _longest_passing(answerer: Answerer, sentences: list[str], title: str) -> tuple[str, str]:
    """The longest run of the document's sentences the answer check lets through, and the sentence after it."""
    body = sentences[0]
    for n, sentence in enumerate(sentences[1:], start=1):
        if not answerer.fits(f"{body} {sentence}", [title]):
            return body, sentence
        body = f"{body} {sentence}"
        if n > 40:
            break
    raise AssertionError("the document never outgrows the SMS budget")


def test_the_longest_answer_the_check_passes_arrives_whole_by_sms(seeded: Settings) -> None:
    answerer = Answerer(NoStore(), seeded)  # type: ignore[arg-type]
    body, next_sentence = _longest_passing(answerer, _document_sentences(LIPIDS), LIPIDS)
    final = with_sources(body, [LIPIDS])
    assert not answerer.fits(f"{body} {next_sentence}", [LIPIDS])  # it is the longest: one more sentence fails
    context = [Passage(LIPIDS, "", body, "labs/lipid-panel.md", 1.0)]
    question = "what does the lipid panel check and what do the numbers mean"
    assert draft_problem(body, final, context, question, copied=copied_from(body, context),
                         max_segments=seeded.sms.max_segments) == ""

    sessions = session_factory(seeded.database_url)
    with session_scope(seeded.database_url) as session:
        conversation = Conversation(channel="sms", channel_user=PATIENT)
        session.add(conversation)
        session.flush()
        message = Message(conversation_id=conversation.id, direction="out", author="bot", text=final, status="queued")
        session.add(message)
        session.flush()
        message_id = message.id
    sender = RecordingSender()
    status = asyncio.run(SmsDelivery(sessions, sender, seeded.sms.max_segments).deliver(PATIENT, message_id, final))

    assert status == "sent" and 1 < len(sender.sent) <= seeded.sms.max_segments
    delivered = " ".join(sender.sent)
    for sentence in plain_sentences(body):
        assert sentence in delivered, sentence
    assert delivered.endswith(f"Source: {LIPIDS}")
    assert not any(part.endswith("...") for part in sender.sent)


def test_an_answer_that_would_lose_sentences_fails_the_check(settings: Settings) -> None:
    """Four sentences of about 110 characters are 455 characters, three 153-character parts as one long message,
    but four one-segment messages split between sentences: the check now says it does not fit."""
    sentences = [f"The {n} sentence of this answer is about the clinic's lab results and when to call us about them."
                 for n in ("first", "second", "third", "fourth")]
    text = with_sources(" ".join(sentences), ["Getting your lab results"])
    assert len(text) < 3 * 153 + 20 and not fits_sms(text, 3)
    assert len(split_for_sms(text, 99)) > 3
    assert draft_problem(" ".join(sentences), text, [], "when are results ready", copied=None,
                         max_segments=settings.sms.max_segments) == "length"


def test_lab_explanations_are_fitted_with_the_same_rule(settings: Settings) -> None:
    long_text = " ".join(["Your clinician will look at all of your results together with your health."] * 8)
    assert actions.labs.fits(long_text, settings) == fits_sms(long_text, settings.sms.max_segments) is False
    assert actions.labs.fits("A short note.", settings) is fits_sms("A short note.", settings.sms.max_segments) is True
