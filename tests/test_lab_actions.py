"""Lab results in conversation: the actions against inline trackers, the real (temporary) clinic store with the
demo data, and the clinic's real lab documents as the knowledge."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import actions.labs
from actions.labs import ActionShowLabResults, ValidateLabsForm
from bot.messaging.sms_budget import split_for_sms
from bot.runtime import demo
from bot.settings import PROJECT_ROOT, Settings
from bot.store import AuditEvent, Conversation, Handoff, LabResult, Patient, session_scope
from knowledge.documents import chunk_document, load_documents
from knowledge.embeddings import MiniLMEmbedder
from knowledge.select import SentenceSelector
from knowledge.types import Passage

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "bot/assistant/domain.yml").read_text())
DOCUMENTS = PROJECT_ROOT / "knowledge" / "documents"
WEB = "conv-labs-web"
SMS = "conv-labs-sms"


class WordRetriever:
    """A stand-in for the embedding search over the real documents' chunks: words weighted by rarity."""

    def __init__(self, directory: Path) -> None:
        self.passages = [Passage(c.title, c.heading, c.text, c.source, 0.0)
                         for doc in load_documents(directory) for c in chunk_document(doc)]
        self.words = [self._words(f"{p.title} {p.heading} {p.text}") for p in self.passages]
        df = Counter(w for words in self.words for w in words)
        self.idf = {w: math.log(len(self.passages) / n) for w, n in df.items()}
        self.queries: list[str] = []

    @staticmethod
    def _words(text: str) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", text.lower()))

    def query(self, text: str, k: int) -> list[Passage]:
        self.queries.append(text)
        asked = self._words(text)
        scored = [(sum(self.idf.get(w, 0) for w in asked & words), p) for p, words in zip(self.passages, self.words,
                                                                                           strict=True)]
        top = max(s for s, _ in scored) or 1.0
        ranked = sorted(scored, key=lambda sp: -sp[0])[:k]
        return [Passage(p.title, p.heading, p.text, p.source, s / top) for s, p in ranked]


@pytest.fixture(scope="module")
def selector() -> SentenceSelector:
    """The answers' sentence selection on the real embedding model (loaded once for the module)."""
    return SentenceSelector(MiniLMEmbedder())


@pytest.fixture
def retriever(monkeypatch: pytest.MonkeyPatch, selector: SentenceSelector) -> WordRetriever:
    words = WordRetriever(DOCUMENTS)
    monkeypatch.setattr(actions.labs, "knowledge_retriever", lambda: words)
    monkeypatch.setattr(actions.labs, "knowledge_selector", lambda: selector)
    return words


@pytest.fixture
def clinic(seeded: Settings, retriever: WordRetriever) -> Settings:
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id=WEB, channel="web", channel_user="browser-labs"))
        session.add(Conversation(id=SMS, channel="sms", channel_user=demo.DEMO_PHONE))
    return seeded


def demo_patient_id(settings: Settings, index: int) -> int:
    """The demo's patients in the order bot/demo.py seeds them (0: Jordan Demo)."""
    with session_scope(settings.database_url) as session:
        return session.scalars(select(Patient.id).order_by(Patient.id)).all()[index]


def tracker(sender: str = WEB, *, patient_id: int | None = None, form: str | None = None,
            candidates: dict[str, Any] | None = None, text: str = "can i see my lab results") -> Tracker:
    latest = {"text": text, "intent": {"name": "lab_results", "confidence": 0.9}, "entities": []}
    events: list[dict[str, Any]] = [{"event": "user", "text": text, "parse_data": latest, "timestamp": time.time()}]
    if form:
        events.append({"event": "action", "name": form})
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    slots: dict[str, Any] = {**(candidates or {})}
    if patient_id is not None:
        slots |= {"verified_patient_id": str(patient_id), "verified_at": time.time() - 30}
    return Tracker(sender, slots, latest, events, False, None, {"name": form} if form else {}, "action_listen")


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    return dispatcher.messages, events


def seen(message: dict[str, Any]) -> str:
    """The text the patient gets for one message (the domain's template, filled as Rasa fills it)."""
    template = DOMAIN["responses"][message["response"]][0]["text"]
    for var in re.findall(r"{(\w+)}", template):
        assert var in message, (message["response"], var)  # else Rasa would print {var}
    return str(template.format(**{k: v for k, v in message.items() if isinstance(k, str)}))


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [seen(m) for m in messages]


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m["response"] for m in messages]


def audit_of(settings: Settings, sender: str) -> list[tuple[str, dict[str, Any]]]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == sender).order_by(AuditEvent.id))
        return [(a.action, dict(a.detail)) for a in rows]


def document_prose(source_title: str) -> str:
    """The whole text of the document with this title, whitespace collapsed (to check a quote comes from it)."""
    [doc] = [d for d in load_documents(DOCUMENTS) if d.title == source_title]
    return " ".join(doc.body.split())


def test_jordan_sees_each_result_flagged_and_each_high_one_explained_from_its_lab_document(
        clinic: Settings) -> None:
    messages, events = run(ActionShowLabResults(), tracker(patient_id=demo_patient_id(clinic, 0)))
    shown = texts(messages)
    listing = shown[0]
    assert listing.startswith("Your lab results from ")
    # flagged by the lab documents' bands, the ones the answers place a patient's own number in
    assert "LDL cholesterol 162 mg/dL - high (high LDL: 160 to 189 mg/dL)." in listing
    assert "Total cholesterol 228 mg/dL - high (borderline high: 200 to 239 mg/dL)." in listing
    assert "HbA1c 6.1% - high (prediabetes range: 5.7 % to 6.4 %)." in listing
    assert "HDL cholesterol 48 mg/dL - in the typical range." in listing
    assert "TSH 2.1 mIU/L - in the typical range." in listing
    assert "Triglycerides 140 mg/dL - in the typical range." in listing

    explained = [m for m in messages if m["response"] == "utter_lab_explanation"]
    # total cholesterol and LDL are explained by the same passage: one message names both
    assert [m["test_name"] for m in explained] == ["total cholesterol and LDL cholesterol", "HbA1c"]
    for message in explained:
        assert message["flag"] == "high"
        assert seen(message).endswith(f"\nSource: {message['source']}")
        prose = document_prose(message["source"])  # every sentence is the document's own
        for sentence in re.split(r"(?<=[.!?])\s+", message["explanation"]):
            assert sentence in prose, sentence
    by_test = {m["test_name"]: m for m in explained}
    lipids = by_test["total cholesterol and LDL cholesterol"]
    assert lipids["source"] == "Lipid panel (cholesterol test)" and "LDL cholesterol" in lipids["explanation"]
    assert seen(lipids).startswith("About your high total cholesterol and LDL cholesterol: ")
    assert by_test["HbA1c"]["source"] == "Hemoglobin A1c (HbA1c) test"
    assert "prediabetes" in by_test["HbA1c"]["explanation"]  # 6.1 %: the prediabetes section, not the diabetes one

    assert responses(messages)[-1] == "utter_lab_review"
    assert "Your clinician will review these results" in shown[-1] and '"person"' in shown[-1]
    assert "utter_lab_critical" not in responses(messages)
    for text in shown:  # each message fits the clinic's SMS budget as the gateway splits it
        assert len(split_for_sms(text, 99)) <= clinic.sms.max_segments, text
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"}["verify_dob"] is None  # flow reset

    assert audit_of(clinic, WEB) == [("results_shown", {"results": 6, "flagged": 3, "critical": 0})]
    with session_scope(clinic.database_url) as session:
        assert session.scalars(select(Handoff).where(Handoff.conversation_id == WEB)).all() == []


def test_a_critical_value_is_neither_shown_nor_explained_and_staff_are_asked_to_call(clinic: Settings) -> None:
    patient_id = demo_patient_id(clinic, 10)  # the demo's potassium of 6.6 (critical above 6.2)
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=patient_id))
    shown = texts(messages)
    assert responses(messages) == ["utter_lab_results", "utter_lab_critical", "utter_lab_review"]
    assert "Potassium - your clinician needs to review this result with you." in shown[0]
    assert not any("6.6" in t or "high" in t.lower() for t in shown)  # no value, no flag, no meaning
    assert shown[1].startswith("One of your results needs your clinician to look at it today. "
                               "I've asked our staff to contact you")

    with session_scope(clinic.database_url) as session:
        [handoff] = session.scalars(select(Handoff).where(Handoff.conversation_id == WEB)).all()
        assert (handoff.reason, handoff.status) == ("critical_lab", "open")
        assert handoff.summary["critical_lab"]["tests"] == ["potassium"]  # type: ignore[index]
        conversation = session.get(Conversation, WEB)
        assert conversation is not None and conversation.state == "waiting_staff"
    trail = audit_of(clinic, WEB)
    assert [a for a, _ in trail] == ["critical_result_escalated", "results_shown"]
    assert trail[1][1] == {"results": 1, "flagged": 0, "critical": 1}
    assert "6.6" not in str(trail) and "potassium" not in str(trail).lower()


def test_a_critical_value_while_already_waiting_for_staff_joins_that_handoff(clinic: Settings) -> None:
    with session_scope(clinic.database_url) as session:
        session.add(Handoff(conversation_id=WEB, reason="requested_human"))
    run(ActionShowLabResults(), tracker(patient_id=demo_patient_id(clinic, 10)))
    with session_scope(clinic.database_url) as session:
        [handoff] = session.scalars(select(Handoff).where(Handoff.conversation_id == WEB)).all()
        assert handoff.reason == "requested_human" and "critical_lab" in handoff.summary
    assert audit_of(clinic, WEB)[0] == ("critical_result_escalated", {"critical": 1, "new_handoff": False})


def test_no_results_is_said_plainly_and_nothing_is_audited(clinic: Settings) -> None:
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=demo_patient_id(clinic, 15)))
    assert responses(messages) == ["utter_lab_none"]
    assert texts(messages)[0].startswith("I don't see any lab results for you yet.")
    assert audit_of(clinic, WEB) == []


def test_only_the_latest_collection_day_is_shown(clinic: Settings) -> None:
    patient_id = demo_patient_id(clinic, 0)
    with session_scope(clinic.database_url) as session:
        session.add(LabResult(patient_id=patient_id, panel="Thyroid", test_code="tsh", test_name="TSH", value=7.9,
                              unit="mIU/L", ref_low=0.4, ref_high=4.0,
                              collected_at=datetime.now(UTC) - timedelta(days=400)))
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=patient_id))
    assert "7.9" not in " ".join(texts(messages)) and "TSH 2.1 mIU/L" in texts(messages)[0]


def test_a_preliminary_result_is_not_shown_until_it_is_final(clinic: Settings) -> None:
    patient_id = demo_patient_id(clinic, 0)
    with session_scope(clinic.database_url) as session:
        session.add(LabResult(patient_id=patient_id, panel="Thyroid", test_code="tsh", test_name="TSH", value=7.9,
                              unit="mIU/L", ref_low=0.4, ref_high=4.0, status="preliminary",
                              collected_at=datetime.now(UTC) + timedelta(minutes=1)))
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=patient_id))
    assert "7.9" not in " ".join(texts(messages)) and "TSH 2.1 mIU/L" in texts(messages)[0]


def test_a_low_value_is_explained_from_the_low_section(clinic: Settings) -> None:
    patient_id = demo_patient_id(clinic, 15)
    with session_scope(clinic.database_url) as session:
        session.add(LabResult(patient_id=patient_id, panel="Thyroid", test_code="tsh", test_name="TSH", value=0.1,
                              unit="mIU/L", ref_low=0.4, ref_high=4.0, collected_at=datetime.now(UTC)))
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=patient_id))
    assert "TSH 0.1 mIU/L - low (typical adult range: about 0.4 to 4.0 mIU/L)." in texts(messages)[0]
    [explained] = [m for m in messages if m["response"] == "utter_lab_explanation"]
    assert explained["flag"] == "low" and "low TSH" in explained["explanation"]
    assert "underactive" not in explained["explanation"]  # the high-TSH section is not quoted for a low value


def test_a_long_panel_is_split_into_messages_that_each_fit_the_sms_budget(clinic: Settings) -> None:
    patient_id = demo_patient_id(clinic, 15)
    now = datetime.now(UTC)
    with session_scope(clinic.database_url) as session:
        session.add_all([LabResult(patient_id=patient_id, panel="Comprehensive metabolic panel", test_code=f"t{i}",
                                   test_name=f"Test number {i}", value=10 + i, unit="mg/dL", ref_low=5,
                                   ref_high=100, collected_at=now) for i in range(25)])
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=patient_id))
    listed = [m for m in messages if m["response"] in ("utter_lab_results", "utter_lab_results_more")]
    assert len(listed) > 1 and responses(listed)[1:] == ["utter_lab_results_more"] * (len(listed) - 1)
    joined = " ".join(texts(listed))
    assert all(f"Test number {i} {10 + i} mg/dL - in the typical range." in joined for i in range(25))
    for text in texts(messages):
        assert len(split_for_sms(text, 99)) <= clinic.sms.max_segments, text


def test_without_the_knowledge_store_the_results_still_come_with_the_review_note(
        clinic: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def down() -> Any:
        raise ConnectionError("chroma is down")

    monkeypatch.setattr(actions.labs, "knowledge_retriever", down)
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=demo_patient_id(clinic, 0)))
    assert responses(messages) == ["utter_lab_results", *["utter_lab_no_explanation"] * 3, "utter_lab_review"]
    assert "LDL cholesterol 162 mg/dL - high" in texts(messages)[0]


def test_an_unverified_or_lapsed_conversation_sees_no_result(clinic: Settings) -> None:
    messages, _ = run(ActionShowLabResults(), tracker())
    assert messages == []
    stale = tracker(patient_id=demo_patient_id(clinic, 0))
    stale.slots["verified_at"] = time.time() - 31 * 60
    messages, _ = run(ActionShowLabResults(), stale)
    assert messages == [] and audit_of(clinic, WEB) == []


def test_the_labs_form_asks_for_verification_first_and_skips_it_once_verified(clinic: Settings) -> None:
    _, events = run(ValidateLabsForm(), tracker(SMS, form="labs_form"))
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"}["requested_slot"] == "verify_dob"
    messages, events = run(ValidateLabsForm(), tracker(SMS, form="labs_form", text="01/01/1980",
                                                       candidates={"verify_dob": "01/01/1980"}))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["verified_patient_id"] == str(demo_patient_id(clinic, 0)) and slots["requested_slot"] is None
    assert responses(messages) == ["utter_verified"]
    _, events = run(ValidateLabsForm(), tracker(SMS, form="labs_form", patient_id=demo_patient_id(clinic, 0)))
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"}.get("requested_slot") is None


def test_logs_carry_counts_not_values_or_test_names(clinic: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    run(ActionShowLabResults(), tracker(patient_id=demo_patient_id(clinic, 0)))
    run(ActionShowLabResults(), tracker(patient_id=demo_patient_id(clinic, 10)))
    logged = "\n".join(r.getMessage() + str(r.__dict__.get("extra", "")) for r in caplog.records)
    assert "labs.shown" in logged and "critical=1" in logged
    for phi in ("162", "6.6", "6.1", "LDL", "Potassium", "potassium", "HbA1c", "cholesterol"):
        assert phi not in logged, phi


@pytest.mark.slow
def test_with_the_real_embedding_store_each_high_value_is_explained_from_its_own_section(
        seeded: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore("labs_test", chroma_dir=tmp_path / "chroma", embedder=MiniLMEmbedder())
    ingest(DOCUMENTS, store)
    monkeypatch.setattr(actions.labs, "knowledge_retriever", lambda: store)
    messages, _ = run(ActionShowLabResults(), tracker(patient_id=demo_patient_id(seeded, 0)))
    by_test = {m["test_name"]: m for m in messages if m["response"] == "utter_lab_explanation"}
    assert set(by_test) == {"HbA1c", "total cholesterol and LDL cholesterol"}
    assert "High LDL cholesterol can build up as plaque" in by_test["total cholesterol and LDL cholesterol"][
        "explanation"]
    assert "prediabetes range" in by_test["HbA1c"]["explanation"]
    for message in by_test.values():
        prose = document_prose(message["source"])
        assert all(s in prose for s in re.split(r"(?<=[.!?])\s+", message["explanation"]))
