"""Load the clinic's documents into the knowledge store, incrementally.

A document whose content hash (text + chunker version + embedding model) matches the store is skipped;
a changed one has its chunks replaced; one no longer on disk has its chunks removed.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.documents import chunk_document, load_documents
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    documents: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"ingest: {self.documents} documents ({len(self.added)} new, {len(self.updated)} changed, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed), "
            f"{self.chunks_embedded} chunks embedded in {self.seconds:.1f} s"
        )


def ingest(
    documents_dir: Path, store: KnowledgeStore, *, progress: bool = False, rebuild: bool = False
) -> IngestReport:
    """Bring the store in line with ``documents_dir``; a progress bar goes to stderr if asked."""
    from tqdm import tqdm

    started = time.perf_counter()
    docs = load_documents(documents_dir)  # parse everything first: a broken file changes nothing
    if rebuild:
        store.reset()
    hashes = store.document_hashes()
    report = IngestReport(documents=len(docs))
    on_disk = {d.source for d in docs}
    for source in sorted(set(hashes) - on_disk):
        store.delete_document(source)
        report.removed.append(source)
    bar = tqdm(docs, desc="embedding", unit="doc", file=sys.stderr, disable=not progress, leave=False)
    for doc in bar:
        if store.is_current(doc, hashes):
            report.unchanged.append(doc.source)
            continue
        (report.updated if doc.source in hashes else report.added).append(doc.source)
        report.chunks_embedded += store.upsert(doc, chunk_document(doc))
        bar.set_postfix(chunks=report.chunks_embedded)
    bar.close()
    report.seconds = time.perf_counter() - started
    log.info(
        "knowledge.ingest.done",
        extra={
            "documents": report.documents,
            "added": len(report.added),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            "removed": len(report.removed),
            "chunks": report.chunks_embedded,
            "collection": store.collection_name,
        },
    )
    return report
