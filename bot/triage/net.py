"""The second net in a running process: the triage model loaded once, in the background, and scored with a deadline.

Until the model is loaded (or if it cannot be), :meth:`TriageNet.score` returns ``None`` and the rules decide
alone; a model that cannot be loaded is logged once, as a warning. Each scoring has a deadline: a slow machine
never holds an answer back, the rules answer instead. ``get_triage_net(settings)`` gives the process's one net
for its settings (``triage.model: none`` gives ``None``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.triage.model import PACKAGED_ADAPTER, ModelScore, TriageModel, adapter_exists

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)


class Scorer(Protocol):
    """What the net needs of a model: one message in, four probabilities and a category out."""

    def score(self, text: str) -> ModelScore: ...


class TriageNet:
    def __init__(self, loader: Callable[[], Scorer], *, timeout_s: float = 2.0, name: str = "triage") -> None:
        self._loader = loader
        self.timeout_s = timeout_s
        self.name = name
        self._scorer: Scorer | None = None
        self._error: str | None = None
        self._started = False
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> TriageNet:
        """Load in a background thread (once); returns at once."""
        with self._lock:
            if self._started:
                return self
            self._started = True
        threading.Thread(target=self._load, name=f"{self.name}-load", daemon=True).start()
        return self

    def _load(self) -> None:
        started = time.monotonic()
        try:
            scorer = self._loader()
            scorer.score("hello")  # the first pass is slow (weights are repacked for CPU inference): not a patient's
        except Exception as exc:  # a missing file, a broken install: the rules carry on alone
            self._error = f"{type(exc).__name__}: {exc}"
            log.warning("triage.model.unavailable net=%s reason=%s (the rules decide alone)", self.name,
                        type(exc).__name__, exc_info=True)
        else:
            self._scorer = scorer
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-score")
            log.info("triage.model.loaded net=%s seconds=%.1f", self.name, time.monotonic() - started)
        finally:
            self._loaded.set()

    @property
    def ready(self) -> bool:
        return self._scorer is not None

    @property
    def error(self) -> str | None:
        return self._error

    def wait(self, timeout_s: float | None = None) -> bool:
        """Start if needed and wait for the load to finish; True when the model is ready."""
        self.start()
        self._loaded.wait(timeout_s)
        return self.ready

    def _submit(self, text: str) -> Future[ModelScore] | None:
        scorer, executor = self._scorer, self._executor
        if scorer is None or executor is None:
            return None
        return executor.submit(scorer.score, text)

    def _timed_out(self, future: Future[ModelScore]) -> None:
        # a message past its deadline is not scored later: under a burst, stale work would delay every next one
        future.cancel()
        log.warning("triage.model.timeout net=%s timeout_s=%.1f (the rules decide alone)", self.name, self.timeout_s)

    def score(self, text: str) -> ModelScore | None:
        """The model's score, or ``None`` (not loaded yet, failed to load, failed or too slow this time)."""
        future = self._submit(text)
        if future is None:
            return None
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            self._timed_out(future)
        except Exception:
            log.exception("triage.model.failed net=%s (the rules decide alone)", self.name)
        return None

    async def score_async(self, text: str) -> ModelScore | None:
        """:meth:`score` for an event loop: no thread is held while the message waits for the model (in the
        gateway, a burst of messages waiting for it had taken every worker thread of the loop's pool, and every
        other patient's database work waited behind them)."""
        future = self._submit(text)
        if future is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except TimeoutError:
            self._timed_out(future)
        except Exception:
            log.exception("triage.model.failed net=%s (the rules decide alone)", self.name)
        return None


def resolve_triage_adapter(settings: Settings) -> Path | None:
    """``triage.adapter`` if set; else one tuned here (``<data_dir>/triage-adapter``); else the shipped one."""
    if settings.triage.adapter:
        return Path(settings.triage.adapter).expanduser()
    for candidate in (settings.data_dir / "triage-adapter", PACKAGED_ADAPTER):
        if adapter_exists(candidate):
            return candidate
    return None


def _loader(settings: Settings, threads: int) -> Callable[[], Scorer]:
    models_dir, adapter = settings.models_dir, resolve_triage_adapter(settings)
    weights = settings.triage.weights

    def load() -> Scorer:
        from bot.llm.prepare import prepare_base_model

        if threads > 0:
            import torch

            torch.set_num_threads(threads)
        if adapter is None or not adapter_exists(adapter):
            raise FileNotFoundError(f"no triage adapter at {adapter or PACKAGED_ADAPTER}")
        # The triage adapter belongs to the packaged SmolLM2 base (llm.base_model may name a bigger one).
        return TriageModel.load(str(prepare_base_model(models_dir)), adapter, weights=weights)

    return load


_nets: dict[str, TriageNet] = {}
_nets_lock = threading.Lock()


def get_triage_net(settings: Settings, *, own_threads: bool = False) -> TriageNet | None:
    """The process's triage net for these settings (built once, not started); ``None`` when turned off.

    ``own_threads``: triage is this process's only model, so it may set torch's thread count
    (``triage.threads``); a process that also generates answers leaves it alone."""
    if settings.triage.model == "none":
        return None
    key = f"{settings.models_dir}|{resolve_triage_adapter(settings)}|{settings.triage.weights}"
    with _nets_lock:
        if key not in _nets:
            threads = settings.triage.threads if own_threads else 0
            _nets[key] = TriageNet(_loader(settings, threads), timeout_s=settings.triage.timeout_s)
        return _nets[key]
