"""The reply budget (issue 18 item 1): a slow or busy model never makes a patient wait past the budget; the
checked quote goes out instead, and abandoned drafts do not hold the model for the next patient."""

from __future__ import annotations

import threading
import time

from bot.llm.base import FakeLLM
from bot.llm.worker import DraftWorker
from bot.settings import Settings
from knowledge.answer import Answerer
from knowledge.embeddings import HashingEmbedder
from tests.test_knowledge_answer import PARKING, StubRetriever, chosen

ASK = [{"role": "user", "content": "where do i park"}]


def test_a_model_slower_than_the_budget_is_dropped_and_the_quote_goes_out_in_time(settings: Settings) -> None:
    settings.llm.draft_budget_s = 0.5
    slow = FakeLLM(default="Park behind the building.", delay_s=3.0)  # a model that cannot be interrupted
    answerer = Answerer(StubRetriever([PARKING]), settings, llm=slow, embedder=HashingEmbedder())
    started = time.monotonic()
    result = answerer.compose("Is parking free?", chosen(PARKING, 0), [])
    took = time.monotonic() - started
    assert result.reason == "fallback:budget"
    assert result.answer.startswith("Free parking is in the lot behind the building")
    assert took < 1.0, f"the patient waited {took:.2f} s with a 0.5 s budget"


def test_a_draft_ready_within_the_budget_is_used(settings: Settings) -> None:
    settings.llm.draft_budget_s = 2.0
    quick = FakeLLM(default=PARKING.text, delay_s=0.05)
    answerer = Answerer(StubRetriever([PARKING]), settings, llm=quick, embedder=HashingEmbedder())
    trace: list = []
    result = answerer.compose("Is parking free?", chosen(PARKING, 0), trace)
    assert result.reason == "generated"
    assert dict(trace)["draft"]["seconds"] < 2.0


def test_requests_beyond_the_queue_are_quoted_at_once_without_waiting() -> None:
    worker = DraftWorker(FakeLLM(default="draft", delay_s=1.0), budget_s=3.0, queue_size=1)
    outcomes: list[str] = []
    first = threading.Thread(target=lambda: outcomes.append(worker.draft(ASK).outcome))
    first.start()
    time.sleep(0.2)  # the first is being made; the queue holds one more
    second = threading.Thread(target=lambda: outcomes.append(worker.draft(ASK).outcome))
    second.start()
    time.sleep(0.1)
    started = time.monotonic()
    third = worker.draft(ASK)
    assert third.outcome == "busy" and third.text is None
    assert time.monotonic() - started < 0.1
    first.join()
    second.join()
    assert sorted(outcomes) == ["generated", "generated"]


def test_a_draft_whose_budget_ran_out_while_it_waited_is_never_made() -> None:
    model = FakeLLM(default="draft", delay_s=0.6)
    worker = DraftWorker(model, budget_s=0.3, queue_size=4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(worker.draft(ASK))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.outcome == "budget" and r.seconds < 0.6 for r in results)
    time.sleep(0.8)  # let the worker finish the one it started
    assert len(model.calls) == 1, "drafts nobody waits for any more were made anyway"
    # and the model is free again for the next patient
    model.delay_s = 0.0
    assert worker.draft(ASK).outcome == "generated"


def test_a_failing_model_is_reported_and_the_worker_keeps_serving() -> None:
    class Flaky(FakeLLM):
        def generate(self, messages, *, max_new_tokens=None, deadline=None, copy_from=None):  # type: ignore[no-untyped-def]
            if not self.calls:
                self.calls.append(messages)
                raise RuntimeError("out of memory")
            return super().generate(messages, max_new_tokens=max_new_tokens, deadline=deadline)

    worker = DraftWorker(Flaky(default="draft"), budget_s=1.0)
    assert worker.draft(ASK).outcome == "error"
    assert worker.draft(ASK).text == "draft"


def test_closing_waits_for_the_draft_in_hand_and_skips_the_rest() -> None:
    """At exit the worker lets the generation in hand stop: a process that ends while torch generates on the
    worker thread aborts ("terminate called without an active exception"), which `clinicbot ask` did after
    printing an over-budget answer on a busy machine."""
    model = FakeLLM(default="draft", delay_s=0.5)
    worker = DraftWorker(model, budget_s=0.1, queue_size=2)
    waiting = threading.Thread(target=worker.draft, args=(ASK,))
    assert worker.draft(ASK).outcome == "budget"
    waiting.start()  # queued behind the one being made
    started = time.monotonic()
    worker.close(timeout_s=5)
    assert 0.2 < time.monotonic() - started < 2.0, "close returned before the draft in hand ended"
    waiting.join()
    assert len(model.calls) == 1, "a queued draft was made while closing"
