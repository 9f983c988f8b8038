"""QLoRA fine-tuning: a LoRA adapter trained on top of the 4-bit NF4 base, then base vs tuned on held-out data.

``tune(...)`` is what ``clinicbot tune`` runs; ``ensure_adapter(settings, progress)`` trains one on first
start when none exists. The examples live in ``knowledge/training/`` (see ``generate.py`` there); the
prompt is rebuilt from each example's question and passages with ``bot.llm.prompt.build_messages``, so
training and answering always share one format.
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
from bot.llm.prompt import build_messages, format_context
from knowledge.types import Passage

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

TRAINING_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "training"
Progress = Callable[[str], None]


@dataclass
class TuneConfig:
    steps: int = 0  # optimizer steps; 0 means epochs x training examples / grad_accum, capped by max_default_steps
    epochs: float = 1.0
    # 40 steps of 4 examples (160 examples, about half an epoch): the default run takes about 8 minutes on 2 cores
    max_default_steps: int = 40
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


def keep_cpu_weights_unpacked(model: Any) -> int:
    """Stop bitsandbytes from repacking 4-bit weights for CPU inference; returns how many layers it applies to.

    On CPUs with AVX512-BF16, bitsandbytes 0.50 repacks a 4-bit layer's weights into a faster inference layout the
    first time the layer runs in eval mode without gradients, and keeps them that way. Training after such an
    evaluation then computes wrong gradients and the loss climbs (measured: the tuned adapter answered worse than
    the base), and bitsandbytes' own inverse does not restore non-square layers. The model being tuned keeps the
    plain layout; the model that answers patients (``bot.llm.local``) still gets the fast one.
    """
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:  # no bitsandbytes: nothing is repacked
        return 0
    layers = [m for m in model.modules() if isinstance(m, Linear4bit)]
    for layer in layers:
        layer.support_avx512bf16_for_cpu = False
    return len(layers)


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
    from peft import LoraConfig, get_peft_model

    from bot.llm.local import LocalLLM, load_base
    from bot.llm.report import write_report

    cfg = config or TuneConfig()
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    rss_start = rss_mb()
    random.seed(cfg.seed)
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
    keep_cpu_weights_unpacked(model)  # the model being trained keeps the layout its backward pass expects
    lora = LoraConfig(
        task_type="CAUSAL_LM",
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=cfg.target_modules,
    )
    model = get_peft_model(model, lora)
    trainable, total = model.get_nb_trainable_parameters()

    encoded = [_encode(tokenizer, e, clinic_name, cfg.max_length) for e in train]
    order: list[int] = []
    while len(order) < steps * accum:
        epoch = list(range(len(encoded)))
        random.shuffle(epoch)
        order += epoch
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    model.train()
    losses: list[float] = []
    train_started = time.monotonic()
    for step in range(steps):
        step_loss = 0.0
        for ids, labels in (encoded[i] for i in order[step * accum : (step + 1) * accum]):
            result = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
            (result.loss / accum).backward()
            step_loss += float(result.loss.detach()) / accum
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(step_loss, 4))
        if (step + 1) % 5 == 0 or step + 1 == steps:
            recent = sum(losses[-5:]) / len(losses[-5:])
            say(f"step {step + 1}/{steps}  loss {recent:.3f}  {time.monotonic() - train_started:.0f} s")
    train_s = time.monotonic() - train_started

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    peak_training_mb = peak_rss_mb()
    del model, optimizer, scheduler, params
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
