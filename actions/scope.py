"""Off-topic or clinic: a second opinion on what a message is about, and the rule that picks the reply.

The engine's classifier (DIET on word and character counts) is sure of itself even when it is wrong: measured
on the project's own messages it put "my mom is out of her metformin" and "what does a cbc check" in
``out_of_scope`` at confidence 1.0, and off-topic questions about a novel, a spa day or a game into clinic intents
at 0.9 and more. A confidence or margin threshold cannot separate those from its right answers, so the
decision takes a second opinion by meaning:

- **the engine**: its confidence in ``out_of_scope``;
- **the nearest examples**: the assistant's own training examples (``bot/assistant/data/nlu.yml``) embedded
  with all-MiniLM-L6-v2 (the knowledge store's model, loaded once per process); the share of the
  ``NEIGHBOURS`` nearest ones, weighted by similarity, that are ``out_of_scope``, and the clinic intent the
  others vote for.

``score = ENGINE_WEIGHT * engine + (1 - ENGINE_WEIGHT) * neighbours``; the scope reply at ``SCOPE_AT`` or more.
The engine alone (at most 0.3) never decides; a confident engine needs some of the neighbours to agree, and the
neighbours alone must be nearly unanimous. When the engine said ``out_of_scope`` and the score says clinic, the
neighbours' clinic intent is used; on an unsure turn (the FallbackClassifier fired) a clinic intent is used
only when the neighbours name one of the engine's two best.

Where it runs: the rules of the intents in ``GUARDED`` start with ``action_check_scope`` (actions/clinic.py),
and the fallback action applies the same rule on unsure turns. A different answer re-routes the turn the way
Rasa's own two-stage fallback does (the user message is replaced by one with the decided intent), so the
matching rule runs. Symptom reports, requests for a person and the small talk of a conversation are never
turned away (not guarded); nor is a message inside a form (its answer belongs to the form).
scripts/bench_scope.py scores this same function.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from knowledge.embeddings import Embedder

log = logging.getLogger("clinicbot.actions.scope")

OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
# 0.3, not 0.4: with off-topic examples about trips and jobs, the engine put "my flight got moved so i need to
# change my appointment" in out_of_scope at 1.0; on the project's own set (tests/data/scope_dev.jsonl) 0.3 kept
# every clinic message and turned away as many off-topic ones as 0.4 did.
ENGINE_WEIGHT = 0.3
SCOPE_AT = 0.5
NEIGHBOURS = 5
# A message whose nearest clinic example is less similar than this is unlike anything patients ask a clinic:
# the neighbours' vote counts as off-topic. (On the project's own messages, no clinic message was this far
# from every example, and 7 in 10 off-topic ones were.)
NOVEL_BELOW = 0.4
# Intents whose rules begin with action_check_scope (data/rules.yml): the ones an off-topic message was seen to
# land in, each starting a flow or a lookup. Not guarded: report_symptoms and request_human (never turned
# away), greetings, thanks, yes/no, "never mind", and answers to a form's question.
GUARDED = frozenset({
    "book_appointment", "reschedule_appointment", "cancel_appointment", "confirm_appointment", "check_appointment",
    "lab_results", "clinic_info", "billing_question", "prescription_refill", "records_request", OUT_OF_SCOPE,
})
# The marker on a message this rule already decided (a re-routed message is not decided twice).
DECIDED = "scope_decided"

TRAINING_DATA = Path(__file__).resolve().parent.parent / "bot" / "assistant" / "data" / "nlu.yml"
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+?)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")

Ranking = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class Opinion:
    """What the nearest training examples say about a message."""

    out_of_scope: float  # similarity-weighted share of the nearest examples that are off-topic
    intent: str  # the clinic intent the others vote for most ("" when all are off-topic)
    clinic_similarity: float  # of the nearest clinic (not off-topic) example


def scope_score(ranking: Ranking, opinion: Opinion) -> float:
    engine = dict(ranking).get(OUT_OF_SCOPE, 0.0)
    neighbours = 1.0 if opinion.clinic_similarity < NOVEL_BELOW else opinion.out_of_scope
    return ENGINE_WEIGHT * engine + (1 - ENGINE_WEIGHT) * neighbours


def decide(ranking: Ranking, fell_back: bool, opinion: Opinion | None) -> str:
    """The intent whose reply the patient gets: ``out_of_scope`` (the scope reply), a clinic intent, or
    ``nlu_fallback`` (still unsure: the fallback's answer from the documents, or its "not sure" reply).

    ``ranking`` is the classifier's intents, best first, without ``nlu_fallback``; ``fell_back`` says whether the
    FallbackClassifier fired; ``opinion`` is None when the second opinion is not available (the engine's answer
    stands)."""
    top = ranking[0][0] if ranking else FALLBACK
    if opinion is None:
        return FALLBACK if fell_back or not ranking else top
    if not fell_back and top not in GUARDED:
        return top
    if scope_score(ranking, opinion) >= SCOPE_AT:
        return OUT_OF_SCOPE
    if fell_back:
        best_two = [name for name, _ in ranking if name != OUT_OF_SCOPE][:2]
        return opinion.intent if opinion.intent in best_two else FALLBACK
    if top == OUT_OF_SCOPE:
        return opinion.intent or FALLBACK
    return top


def training_examples(path: Path = TRAINING_DATA) -> list[tuple[str, str]]:
    """(text without entity markup, intent) for every example in the assistant's NLU data."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for item in doc.get("nlu") or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                examples.append((_ANNOTATION.sub(lambda m: m.group("text"), text), str(item["intent"])))
    return examples


class ExampleIndex:
    """The training examples' embeddings; the nearest ones give an :class:`Opinion` of a message.

    The vectors are cached on disk by a hash of the examples and the model, so a restart does not embed
    them again; they are built in a background thread on first use, and :meth:`opinion` waits for them only
    up to the time it is given (a turn never waits on a cold start: it gets the engine's answer)."""

    def __init__(self, embedder: Embedder, examples: Sequence[tuple[str, str]], cache_dir: Path | None = None,
                 neighbours: int = NEIGHBOURS) -> None:
        self.embedder = embedder
        self.texts = [text for text, _ in examples]
        self.labels = [label for _, label in examples]
        self.cache_dir = cache_dir
        self.neighbours = neighbours
        self._vectors: Any = None
        self._clinic: Any = None  # which examples are clinic ones (not off-topic)
        self._ready = threading.Event()
        self._started = False
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    @property
    def cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(self.embedder.name.encode())
        for text, label in zip(self.texts, self.labels, strict=True):
            digest.update(f"{label}\t{text}\n".encode())
        return self.cache_dir / f"scope-examples-{digest.hexdigest()[:16]}.npy"

    def build(self) -> None:
        """Embed the examples now (or load them from the cache); once, whoever calls first."""
        with self._build_lock:
            if not self._ready.is_set():
                self._build()

    def _build(self) -> None:
        import numpy as np

        try:
            cache = self.cache_path
            if cache is not None and cache.exists():
                vectors = np.load(cache)
                self.embedder.embed(["warm up"])  # load the model now, not on the first patient's turn
            else:
                vectors = np.asarray(self.embedder.embed(self.texts), dtype=np.float32)
                if cache is not None:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    tmp = cache.with_suffix(".tmp.npy")
                    np.save(tmp, vectors)
                    tmp.replace(cache)
            self._vectors = vectors
            self._clinic = np.asarray([label != OUT_OF_SCOPE for label in self.labels])
            log.info("scope.index.ready examples=%d", len(self.texts))
        except Exception:
            log.exception("scope.index.failed")
        finally:
            self._ready.set()

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self.build, name="scope-index", daemon=True).start()

    def opinion(self, text: str, wait_s: float | None = None) -> Opinion | None:
        """The nearest examples' opinion of ``text``; None when the index is not ready within ``wait_s``
        seconds (None: wait as long as it takes) or could not be built."""
        self.start()
        if not self._ready.wait(wait_s):
            log.info("scope.index.not_ready")
            return None
        if self._vectors is None or not text.strip():
            return None
        import numpy as np

        query = np.asarray(self.embedder.embed([text])[0], dtype=np.float32)
        similarity = self._vectors @ query
        nearest = np.argsort(-similarity)[: self.neighbours]
        votes: dict[str, float] = {}
        for i in nearest:
            votes[self.labels[i]] = votes.get(self.labels[i], 0.0) + max(float(similarity[i]), 0.0)
        total = sum(votes.values()) or 1.0
        clinic = {label: v for label, v in votes.items() if label != OUT_OF_SCOPE}
        return Opinion(out_of_scope=round(votes.get(OUT_OF_SCOPE, 0.0) / total, 4),
                       intent=max(clinic, key=lambda label: clinic[label]) if clinic else "",
                       clinic_similarity=round(float(similarity[self._clinic].max()), 4) if self._clinic.any()
                       else 0.0)


_shared: dict[str, ExampleIndex] = {}
_shared_lock = threading.Lock()


def get_index(embedder: Embedder, cache_dir: Path | None) -> ExampleIndex:
    """One index per process, on the given embedder (the knowledge store's, so the model is loaded once)."""
    with _shared_lock:
        if "default" not in _shared:
            _shared["default"] = ExampleIndex(embedder, training_examples(), cache_dir)
        return _shared["default"]


def ranking_of(parse_data: dict[str, Any]) -> list[tuple[str, float]]:
    """The classifier's ranking from a message's parse data, without the FallbackClassifier's entry."""
    ranking = [(str(r.get("name")), float(r.get("confidence") or 0.0))
               for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK]
    if not ranking:
        intent = parse_data.get("intent") or {}
        if intent.get("name") and intent.get("name") != FALLBACK:
            ranking = [(str(intent["name"]), float(intent.get("confidence") or 0.0))]
    return ranking


def reroute(parse_data: dict[str, Any], intent: str, input_channel: str | None = None) -> list[dict[str, Any]]:
    """Events that replace the latest user message by the same message with ``intent`` (marked as decided),
    so the engine runs that intent's rule next: Rasa's two-stage fallback re-routes a message the same way."""
    decided = {**parse_data, "intent": {"name": intent, "confidence": 1.0}, DECIDED: True}
    return [
        {"event": "rewind", "timestamp": None},
        {"event": "action", "name": "action_listen", "policy": None, "confidence": None, "timestamp": None},
        {"event": "user", "timestamp": None, "text": parse_data.get("text"), "parse_data": decided,
         "input_channel": input_channel, "message_id": parse_data.get("message_id"),
         "metadata": parse_data.get("metadata") or {}},
    ]
