"""Reading level of the knowledge documents, sentence by sentence, and of the training answers.

    .venv/bin/python scripts/reading_level.py                      # every document, worst first
    .venv/bin/python scripts/reading_level.py knowledge/documents/labs/cbc.md --worst 10
    .venv/bin/python scripts/reading_level.py --answers            # the training answers (train + held-out)

The grade is Flesch-Kincaid (``bot.llm.metrics.flesch_kincaid_grade``), the same measure the tune report
uses. Sentences are the ones the training answers are cut from (``knowledge.training.generate``): each
section's text with tables turned into "cell: cell." rows, split at sentence ends, five words or more.
Answers are graded without their "(Source: title)" label, which is a citation rather than prose.
The goal for patients is 6th to 8th grade.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.llm.metrics import answer_text, flesch_kincaid_grade  # noqa: E402
from knowledge.training import generate  # noqa: E402

GOAL = 8.0


def document_sentences(path: Path) -> list[str]:
    sections = generate.parse_document(path.resolve(), generate.DOCUMENTS)
    return [s for section in sections for s in generate.answer_sentences(section)]


def report_documents(paths: list[Path], worst: int) -> int:
    rows = []
    for path in paths:
        sentences = document_sentences(path)
        grades = [flesch_kincaid_grade(s) for s in sentences]
        if not grades:
            continue
        rows.append((statistics.mean(grades), path, sentences, grades))
    rows.sort(key=lambda r: -r[0])
    print(f"{'mean':>5} {'<=8':>5} {'n':>4}  document")
    for mean, path, _, grades in rows:
        share = sum(g <= GOAL for g in grades) / len(grades)
        print(f"{mean:5.1f} {share:5.0%} {len(grades):4d}  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    every = [g for r in rows for g in r[3]]
    if every:
        print(f"\nall {len(every)} sentences: mean grade {statistics.mean(every):.1f}, "
              f"{sum(g <= GOAL for g in every) / len(every):.0%} at grade {GOAL:.0f} or below")
    if worst:
        pairs = sorted(((g, s) for r in rows for s, g in zip(r[2], r[3], strict=True)), key=lambda p: -p[0])
        print(f"\nhardest {worst}:")
        for g, s in pairs[:worst]:
            print(f"{g:5.1f}  {s}")
    return 0


def report_answers() -> int:
    rows = [
        json.loads(line)
        for name in ("train.jsonl", "heldout.jsonl")
        for line in (generate.HERE / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for kind in sorted({r["kind"] for r in rows}):
        grades = [flesch_kincaid_grade(answer_text(r["answer"])) for r in rows if r["kind"] == kind]
        print(f"{kind:22s} n={len(grades):4d}  mean grade {statistics.mean(grades):5.1f}  "
              f"at {GOAL:.0f} or below {sum(g <= GOAL for g in grades) / len(grades):4.0%}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="*", type=Path, help="documents (default: all of knowledge/documents)")
    parser.add_argument("--worst", type=int, default=0, help="also list the N hardest sentences")
    parser.add_argument("--answers", action="store_true", help="grade the training answers instead")
    args = parser.parse_args(argv)
    if args.answers:
        return report_answers()
    paths = args.paths or sorted(generate.DOCUMENTS.glob("*/*.md"))
    return report_documents(paths, args.worst)


if __name__ == "__main__":
    sys.exit(main())
