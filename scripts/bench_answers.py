"""Answer benchmark: does the answer hold the fact asked for, are policy questions refused, how many drafts are sent
as the model wrote them, and how long an answer takes, quoting only versus with the local model.

    .venv/bin/python scripts/bench_answers.py                   # both sets, quoting and the local model
    .venv/bin/python scripts/bench_answers.py --llm none        # quoting only (fast)
    .venv/bin/python scripts/bench_answers.py --set project --misses   # the project's misses, one per line
    .venv/bin/python scripts/bench_answers.py --json
    .venv/bin/python scripts/bench_answers.py --llm none --set path/to/questions.jsonl   # any set of that format

Sets: ``project`` is ``tests/data/retrieval_questions.jsonl`` (the project's 79 questions, each with the facts a
correct answer holds); ``dev`` is ``tests/data/answer_questions.jsonl`` (102 questions written the way patients ask,
with their own numbers, abbreviations and questions to refuse: the development set the selection and the policy
check were tuned on); ``dev2`` is ``tests/data/answers_dev2.jsonl`` (70 questions of the same kind by another author,
held out while the question kinds were built, then studied); ``dev3`` is ``tests/data/answers_dev3.jsonl`` (100
questions by a third author, 80 to answer and 20 to refuse, scored before any change and then studied); ``--set PATH`` scores any file of that format; ``blind`` is ``tests/data/blind/answers_blind.jsonl``, written independently of the code and
only ever scored here: its items are never printed (``--misses`` lists project misses only). ``unknown`` is
``tests/data/answers_unknown.jsonl`` (120 questions no document answers, to be handed off: the learned answer
check, knowledge/answerable/, is trained on them as such) and ``unknown_blind`` ``tests/data/blind/answers_unknown_blind.jsonl`` (100 more by
another author, never trained on or read); for these "refusals" is the share handed off. Blind questions that were read
because they were missed and then taught a change are moved to ``tests/data/answers_moved.jsonl`` (score it with
``--set``); their places in the blind set go to unread questions from ``tests/data/blind/answers_blind_reserve.jsonl``.

An answer item holds its key fact when the answer contains one alternative of every fact group (case-insensitive);
a refuse item is right when the answer is not a grounded one (a policy refusal or a handoff). "Sent as generated" is
the share of grounded answers whose draft passed the checks as the model wrote it. Latency is one answer at a time,
after a warm-up, on whatever cores the machine gives (2 on the development machine). ``local`` loads the model as
configured (``llm.weights``); ``local-merged``, ``local-bf16`` and ``local-nf4`` load the same model and adapter in
one weight layout each (float32 with the adapter merged, bfloat16, bitsandbytes' packed 4-bit layers),
measured in the same run (``--llm local-layouts`` runs the three); ``local-plain`` is ``local`` without prompt lookup
decoding (``llm.prompt_lookup: 0``, one token per forward pass; ``--llm lookup`` runs it beside ``local``);
``none-unchecked`` is ``none`` without the learned answer check (``knowledge.min_answer_score: null``; ``--llm check``
runs it beside ``none``); ``none-features`` is ``none`` without the learned sentence scorer (knowledge/reranker.py: the selection's hand-weighted
features alone; ``--llm learned`` runs it beside ``none``); ``local-free`` is ``local`` without copy-constrained decoding (``llm.copy_decoding: false``: the model writes any
token, and the checks alone hold the draft; ``--llm copy`` runs it beside ``local``). The local model uses the
adapter in ``llm.adapter`` (``CLINICBOT_LLM__ADAPTER``); without one that configuration is skipped, not faked.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH, so a scratch checkout's code can be measured with these sets

DOCUMENTS = ROOT / "knowledge" / "documents"
SETS = {
    "project": ROOT / "tests" / "data" / "retrieval_questions.jsonl",
    "dev": ROOT / "tests" / "data" / "answer_questions.jsonl",
    "dev2": ROOT / "tests" / "data" / "answers_dev2.jsonl",
    "dev3": ROOT / "tests" / "data" / "answers_dev3.jsonl",
    "blind": ROOT / "tests" / "data" / "blind" / "answers_blind.jsonl",
    "unknown": ROOT / "tests" / "data" / "answers_unknown.jsonl",  # no document answers these: all to hand off
    "unknown_blind": ROOT / "tests" / "data" / "blind" / "answers_unknown_blind.jsonl",
}
# local: as configured (llm.weights); local-<weights>: that weight layout of the same model and adapter
CONFIGS = ("none", "none-features", "none-unchecked", "local", "local-plain", "local-free", "local-merged", "local-bf16", "local-nf4")
DEFAULT_CONFIGS = ("none", "local", "local-nf4")
LAYOUTS = ("local-merged", "local-bf16", "local-nf4")
LABELS = {"none": "quoting only", "none-features": "quoting only, features alone (no learned scorer)",
          "none-unchecked": "quoting only, no answer check", "local": "local model (as configured)",
          "local-plain": "local model, no prompt lookup", "local-free": "local model, free decoding",
          "local-merged": "local model, merged float32",
          "local-bf16": "local model, merged bfloat16", "local-nf4": "local model, nf4 layers"}


def load_set(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def holds_facts(answer: str, facts: list[list[str]]) -> bool:
    """One alternative of every fact group appears in the answer (case-insensitive), each compared as SMS sends it:
    an answer says the documents' "mL/min/1.73 m²" as "m2" and their typographic quotes and dashes plainly
    (knowledge/sentences.py: sms_safe), so a fact copied from a document is read the same way."""
    from knowledge.sentences import sms_safe

    text = sms_safe(answer).lower()
    return bool(facts) and all(any(sms_safe(alt).lower() in text for alt in group) for group in facts)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)] if ordered else 0.0


def score(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    answers = [(i, r) for i, r in zip(items, results, strict=True) if i["kind"] == "answer"]
    refusals = [(i, r) for i, r in zip(items, results, strict=True) if i["kind"] != "answer"]
    grounded = [r for r in results if r["grounded"]]
    latencies = [r["ms"] for r in results]
    return {
        "questions": len(items),
        "key_fact": round(sum(holds_facts(r["answer"], i["facts"]) for i, r in answers) / max(1, len(answers)), 3),
        "refusals": round(sum(not r["grounded"] for _, r in refusals) / max(1, len(refusals)), 3),
        "grounded": len(grounded),
        "sent_as_generated": round(sum(r["reason"] == "generated" for r in grounded) / max(1, len(grounded)), 3),
        # why the other grounded answers were quoted: the draft missed the budget, or which check it failed
        "quoted_because": dict(Counter(r["reason"].removeprefix("fallback:") for r in grounded
                                       if r["reason"].startswith("fallback:")).most_common()),
        "median_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": round(percentile(latencies, 0.95), 1),
    }


def _answerer(store: Any, backend: str) -> Any:
    from bot.llm.factory import load_llm
    from bot.settings import get_settings
    from knowledge.answer import Answerer

    settings = get_settings()
    kind, _, layout = backend.partition("-")
    variant = layout in ("plain", "free", "features", "unchecked")  # the configured layout, prompt lookup, copy
    # decoding, the learned sentence scorer or the learned answer check off
    update: dict[str, Any] = {"backend": kind, "weights": settings.llm.weights if variant or not layout else layout}
    if layout == "plain":
        update["prompt_lookup"] = 0
    if layout == "free":
        update["copy_decoding"] = False
    knowledge = settings.knowledge.model_copy(update={"min_answer_score": None}) if layout == "unchecked" else (
        settings.knowledge)
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update=update), "knowledge": knowledge})
    answerer = Answerer(store, settings, llm_factory=lambda: load_llm(settings))
    if layout == "features" and answerer.selector is not None:
        answerer.selector.reranker = None
    return answerer


def local_model_ready() -> str:
    """Why the local model cannot be measured, or "" when it can."""
    from bot.llm.local import adapter_exists, resolve_adapter
    from bot.settings import get_settings

    adapter = resolve_adapter(get_settings())
    return "" if adapter_exists(adapter) else f"no adapter at {adapter} (set CLINICBOT_LLM__ADAPTER)"


def answer_all(answerer: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        started = time.perf_counter()
        result = answerer.answer(item["question"])
        out.append({"answer": result.answer, "grounded": result.grounded, "reason": result.reason,
                    "ms": (time.perf_counter() - started) * 1000})
    return out


def run(sets: tuple[str, ...] = ("project", "dev", "blind", "unknown_blind"), configs: tuple[str, ...] = DEFAULT_CONFIGS,
        misses: bool = False) -> dict[str, Any]:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        store = KnowledgeStore("bench_answers", chroma_dir=Path(tmp) / "chroma", embedder=MiniLMEmbedder())
        ingest(DOCUMENTS, store)
        for config in configs:
            if config.startswith("local") and (why := local_model_ready()):
                print(f"[bench_answers] local model skipped: {why}", file=sys.stderr)
                continue
            answerer = _answerer(store, config)
            answerer.warm_up()
            for name in sets:
                path = SETS.get(name, Path(name))
                if not path.exists():
                    print(f"[bench_answers] {name} set missing: {path}", file=sys.stderr)
                    continue
                items = load_set(path)
                results = answer_all(answerer, items)
                for key, value in score(items, results).items():
                    figures[f"{name}_{config}_{key}"] = value
                if misses and "blind" not in path.resolve().parts:  # never a blind set's items
                    for item, result in zip(items, results, strict=True):
                        held = holds_facts(result["answer"], item["facts"]) if item["kind"] == "answer" else (
                            not result["grounded"])
                        if not held:
                            print(json.dumps({"config": config, "question": item["question"], "kind": item["kind"],
                                              "reason": result["reason"], "answer": result["answer"]}))
    from bot.settings import get_settings

    configured = get_settings().llm.weights  # the layout "local" measured
    for name in sets:
        quoting, local = figures.get(f"{name}_none_p95_ms"), figures.get(f"{name}_local_p95_ms")
        if quoting and local:
            figures[f"{name}_p95_local_over_quoting"] = round(local / quoting, 1)
        merged = figures.get(f"{name}_local-merged_p95_ms") or (local if configured == "merged" else None)
        plain = figures.get(f"{name}_local-plain_p95_ms")
        if plain and local:
            figures[f"{name}_p95_local_over_plain"] = round(local / plain, 2)
        unchecked = figures.get(f"{name}_none-unchecked_p95_ms")
        if unchecked and quoting:
            figures[f"{name}_p95_checked_over_unchecked"] = round(quoting / unchecked, 2)
        features = figures.get(f"{name}_none-features_p95_ms")
        if features and quoting:
            figures[f"{name}_p95_learned_over_features"] = round(quoting / features, 2)
        free = figures.get(f"{name}_local-free_p95_ms")
        if free and local:
            figures[f"{name}_p95_local_over_free"] = round(local / free, 2)
        for layout in ("bf16", "nf4"):
            other = figures.get(f"{name}_local-{layout}_p95_ms")
            if other and merged:
                figures[f"{name}_p95_{layout}_over_merged"] = round(other / merged, 2)
    return figures


def table(figures: dict[str, Any]) -> str:
    rows = ["| set | answers by | questions | key fact | refusals | sent as generated | median ms | p95 ms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    names = dict.fromkeys([*SETS, *(k.split("_none")[0].split("_local")[0] for k in figures if k.endswith("_questions"))])
    for name in names:
        for config in CONFIGS:
            key = f"{name}_{config}_"
            if key + "questions" not in figures:
                continue
            label = LABELS[config]
            rows.append(f"| {name} | {label} | {figures[key + 'questions']} | {figures[key + 'key_fact']:.3f} | "
                        f"{figures[key + 'refusals']:.3f} | {figures[key + 'sent_as_generated']:.3f} | "
                        f"{figures[key + 'median_ms']:.0f} | {figures[key + 'p95_ms']:.0f} |")
    ratios = [f"{k.split('_p95_')[0]}: p95 {k.split('_p95_')[1].split('_')[0]} / merged {v}x"
              for k, v in figures.items() if k.endswith("_over_merged")]
    ratios += [f"{k.split('_p95_')[0]}: p95 with prompt lookup / without {v}x"
               for k, v in figures.items() if k.endswith("_local_over_plain")]
    ratios += [f"{k.split('_p95_')[0]}: p95 with copy decoding / free {v}x"
               for k, v in figures.items() if k.endswith("_local_over_free")]
    ratios += [f"{k.split('_p95_')[0]}: p95 quoting with the learned sentence scorer / features alone {v}x"
               for k, v in figures.items() if k.endswith("_learned_over_features")]
    ratios += [f"{k.split('_p95_')[0]}: p95 quoting with the answer check / without {v}x"
               for k, v in figures.items() if k.endswith("_checked_over_unchecked")]
    ratios += [f"{k.removesuffix('_quoted_because')}: quoted because " + ", ".join(f"{r} {n}" for r, n in v.items())
               for k, v in figures.items() if k.endswith("_quoted_because") and v]
    return "\n".join(rows + (["", *ratios] if ratios else []))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--set", default="all", help=f"one of {', '.join(SETS)}, all, or the path of a set")
    parser.add_argument("--llm", choices=[*CONFIGS, "all", "local-layouts", "lookup", "copy", "learned", "check"],
                        default="all",
                        help="all: quoting, the configured local model and nf4; local-layouts: merged, bf16, nf4; "
                             "lookup: the configured model without and with prompt lookup; copy: without and with "
                             "copy-constrained decoding; learned: quoting without and with the learned sentence scorer; "
                             "check: quoting without and with the learned answer check")
    parser.add_argument("--misses", action="store_true", help="print the project and dev sets' misses (never the blind set's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    sets = tuple(SETS) if args.set == "all" else (args.set,)
    configs = {"all": DEFAULT_CONFIGS, "local-layouts": LAYOUTS,
               "lookup": ("local-plain", "local"), "copy": ("local-free", "local"),
               "learned": ("none-features", "none"), "check": ("none-unchecked", "none")}.get(args.llm, (args.llm,))
    figures = run(sets, configs, misses=args.misses)
    print(json.dumps(figures, indent=2) if args.json else table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
