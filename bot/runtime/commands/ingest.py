"""``clinicbot ingest``: load the knowledge documents into the knowledge store (incremental)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "load the knowledge documents into the knowledge store"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--documents", type=Path, default=None, help="documents folder (default: knowledge.documents_dir)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the collection and embed everything again"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from bot.settings import get_settings
    from knowledge.documents import DocumentError
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    settings = get_settings()
    documents = args.documents or settings.knowledge.documents_dir
    store = KnowledgeStore.from_settings(settings)
    try:
        report = ingest(documents, store, progress=not args.quiet, rebuild=args.rebuild)
    except DocumentError as exc:
        print(f"clinicbot ingest: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0
