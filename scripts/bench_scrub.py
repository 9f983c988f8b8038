"""Benchmark and quality of the PHI scrubber over tests/data/phi_messages.jsonl.

    .venv/bin/python scripts/bench_scrub.py          # prints a summary; --json for the raw dict

``run()`` returns the numbers as a dict for scripts/bench.py. The same quality measure is used by
tests/test_scrubber.py: an identifier counts as removed when neither it nor any of its words
(two characters or more, leaving out street words such as "st" or "apt") is left in the output,
unless that word also appears elsewhere in the message; a clinical term counts as kept when it is
still in the output exactly as written.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "phi_messages.jsonl"
# The demo clinic's allow-list (config.yml phi.allow_list); the test set mentions these names.
ALLOW_LIST = (
    "Maple Street Family Medicine",
    "Maple Street",
    "Anika Patel",
    "Dr. Patel",
    "Chidi Okafor",
    "Dr. Okafor",
    "Lena Nguyen",
)
STREET_WORDS = frozenset(
    [
        "st",
        "street",
        "apt",
        "ave",
        "avenue",
        "dr",
        "drive",
        "blvd",
        "ct",
        "unit",
        "po",
        "box",
        "rd",
        "road",
        "ln",
        "lane",
        "suite",
        "ste",
    ]
)


@dataclass(frozen=True)
class Case:
    text: str
    phi: tuple[str, ...]
    keep: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    leaked: tuple[str, ...]  # identifiers not fully removed
    lost: tuple[str, ...]  # clinical terms that did not survive


def load_cases(path: Path = CASES) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(Case(row["text"], tuple(row["phi"]), tuple(row["keep"])))
    return cases


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def judge(case: Case, scrubbed: str) -> Outcome:
    rest = case.text.lower()
    for item in case.phi:
        rest = rest.replace(item.lower(), " ")
    elsewhere = set(_words(rest))
    out_words = set(_words(scrubbed))
    leaked = []
    for item in case.phi:
        words = [w for w in _words(item) if len(w) >= 2 and w not in STREET_WORDS and w not in elsewhere]
        if item.lower() in scrubbed.lower() or any(w in out_words for w in words):
            leaked.append(item)
    lost = [term for term in case.keep if term not in scrubbed]
    return Outcome(tuple(leaked), tuple(lost))


def run(path: Path = CASES) -> dict[str, Any]:
    """Load the scrubber, scrub every message once, return timing and quality."""
    from bot.phi import get_scrubber

    started = time.perf_counter()
    scrubber = get_scrubber(ALLOW_LIST)
    scrubber.scrub("warm-up: this is jo, 555-555-0100")
    load_s = time.perf_counter() - started

    cases = load_cases(path)
    times: list[float] = []
    outcomes: list[Outcome] = []
    for case in cases:
        t0 = time.perf_counter()
        scrubbed = scrubber.scrub(case.text)
        times.append((time.perf_counter() - t0) * 1000)
        outcomes.append(judge(case, scrubbed))
    identifiers = sum(len(c.phi) for c in cases)
    terms = sum(len(c.keep) for c in cases)
    leaked = sum(len(o.leaked) for o in outcomes)
    lost = sum(len(o.lost) for o in outcomes)
    ordered = sorted(times)
    return {
        "messages": len(cases),
        "identifiers": identifiers,
        "clinical_terms": terms,
        "recall": (identifiers - leaked) / identifiers if identifiers else 1.0,
        "retention": (terms - lost) / terms if terms else 1.0,
        "median_ms": statistics.median(times),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "messages_per_s": len(times) / (sum(times) / 1000),
        "load_s": load_s,
        "leaked": [item for o in outcomes for item in o.leaked],
        "lost": [term for o in outcomes for term in o.lost],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--cases", type=Path, default=CASES, help="a JSONL file of labelled messages")
    args = parser.parse_args(argv)
    result = run(args.cases)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"messages {result['messages']}  identifiers {result['identifiers']}  "
        f"clinical terms {result['clinical_terms']}"
    )
    print(f"recall {result['recall']:.3f}  retention {result['retention']:.3f}")
    print(
        f"median {result['median_ms']:.1f} ms  p95 {result['p95_ms']:.1f} ms  "
        f"throughput {result['messages_per_s']:.0f} msg/s  (load {result['load_s']:.1f} s)"
    )
    # Identifiers that leaked are shown as counts only: the set is synthetic, but habits matter.
    if result["leaked"] or result["lost"]:
        print(f"leaked {len(result['leaked'])}, lost {len(result['lost'])} (see --json)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
