"""The learned triage model: the 4-bit base with the triage LoRA adapter, scored in one forward pass.

Label scoring, no generation: the prompt ends in ``Triage:``; at that last position the LM head's logits,
restricted to the first token of each level word (" emergency", " urgent", " routine", " self"), give the four
level probabilities, and the same position's logits restricted to the category words (" chest", " stroke",
...; :mod:`bot.triage.categories`) give the red-flag category. Only those rows of the head are multiplied
(the head is the tied embedding), so the cost is the transformer body on a short prompt.

A message longer than ``max_message_tokens`` is scored in overlapping windows, all in the same forward pass
(one batch); the window with the highest P(emergency) speaks for the message, so a danger in the middle of a
long message is not cut off. Heavy libraries are imported inside functions.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.triage.categories import CATEGORIES, CATEGORY_IDS, LEVEL_WORDS, LEVELS

log = logging.getLogger(__name__)

PROMPT_VERSION = 2  # 2: messages in capitals are read in lower case (model_text)
PROMPT_HEAD = "Message to a clinic:\n"
PROMPT_TAIL = "\nTriage:"
MAX_MESSAGE_TOKENS = 192
WINDOW_OVERLAP = 48
PACKAGED_ADAPTER = Path(__file__).resolve().parent / "adapter"
META_FILE = "triage.json"
Weights = Literal["merged", "nf4"]


def spec() -> str:
    """Everything about the prompt and labels an adapter depends on (part of the training fingerprint)."""
    words = [LEVEL_WORDS[level] for level in LEVELS] + [c.word for c in CATEGORIES]
    return json.dumps({"version": PROMPT_VERSION, "head": PROMPT_HEAD, "tail": PROMPT_TAIL, "words": words,
                       "max_message_tokens": MAX_MESSAGE_TOKENS})


@dataclass(frozen=True)
class Thresholds:
    """Cumulative probabilities at which the model raises a message to a level (chosen on validation)."""

    emergency: float = 0.5
    urgent: float = 0.5  # P(emergency) + P(urgent)
    routine: float = 0.5  # P(emergency) + P(urgent) + P(routine)


@dataclass(frozen=True)
class ModelScore:
    levels: dict[str, float]  # the four probabilities, summing to 1
    category: str  # the most likely category ("none" included)
    category_p: float
    emergency_category: str  # the most likely category other than "none" (what an emergency answer uses)
    level: str  # the level these probabilities reach under the thresholds
    seconds: float = 0.0
    windows: int = 1


def level_for(levels: dict[str, float], thresholds: Thresholds) -> str:
    p_emergency = levels["emergency"]
    p_urgent = p_emergency + levels["urgent"]
    if p_emergency >= thresholds.emergency:
        return "emergency"
    if p_urgent >= thresholds.urgent:
        return "urgent"
    if p_urgent + levels["routine"] >= thresholds.routine:
        return "routine"
    return "self_care"


@dataclass
class LabelIds:
    level: list[int]
    category: list[int]
    prefix: list[int] = field(default_factory=list)
    suffix: list[int] = field(default_factory=list)


def label_ids(tokenizer: Any) -> LabelIds:
    """The first token of every level and category word; refuses words whose first tokens collide."""
    def first(word: str) -> int:
        return int(tokenizer(word, add_special_tokens=False)["input_ids"][0])

    level = [first(LEVEL_WORDS[name]) for name in LEVELS]
    category = [first(c.word) for c in CATEGORIES]
    if len(set(level)) != len(level) or len(set(category)) != len(category):
        raise ValueError("triage label words share a first token; choose other words in bot/triage/categories.py")
    prefix = tokenizer(PROMPT_HEAD, add_special_tokens=False)["input_ids"]
    suffix = tokenizer(PROMPT_TAIL, add_special_tokens=False)["input_ids"]
    return LabelIds(level, category, list(prefix), list(suffix))


def model_text(text: str) -> str:
    """The message as the model reads it, in training and in use: whitespace collapsed, and a message written
    in capitals read in lower case. Capitals say how someone types, not how urgent it is; the first training
    set had them only on emergencies, and the model learnt "DAUGHTER ... WILL CALL" as one."""
    text = " ".join(text.split())
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.6 * len(letters):
        return text.lower()
    return text


def windows(tokenizer: Any, ids: LabelIds, text: str, max_message_tokens: int = MAX_MESSAGE_TOKENS) -> list[list[int]]:
    """The prompt's token ids, one list per window of the message (one window for most messages)."""
    body = tokenizer(model_text(text), add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id]
    if len(body) <= max_message_tokens:
        return [ids.prefix + body + ids.suffix]
    stride = max_message_tokens - WINDOW_OVERLAP
    starts = [*range(0, len(body) - max_message_tokens, stride), len(body) - max_message_tokens]
    return [ids.prefix + body[s : s + max_message_tokens] + ids.suffix for s in starts]


def label_logits(model: Any, sequences: list[list[int]], ids: LabelIds, pad_id: int) -> tuple[Any, Any]:
    """Level logits ``[n, 4]`` and category logits ``[n, categories]`` at each sequence's last position.

    Left padding puts every last position at index -1; positions count from each sequence's first real token."""
    import torch

    width = max(len(s) for s in sequences)
    input_ids = torch.tensor([[pad_id] * (width - len(s)) + s for s in sequences])
    mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in sequences])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = causal.model(input_ids=input_ids, attention_mask=mask, position_ids=positions).last_hidden_state[:, -1]
    head = causal.get_output_embeddings().weight
    level = hidden @ head[ids.level].T
    category = hidden @ head[ids.category].T
    return level, category


@dataclass(frozen=True)
class AdapterMeta:
    thresholds: Thresholds
    fingerprint: str = ""
    spec: str = ""
    max_message_tokens: int = MAX_MESSAGE_TOKENS


def read_meta(adapter: Path) -> AdapterMeta:
    path = adapter / META_FILE
    if not path.is_file():
        return AdapterMeta(Thresholds())
    raw = json.loads(path.read_text(encoding="utf-8"))
    return AdapterMeta(Thresholds(**raw.get("thresholds", {})), raw.get("fingerprint", ""), raw.get("spec", ""),
                       int(raw.get("max_message_tokens", MAX_MESSAGE_TOKENS)))


def write_meta(adapter: Path, meta: AdapterMeta, **extra: Any) -> None:
    payload = {"thresholds": asdict(meta.thresholds), "fingerprint": meta.fingerprint, "spec": meta.spec,
               "max_message_tokens": meta.max_message_tokens, **extra}
    (adapter / META_FILE).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def adapter_exists(path: Path) -> bool:
    return (path / "adapter_config.json").is_file() and (path / "adapter_model.safetensors").is_file()


class TriageModel:
    """One loaded triage model (base + adapter, or the base alone for comparison); thread-safe scoring."""

    def __init__(self, model: Any, tokenizer: Any, *, thresholds: Thresholds,
                 max_message_tokens: int = MAX_MESSAGE_TOKENS, name: str = "triage") -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._ids = label_ids(tokenizer)
        self.thresholds = thresholds
        self.max_message_tokens = max_message_tokens
        self.name = name
        self._lock = threading.Lock()

    @classmethod
    def load(cls, base_model: str, adapter: Path | None, *, quantization: str = "nf4",
             device: str = "cpu", weights: Weights = "merged") -> TriageModel:
        """``weights``: ``merged`` (on CPU) dequantizes the 4-bit layers once and merges the adapter into them
        (same function, 2-3x faster on long messages here, about 0.4 GB more); ``nf4`` keeps them packed."""
        from bot.llm.local import load_for_inference

        model, tokenizer = load_for_inference(base_model, adapter, quantization=quantization, device=device,
                                              weights=weights)
        meta = read_meta(adapter) if adapter is not None else AdapterMeta(Thresholds())
        return cls(model, tokenizer, thresholds=meta.thresholds, max_message_tokens=meta.max_message_tokens,
                   name="triage+adapter" if adapter is not None else "triage-base")

    def score(self, text: str) -> ModelScore:
        import torch

        started = time.perf_counter()
        sequences = windows(self._tokenizer, self._ids, text, self.max_message_tokens)
        with self._lock, torch.inference_mode():
            level_logits, category_logits = label_logits(self._model, sequences, self._ids,
                                                         int(self._tokenizer.pad_token_id))
        level_p = torch.softmax(level_logits.float(), -1)
        best = int(level_p[:, 0].argmax())  # the window most likely to be an emergency
        category_p = torch.softmax(category_logits[best].float(), -1)
        levels: dict[str, float] = {name: float(level_p[best, i]) for i, name in enumerate(LEVELS)}
        ranked = sorted(range(len(CATEGORY_IDS)), key=lambda i: -float(category_p[i]))
        emergency_category = next(CATEGORY_IDS[i] for i in ranked if CATEGORY_IDS[i] != "none")
        return ModelScore(
            levels=levels,
            category=CATEGORY_IDS[ranked[0]],
            category_p=round(float(category_p[ranked[0]]), 4),
            emergency_category=emergency_category,
            level=level_for(levels, self.thresholds),
            seconds=time.perf_counter() - started,
            windows=len(sequences),
        )
