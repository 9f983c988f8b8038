"""Knowledge documents: Markdown with YAML front matter, cut into heading-aware chunks.

A document looks like::

    ---
    title: Lipid panel
    references: [...]
    last_reviewed: 2026-11-23
    kind: lab            # or policy
    tests: [ldl, hdl]    # lab codes the document explains (optional)
    names:               # each test's names: how a sentence names it first, then abbreviations and lay words
      ldl: [LDL, LDL cholesterol, bad cholesterol]
    also_called: [cholesterol test, lipids]   # what patients call the page's subject (optional)
    ---
    # Lipid panel
    Intro...
    ## What the lipid panel measures
    ...

Each chunk keeps the section heading it sits under, so a passage can be named to the patient
("Lipid panel - Fasting before the test") and embedded with its context.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Bump when chunking changes: every document is then re-embedded on the next ingest.
CHUNKER_VERSION = "1"
MAX_CHUNK_CHARS = 900
_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


class DocumentError(ValueError):
    """A document that cannot be ingested, worded for the person who edits it."""


@dataclass(frozen=True)
class Document:
    source: str  # path relative to the documents folder, with forward slashes
    title: str
    body: str
    content_hash: str
    kind: str = ""
    last_reviewed: str = ""
    references: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=dict)  # test code -> its names (knowledge.vocabulary)
    also_called: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    title: str
    heading: str  # "" for the text before the first section heading
    text: str
    index: int

    @property
    def embed_text(self) -> str:
        """What is embedded: the title and heading give a short chunk its topic."""
        head = f"{self.title} - {self.heading}" if self.heading else self.title
        return f"{head}\n{self.text}"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def parse_document(text: str, source: str) -> Document:
    """Split front matter from the Markdown body; ``title`` is required."""
    match = _FRONT_MATTER_RE.match(text.lstrip("\ufeff"))
    if not match:
        raise DocumentError(f"{source}: missing YAML front matter (a '---' block with at least a title)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"{source}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise DocumentError(f"{source}: front matter must be a mapping of keys")
    title = str(meta.get("title") or "").strip()
    if not title:
        raise DocumentError(f"{source}: front matter needs a 'title'")
    digest = hashlib.sha256(f"{CHUNKER_VERSION}\n{text}".encode()).hexdigest()
    return Document(
        source=source,
        title=title,
        body=text[match.end() :],
        content_hash=digest,
        kind=str(meta.get("kind") or ""),
        last_reviewed=str(meta.get("last_reviewed") or ""),
        references=_as_list(meta.get("references")),
        tests=_as_list(meta.get("tests")),
        names=_names(meta.get("names"), source),
        also_called=_as_list(meta.get("also_called")),
    )


def _names(value: Any, source: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, list) and v for v in value.values()):
        raise DocumentError(f"{source}: 'names' must map each test code to a list of its names")
    return {str(code): [str(n) for n in names] for code, names in value.items()}


def load_documents(directory: Path) -> list[Document]:
    """Every ``*.md`` under ``directory`` (recursively, README files excluded), sorted by path."""
    if not directory.is_dir():
        raise DocumentError(f"documents folder not found: {directory}")
    docs = []
    for path in sorted(directory.rglob("*.md")):
        if path.name.lower() == "readme.md" or any(part.startswith(".") for part in path.parts):
            continue
        source = path.relative_to(directory).as_posix()
        docs.append(parse_document(path.read_text(encoding="utf-8"), source))
    return docs


def sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs; the top-level ``#`` title heading is dropped, deeper ones kept."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_code = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING_RE.match(line)
        if match:
            level, heading = len(match.group(1)), match.group(2).strip()
            sections.append(("" if level == 1 else heading, []))
        else:
            sections[-1][1].append(line)
    return [(h, "\n".join(lines).strip()) for h, lines in sections if "\n".join(lines).strip()]


def _blocks(text: str) -> list[str]:
    """Paragraphs, list items and table rows kept whole; a table stays one block."""
    return [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]


def _split_long(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    lines = block.splitlines()
    pieces = lines if len(lines) > 1 else _SENTENCE_END_RE.split(block)
    out: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > limit:  # a single run-on sentence: cut at a space
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            out.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        joiner = "\n" if len(lines) > 1 else " "
        if current and len(current) + len(joiner) + len(piece) > limit:
            out.append(current)
            current = piece
        else:
            current = f"{current}{joiner}{piece}" if current else piece
    if current:
        out.append(current)
    return out


def chunk_document(doc: Document, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Chunks never cross a section heading; long sections are packed paragraph by paragraph."""
    chunks: list[Chunk] = []
    for heading, text in sections(doc.body):
        current = ""
        pieces = [p for block in _blocks(text) for p in _split_long(block, max_chars)]
        for piece in pieces:
            if current and len(current) + 2 + len(piece) > max_chars:
                chunks.append(_chunk(doc, heading, current, len(chunks)))
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
        if current:
            chunks.append(_chunk(doc, heading, current, len(chunks)))
    return chunks


def _chunk(doc: Document, heading: str, text: str, index: int) -> Chunk:
    return Chunk(
        id=f"{doc.source}#{index}",
        source=doc.source,
        title=doc.title,
        heading=heading,
        text=text,
        index=index,
    )
