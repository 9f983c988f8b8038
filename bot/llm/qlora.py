"""QLoRA on the local base: LoRA layers on the 4-bit NF4 model, and the training loop every adapter shares.

Task-specific tuning (the answering adapter in ``knowledge.training.tune``, the triage adapter in
``bot.triage``) builds its examples and its loss; this module owns how a LoRA adapter is attached to the
4-bit base and stepped. Heavy libraries are imported inside functions.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[str], None]
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class LoraSpec:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(ALL_LINEAR))


def keep_cpu_weights_unpacked(model: Any) -> int:
    """Stop bitsandbytes from repacking 4-bit weights for CPU inference; returns how many layers it applies to.

    On CPUs with AVX512-BF16, bitsandbytes 0.50 repacks a 4-bit layer's weights into a faster inference layout the
    first time the layer runs in eval mode without gradients, and keeps them that way. Training after such an
    evaluation then computes wrong gradients and the loss climbs (measured: the tuned adapter answered worse than
    the base), and bitsandbytes' own inverse does not restore non-square layers. The model being tuned keeps the
    plain layout; the model that serves patients (``bot.llm.local``) still gets the fast one.
    """
    from bitsandbytes.nn import Linear4bit

    layers = [m for m in model.modules() if isinstance(m, Linear4bit)]
    for layer in layers:
        layer.support_avx512bf16_for_cpu = False
    return len(layers)


def attach_lora(model: Any, spec: LoraSpec) -> Any:
    """The 4-bit base with trainable LoRA layers (the base's own weights stay frozen)."""
    from peft import LoraConfig, get_peft_model

    keep_cpu_weights_unpacked(model)  # the model being trained keeps the layout its backward pass expects
    config = LoraConfig(task_type="CAUSAL_LM", r=spec.r, lora_alpha=spec.alpha, lora_dropout=spec.dropout,
                        target_modules=spec.target_modules)
    return get_peft_model(model, config)


def shuffled_order(count: int, needed: int, rng: random.Random) -> list[int]:
    """Indices of ``count`` examples for ``needed`` draws: whole shuffled epochs, one after another."""
    order: list[int] = []
    while len(order) < needed:
        epoch = list(range(count))
        rng.shuffle(epoch)
        order += epoch
    return order[:needed]


def train_steps(model: Any, batches: Sequence[Sequence[Any]], loss_of: Callable[[Any, Any], Any], *,
                learning_rate: float, progress: Progress | None = None, report_every: int = 5) -> list[float]:
    """AdamW over the trainable parameters, linear warm-up (a tenth) then linear decay, gradients clipped at 1.

    ``batches[i]`` is what one optimizer step sees; ``loss_of(model, item)`` is one item's loss, averaged over
    the batch. Returns the loss of every step."""
    import torch

    say = progress or (lambda _msg: None)
    steps = len(batches)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    model.train()
    losses: list[float] = []
    started = time.monotonic()
    for step, batch in enumerate(batches):
        step_loss = 0.0
        for item in batch:
            loss = loss_of(model, item) / len(batch)
            loss.backward()
            step_loss += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(step_loss, 4))
        if (step + 1) % report_every == 0 or step + 1 == steps:
            recent = sum(losses[-report_every:]) / len(losses[-report_every:])
            say(f"step {step + 1}/{steps}  loss {recent:.3f}  {time.monotonic() - started:.0f} s")
    return losses
