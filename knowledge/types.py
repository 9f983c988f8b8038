"""Shapes shared by ingest, retrieval and answering."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a knowledge document."""

    title: str  # the document's title (front matter), named to the patient as the source
    heading: str  # the section heading the chunk sits under ("" for the intro)
    text: str
    source: str  # document path relative to the documents folder
    score: float  # cosine similarity in [0, 1]
    lexical: float = 0.0  # the best BM25 score of its chunks (0 when no word of the question is in it)
