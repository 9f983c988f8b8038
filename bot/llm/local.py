"""The local backend: a base model quantized by bitsandbytes (4-bit NF4 by default) plus a peft LoRA adapter.

Heavy libraries (torch, transformers, bitsandbytes, peft) are imported inside functions, so importing
this module costs nothing. The model is loaded on first use and then kept for the life of the process
(see ``bot.llm.factory.get_llm``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.llm.base import ChatMessage, cut_at_repeat
from bot.llm.copying import CopyProcessor
from bot.llm.prepare import prepare_base_model

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def resolve_base_model(settings: Settings, progress: Progress | None = None) -> str:
    """The configured base model (local path or hub id), or the packaged SmolLM2 copy (prepared on demand)."""
    if settings.llm.base_model:
        return settings.llm.base_model
    return str(prepare_base_model(settings.models_dir, progress))


def resolve_adapter(settings: Settings) -> Path:
    """Where the adapter lives: ``llm.adapter`` if set, else ``<data_dir>/adapter``."""
    return Path(settings.llm.adapter).expanduser() if settings.llm.adapter else settings.data_dir / "adapter"


def adapter_exists(path: Path) -> bool:
    return (path / "adapter_config.json").is_file()


def _device_map(device: str) -> Any:
    if device == "auto":
        return "auto"
    if device == "cuda":
        return {"": 0}
    return {"": device}


def _compute_dtype(device: str) -> Any:
    import torch

    if device != "cpu" and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device != "cpu" and torch.cuda.is_available():
        return torch.float16
    return torch.float32


def quantization_config(quantization: str, device: str) -> Any:
    """A ``BitsAndBytesConfig`` for ``nf4`` (4-bit, double quantization) or ``int8``; ``None`` for ``none``."""
    if quantization == "none":
        return None
    from transformers import BitsAndBytesConfig

    if quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    if quantization == "nf4":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=_compute_dtype(device),
        )
    raise ValueError(f"unknown quantization {quantization!r}; use nf4, int8 or none")


def load_base(base_model: str, *, quantization: str = "nf4", device: str = "cpu") -> tuple[Any, Any]:
    """Load tokenizer and (quantized) base model, offline. Returns ``(model, tokenizer)``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    local_only = Path(base_model).exists()
    tokenizer = AutoTokenizer.from_pretrained(base_model, local_files_only=local_only)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = {"device_map": _device_map(device), "local_files_only": local_only}
    qconfig = quantization_config(quantization, device)
    if qconfig is not None:
        kwargs["quantization_config"] = qconfig
    else:
        kwargs["dtype"] = _compute_dtype(device)
    model = AutoModelForCausalLM.from_pretrained(base_model, **kwargs)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    log.info(
        "llm.local.base_loaded",
        extra={"quantization": quantization, "device": device, "seconds": round(time.monotonic() - started, 1)},
    )
    return model, tokenizer


def attach_adapter(model: Any, adapter: Path) -> Any:
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter), is_trainable=False)


def dequantized(model: Any) -> Any:
    """The 4-bit model with every NF4 layer replaced by a float32 ``nn.Linear`` holding the same (dequantized)
    weights, for CPUs where bitsandbytes' 4-bit kernel is slow: the function computed is the 4-bit model's, at
    about eight times the weights' memory. An adapter attached afterwards can be merged exactly."""
    import bitsandbytes as bnb
    import torch
    from bitsandbytes.functional import dequantize_4bit

    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if not isinstance(child, bnb.nn.Linear4bit):
                continue
            linear = torch.nn.Linear(child.in_features, child.out_features, bias=child.bias is not None,
                                     dtype=torch.float32)
            with torch.no_grad():
                linear.weight.copy_(dequantize_4bit(child.weight.data, child.weight.quant_state).float())  # type: ignore[attr-defined]
                if child.bias is not None:
                    linear.bias.copy_(child.bias.data.float())
            setattr(parent, name, linear)
    for parameter in model.parameters():
        parameter.data = parameter.data.float()
    for flag in ("is_loaded_in_4bit", "is_quantized"):
        if hasattr(model, flag):
            setattr(model, flag, False)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def with_merged_adapter(model: Any, adapter: Path) -> Any:
    """A dequantized model (:func:`dequantized`) with the adapter's LoRA weights merged into its layers."""
    return attach_adapter(model, adapter).merge_and_unload()


def in_bfloat16(model: Any) -> Any:
    """The merged model with its weights in bfloat16: half of float32's weight traffic, so decoding on CPU is
    about 1.5x faster, and next to the same function (the greedy next token agrees at 98 % of a real prompt's
    positions; torch's dynamic int8 layers agreed at under half and were not used)."""
    import torch

    for parameter in model.parameters():  # not .to(): transformers refuses to cast a model loaded by bitsandbytes
        parameter.data = parameter.data.to(torch.bfloat16)
    return model


def load_for_inference(base_model: str, adapter: Path | None, *, quantization: str = "nf4", device: str = "cpu",
                       weights: str = "merged") -> tuple[Any, Any]:
    """``(model, tokenizer)`` in eval mode with the adapter (if any). ``weights`` ``merged`` on CPU with nf4: the
    4-bit layers dequantized once and the adapter merged in (:func:`dequantized`); ``bf16``: that, with the weights
    in bfloat16 (:func:`in_bfloat16`); otherwise the packed layers with the adapter
    attached."""
    model, tokenizer = load_base(base_model, quantization=quantization, device=device)
    if weights in ("merged", "bf16") and device == "cpu" and quantization == "nf4":
        model = dequantized(model)
        if adapter is not None:
            model = with_merged_adapter(model, adapter)
        if weights == "bf16":
            model = in_bfloat16(model)
    elif adapter is not None:
        model = attach_adapter(model, adapter)
    model.eval()
    return model, tokenizer


class LocalLLM:
    """Greedy generation with the local quantized model (and adapter, when one exists)."""

    def __init__(
        self,
        base_model: str,
        *,
        quantization: str = "nf4",
        device: str = "cpu",
        adapter: Path | None = None,
        max_new_tokens: int = 120,
        name: str = "local",
        weights: str = "merged",
        prompt_lookup: int = 0,
        copy_decoding: bool = False,
    ) -> None:
        self.base_model = base_model
        self.quantization = quantization
        self.device = device
        self.adapter = adapter
        self.weights = weights  # merged: on CPU, 4-bit layers dequantized once and the adapter merged in
        self.max_new_tokens = max_new_tokens
        self.prompt_lookup = prompt_lookup  # tokens copied from the prompt checked in one step (0: plain greedy)
        self.copy_decoding = copy_decoding  # drafts held to copies of their sources as they are generated
        self.name = name
        self._model: Any = None
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one generation at a time: the CPU is the bottleneck anyway

    @classmethod
    def from_settings(cls, settings: Settings, progress: Progress | None = None) -> LocalLLM:
        adapter = resolve_adapter(settings)
        if not adapter_exists(adapter):
            log.warning("llm.local.no_adapter", extra={"adapter": str(adapter)})
        return cls(
            resolve_base_model(settings, progress),
            quantization=settings.llm.quantization,
            device=settings.llm.device,
            adapter=adapter if adapter_exists(adapter) else None,
            max_new_tokens=settings.llm.max_new_tokens,
            name="local+adapter" if adapter_exists(adapter) else "local",
            weights=settings.llm.weights,
            prompt_lookup=settings.llm.prompt_lookup,
            copy_decoding=settings.llm.copy_decoding,
        )

    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            self._model, self._tokenizer = load_for_inference(
                self.base_model, self.adapter, quantization=self.quantization, device=self.device,
                weights=self.weights)

    def _inputs(self, messages: list[ChatMessage]) -> Any:
        self.load()
        encoded = self._tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        device = next(self._model.parameters()).device
        return {k: v.to(device) for k, v in encoded.items()}

    def _gen_kwargs(self, inputs: Any, max_new_tokens: int | None, deadline: float | None = None,
                    copy_from: Sequence[str] | None = None) -> dict[str, Any]:
        from transformers import LogitsProcessorList, StoppingCriteriaList

        prompt_length = inputs["input_ids"].shape[1]
        criteria: list[Any] = [_StopOnRepeat(self._tokenizer, prompt_length)]
        if deadline is not None:
            criteria.append(_StopAtDeadline(deadline))
        lookup: dict[str, Any] = {"prompt_lookup_num_tokens": self.prompt_lookup} if self.prompt_lookup else {}
        if copy_from and self.copy_decoding:
            lookup["logits_processor"] = LogitsProcessorList([CopyProcessor(self._tokenizer, prompt_length, copy_from)])
        return {
            **inputs,
            **lookup,
            "max_new_tokens": max_new_tokens or self.max_new_tokens,
            "do_sample": False,
            "pad_token_id": self._tokenizer.pad_token_id,
            "eos_token_id": self._tokenizer.eos_token_id,
            "stopping_criteria": StoppingCriteriaList(criteria),
        }

    def generate(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None,
                 deadline: float | None = None, copy_from: Sequence[str] | None = None) -> str:
        import torch

        inputs = self._inputs(messages)
        with self._run_lock, torch.inference_mode():
            output = self._model.generate(**self._gen_kwargs(inputs, max_new_tokens, deadline, copy_from))
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        text = str(self._tokenizer.decode(new_tokens, skip_special_tokens=True)).strip()
        cut = cut_at_repeat(text)
        return text if cut is None else cut

    def stream(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = self._gen_kwargs(inputs, max_new_tokens) | {"streamer": streamer}

        def work() -> None:
            with self._run_lock, torch.inference_mode():
                self._model.generate(**kwargs)

        thread = threading.Thread(target=work, name="llm-stream", daemon=True)
        thread.start()
        try:
            for chunk in streamer:
                if chunk:
                    yield chunk
        finally:
            thread.join()


class _StopAtDeadline:
    """Stop generating at a ``time.monotonic()`` deadline (the reply budget): a transformers stopping criterion."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = time.monotonic() >= self.deadline
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class _StopOnRepeat:
    """Stops greedy generation at the first sentence that repeats an earlier one (a loop would otherwise run to
    ``max_new_tokens``: seconds of CPU for nothing). A transformers stopping criterion."""

    def __init__(self, tokenizer: Any, prompt_length: int) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = [cut_at_repeat(self.tokenizer.decode(row[self.prompt_length :], skip_special_tokens=True)) is not None
                for row in input_ids]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)
