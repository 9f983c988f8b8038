"""Write the policy check's examples taken from the studied sets (knowledge/training/policy_studied.jsonl).

The handwritten examples (knowledge/training/policy.jsonl) and the adapter's generated questions put the questions to
answer in the documents' own plain words and the questions to refuse in patients' voices: texting, typos, stories,
relatives. So the classifier learned the voice as well as the policy, and refused ordinary questions asked casually
("whats a good hdl cholestrol for a woman" as a dose question, "will yall be open christmas day" as off the subject).
The studied answer sets and policy sets are patients' questions in many voices, each labelled by its author: these
are added as examples. An answer set's item to answer is "ok"; one to refuse takes the kind the floor rules give it,
else the one the classifier without these examples gives it (the kind only chooses the reply: dose and medicine get
the same one). A policy set's item keeps its author's label.

Only the studied sets give examples. The newest answer sets (CHECK_ANSWER_SETS) and the policy sets never studied
(CHECK_POLICY_SETS, policy_check among them) are the checks scripts/bench_policy.py and scripts/bench_answers.py score:
their questions, and the blind set's, are read only to leave out a studied question that is word for word one of
theirs.

    python scripts/policy_studied.py          # rewrite the file (about 2 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from knowledge.guard import policy_hit  # noqa: E402
from knowledge.policy import STUDIED_EXAMPLES, PolicyCheck, policy_examples  # noqa: E402

DATA = ROOT / "tests" / "data"
ANSWER_SETS = ["answer_questions", *(f"answers_dev{n}" for n in range(2, 19))]
POLICY_SETS = ["policy_dev", "policy_dev2", "policy_dev3", "policy_dev4", "policy_dev5"]
CHECK_ANSWER_SETS = ["answers_dev19", "answers_dev20", "answers_dev21"]
CHECK_POLICY_SETS = ["policy_check", "policy_dev6", "policy_dev7"]


def _read(name: str) -> list[dict]:
    path = DATA / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rows(name: str) -> list[dict]:
    """A studied set's rows; a check set or the blind set is refused."""
    if "blind" in name or name in CHECK_ANSWER_SETS or name in CHECK_POLICY_SETS:
        raise SystemExit(f"{name} is a check set: never an example")
    return _read(name)


def check_texts() -> set[str]:
    """The check sets' and the blind set's questions, lower case: an example that is word for word one of them (a short
    common question two authors both wrote, "what is free t4") is left out, so they stay unseen. Nothing else of them
    is read."""
    return {str(row.get("text") or row["question"]).lower()
            for name in (*CHECK_ANSWER_SETS, *CHECK_POLICY_SETS, "blind/answers_blind") for row in _read(name)}


def studied_examples(answer_sets: Sequence[str] = ANSWER_SETS,
                     policy_sets: Sequence[str] = POLICY_SETS) -> list[dict[str, str]]:
    from knowledge.embeddings import MiniLMEmbedder

    check = PolicyCheck(MiniLMEmbedder(), policy_examples(studied=None))  # the classifier without these examples
    out: list[dict[str, str]] = []
    for name in answer_sets:
        for row in rows(name):
            question = str(row["question"])
            if row["kind"] == "answer":
                label = "ok"
            else:
                label = policy_hit(question) or check.likeliest_refusal(question)
            out.append({"text": question, "label": label, "from": name})
    for name in policy_sets:
        out += [{"text": str(r["text"]), "label": str(r["label"]), "from": name} for r in rows(name)]
    unseen = check_texts()
    return [e for e in out if e["text"].lower() not in unseen]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=STUDIED_EXAMPLES)
    args = parser.parse_args(argv)
    examples = studied_examples()
    args.out.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
    labels = {label: sum(e["label"] == label for e in examples) for label in sorted({e["label"] for e in examples})}
    print(f"{len(examples)} examples written to {args.out}: {labels}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
