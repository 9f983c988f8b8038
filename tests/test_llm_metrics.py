"""Answer measures used in the tuning report, and the backend factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.llm import metrics
from bot.llm.factory import clear_cache, get_llm
from bot.settings import load_settings


def test_numbers_grounded_checks_every_number() -> None:
    context = "Please allow 2 business days. Call +1 555-555-0123."
    assert metrics.numbers_grounded("It takes 2 business days.", context)
    assert not metrics.numbers_grounded("It takes 3 business days.", context)
    assert metrics.numbers_grounded("No numbers here.", context)


def test_rouge_l_rewards_the_same_words_in_order() -> None:
    ref = "Parking is free behind the building"
    assert metrics.rouge_l(ref, ref) == pytest.approx(1.0)
    assert metrics.rouge_l("Parking is free", ref) > metrics.rouge_l("The weather is nice", ref)
    assert metrics.rouge_l("", ref) == 0.0


def test_reading_grade_is_lower_for_plain_language() -> None:
    plain = "Call us. We can help you. The lot is free."
    dense = "Comprehensive metabolic evaluation necessitates considerable physiological interpretation."
    assert metrics.flesch_kincaid_grade(plain) < 6 < metrics.flesch_kincaid_grade(dense)


def test_reading_grade_is_of_the_answer_not_its_source_label() -> None:
    answer = "Parking is free behind the building."
    for labelled in (f"{answer} (Source: Directions and parking)", f"{answer}\nSource: Directions and parking",
                     f"{answer}\nSources: Directions and parking; Office hours and contact information"):
        assert metrics.answer_text(labelled) == answer
    summary = metrics.summarize([f"{answer} (Source: Comprehensive metabolic panel interpretation)"], [answer], [""])
    assert summary["reading_grade"] == metrics.flesch_kincaid_grade(answer)


def test_refusal_detection() -> None:
    assert metrics.is_refusal("I can't give medicine doses.")
    assert metrics.is_refusal("I will pass your question to the front desk.")
    assert not metrics.is_refusal("Parking is free. (Source: Directions and parking)")


def test_summary_compares_predictions_with_references() -> None:
    summary = metrics.summarize(["It takes 2 days.", "I can't give doses."], ["It takes 2 days.", "Sorry."], ["2 days", ""])
    assert summary["n"] == 2
    assert summary["numbers_grounded"] == 1.0
    assert summary["refusal_accuracy"] == 0.5


def test_factory_returns_one_backend_per_configuration(tmp_path: Path) -> None:
    clear_cache()
    fake = load_settings(data_dir=tmp_path, llm={"backend": "fake"})
    remote = load_settings(data_dir=tmp_path, llm={"backend": "openai", "openai_model": "m"})
    assert get_llm(fake) is get_llm(fake)
    assert get_llm(fake).name == "fake"
    assert get_llm(remote).name == "openai:m"
    assert get_llm(remote) is not get_llm(fake)
    clear_cache()
