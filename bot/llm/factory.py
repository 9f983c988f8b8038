"""Pick the backend named in settings; one instance per distinct configuration for the life of the process."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from bot.llm.base import LLM, FakeLLM

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)
_cache: dict[str, LLM] = {}
_lock = threading.Lock()


def _key(settings: Settings) -> str:
    return f"{settings.data_dir}|{settings.llm.model_dump_json()}"


def build_llm(settings: Settings) -> LLM:
    """A new backend for these settings (the local model loads lazily, on first generation)."""
    cfg = settings.llm
    if cfg.backend == "fake":
        return FakeLLM(default="I will pass your question to the front desk.")
    if cfg.backend == "openai":
        from bot.llm.openai_http import OpenAIChatLLM

        return OpenAIChatLLM(
            cfg.openai_base_url, cfg.openai_model, api_key=cfg.openai_api_key, max_new_tokens=cfg.max_new_tokens
        )
    from bot.llm.local import LocalLLM

    return LocalLLM.from_settings(settings)


def get_llm(settings: Settings) -> LLM:
    """The process-wide backend for these settings (built once, then reused)."""
    key = _key(settings)
    with _lock:
        if key not in _cache:
            _cache[key] = build_llm(settings)
        return _cache[key]


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def load_llm(settings: Settings) -> LLM | None:
    """The configured backend for answers, or None (quoted answers only) when none is wanted or none loads: the local
    model is not loaded untuned unless ``llm.allow_untuned`` says so."""
    if settings.llm.backend == "none":
        return None
    if settings.llm.backend == "local" and not settings.llm.allow_untuned:
        from bot.llm.local import adapter_exists, resolve_adapter

        if not adapter_exists(resolve_adapter(settings)):
            log.warning("knowledge.answer.no_adapter_yet", extra={"adapter": str(resolve_adapter(settings))})
            return None
    try:
        return get_llm(settings)
    except Exception:
        log.exception("knowledge.answer.llm_unavailable", extra={"backend": settings.llm.backend})
        return None
