"""The load benchmark's own arithmetic: scenarios, pauses, percentiles and the table (the run itself needs a stack
and minutes; `python scripts/bench_load.py`)."""

from __future__ import annotations

import random

from tests.bench_scripts import load_bench


def test_a_scenario_is_patients_and_a_mean_pause_drawn_around_it() -> None:
    bench = load_bench("bench_load")
    scenario = bench.Scenario.parse("50:10")
    assert (scenario.patients, scenario.think_s, scenario.label) == (50, 10.0, "50p_10s")
    pauses = [scenario.pause(random.Random(i)) for i in range(500)]
    assert min(pauses) >= 5.0 and max(pauses) <= 15.0 and 9.0 < sum(pauses) / len(pauses) < 11.0
    assert bench.Scenario.parse("10").pause(random.Random(1)) == 0.0  # no pause given: a stress test


def test_open_questions_are_counted_apart_from_the_other_turns() -> None:
    bench = load_bench("bench_load")
    tally = bench.Tally()
    for turn in range(len(bench.TURNS)):
        tally.add(turn, 1.0 + turn, "web")
    assert len(tally.open) == len(bench.OPEN_QUESTIONS)
    assert sorted(tally.open) == [1.0 + t for t in bench.OPEN_QUESTIONS]
    assert len(tally.plain) == len(bench.TURNS) - len(bench.OPEN_QUESTIONS)
    assert all("bill" in bench.TURNS[t] or "ldl" in bench.TURNS[t] for t in bench.OPEN_QUESTIONS)


def test_percentiles_and_the_side_by_side_table() -> None:
    bench = load_bench("bench_load")
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 0.5) == 51.0 and bench.percentile(values, 0.95) == 95.0
    table = bench.table({"sqlite:50p_10s_plain_p95_ms": 900.0, "local:50p_10s_plain_p95_ms": 1200.0,
                         "sqlite:50p_10s_p95_ms_by_turn": {"hi": 1.0}})
    assert table.splitlines()[0] == "| figure | sqlite | local |"
    assert "| 50p_10s_plain_p95_ms | 900.0 | 1200.0 |" in table and "by_turn" not in table
