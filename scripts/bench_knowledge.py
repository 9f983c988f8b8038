"""Knowledge store benchmark: cold ingest throughput, query latency and retrieval recall@3 (hybrid: BM25 and
embeddings fused, the question expanded with the documents' own names, as the answers retrieve).

    .venv/bin/python scripts/bench_knowledge.py            # the clinic's documents
    .venv/bin/python scripts/bench_knowledge.py --json     # the same as one JSON object

"Cold" means a new, empty Chroma directory and a freshly loaded embedding model (model load time is
reported apart from the ingest itself). Latency is measured over the retrieval questions, one at a
time, after one warm-up query.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOCUMENTS = ROOT / "knowledge" / "documents"
QUESTIONS = ROOT / "tests" / "data" / "retrieval_questions.jsonl"


def load_questions(path: Path = QUESTIONS) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def recall_at(store: object, questions: list[dict[str, object]], k: int = 3,
              expand: Callable[[str], str] = str) -> tuple[float, list[str]]:
    """Share of questions with an expected title among the top ``k`` passages, and the misses. ``expand`` is what
    the answers do to a question first (the documents' names for what it names)."""
    misses = []
    for q in questions:
        titles = {p.title for p in store.query(expand(str(q["question"])), k)}  # type: ignore[attr-defined]
        if not titles & set(q["expected_titles"]):  # type: ignore[call-overload]
            misses.append(str(q["question"]))
    return 1 - len(misses) / max(1, len(questions)), misses


def run(documents: Path = DOCUMENTS, questions_path: Path = QUESTIONS, k: int = 3) -> dict[str, object]:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from knowledge.documents import load_documents
    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore
    from knowledge.vocabulary import Vocabulary

    questions = load_questions(questions_path)
    with tempfile.TemporaryDirectory(prefix="bench-kb-") as tmp:
        embedder = MiniLMEmbedder()
        started = time.perf_counter()
        embedder.embed(["warm up"])
        model_load_s = time.perf_counter() - started

        store = KnowledgeStore("bench_knowledge", chroma_dir=Path(tmp) / "chroma", embedder=embedder)
        cpu0 = time.process_time()
        report = ingest(documents, store)
        ingest_cpu_s = time.process_time() - cpu0
        again = ingest(documents, store)

        store.query("warm up", k)
        latencies = []
        for q in questions:
            t0 = time.perf_counter()
            store.query(str(q["question"]), k)
            latencies.append((time.perf_counter() - t0) * 1000)
        recall, misses = recall_at(store, questions, k, Vocabulary.from_documents(load_documents(documents)).expand)
    latencies.sort()
    return {
        "documents": report.documents,
        "chunks": report.chunks_embedded,
        "model_load_s": round(model_load_s, 2),
        "ingest_s": round(report.seconds, 2),
        "ingest_cpu_s": round(ingest_cpu_s, 2),  # CPU time: less sensitive to other load on the machine
        "ingest_chunks_per_s": round(report.chunks_embedded / report.seconds, 1),
        "ingest_docs_per_s": round(report.documents / report.seconds, 1),
        "reingest_unchanged_s": round(again.seconds, 3),
        "questions": len(questions),
        "query_median_ms": round(statistics.median(latencies), 1),
        "query_p95_ms": round(latencies[max(0, round(0.95 * len(latencies)) - 1)], 1),
        f"recall_at_{k}": round(recall, 3),
        "misses": misses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, default=DOCUMENTS)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.documents, args.questions)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"documents: {result['documents']}, chunks: {result['chunks']} (model load {result['model_load_s']} s)"
    )
    print(
        f"ingest (cold): {result['ingest_chunks_per_s']} chunks/s, {result['ingest_docs_per_s']} docs/s "
        f"({result['ingest_s']} s wall, {result['ingest_cpu_s']} s CPU); unchanged re-run {result['reingest_unchanged_s']} s"
    )
    print(
        f"query latency over {result['questions']} questions: median {result['query_median_ms']} ms, "
        f"p95 {result['query_p95_ms']} ms"
    )
    print(f"recall@3: {result['recall_at_3']}")
    for miss in result["misses"]:  # type: ignore[attr-defined]
        print(f"  miss: {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
