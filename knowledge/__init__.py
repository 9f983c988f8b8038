"""Knowledge store: clinic documents, ingest into Chroma, retrieval."""
