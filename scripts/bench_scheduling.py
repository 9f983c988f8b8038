"""How well day and time preferences are understood: exact-match share on a set of scheduling phrases.

    .venv/bin/python scripts/bench_scheduling.py                      # the blind set (aggregate figures only)
    .venv/bin/python scripts/bench_scheduling.py --cases my.jsonl     # another set; --misses lists its misses
    PYTHONPATH=/tmp/base .venv/bin/python scripts/bench_scheduling.py # score an older checkout of the parser

Each line of a set is ``{"text", "now", "date_from", "date_to", "time_from", "time_to"}``: ``now`` is the
clinic's local time (naive ISO), dates are ISO days, times are ``HH:MM``, ``"open"`` or ``"close"`` (the
clinic's opening or closing time that day), and ``null`` means unconstrained. A phrase counts as exact when
both the date range and the time window equal the expected ones.

The blind set is never printed: ``--misses`` refuses it. Per-kind counts group the phrases by the shape of
their expected answer (a day, a range of days, a time, a window...), not by their words.

The scorer reads the parser through one adapter, so it also scores the parser before the rewrite
(``bot.scheduling.timeparse.TimePreference``, with its two-week default window and its hour around a clock time).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "tests" / "data" / "blind" / "scheduling_blind.jsonl"
FIELDS = ("date_from", "date_to", "time_from", "time_to")
Row = dict[str, str | None]


def _fmt_time(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return f"{value:%H:%M}"


def _fmt_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def adapt(pref: Any, now: datetime) -> Row | None:
    """The date range and time window a parser result stands for (None when the phrase was not understood)."""
    if pref is None:
        return None
    if hasattr(pref, "date_from"):  # the current Preference
        return {"date_from": _fmt_date(pref.date_from), "date_to": _fmt_date(pref.date_to),
                "time_from": _fmt_time(pref.time_from), "time_to": _fmt_time(pref.time_to)}
    return _adapt_old(pref, now)


def _adapt_old(pref: Any, now: datetime) -> Row:
    """The parser before the rewrite: a search window (earliest, latest) and a clock time it searched around."""
    if pref.any_time:
        return dict.fromkeys(FIELDS)
    tz = pref.earliest.tzinfo
    earliest, latest = pref.earliest.astimezone(tz), pref.latest.astimezone(tz)
    local_now = now.replace(tzinfo=tz)
    row: Row = {"date_from": earliest.date().isoformat(), "date_to": latest.date().isoformat()}
    if earliest.date() == local_now.date() and latest.date() == local_now.date() + timedelta(days=14):
        row["date_from"] = row["date_to"] = None  # its default window: no day was given
    if pref.around is not None:
        row["time_from"] = row["time_to"] = _fmt_time(pref.around)
        return row
    low = None if earliest == local_now else earliest.time()  # clamped to now: the start it meant is lost
    high = latest.time()
    row["time_from"] = "open" if low is None or low == clock(0, 0) else _fmt_time(low)
    row["time_to"] = "close" if high == clock(23, 59) else _fmt_time(high)
    if row["time_from"] == "open" and row["time_to"] == "close":
        row["time_from"] = row["time_to"] = None
    return row


def kind(expected: Row) -> str:
    """The shape of the expected answer: what was constrained, and whether the days are one or a range."""
    if expected["date_from"] is None:
        days = "no day"
    elif expected["date_from"] == expected["date_to"]:
        days = "one day"
    else:
        days = "days range"
    if expected["time_from"] is None:
        times = "no time"
    elif expected["time_from"] == expected["time_to"]:
        times = "exact time"
    else:
        times = "time window"
    return f"{days} + {times}"


def score(cases: list[dict[str, Any]]) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Row | None]]]:
    from bot.scheduling.timeparse import parse_preference
    from bot.settings import get_settings

    tz = get_settings().clinic.tz
    kinds: Counter[str] = Counter()
    kinds_exact: Counter[str] = Counter()
    exact = dates_ok = times_ok = understood = 0
    misses: list[tuple[dict[str, Any], Row | None]] = []
    started = time.perf_counter()
    for case in cases:
        now = datetime.fromisoformat(case["now"])
        local_now = now if now.tzinfo else now.replace(tzinfo=tz)
        got = adapt(parse_preference(case["text"], local_now, tz), local_now.replace(tzinfo=None))
        expected = {k: case[k] for k in FIELDS}
        group = kind(expected)
        kinds[group] += 1
        understood += got is not None
        date_hit = got is not None and all(got[k] == expected[k] for k in FIELDS[:2])
        time_hit = got is not None and all(got[k] == expected[k] for k in FIELDS[2:])
        dates_ok += date_hit
        times_ok += time_hit
        if date_hit and time_hit:
            exact += 1
            kinds_exact[group] += 1
        else:
            misses.append((case, got))
    elapsed = time.perf_counter() - started
    n = max(1, len(cases))
    figures: dict[str, Any] = {
        "phrases": len(cases), "exact share": exact / n, "date range right": dates_ok / n,
        "time window right": times_ok / n, "understood (not 'didn't get that')": understood / n,
        "parse ms per phrase (mean)": 1000 * elapsed / n,
        "kinds": {k: f"{kinds_exact[k]}/{kinds[k]}" for k in sorted(kinds)},
    }
    return figures, misses


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run() -> dict[str, Any]:
    """The blind set's figures, for scripts/bench.py."""
    figures, _ = score(load(BLIND))
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=BLIND)
    parser.add_argument("--misses", action="store_true", help="list the misses (not allowed on the blind set)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.misses and args.cases.resolve().parent == BLIND.parent:
        print("the blind set's items are never printed; score it, study your own set", file=sys.stderr)
        return 2
    figures, misses = score(load(args.cases))
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"set: {args.cases.relative_to(ROOT) if args.cases.is_relative_to(ROOT) else args.cases}")
    print("| figure | value |\n| --- | --- |")
    for key, value in figures.items():
        if key == "kinds":
            continue
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"| {key} | {shown} |")
    print("\n| kind of expected answer | exact |\n| --- | --- |")
    for key, value in figures["kinds"].items():
        print(f"| {key} | {value} |")
    if args.misses:
        for case, got in misses:
            print(json.dumps({"text": case["text"], "now": case["now"],
                              "expected": {k: case[k] for k in FIELDS}, "got": got}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
