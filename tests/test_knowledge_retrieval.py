"""The real embedding model on the real documents: retrieval recall, and the two commands end to end."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.settings import PROJECT_ROOT, Settings
from knowledge.embeddings import HashingEmbedder, MiniLMEmbedder
from knowledge.ingest import ingest
from knowledge.store import KnowledgeStore

pytestmark = pytest.mark.slow

DOCUMENTS = PROJECT_ROOT / "knowledge" / "documents"
QUESTIONS = Path(__file__).resolve().parent / "data" / "retrieval_questions.jsonl"
FIXTURE = Path(__file__).resolve().parent / "data" / "kb_fixture"


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeStore:
    store = KnowledgeStore(
        "recall_test", chroma_dir=tmp_path_factory.mktemp("chroma"), embedder=MiniLMEmbedder()
    )
    report = ingest(DOCUMENTS, store)
    assert report.documents >= 10 and report.chunks_embedded == store.count()
    return store


def test_recall_at_3_on_the_retrieval_questions(real_store: KnowledgeStore) -> None:
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    assert len(questions) >= 30
    misses = [
        q["question"]
        for q in questions
        if not {p.title for p in real_store.query(q["question"], 3)} & set(q["expected_titles"])
    ]
    recall = 1 - len(misses) / len(questions)
    assert recall >= 0.9, f"recall@3 {recall:.2f}; missed: {misses}"


def test_unrelated_question_scores_below_the_threshold(
    real_store: KnowledgeStore, settings: Settings
) -> None:
    best = real_store.query("Can you recommend a good plumber to fix my kitchen sink?", 1)[0]
    assert best.score < settings.knowledge.min_similarity
    relevant = real_store.query("Is there a fee if I cancel my appointment late?", 1)[0]
    assert relevant.score >= settings.knowledge.min_similarity


def test_ingest_then_ask_commands(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["ingest", "--documents", str(FIXTURE)]) == 0
    out, _ = capsys.readouterr()
    assert out.strip().startswith("ingest: 3 documents (3 new, 0 changed, 0 unchanged, 0 removed)")
    assert main(["ingest", "--documents", str(FIXTURE), "--quiet"]) == 0
    assert "(0 new, 0 changed, 3 unchanged, 0 removed), 0 chunks embedded" in capsys.readouterr().out

    questions = "How much is the fee for a late cancellation?\n\nWhat dose of ibuprofen is safe?\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(questions))
    assert main(["ask", "--llm", "none"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    fee, dose = lines
    assert set(fee) == {"answer", "sources", "grounded"}
    assert fee["grounded"] is True and fee["sources"] == ["Cancellation policy"]
    assert "$25" in fee["answer"] and fee["answer"].endswith("Source: Cancellation policy")
    assert dose["grounded"] is False and dose["sources"] == []


def test_store_works_against_a_chroma_server(tmp_path: Path) -> None:
    chroma = Path(sys.executable).parent / "chroma"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the Chroma server did not start"
                time.sleep(0.3)
        store = KnowledgeStore("http_test", chroma_url=f"http://127.0.0.1:{port}", embedder=HashingEmbedder())
        assert len(ingest(FIXTURE, store).added) == 3
        assert store.query("late cancellation fee", 1)[0].title == "Cancellation policy"
        again = KnowledgeStore("http_test", chroma_url=f"http://127.0.0.1:{port}", embedder=HashingEmbedder())
        assert len(ingest(FIXTURE, again).unchanged) == 3  # the hashes live in the server, not the client
    finally:
        server.terminate()
        server.wait(timeout=10)
