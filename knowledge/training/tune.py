"""QLoRA fine-tuning: a LoRA adapter trained on top of the 4-bit NF4 base, then base vs tuned on held-out data.

``tune(...)`` is what ``clinicbot tune`` runs; ``ensure_adapter(settings, progress)`` trains one on first
start when none exists. The examples live in this folder (see ``generate.py``); the prompt is rebuilt from
each example's question and passages with ``knowledge.prompt.build_messages``, so training and answering
always share one format. How LoRA is attached to the 4-bit base and stepped is ``bot.llm.qlora``.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import math
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.llm import metrics
from bot.llm.base import ChatMessage
from bot.llm.memory import peak_rss_mb, rss_mb
from bot.llm.qlora import LoraSpec, attach_lora, shuffled_order, train_steps
from knowledge.prompt import build_messages, format_context
from knowledge.types import Passage

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

TRAINING_DIR = Path(__file__).resolve().parent
Progress = Callable[[str], None]


@dataclass
class TuneConfig:
    steps: int = 0  # optimizer steps; 0 means epochs x training examples / grad_accum, capped by max_default_steps
    epochs: float = 1.0
    # 60 steps of 4 examples (240 examples, about half an epoch). The examples are the chosen sentences, not whole
    # sections (about 250 tokens, was 550), so 60 steps take about the time 40 did: some 8 minutes on 2 quiet cores
    max_default_steps: int = 60
    grad_accum: int = 4  # examples per optimizer step
    eval_limit: int = 16  # held-out examples generated per model (base and tuned)
    eval_max_new_tokens: int = 96  # room for a whole reference answer: a cut-off phone number is not grounded
    learning_rate: float = 1e-3
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    max_length: int = 640
    seed: int = 0


@dataclass
class Example:
    id: str
    kind: str
    question: str
    passages: list[Passage]
    answer: str

    def messages(self, clinic_name: str) -> list[ChatMessage]:
        return build_messages(self.question, self.passages, clinic_name)

    @property
    def context(self) -> str:
        return format_context(self.passages)


def load_examples(path: Path) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        Example(
            id=r["id"],
            kind=r["kind"],
            question=r["question"],
            passages=[Passage(score=0.0, **p) for p in r["passages"]],
            answer=r["answer"],
        )
        for r in rows
    ]


def eval_sample(heldout: list[Example], limit: int) -> list[Example]:
    """A stable, capped sample of the held-out set (ordered by a hash of the id)."""
    ordered = sorted(heldout, key=lambda e: hashlib.sha1(e.id.encode()).hexdigest())
    return ordered[:limit] if limit > 0 else ordered


def _encode(tokenizer: Any, example: Example, clinic: str, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels; only the answer's tokens are learned (the prompt is masked with -100)."""
    prompt = tokenizer.apply_chat_template(example.messages(clinic), tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(
        [*example.messages(clinic), {"role": "assistant", "content": example.answer}], tokenize=False
    )
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    if len(ids) > max_length:  # keep the answer: cut the context's end
        answer_ids = ids[len(prompt_ids) :]
        prompt_ids = prompt_ids[: max_length - len(answer_ids)]
        ids = prompt_ids + answer_ids
    labels = [-100] * len(prompt_ids) + ids[len(prompt_ids) :]
    return ids, labels


def evaluate(llm: Any, examples: list[Example], clinic: str, max_new_tokens: int) -> dict[str, Any]:
    predictions = [llm.generate(e.messages(clinic), max_new_tokens=max_new_tokens) for e in examples]
    summary: dict[str, Any] = metrics.summarize(
        predictions, [e.answer for e in examples], [e.context for e in examples]
    )
    summary["samples"] = [
        {"id": e.id, "question": e.question, "reference": e.answer, "prediction": p}
        for e, p in zip(examples[:5], predictions[:5], strict=True)
    ]
    return summary


def tuned_beats_base(base: dict[str, Any], tuned: dict[str, Any]) -> bool:
    """Better ROUGE-L and no worse on grounded numbers and refusals."""
    return bool(
        tuned["rouge_l"] > base["rouge_l"]
        and tuned["numbers_grounded"] >= base["numbers_grounded"]
        and tuned["refusal_accuracy"] >= base["refusal_accuracy"]
    )


def tune(
    base_model: str,
    out: Path,
    *,
    clinic_name: str,
    config: TuneConfig | None = None,
    training_dir: Path = TRAINING_DIR,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train the adapter into ``out`` (with report.json, report.md, loss.png); return the report."""
    import torch

    from bot.llm.local import LocalLLM, load_base
    from bot.llm.report import write_report

    cfg = config or TuneConfig()
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    rss_start = rss_mb()
    torch.manual_seed(cfg.seed)

    train = load_examples(training_dir / "train.jsonl")
    heldout = load_examples(training_dir / "heldout.jsonl")
    sample = eval_sample(heldout, cfg.eval_limit)
    accum = max(1, cfg.grad_accum)
    steps = cfg.steps or min(cfg.max_default_steps, math.ceil(cfg.epochs * len(train) / accum))
    say(f"{len(train)} training / {len(heldout)} held-out examples; {steps} steps of {accum} examples, "
        f"evaluating on {len(sample)}")

    # Base and tuned are each evaluated on their own freshly loaded model (bitsandbytes' fast CPU inference layout
    # is fine there), the tuned one from the adapter as saved: what is measured is what will answer patients.
    say(f"evaluating the base model on {len(sample)} held-out questions")
    eval_started = time.monotonic()
    base_scores = evaluate(LocalLLM(base_model, quantization="nf4", device="cpu"), sample, clinic_name,
                           cfg.eval_max_new_tokens)
    base_eval_s = time.monotonic() - eval_started
    gc.collect()

    say("loading the 4-bit NF4 base model for training")
    model, tokenizer = load_base(base_model, quantization="nf4", device="cpu")
    model = attach_lora(model, LoraSpec(cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules))
    trainable, total = model.get_nb_trainable_parameters()

    encoded = [_encode(tokenizer, e, clinic_name, cfg.max_length) for e in train]
    order = shuffled_order(len(encoded), steps * accum, random.Random(cfg.seed))
    batches = [[encoded[i] for i in order[s * accum : (s + 1) * accum]] for s in range(steps)]

    def loss_of(model: Any, item: tuple[list[int], list[int]]) -> Any:
        ids, labels = item
        return model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss

    train_started = time.monotonic()
    losses = train_steps(model, batches, loss_of, learning_rate=cfg.learning_rate, progress=say)
    train_s = time.monotonic() - train_started

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    peak_training_mb = peak_rss_mb()
    del model
    gc.collect()

    say(f"evaluating the tuned model (the saved adapter) on {len(sample)} held-out questions")
    eval_started = time.monotonic()
    tuned = LocalLLM(base_model, quantization="nf4", device="cpu", adapter=tmp)
    tuned_scores = evaluate(tuned, sample, clinic_name, cfg.eval_max_new_tokens)
    tuned_eval_s = time.monotonic() - eval_started
    del tuned
    report: dict[str, Any] = {
        "base_model": base_model,
        "quantization": "nf4 (double quantization)",
        "examples": {"train": len(train), "heldout": len(heldout), "evaluated": len(sample)},
        "config": asdict(cfg),
        "steps": steps,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "trainable_share": round(trainable / total, 5),
        "peak_rss_mb": round(peak_training_mb, 1),  # the process's peak up to the end of training
        "rss_delta_mb": round(rss_mb() - rss_start, 1),
        "seconds": {
            "train": round(train_s, 1),
            "eval_base": round(base_eval_s, 1),
            "eval_tuned": round(tuned_eval_s, 1),
            "total": round(time.monotonic() - started, 1),
        },
        "losses": losses,
        "base": base_scores,
        "tuned": tuned_scores,
        "tuned_beats_base": tuned_beats_base(base_scores, tuned_scores),
        # what the same sample's reference answers score, for the reading grade's 6-8 aim
        "reference_reading_grade": metrics.summarize(
            [e.answer for e in sample], [e.answer for e in sample], [e.context for e in sample]
        )["reading_grade"],
    }
    write_report(report, tmp)
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    log.info(
        "llm.tune.done",
        extra={"steps": steps, "seconds": report["seconds"]["total"], "beats_base": report["tuned_beats_base"]},
    )
    say(f"adapter and report written to {out}")
    return report


def ensure_adapter(settings: Settings, progress: Progress | None = None) -> Path:
    """The configured adapter folder; trains one with the default run (< 10 min on 2 cores) if none exists."""
    from bot.llm.local import adapter_exists, resolve_adapter, resolve_base_model

    path = resolve_adapter(settings)
    if adapter_exists(path):
        return path
    say = progress or (lambda _msg: None)
    say(f"no adapter at {path}: fine-tuning one now (about 10 minutes, once)")
    tune(resolve_base_model(settings, progress), path, clinic_name=settings.clinic.name, progress=progress)
    return path
