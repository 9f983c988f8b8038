"""Incremental ingest into a real (temporary) Chroma store, with a fast hashing embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.documents import DocumentError, chunk_document, load_documents, parse_document
from knowledge.embeddings import HashingEmbedder
from knowledge.ingest import ingest
from knowledge.store import KnowledgeStore

FIXTURE = Path(__file__).resolve().parent / "data" / "kb_fixture"


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    target = tmp_path / "documents"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.fixture
def store(tmp_path: Path) -> KnowledgeStore:
    return KnowledgeStore("test_kb", chroma_dir=tmp_path / "chroma", embedder=HashingEmbedder())


def _sources(store: KnowledgeStore) -> set[str]:
    return set(store.document_hashes())


def test_first_ingest_stores_every_document_and_second_run_skips_all(
    docs_dir: Path, store: KnowledgeStore
) -> None:
    first = ingest(docs_dir, store)
    assert sorted(first.added) == ["labs/lipid-panel.md", "policies/cancellations.md", "policies/parking.md"]
    assert first.chunks_embedded == store.count() > 3

    embedder = store.embedder
    assert isinstance(embedder, HashingEmbedder)
    calls_before = len(embedder.calls)
    second = ingest(docs_dir, store)
    assert second.added == second.updated == second.removed == []
    assert len(second.unchanged) == 3
    assert second.chunks_embedded == 0
    assert len(embedder.calls) == calls_before  # nothing was embedded again
    assert "3 unchanged" in second.summary()


def test_edited_document_is_re_embedded_and_its_old_text_is_gone(
    docs_dir: Path, store: KnowledgeStore
) -> None:
    ingest(docs_dir, store)
    path = docs_dir / "policies" / "parking.md"
    path.write_text(path.read_text().replace("route 12", "route 47 and the green line"))

    report = ingest(docs_dir, store)

    assert report.updated == ["policies/parking.md"]
    assert len(report.unchanged) == 2
    texts = store.collection.get(where={"source": "policies/parking.md"})["documents"]
    assert any("route 47" in t for t in texts)
    assert not any("route 12" in t for t in texts)


def test_a_document_that_loses_sections_keeps_no_stale_chunks(docs_dir: Path, store: KnowledgeStore) -> None:
    ingest(docs_dir, store)
    path = docs_dir / "labs" / "lipid-panel.md"
    text = path.read_text()
    path.write_text(text[: text.index("## Fasting")])

    ingest(docs_dir, store)

    left = store.collection.get(where={"source": "labs/lipid-panel.md"})["documents"]
    assert len(left) == 1 and "Fasting" not in left[0] and "9 to 12" not in left[0]


def test_deleted_document_chunks_are_removed(docs_dir: Path, store: KnowledgeStore) -> None:
    ingest(docs_dir, store)
    (docs_dir / "policies" / "cancellations.md").unlink()

    report = ingest(docs_dir, store)

    assert report.removed == ["policies/cancellations.md"]
    assert _sources(store) == {"labs/lipid-panel.md", "policies/parking.md"}
    found = store.query("late cancellation fee", k=10)
    assert all(p.title != "Cancellation policy" for p in found)


def test_broken_document_stops_ingest_before_anything_changes(docs_dir: Path, store: KnowledgeStore) -> None:
    ingest(docs_dir, store)
    count = store.count()
    (docs_dir / "policies" / "parking.md").unlink()
    (docs_dir / "policies" / "broken.md").write_text("# No front matter here\n")

    with pytest.raises(DocumentError, match=r"broken\.md.*front matter"):
        ingest(docs_dir, store)
    assert store.count() == count


def test_rebuild_embeds_everything_again(docs_dir: Path, store: KnowledgeStore) -> None:
    first = ingest(docs_dir, store)
    again = ingest(docs_dir, store, rebuild=True)
    assert len(again.added) == 3 and again.chunks_embedded == first.chunks_embedded == store.count()


def test_query_returns_passages_with_title_heading_and_cosine_score(
    docs_dir: Path, store: KnowledgeStore
) -> None:
    ingest(docs_dir, store)
    best = store.query("late cancellation fee for a missed visit", k=3)
    assert best[0].title == "Cancellation policy"
    assert best[0].heading == "Late cancellation fee"
    assert "$25" in best[0].text
    assert 0.0 <= best[-1].score <= best[0].score <= 1.0


def test_chunks_follow_headings_and_keep_them() -> None:
    docs = load_documents(FIXTURE)
    lipid = next(d for d in docs if d.title == "Lipid panel")
    chunks = chunk_document(lipid)
    assert [c.heading for c in chunks] == ["", "Fasting before a lipid panel", "Typical cholesterol results"]
    assert "| LDL cholesterol | under 100 mg/dL |" in chunks[2].text  # the table stays whole
    assert chunks[1].embed_text.startswith("Lipid panel - Fasting before a lipid panel\n")
    assert lipid.tests == ["ldl", "hdl", "triglycerides", "cholesterol"] and lipid.kind == "lab"


def test_long_sections_are_split_under_the_size_limit() -> None:
    body = "## Long\n\n" + "\n\n".join(
        f"Paragraph {i} says something useful about visits." * 6 for i in range(20)
    )
    doc = parse_document(f"---\ntitle: Long one\n---\n{body}", "long.md")
    chunks = chunk_document(doc, max_chars=400)
    assert len(chunks) > 5
    assert all(len(c.text) <= 400 and c.heading == "Long" for c in chunks)
    assert "".join(c.text for c in chunks).count("Paragraph 19") == 6


def test_collection_name_must_be_three_characters(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="3 or more"):
        KnowledgeStore("kb", chroma_dir=tmp_path)


def test_a_long_section_stored_as_several_chunks_comes_back_whole_and_once(tmp_path: Path, store: KnowledgeStore) -> None:
    docs = tmp_path / "long-docs"
    (docs / "labs").mkdir(parents=True)
    paragraphs = [f"Point {i}: a high LDL cholesterol can build up in your arteries over many years." for i in range(30)]
    (docs / "labs" / "ldl.md").write_text(
        "---\ntitle: LDL test\n---\n## What a high LDL can mean\n\n" + "\n\n".join(paragraphs)
        + "\n\n## Parking\n\nFree parking is behind the building.\n", encoding="utf-8")
    ingest(docs, store)
    assert store.count() > 3  # the long section is several chunks
    found = store.query("what does a high LDL cholesterol mean", k=3)
    sections = [p.heading for p in found]
    assert sections.count("What a high LDL can mean") == 1
    whole = found[sections.index("What a high LDL can mean")].text
    assert [f"Point {i}:" in whole for i in range(30)] == [True] * 30
    assert whole.index("Point 3:") < whole.index("Point 29:")  # in the document's order


def test_a_store_built_again_on_a_new_data_folder_embeds_nothing_and_finds_the_same(
    docs_dir: Path, tmp_path: Path
) -> None:
    """`clinicbot up` on a fresh data folder (a second gateway machine, a rebuilt store, every end-to-end test) reads
    the chunks' embeddings back from the project's cache instead of embedding every document again."""
    first = KnowledgeStore("test_kb", chroma_dir=tmp_path / "a", embedder=HashingEmbedder(),
                           embedding_cache=tmp_path / "cache")
    ingest(docs_dir, first)
    embedder = HashingEmbedder()
    again = KnowledgeStore("test_kb", chroma_dir=tmp_path / "b", embedder=embedder, embedding_cache=tmp_path / "cache")
    report = ingest(docs_dir, again)
    assert report.chunks_embedded == again.count() == first.count() > 3
    assert embedder.calls == []  # no chunk was embedded
    assert [p.text for p in again.query("where do I park", 3)] == [p.text for p in first.query("where do I park", 3)]
    assert len(embedder.calls) == 1  # the question
    path = docs_dir / "policies" / "parking.md"  # an edited document is embedded, and only it
    path.write_text(path.read_text().replace("route 12", "route 47 and the green line"))
    ingest(docs_dir, again)
    assert len(embedder.calls) == 2
