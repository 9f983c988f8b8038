"""What the answers read from the documents themselves, once: their vocabulary, the lab ranges and which lab document
explains each test."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from knowledge.documents import Document, DocumentError, load_documents
from knowledge.lexical import tokens
from knowledge.ranges import TestRange, ranges_from
from knowledge.spoken import Hearing
from knowledge.vocabulary import Vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Library:
    """What the answers read from the documents themselves: their vocabulary and the lab ranges."""

    vocabulary: Vocabulary
    ranges: dict[str, TestRange]
    lab_documents: dict[str, Document]  # test code -> the lab document that explains it (front matter ``tests:``)
    documents: tuple[Document, ...] = ()  # every document, as read once (the intake's self-care passages)

    @classmethod
    def load(cls, documents_dir: Path) -> Library:
        try:
            documents = load_documents(documents_dir)
        except DocumentError:
            log.warning("knowledge.answer.no_documents")
            documents = []
        by_code: dict[str, Document] = {}
        for doc in documents:
            if doc.kind == "lab":
                for code in doc.tests:
                    by_code.setdefault(code, doc)
        return cls(Vocabulary.from_documents(documents), ranges_from(documents), by_code, tuple(documents))

    @cached_property
    def word_pages(self) -> dict[str, int]:
        """How many documents hold each word (knowledge/lexical.py: tokens, stemmed): "gilbert" one, "drink" six."""
        counts: dict[str, int] = {}
        for doc in self.documents:
            for word in set(tokens(f"{doc.title} {doc.body}")):
                counts[word] = counts.get(word, 0) + 1
        return counts

    @cached_property
    def hearing(self) -> Hearing:
        """How a dictated or sound-spelt question is read in the documents' words (knowledge/spoken.py)."""
        return Hearing.from_documents(self.documents)
