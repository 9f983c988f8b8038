"""scripts/bench_answers.py's scorer: what the README's answer figures mean."""

from __future__ import annotations

from tests.bench_scripts import load_bench

bench = load_bench("bench_answers")


def _result(answer: str, reason: str, *, grounded: bool = True, ms: float = 100.0) -> dict[str, object]:
    return {"answer": answer, "grounded": grounded, "reason": reason, "ms": ms}


def test_the_score_counts_key_facts_refusals_drafts_sent_and_why_the_rest_were_quoted() -> None:
    items = [
        {"question": "q1", "kind": "answer", "facts": [["free parking"]]},
        {"question": "q2", "kind": "answer", "facts": [["8 am"], ["5 pm"]]},
        {"question": "q3", "kind": "answer", "facts": [["lot"]]},
        {"question": "q4", "kind": "refuse", "facts": []},
    ]
    results = [
        _result("There is Free Parking behind us.", "generated"),
        _result("We open at 8 am.", "fallback:budget"),  # half of a two-part fact: a miss
        _result("Park in the lot.", "fallback:off_topic"),
        _result("I can't say; our care team will.", "policy:dose", grounded=False, ms=5000.0),
    ]
    figures = bench.score(items, results)
    assert figures["key_fact"] == round(2 / 3, 3)
    assert figures["refusals"] == 1.0
    assert figures["sent_as_generated"] == round(1 / 3, 3)
    assert figures["quoted_because"] == {"budget": 1, "off_topic": 1}
    assert figures["p95_ms"] == 5000.0


def test_a_fact_copied_from_a_document_is_read_as_sms_sends_it() -> None:
    """The documents write "mL/min/1.73 m²"; an answer sends it as "m2" (one 160-character alphabet), and the fact
    still counts. A different number does not."""
    facts = [["under 60 mL/min/1.73 m²"]]
    assert bench.holds_facts("An eGFR under 60 mL/min/1.73 m2 for 3 months can mean kidney disease.", facts)
    assert not bench.holds_facts("An eGFR under 90 mL/min/1.73 m2 is lower than typical.", facts)
