"""The reply budget: model drafts made one at a time on a worker thread, each within a time budget.

A patient must never wait on the model. :meth:`DraftWorker.draft` hands the request to a single worker thread
through a bounded queue and waits at most the budget (``llm.draft_budget_s``, 4 s on CPU by default). The
caller gets ``None`` when the draft is not ready in time (``budget``), when the queue is already full
(``busy``: requests beyond it go straight to quoting without waiting) or when the model failed (``error``);
the answerer then sends the checked, quoted answer. A job whose budget ran out while it waited is skipped,
and the backend is asked to stop at the deadline, so an abandoned draft does not hold the CPU for the next.

The worker thread starts on the first draft, never at import.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Literal

from bot.llm.base import LLM, ChatMessage

log = logging.getLogger(__name__)

Outcome = Literal["generated", "budget", "busy", "error"]


@dataclass(frozen=True)
class Draft:
    text: str | None  # None unless outcome is "generated"
    outcome: Outcome
    seconds: float


@dataclass
class _Job:
    messages: list[ChatMessage]
    max_new_tokens: int | None
    deadline: float  # time.monotonic() by which the draft must be ready
    copy_from: Sequence[str] | None = None  # sentences the draft must copy (bot/llm/copying.py)
    result: Future[str | None] = field(default_factory=Future)
    abandoned: threading.Event = field(default_factory=threading.Event)


class DraftWorker:
    """One model, one worker thread, a bounded queue, a per-draft budget."""

    def __init__(self, llm: LLM, *, budget_s: float = 4.0, queue_size: int = 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.llm = llm
        self.budget_s = budget_s
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=queue_size)
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closing = False

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                if self._thread is None:
                    atexit.register(self.close)
                self._thread = threading.Thread(target=self._run, name="llm-drafts", daemon=True)
                self._thread.start()

    def close(self, timeout_s: float = 15.0) -> None:
        """Let the draft in hand stop (the backend stops at its deadline) and skip the rest; waits at most
        ``timeout_s``. Called at exit: a process that ends while torch generates on the worker thread aborts
        ("terminate called without an active exception") after the patient's answer was already given."""
        self._closing = True
        until = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < until:
            time.sleep(0.05)

    def draft(self, messages: list[ChatMessage], *, max_new_tokens: int | None = None,
              copy_from: Sequence[str] | None = None) -> Draft:
        """The model's draft if it is ready within the budget; otherwise ``text=None`` and why."""
        started = self._clock()
        job = _Job(list(messages), max_new_tokens, started + self.budget_s, copy_from)
        self._ensure_started()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            log.warning("llm.draft.busy", extra={"waiting": self._queue.qsize()})
            return Draft(None, "busy", 0.0)
        try:
            text = job.result.result(timeout=max(0.0, job.deadline - self._clock()))
        except FutureTimeout:
            job.abandoned.set()
            log.warning("llm.draft.over_budget", extra={"budget_s": self.budget_s})
            return Draft(None, "budget", self._clock() - started)
        except Exception:
            log.exception("llm.draft.failed", extra={"llm": getattr(self.llm, "name", "?")})
            return Draft(None, "error", self._clock() - started)
        seconds = self._clock() - started
        if text is None:  # the worker gave up on it at the deadline
            return Draft(None, "budget", seconds)
        return Draft(text, "generated", seconds)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if self._closing or job.abandoned.is_set() or self._clock() >= job.deadline:
                    job.result.set_result(None)  # its patient already has the quoted answer
                    continue
                text = self.llm.generate(job.messages, max_new_tokens=job.max_new_tokens, deadline=job.deadline,
                                         copy_from=job.copy_from)
                # stopped at the deadline, the text is cut short: never send half a draft
                job.result.set_result(None if self._clock() >= job.deadline else text)
            except Exception as exc:  # reported to the waiting caller; the worker goes on
                job.result.set_exception(exc)
            finally:
                self._queue.task_done()
