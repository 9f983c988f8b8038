"""Tune the triage adapter: QLoRA on the 4-bit base, two cross-entropies at the answer position.

``tune_triage(base_model, out)`` is what ``clinicbot tune --task triage`` runs. The loss is the level's
cross-entropy over the four level tokens plus half the category's cross-entropy over the category tokens, both
at the prompt's last position (:func:`bot.triage.model.label_logits`), with label smoothing so the
probabilities stay usable as thresholds. LoRA is attached and stepped by :mod:`bot.llm.qlora`. Base and tuned
are each scored on the validation split; the thresholds for combining the model with the rules are chosen
there; the adapter is saved in fp16 with ``triage.json`` (thresholds, data fingerprint) and the report.
"""

from __future__ import annotations

import gc
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.llm.memory import peak_rss_mb, rss_mb
from bot.llm.qlora import ALL_LINEAR, LoraSpec, attach_lora, shuffled_order, train_steps
from bot.triage import dataset
from bot.triage.categories import CATEGORY_IDS, LEVELS
from bot.triage.dataset import Item
from bot.triage.evaluate import choose_thresholds, combined_levels, confusion, figures
from bot.triage.model import (
    AdapterMeta,
    LabelIds,
    Thresholds,
    TriageModel,
    label_ids,
    label_logits,
    model_text,
    spec,
    write_meta,
)

Progress = Callable[[str], None]


@dataclass
class TriageTuneConfig:
    epochs: float = 2.0
    steps: int = 0  # 0: epochs x training items / batch_size
    batch_size: int = 16  # items per optimizer step (one padded forward pass)
    learning_rate: float = 1e-3
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(ALL_LINEAR))
    category_weight: float = 0.5
    label_smoothing: float = 0.1
    max_train_tokens: int = 320  # longer training messages are cut (none of ours are)
    seed: int = 0
    # torch threads; measured here: with other jobs on the 2 cores, two threads ran a step 5-9x slower than one
    threads: int = 1


def _encode(tokenizer: Any, ids: LabelIds, item: Item, max_tokens: int) -> tuple[list[int], int, int]:
    body = tokenizer(model_text(item.text), add_special_tokens=False)["input_ids"][:max_tokens]
    return ids.prefix + body + ids.suffix, LEVELS.index(item.level), CATEGORY_IDS.index(item.category)


def _length_buckets(items: list[Any], size: int, rng: random.Random, window: int = 16) -> list[list[Any]]:
    """Batches of ``size`` with similar lengths (sorted within windows of ``window`` batches, then shuffled):
    one long message no longer pads fifteen short ones to its length (measured: about 3x less work)."""
    batches: list[list[Any]] = []
    span = size * window
    for start in range(0, len(items), span):
        chunk = sorted(items[start:start + span], key=lambda item: len(item[0]))
        batches += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def score_items(model: TriageModel, items: Sequence[Item], progress: Progress | None = None) -> list[dict[str, Any]]:
    """The model's level probabilities and category for each item (as served: windows, thresholds)."""
    out = []
    for n, item in enumerate(items, start=1):
        s = model.score(item.text)
        out.append({"levels": s.levels, "category": s.category, "emergency_category": s.emergency_category,
                    "seconds": s.seconds})
        if progress and n % 100 == 0:
            progress(f"  scored {n}/{len(items)}")
    return out


def _assessment(items: Sequence[Item], rules: Sequence[str], scores: Sequence[dict[str, Any]],
                thresholds: Thresholds | None) -> dict[str, Any]:
    gold = [i.level for i in items]
    probs = [s["levels"] for s in scores]
    argmax = [max(p, key=lambda k: p[k]) for p in probs]
    emergencies = [(i, s) for i, s in zip(items, scores, strict=True) if i.level == "emergency"]
    out: dict[str, Any] = {
        "model_argmax": figures(gold, argmax),
        "category_accuracy_on_emergencies": round(
            sum(s["emergency_category"] == i.category for i, s in emergencies) / max(1, len(emergencies)), 4),
    }
    if thresholds is not None:
        from bot.triage.model import level_for

        model_levels = [level_for(p, thresholds) for p in probs]
        both = combined_levels(rules, probs, thresholds)
        out |= {"model": figures(gold, model_levels), "combined": figures(gold, both),
                "combined_confusion": confusion(gold, both)}
    return out


def _per_category_recall(items: Sequence[Item], rules: Sequence[str], combined: Sequence[str]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for category in CATEGORY_IDS:
        rows = [(r, c) for i, r, c in zip(items, rules, combined, strict=True) if i.category == category]
        if rows and category != "none":
            table[category] = {"n": len(rows), "rules": sum(r == "emergency" for r, _ in rows),
                               "combined": sum(c == "emergency" for _, c in rows)}
    return table


def save_adapter(model: Any, folder: Path) -> None:
    """The LoRA weights in fp16 and peft's adapter_config.json (what ``PeftModel.from_pretrained`` reads).

    Written directly rather than with ``save_pretrained``, which also renders a model card from a template file
    of huggingface_hub: a reinstall of that package in a shared environment once lost a two-hour tune here."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = get_peft_model_state_dict(model)
    save_file({k: v.detach().half().contiguous() for k, v in state.items()}, str(folder / "adapter_model.safetensors"))
    model.peft_config["default"].save_pretrained(str(folder))


def tune_triage(base_model: str, out: Path, *, config: TriageTuneConfig | None = None,
                data_dir: Path = dataset.DATA_DIR, progress: Progress | None = None) -> dict[str, Any]:
    """Train the triage adapter into ``out`` (with triage.json, report.json, report.md, loss.png)."""
    import torch

    from bot.llm.local import load_base
    from bot.triage import triage
    from bot.triage.report import write_report

    cfg = config or TriageTuneConfig()
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    rss_start = rss_mb()
    torch.manual_seed(cfg.seed)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    items = dataset.load_items(data_dir)
    train, validation = dataset.split(items)
    steps = cfg.steps or max(1, round(cfg.epochs * len(train) / cfg.batch_size))
    say(f"{len(items)} items: {len(train)} training / {len(validation)} validation; "
        f"{steps} steps of {cfg.batch_size}")
    rules = [triage(i.text).urgency for i in validation]

    say(f"scoring the base model (no adapter) on {len(validation)} validation items")
    eval_started = time.monotonic()
    base = TriageModel.load(base_model, None)
    base_scores = score_items(base, validation, say)
    del base
    gc.collect()
    base_eval_s = time.monotonic() - eval_started

    say("loading the 4-bit NF4 base model for training")
    model, tokenizer = load_base(base_model, quantization="nf4", device="cpu")
    model = attach_lora(model, LoraSpec(cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules))
    trainable, total = model.get_nb_trainable_parameters()
    ids = label_ids(tokenizer)
    encoded = [_encode(tokenizer, ids, item, cfg.max_train_tokens) for item in train]
    order = shuffled_order(len(encoded), steps * cfg.batch_size, random.Random(cfg.seed))
    batches = [[batch] for batch in _length_buckets([encoded[i] for i in order], cfg.batch_size,
                                                      random.Random(cfg.seed + 1))]
    pad = int(tokenizer.pad_token_id)

    def loss_of(model: Any, batch: list[tuple[list[int], int, int]]) -> Any:
        level_logits, category_logits = label_logits(model, [b[0] for b in batch], ids, pad)
        level_loss = torch.nn.functional.cross_entropy(
            level_logits, torch.tensor([b[1] for b in batch]), label_smoothing=cfg.label_smoothing)
        category_loss = torch.nn.functional.cross_entropy(
            category_logits, torch.tensor([b[2] for b in batch]), label_smoothing=cfg.label_smoothing)
        return level_loss + cfg.category_weight * category_loss

    train_started = time.monotonic()
    losses = train_steps(model, batches, loss_of, learning_rate=cfg.learning_rate, progress=say, report_every=10)
    train_s = time.monotonic() - train_started
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save_adapter(model, tmp)
    peak_training_mb = peak_rss_mb()
    del model
    gc.collect()

    say(f"scoring the tuned model (the saved adapter) on {len(validation)} validation items")
    eval_started = time.monotonic()
    tuned = TriageModel.load(base_model, tmp)
    tuned_scores = score_items(tuned, validation, say)
    del tuned
    tuned_eval_s = time.monotonic() - eval_started
    gold = [i.level for i in validation]
    thresholds, _ = choose_thresholds(gold, rules, [s["levels"] for s in tuned_scores])
    combined = combined_levels(rules, [s["levels"] for s in tuned_scores], thresholds)
    fingerprint = dataset.fingerprint(items, spec())
    write_meta(tmp, AdapterMeta(thresholds, fingerprint, spec()), base_model=Path(base_model).name,
               lora_r=cfg.lora_r, items=len(items))
    latencies = sorted(s["seconds"] for s in tuned_scores)
    report: dict[str, Any] = {
        "task": "triage",
        "base_model": base_model,
        "quantization": "nf4 (double quantization)",
        "config": asdict(cfg),
        "steps": steps,
        "items": {"total": len(items), "train": len(train), "validation": len(validation)},
        "counts": {"train": dataset.counts(train), "validation": dataset.counts(validation)},
        "fingerprint": fingerprint,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "trainable_share": round(trainable / total, 5),
        "peak_rss_mb": round(peak_training_mb, 1),
        "rss_delta_mb": round(rss_mb() - rss_start, 1),
        "seconds": {"train": round(train_s, 1), "eval_base": round(base_eval_s, 1),
                    "eval_tuned": round(tuned_eval_s, 1), "total": round(time.monotonic() - started, 1)},
        "validation_latency_ms": {"median": round(1000 * latencies[len(latencies) // 2], 1),
                                  "p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1)},
        "losses": losses,
        "thresholds": asdict(thresholds),
        "rules": figures(gold, rules),
        "base": _assessment(validation, rules, base_scores, None),
        "tuned": _assessment(validation, rules, tuned_scores, thresholds),
        "per_category": _per_category_recall(validation, rules, combined),
    }
    write_report(report, tmp)
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    say(f"triage adapter and report written to {out}")
    return report


def rechoose_thresholds(base_model: str, adapter: Path, *, threads: int = 1, data_dir: Path = dataset.DATA_DIR,
                        progress: Progress | None = None) -> dict[str, Any]:
    """Choose the thresholds again for a tuned adapter (after a change to how they are chosen), without tuning:
    score the validation split again, rewrite ``triage.json`` and the report's tuned figures. The data must be
    the data the adapter was tuned on (same fingerprint)."""
    import json

    import torch

    from bot.triage import triage
    from bot.triage.report import write_report

    if threads > 0:
        torch.set_num_threads(threads)
    items = dataset.load_items(data_dir)
    _, validation = dataset.split(items)
    report: dict[str, Any] = json.loads((adapter / "report.json").read_text(encoding="utf-8"))
    if report.get("fingerprint") != dataset.fingerprint(items, spec()):
        raise ValueError(f"the training data changed since {adapter} was tuned: tune it again")
    rules = [triage(i.text).urgency for i in validation]
    if progress:
        progress(f"scoring the tuned model on {len(validation)} validation items")
    scores = score_items(TriageModel.load(base_model, adapter), validation, progress)
    probabilities = [s["levels"] for s in scores]
    thresholds, _ = choose_thresholds([i.level for i in validation], rules, probabilities)
    meta = json.loads((adapter / "triage.json").read_text(encoding="utf-8"))
    (adapter / "triage.json").write_text(json.dumps({**meta, "thresholds": asdict(thresholds)}, indent=2) + "\n",
                                         encoding="utf-8")
    report |= {"thresholds": asdict(thresholds), "tuned": _assessment(validation, rules, scores, thresholds),
               "per_category": _per_category_recall(validation, rules,
                                                    combined_levels(rules, probabilities, thresholds))}
    write_report(report, adapter)
    return report
