"""``clinicbot ask``: answer questions (one per line on stdin), one JSON object per line on stdout.

Each line is ``{"answer": ..., "sources": [titles], "grounded": true|false}``. With ``--explain`` it also has
``reason`` (which path answered: value, generated, fallback:<check>, extractive, policy:<kind>, ...), ``handoff``
and ``trace``: each stage of the pipeline and what it did (policy, value, retrieve, select, draft, check).
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "answer questions (one per line on stdin) from the knowledge store"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--llm",
        choices=["none", "local", "openai", "fake"],
        default=None,
        help="override llm.backend from config.yml; 'none' answers with document sentences, no model",
    )
    parser.add_argument("--explain", action="store_true",
                        help="add 'reason' (which path answered), 'handoff' and 'trace' (each stage's result)")


def run(args: argparse.Namespace) -> int:
    from bot.llm.base import LLM
    from bot.llm.factory import load_llm
    from bot.llm.local import adapter_exists, resolve_adapter
    from bot.settings import get_settings
    from knowledge.answer import Answerer
    from knowledge.store import KnowledgeStore

    settings = get_settings()
    if args.llm:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": args.llm})})
    store = KnowledgeStore.from_settings(settings)
    if store.count() == 0:
        print("clinicbot ask: the knowledge store is empty; run 'clinicbot ingest' first", file=sys.stderr)
        return 1
    chosen = settings

    def llm_factory() -> LLM | None:
        llm = load_llm(chosen)
        if llm is None and chosen.llm.backend == "local" and not adapter_exists(resolve_adapter(chosen)):
            print(
                f"clinicbot ask: no tuned adapter at {resolve_adapter(chosen)} yet (run 'clinicbot tune'); "
                "answering with passages from the documents",
                file=sys.stderr,
            )
        elif llm is None and chosen.llm.backend != "none":
            print(
                f"clinicbot ask: the '{chosen.llm.backend}' model backend is not available; "
                "answering with passages from the documents",
                file=sys.stderr,
            )
        return llm

    answerer = Answerer(store, settings, llm_factory=llm_factory)
    for line in sys.stdin:
        if not line.strip():
            continue
        result = answerer.answer(line)
        out = result.to_json()
        if args.explain:
            out["reason"] = result.reason
            out["handoff"] = result.handoff
            out["trace"] = [{"stage": name, **detail} for name, detail in result.trace]
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0
