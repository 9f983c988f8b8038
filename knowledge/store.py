"""The knowledge store: Chroma behind a small interface (upsert, delete by document, query).

Persistent under the data directory by default; a Chroma server when ``knowledge.chroma_url`` is set.
The client and collection are created on first use, never at import time. Similarity is cosine:
``score = 1 - distance`` (the collection is created with ``hnsw:space = cosine``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from knowledge.documents import Chunk, Document
from knowledge.embeddings import CACHE_DIR, Embedder, MiniLMEmbedder, embed_cached
from knowledge.lexical import LexicalIndex, fuse
from knowledge.types import Passage

log = logging.getLogger(__name__)

VECTOR_CANDIDATES = 200  # chunks whose cosine similarity is read per question (every chunk of a clinic's documents)
FUSED_CANDIDATES = 50  # chunks of each ranking that enter the fusion
LEXICAL_RECHECK_S = 5.0  # how stale the BM25 index may be after another process ingests


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
        embedding_cache: Path | None = None,
    ) -> None:
        if len(collection) < 3:
            raise ValueError("knowledge.collection: Chroma needs a name of 3 or more characters")
        self.collection_name = collection
        self.embedder: Embedder = embedder or MiniLMEmbedder()
        self._chroma_dir = chroma_dir
        self._chroma_url = chroma_url
        self._client = client
        self._embedding_cache = embedding_cache  # chunk embeddings kept on disk: a store built again embeds nothing
        self._collection: Any = None
        self._lock = threading.Lock()
        self._lexical: LexicalIndex | None = None
        self._lexical_stamp: list[tuple[str, str]] = []
        self._lexical_checked = 0.0
        self._lexical_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, embedder: Embedder | None = None) -> KnowledgeStore:
        """From the app's :class:`bot.settings.Settings`."""
        k = settings.knowledge
        return cls(k.collection, chroma_dir=settings.chroma_dir, chroma_url=k.chroma_url, embedder=embedder,
                   embedding_cache=CACHE_DIR)

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
            self._lexical_checked = 0.0

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
        texts = [c.embed_text for c in chunks]
        vectors = (embed_cached(self.embedder, texts, self._embedding_cache) if self._embedding_cache is not None
                   else self.embedder.embed(texts))
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
        self._lexical_checked = 0.0  # look at the store again on the next query

    def _hash(self, doc: Document) -> str:
        return f"{self.embedder.name}:{doc.content_hash}"

    def is_current(self, doc: Document, hashes: dict[str, str]) -> bool:
        return hashes.get(doc.source) == self._hash(doc)

    # -- reading -----------------------------------------------------------------------
    def lexical(self) -> LexicalIndex:
        """BM25 over every stored chunk; rebuilt when the stored documents change (checked at most every few
        seconds, so an ingest by another process is seen without a restart)."""
        with self._lexical_lock:
            now = time.monotonic()
            if self._lexical is not None and now - self._lexical_checked < LEXICAL_RECHECK_S:
                return self._lexical
            got = self.collection.get(include=["metadatas"])
            stamp = sorted(zip(got["ids"], (str(m.get("doc_hash", "")) for m in got["metadatas"] or []),
                               strict=True))
            if self._lexical is None or stamp != self._lexical_stamp:
                full = self.collection.get(include=["documents", "metadatas"])
                self._lexical = LexicalIndex(list(full["ids"]), [str(d or "") for d in full["documents"] or []],
                                             [dict(m) for m in full["metadatas"] or []])
                self._lexical_stamp = stamp
            self._lexical_checked = now
            return self._lexical

    def query(self, text: str, k: int = 3) -> list[Passage]:
        """The ``k`` best sections for ``text``, best first, each once and whole.

        Hybrid: the chunks ranked by embedding similarity and by BM25 are fused by reciprocal rank, so a question
        that names a test by its abbreviation ("bun") finds it even when its embedding is vague. A long section is
        stored as several chunks (each embedded on its own); the passage is the whole section, so an answer is not
        cut from the half that ranked. ``score`` is the section's best cosine similarity to ``text`` (what the
        answer threshold reads); a chunk found only by its words scores its own cosine too."""
        if not text.strip():
            return []
        index = self.lexical()
        if not index.ids:
            return []
        vector = self.embedder.embed([text])[0]
        found = self.collection.query(query_embeddings=[vector], n_results=min(len(index.ids), VECTOR_CANDIDATES),
                                      include=["distances"])
        ids = (found.get("ids") or [[]])[0]
        cosine = {i: max(0.0, min(1.0, 1.0 - float(d))) for i, d in zip(ids, (found.get("distances") or [[]])[0],
                                                                         strict=False)}
        where = {i: n for n, i in enumerate(index.ids)}
        bm25 = dict(index.ranked(text, FUSED_CANDIDATES))
        fused = fuse([i for i in ids if i in where][:FUSED_CANDIDATES], list(bm25))  # a chunk ingested a moment ago waits
        sections: list[tuple[str, str]] = []
        for chunk_id, _ in fused:
            meta = index.metadatas[where[chunk_id]]
            key = (str(meta.get("source", "")), str(meta.get("heading", "")))
            if key not in sections:
                sections.append(key)
            if len(sections) == k:
                break
        return [self._section(index, key, cosine, bm25) for key in sections]

    def document_sections(self, source: str) -> list[Passage]:
        """Every section of one document, in the document's order."""
        index = self.lexical()
        firsts: dict[tuple[str, str], int] = {}
        for meta in index.metadatas:
            key = (str(meta.get("source", "")), str(meta.get("heading", "")))
            if key[0] == source:
                firsts[key] = min(firsts.get(key, 1 << 30), int(meta.get("index", 0)))
        return [self._section(index, key, {}, {}) for key in sorted(firsts, key=firsts.__getitem__)]

    @staticmethod
    def _section(index: LexicalIndex, key: tuple[str, str], cosine: dict[str, float],
                 bm25: dict[str, float]) -> Passage:
        parts = sorted((int(m.get("index", 0)), i, t) for i, t, m in zip(index.ids, index.texts, index.metadatas,
                                                                         strict=True)
                       if (str(m.get("source", "")), str(m.get("heading", ""))) == key)
        meta = index.metadatas[index.ids.index(parts[0][1])]
        return Passage(title=str(meta.get("title", "")), heading=key[1], text="\n\n".join(t for _, _, t in parts),
                       source=key[0], score=max(cosine.get(i, 0.0) for _, i, _ in parts),
                       lexical=max(bm25.get(i, 0.0) for _, i, _ in parts))
