"""The triage pipeline ``rules -> model -> combine``: a rule hit is never lowered, the model can only raise.

Fast tests with a scripted scorer in place of the model (the real 4-bit model and adapter are exercised in
tests/test_triage_model.py). The scorer returns what a model would for a message; the rules are the real ones.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field

import pytest

from bot.conversations.guard import Emergency, RedFlagGuard
from bot.triage import triage
from bot.triage.combine import assess, combine
from bot.triage.evaluate import choose_thresholds, figures
from bot.triage.model import ModelScore, Thresholds, level_for
from bot.triage.net import TriageNet
from bot.triage.red_flags import RedFlag, emergency_message

CLINIC = "Maple Street Family Medicine"


DEFAULT = Thresholds()


def score(levels: dict[str, float], category: str = "none", emergency_category: str = "other_emergency",
          thresholds: Thresholds = DEFAULT) -> ModelScore:
    return ModelScore(levels=levels, category=category, category_p=0.9, emergency_category=emergency_category,
                      level=level_for(levels, thresholds))


EMERGENCY = {"emergency": 0.9, "urgent": 0.05, "routine": 0.03, "self_care": 0.02}
URGENT = {"emergency": 0.1, "urgent": 0.7, "routine": 0.1, "self_care": 0.1}
SELF_CARE = {"emergency": 0.01, "urgent": 0.02, "routine": 0.07, "self_care": 0.9}


@dataclass
class ScriptedScorer:
    """Answers from a table (message -> probabilities); everything else looks like self-care."""

    table: dict[str, ModelScore] = field(default_factory=dict)
    delay_s: float = 0.0
    calls: list[str] = field(default_factory=list)

    def score(self, text: str) -> ModelScore:
        self.calls.append(text)
        time.sleep(self.delay_s)
        return self.table.get(text, score(SELF_CARE))


def ready_net(scorer: ScriptedScorer, timeout_s: float = 2.0) -> TriageNet:
    net = TriageNet(lambda: scorer, timeout_s=timeout_s)
    assert net.wait(5)
    return net


# -- the combination -------------------------------------------------------------------------------------
def test_a_rule_hit_is_never_lowered_by_the_model() -> None:
    rules = triage("crushing chest pain and my left arm is numb")
    assert rules.urgency == "emergency"
    result = combine(rules, score(SELF_CARE), clinic_name=CLINIC)
    assert result.urgency == "emergency" and result.decided_by == "rules"
    assert "chest_pain" in result.red_flags and "911" in result.advice


def test_an_urgent_rule_level_is_not_lowered_either() -> None:
    rules = triage("fever 103.5 and chills")
    assert rules.urgency == "urgent"
    assert combine(rules, score(SELF_CARE)).urgency == "urgent"


def test_the_model_raises_a_message_the_rules_call_routine_to_an_emergency() -> None:
    text = "my dad feels funny since lunch, sweaty, pale and his jaw aches"
    rules = triage(text)
    assert rules.urgency != "emergency"
    result = combine(rules, score(EMERGENCY, "chest_pain", "chest_pain"), clinic_name=CLINIC)
    assert result.urgency == "emergency" and result.decided_by == "model"
    assert result.red_flags == ["chest_pain"]
    assert result.advice.startswith(f"{CLINIC}: This may be an emergency. Call 911 now")


@pytest.mark.parametrize(("category", "must_say", "must_not_say"), [
    ("suicide", "988", "911 now"),
    ("mental_health_crisis", "988", "911 now"),
    ("overdose", "1-800-222-1222", "988"),
    ("sepsis", "Call 911 now", "988"),
])
def test_a_model_emergency_gets_the_rules_module_fixed_answer_for_its_category(
        category: str, must_say: str, must_not_say: str) -> None:
    result = combine(triage("everything is just too much lately"), score(EMERGENCY, category, category))
    assert result.advice == emergency_message([RedFlag(category, "")], "")
    assert must_say in result.advice and must_not_say not in result.advice


def test_the_model_raises_a_lower_level_too_and_the_advice_follows() -> None:
    rules = triage("rash on my arm for three weeks")
    assert rules.urgency == "routine"
    result = combine(rules, score(URGENT), clinic_phone="+15555550123")
    assert result.urgency == "urgent" and result.decided_by == "model"
    assert "same-day visit" in result.advice and "(555) 555-0123" in result.advice


def test_a_model_below_the_rules_leaves_the_rules_in_charge_and_says_what_it_thought() -> None:
    rules = triage("fever 103.5 and chills")
    result = combine(rules, score({"emergency": 0.01, "urgent": 0.04, "routine": 0.9, "self_care": 0.05}))
    assert (result.urgency, result.decided_by) == ("urgent", "rules")
    assert result.reasons[-1].startswith("model: routine")


def test_thresholds_decide_the_model_level_from_cumulative_probabilities() -> None:
    probs = {"emergency": 0.3, "urgent": 0.3, "routine": 0.2, "self_care": 0.2}
    assert level_for(probs, Thresholds(0.25, 0.5, 0.5)) == "emergency"
    assert level_for(probs, Thresholds(0.35, 0.5, 0.5)) == "urgent"  # 0.3 + 0.3 >= 0.5
    assert level_for(probs, Thresholds(0.35, 0.65, 0.75)) == "routine"  # 0.8 >= 0.75
    assert level_for(probs, Thresholds(0.35, 0.65, 0.85)) == "self_care"


# -- the net in a process: background load, deadline, failure ---------------------------------------------
def test_assess_uses_the_model_once_loaded() -> None:
    text = "my husband keeps saying goodbye to everyone and gave his dog to the neighbor"
    scorer = ScriptedScorer({text: score(EMERGENCY, "suicide", "suicide")})
    result = assess(text, ready_net(scorer), clinic_name=CLINIC)
    assert (result.urgency, result.decided_by, result.red_flags) == ("emergency", "model", ["suicide"])
    assert "988" in result.advice and scorer.calls[1:] == [text]  # the first call warmed the model up at load


def test_until_the_model_is_loaded_the_rules_answer_alone() -> None:
    gate = threading.Event()
    scorer = ScriptedScorer({"x": score(EMERGENCY)})

    def slow_load() -> ScriptedScorer:
        gate.wait(5)
        return scorer

    net = TriageNet(slow_load).start()
    result = assess("x", net)
    assert result.decided_by == "rules" and result.model is None and result.model_note == "not loaded"
    gate.set()
    assert net.wait(5) and assess("x", net).urgency == "emergency"


def test_a_model_that_cannot_load_is_logged_once_and_the_rules_carry_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> ScriptedScorer:
        raise FileNotFoundError("no adapter here")

    net = TriageNet(broken)
    with caplog.at_level(logging.WARNING, logger="bot.triage.net"):
        assert net.wait(5) is False
        for _ in range(3):
            net.start()
            assert assess("crushing chest pain", net).urgency == "emergency"
            assert assess("runny nose", net).decided_by == "rules"
    warnings = [r for r in caplog.records if r.getMessage().startswith("triage.model.unavailable")]
    assert len(warnings) == 1 and "FileNotFoundError" in (net.error or "")


def test_a_model_past_its_deadline_leaves_the_rules_to_answer() -> None:
    net = ready_net(ScriptedScorer({"slow": score(EMERGENCY)}, delay_s=0.5), timeout_s=0.05)
    started = time.monotonic()
    result = assess("slow", net)
    assert time.monotonic() - started < 0.4
    assert result.decided_by == "rules" and result.model_note == "no answer in time"


def test_messages_past_their_deadline_are_not_scored_later_and_the_next_one_is_on_time() -> None:
    scorer = ScriptedScorer(delay_s=0.6)
    net = ready_net(scorer, timeout_s=0.1)
    calls_after_load = len(scorer.calls)
    for text in ("first", "second", "third"):  # each gives up after 0.1 s; the first is still being scored
        assert net.score(text) is None
    time.sleep(0.8)
    assert scorer.calls[calls_after_load:] == ["first"]  # the two that waited behind it were dropped


def test_while_a_burst_waits_for_the_model_other_work_on_the_loop_pool_goes_on() -> None:
    scorer = ScriptedScorer({"he is just not himself today": score(EMERGENCY)}, delay_s=0.05)
    net = ready_net(scorer, timeout_s=5)
    guard = RedFlagGuard("Test Clinic", net)

    async def burst() -> tuple[list[Emergency | None], float]:
        # 40 messages at once (the model needs 2 s for them all), more than the pool's threads (cores + 4)
        checks = asyncio.gather(*(guard.check("he is just not himself today" if i == 0 else f"hello {i}")
                                  for i in range(40)))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.to_thread(time.sleep, 0.01)  # another patient's database work
        waited = time.monotonic() - started
        return await checks, waited

    results, waited = asyncio.run(burst())
    assert results[0] is not None and results[0].decided_by == "model"
    assert all(r is None for r in results[1:])
    assert waited < 0.5  # not behind the messages waiting for the model
    assert asyncio.run(guard.check("i cant breathe and my lips are blue")).decided_by == "rules"


def test_the_async_check_gives_up_on_a_slow_model_and_the_rules_answer() -> None:
    net = ready_net(ScriptedScorer({"slow": score(EMERGENCY)}, delay_s=0.5), timeout_s=0.05)
    started = time.monotonic()
    assert asyncio.run(RedFlagGuard("Test Clinic", net).check("slow")) is None
    assert time.monotonic() - started < 0.4


# -- figures and thresholds ------------------------------------------------------------------------------
def test_figures_count_recall_accuracy_and_false_emergencies() -> None:
    gold = ["emergency", "emergency", "urgent", "routine", "self_care"]
    pred = ["emergency", "urgent", "emergency", "routine", "routine"]
    f = figures(gold, pred)
    assert (f["emergency_recall"], f["accuracy"], f["false_emergency_rate"]) == (0.5, 0.4, round(1 / 3, 4))
    assert (f["under_triaged"], f["over_triaged"]) == (1, 2)


def test_the_emergency_threshold_is_the_lowest_within_the_false_emergency_budget() -> None:
    gold = ["emergency"] * 10 + ["self_care"] * 90
    rules = ["self_care"] * 100
    p = [0.95] * 8 + [0.3, 0.25] + [0.28] * 4 + [0.1] * 86  # 4 of 90 at 0.28 would be 4.4 % false emergencies
    probs = [{"emergency": x, "urgent": 0.0, "routine": 0.0, "self_care": 1 - x} for x in p]
    thresholds, combined = choose_thresholds(gold, rules, probs)
    assert thresholds.emergency == 0.29
    assert combined["false_emergency_rate"] <= 0.04 and combined["emergency_recall"] == 0.9


def test_the_budget_is_for_the_false_emergencies_the_model_adds_to_the_rules_own() -> None:
    """The rules already raise 4 of 90 (4.4 %, over the budget on their own): the model still gets its 4 % on top,
    instead of being held at the ceiling where it raises almost nothing."""
    gold = ["emergency"] * 10 + ["self_care"] * 90
    rules = ["self_care"] * 10 + ["emergency"] * 4 + ["self_care"] * 86
    p = [0.95] * 8 + [0.3, 0.25] + [0.1] * 4 + [0.28] * 5 + [0.1] * 81  # 5 more at 0.28 would add 5.6 %
    probs = [{"emergency": x, "urgent": 0.0, "routine": 0.0, "self_care": 1 - x} for x in p]
    thresholds, combined = choose_thresholds(gold, rules, probs)
    assert thresholds.emergency == 0.29
    assert combined["emergency_recall"] == 0.9 and combined["false_emergencies"] == 4
