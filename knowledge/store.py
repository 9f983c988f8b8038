"""The knowledge store: Chroma behind a small interface (upsert, delete by document, query).

Persistent under the data directory by default; a Chroma server when ``knowledge.chroma_url`` is set.
The client and collection are created on first use, never at import time. Similarity is cosine:
``score = 1 - distance`` (the collection is created with ``hnsw:space = cosine``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from knowledge.documents import Chunk, Document
from knowledge.embeddings import Embedder, MiniLMEmbedder
from knowledge.types import Passage

log = logging.getLogger(__name__)


class Retriever(Protocol):
    def query(self, text: str, k: int) -> list[Passage]: ...


def make_client(chroma_dir: Path | None = None, chroma_url: str = "") -> Any:
    """A Chroma client: HTTP when ``chroma_url`` is given, else persistent in ``chroma_dir``."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    if chroma_dir is None:
        raise ValueError("a persistent knowledge store needs a directory")
    chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(chroma_dir), settings=chroma_settings)


class KnowledgeStore:
    """Chunks of knowledge documents with their embeddings, one Chroma collection."""

    def __init__(
        self,
        collection: str,
        *,
        chroma_dir: Path | None = None,
        chroma_url: str = "",
        embedder: Embedder | None = None,
        client: Any = None,
    ) -> None:
        if len(collection) < 3:
            raise ValueError("knowledge.collection: Chroma needs a name of 3 or more characters")
        self.collection_name = collection
        self.embedder: Embedder = embedder or MiniLMEmbedder()
        self._chroma_dir = chroma_dir
        self._chroma_url = chroma_url
        self._client = client
        self._collection: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, embedder: Embedder | None = None) -> KnowledgeStore:
        """From the app's :class:`bot.settings.Settings`."""
        k = settings.knowledge
        return cls(k.collection, chroma_dir=settings.chroma_dir, chroma_url=k.chroma_url, embedder=embedder)

    # -- the collection ----------------------------------------------------------------
    @property
    def collection(self) -> Any:
        with self._lock:
            if self._collection is None:
                if self._client is None:
                    self._client = make_client(self._chroma_dir, self._chroma_url)
                self._collection = self._client.get_or_create_collection(
                    self.collection_name, metadata={"hnsw:space": "cosine"}, embedding_function=None
                )
            return self._collection

    def reset(self) -> None:
        """Drop every chunk (the collection is re-created empty)."""
        _ = self.collection
        with self._lock:
            self._client.delete_collection(self.collection_name)
            self._collection = None

    def count(self) -> int:
        return int(self.collection.count())

    # -- writing -----------------------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        """source -> content hash of every document in the store."""
        got = self.collection.get(include=["metadatas"])
        return {str(m["source"]): str(m.get("doc_hash", "")) for m in got["metadatas"] or []}

    def upsert(self, doc: Document, chunks: Sequence[Chunk]) -> int:
        """Replace a document's chunks (embedded now); returns how many were written."""
        self.delete_document(doc.source)
        if not chunks:
            return 0
        vectors = self.embedder.embed([c.embed_text for c in chunks])
        self.collection.upsert(
            ids=[c.id for c in chunks],
            embeddings=vectors,
            documents=[c.text for c in chunks],
            metadatas=[
                {
                    "source": c.source,
                    "title": c.title,
                    "heading": c.heading,
                    "index": c.index,
                    "kind": doc.kind,
                    "doc_hash": self._hash(doc),
                }
                for c in chunks
            ],
        )
        return len(chunks)

    def delete_document(self, source: str) -> None:
        self.collection.delete(where={"source": source})

    def _hash(self, doc: Document) -> str:
        return f"{self.embedder.name}:{doc.content_hash}"

    def is_current(self, doc: Document, hashes: dict[str, str]) -> bool:
        return hashes.get(doc.source) == self._hash(doc)

    # -- reading -----------------------------------------------------------------------
    def query(self, text: str, k: int = 3) -> list[Passage]:
        """The sections of the ``k`` most similar chunks, best first, each once and whole.

        A long section is stored as several chunks (each embedded on its own); the passage is the whole
        section, so an answer is not cut from the half that ranked ("your clinician will look at your whole
        heart risk" for "what does a high LDL mean"). The adapter is trained on whole sections too."""
        if not text.strip():
            return []
        vector = self.embedder.embed([text])[0]
        found = self.collection.query(
            query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances"]
        )
        docs = (found.get("documents") or [[]])[0]
        metas = (found.get("metadatas") or [[]])[0]
        dists = (found.get("distances") or [[]])[0]
        chunks = [
            Passage(
                title=str(meta.get("title", "")),
                heading=str(meta.get("heading", "")),
                text=str(doc or ""),
                source=str(meta.get("source", "")),
                score=max(0.0, min(1.0, 1.0 - float(dist))),
            )
            for doc, meta, dist in zip(docs, metas, dists, strict=False)
        ]
        return self._whole_sections(chunks)

    def _whole_sections(self, chunks: list[Passage]) -> list[Passage]:
        """Each chunk's whole section (its chunks in order), keeping the best-ranked place of a section."""
        keys = list(dict.fromkeys((p.source, p.heading) for p in chunks))
        if not keys:
            return chunks
        clauses: list[dict[str, Any]] = [{"$and": [{"source": s}, {"heading": h}]} for s, h in keys]
        got = self.collection.get(where=clauses[0] if len(clauses) == 1 else {"$or": clauses},
                                  include=["documents", "metadatas"])
        parts: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for doc, meta in zip(got.get("documents") or [], got.get("metadatas") or [], strict=False):
            key = (str(meta.get("source", "")), str(meta.get("heading", "")))
            parts.setdefault(key, []).append((int(meta.get("index", 0)), str(doc or "")))
        whole: list[Passage] = []
        for passage in chunks:
            key = (passage.source, passage.heading)
            if any((p.source, p.heading) == key for p in whole):
                continue  # a second chunk of a section already given
            pieces = sorted(parts.get(key, []))
            text = "\n\n".join(t for _, t in pieces) if len(pieces) > 1 else passage.text
            whole.append(replace(passage, text=text))
        return whole
