"""Off-topic or clinic: does the assistant give off-topic messages its scope reply, and keep clinic messages?

    .venv/bin/python scripts/bench_scope.py                  # the blind set, the current model
    .venv/bin/python scripts/bench_scope.py --model before=/tmp/old.tar.gz --model after=current
    .venv/bin/python scripts/bench_scope.py --cases tests/data/scope_dev.jsonl --by-intent
    .venv/bin/python scripts/bench_scope.py --novel      # also without the cases a training example nearly copies

Each case is a JSON line ``{"text", "intent"}``; ``out_of_scope`` marks an off-topic message, any other intent
a clinic one. Every message is parsed by the trained model (``clinicbot parse``'s engine helper, one model
load per model) and then routed twice, side by side:

- ``stock``: the engine alone. The scope reply only when the classifier's top intent is ``out_of_scope`` and
  the FallbackClassifier did not fire (what the assistant did before issue 18).
- ``clinicbot``: the engine, then the scope rule the actions apply (:func:`actions.scope.decide`: the engine's
  ranking and the nearest training examples by meaning): the reply a patient actually gets. It uses the
  assistant's current training examples, so pair it with the model trained from them.

Figures: off-topic recall (off-topic messages given the scope reply), in-scope kept (clinic messages not
given it), in-scope intent accuracy (routed to their own intent; the generic "not sure" reply counts as a
miss), and how often each side got the generic reply. Only counts are printed, never a message: the blind
set is scored, not read (``--by-intent`` is refused for it).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BLIND = ROOT / "tests" / "data" / "blind" / "scope_blind.jsonl"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"

Ranking = list[tuple[str, float]]
NEAR = 0.8  # word-set overlap from which a case counts as a near copy of a training example


@dataclass(frozen=True)
class Parsed:
    label: str
    ranking: Ranking  # the classifier's intents, best first (no nlu_fallback)
    fell_back: bool  # the model's FallbackClassifier fired
    opinion: Any = None  # actions.scope.Opinion: the nearest training examples' (clinicbot routing only)
    taught: bool = False  # the same words as a training example (or nearly): see near_copies


Router = Callable[[Parsed], str]


def route_stock(p: Parsed) -> str:
    return FALLBACK if p.fell_back or not p.ranking else p.ranking[0][0]


def route_clinicbot(p: Parsed) -> str:
    from actions.scope import decide

    return decide(p.ranking, p.fell_back, p.opinion)


ROUTERS: dict[str, Router] = {"stock": route_stock, "clinicbot": route_clinicbot}


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9']+", text.lower()))


def near_copies(texts: Sequence[str], overlap: float = NEAR) -> list[bool]:
    """Whether each text has (nearly) the same words as one of the assistant's training examples: word-set
    overlap (Jaccard) at least ``overlap``. Short common messages ("tell me a joke") are written the same way by
    different authors, so a set written independently still shares some with the training data; the figures
    "without near copies" leave those out. Only the count is printed."""
    from actions.scope import training_examples

    taught = [_words(text) for text, _ in training_examples()]

    def near(words: frozenset[str]) -> bool:
        return any(len(words & t) >= overlap * len(words | t) for t in taught if words and t)

    return [near(_words(text)) for text in texts]


def load_cases(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(str(r["text"]).replace("\n", " "), str(r["intent"])) for r in rows]


def current_model() -> Path:
    """The model for the assistant's current files, in the shared test-models folder (trained if missing)."""
    import tempfile

    from bot.engine.models import ensure_model
    from bot.settings import load_settings

    cfg = load_settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-scope-")))
    cfg.rasa.models_dir = ROOT / "var" / "test-models"
    return ensure_model(cfg)


def parse(model: Path, texts: Sequence[str]) -> tuple[list[dict[str, Any]], float]:
    """The engine helper's parse of each text; and the seconds it took, model load included."""
    from bot.engine.models import engine_env
    from bot.settings import get_settings

    settings = get_settings()
    helper = ROOT / "bot" / "engine" / "tools" / "parse_batch.py"
    env = engine_env(settings)
    env["LOG_LEVEL"] = "ERROR"
    started = time.monotonic()
    proc = subprocess.run([str(settings.rasa_python), str(helper), str(model), "0.0"],
                          input="\n".join(texts) + "\n", capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError("the engine helper failed: " + proc.stderr[-1500:])
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    if len(rows) != len(texts):
        raise RuntimeError(f"expected {len(texts)} parses, got {len(rows)}")
    return rows, time.monotonic() - started


def opinions(texts: Sequence[str]) -> list[Any]:
    """The second opinion of each text, from the assistant's current training examples (as the action server
    has them); the examples' vectors are cached in the temporary folder."""
    import tempfile

    from actions.scope import ExampleIndex, training_examples
    from knowledge.embeddings import MiniLMEmbedder

    index = ExampleIndex(MiniLMEmbedder(), training_examples(), Path(tempfile.gettempdir()) / "clinicbot-scope")
    return [index.opinion(text) for text in texts]


def parsed_cases(model: Path, cases: Sequence[tuple[str, str]], with_opinion: bool) -> tuple[list[Parsed], float]:
    texts = [text for text, _ in cases]
    rows, seconds = parse(model, texts)
    second = opinions(texts) if with_opinion else [None] * len(texts)
    taught = near_copies(texts)
    out = []
    for row, (_, label), opinion, copy in zip(rows, cases, second, taught, strict=True):
        ranking = [(str(name), float(conf)) for name, conf in row.get("ranking") or []]
        if not ranking and row.get("intent"):
            ranking = [(str(row["intent"]), float(row["confidence"]))]
        out.append(Parsed(label, ranking, bool(row["fallback"]), opinion, copy))
    return out, seconds


def score(parsed: Sequence[Parsed], router: Router) -> dict[str, Any]:
    off = [p for p in parsed if p.label == OUT_OF_SCOPE]
    inside = [p for p in parsed if p.label != OUT_OF_SCOPE]
    routed_off = [router(p) for p in off]
    routed_in = [router(p) for p in inside]
    misses = Counter(p.label for p, r in zip(inside, routed_in, strict=True) if r != p.label)
    scoped = Counter(p.label for p, r in zip(inside, routed_in, strict=True) if r == OUT_OF_SCOPE)
    off_to = Counter(r for r in routed_off if r != OUT_OF_SCOPE)

    def share(n: int, d: int) -> float:
        return round(n / d, 3) if d else 0.0

    return {
        "off_topic": len(off),
        "in_scope": len(inside),
        "off_topic_recall": share(sum(r == OUT_OF_SCOPE for r in routed_off), len(off)),
        "off_topic_generic_reply": share(sum(r == FALLBACK for r in routed_off), len(off)),
        "in_scope_kept": share(sum(r != OUT_OF_SCOPE for r in routed_in), len(inside)),
        "in_scope_intent_accuracy": share(sum(r == p.label for p, r in zip(inside, routed_in, strict=True)),
                                          len(inside)),
        "in_scope_generic_reply": share(sum(r == FALLBACK for r in routed_in), len(inside)),
        "misses_by_intent": dict(misses.most_common()),
        "scope_reply_by_intent": dict(scoped.most_common()),
        "off_topic_sent_to": dict(off_to.most_common()),
    }


FIGURES = ("off_topic_recall", "in_scope_kept", "in_scope_intent_accuracy", "off_topic_generic_reply",
           "in_scope_generic_reply")


def resolve_models(specs: Sequence[str]) -> list[tuple[str, Path]]:
    models = []
    for spec in specs or ["current"]:
        name, _, path = spec.partition("=")
        model = current_model() if (path or name) == "current" else Path(path or name)
        if not model.is_file():  # the engine would quietly load the newest model beside it instead
            raise SystemExit(f"no model at {model}")
        models.append((name, model))
    return models


def evaluate(cases_path: Path, model_specs: Sequence[str], routers: Sequence[str],
             novel: bool = False) -> dict[str, dict[str, Any]]:
    """Figures per model and routing; with ``novel``, also over the cases that are not near copies of a
    training example (``NAME/ROUTING novel``)."""
    cases = load_cases(cases_path)
    results: dict[str, dict[str, Any]] = {}
    for name, model in resolve_models(model_specs):
        parsed, seconds = parsed_cases(model, cases, "clinicbot" in routers)
        for router in routers:
            for suffix, subset in [("", parsed)] + ([(" novel", [p for p in parsed if not p.taught])] if novel
                                                    else []):
                figures = score(subset, ROUTERS[router])
                figures["parse_seconds"] = round(seconds, 1)
                results[f"{name}/{router}{suffix}"] = figures
    return results


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    lines = ["| figure | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    lines.append("| messages (off-topic / in-scope) | " + " | ".join(
        f"{r['off_topic']} / {r['in_scope']}" for r in results.values()) + " |")
    for key in FIGURES:
        lines.append(f"| {key.replace('_', ' ')} | " + " | ".join(f"{r[key]:.3f}" for r in results.values()) + " |")
    lines.append("| parse seconds (model load included) | " + " | ".join(
        f"{r['parse_seconds']:.1f}" for r in results.values()) + " |")
    return "\n".join(lines)


def run() -> dict[str, Any]:
    """For scripts/bench.py: the blind set, the current model, both routings."""
    results = evaluate(BLIND, ["current"], ["stock", "clinicbot"])
    flat: dict[str, Any] = {}
    for config, figures in results.items():
        routing = config.split("/")[1]
        for key in FIGURES:
            flat[f"{key} ({routing})"] = figures[key]
    return flat


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=BLIND, help="JSON lines {text, intent} (default: the blind set)")
    parser.add_argument("--model", action="append", default=[],
                        help="NAME=PATH of a trained model, or 'current' (default); repeat to compare")
    parser.add_argument("--routing", action="append", choices=sorted(ROUTERS), default=[],
                        help="stock and/or clinicbot (default: both)")
    parser.add_argument("--by-intent", action="store_true", help="also the misses by intent (not for blind sets)")
    parser.add_argument("--novel", action="store_true",
                        help="also the figures without the cases that are near copies of a training example")
    parser.add_argument("--json", action="store_true", help="the raw figures as JSON")
    args = parser.parse_args(argv)
    blind = "blind" in args.cases.resolve().parts  # tests/data/blind/...
    if args.by_intent and blind:
        parser.error("--by-intent is for the project's own sets; the blind set is only scored in aggregate")
    results = evaluate(args.cases, args.model, args.routing or ["stock", "clinicbot"], args.novel)
    if args.json:
        if blind:
            for figures in results.values():
                for key in ("misses_by_intent", "scope_reply_by_intent", "off_topic_sent_to"):
                    figures.pop(key)
        print(json.dumps(results, indent=2))
        return 0
    cases = args.cases.resolve()
    print(cases.relative_to(ROOT) if cases.is_relative_to(ROOT) else cases)
    print(table(results))
    if args.by_intent:
        for config, figures in results.items():
            print(f"\n{config}: misses by intent {figures['misses_by_intent']}; scope reply given to "
                  f"{figures['scope_reply_by_intent']}; off-topic sent to {figures['off_topic_sent_to']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
