"""The fine-tuning examples: enough of them, a stable held-out split, grounded numbers, no doses, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.llm import metrics
from knowledge.guard import fits_sms
from knowledge.prompt import format_context
from knowledge.sentences import copied_from
from knowledge.training import generate
from knowledge.types import Passage

TRAINING = Path(generate.__file__).resolve().parent


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (TRAINING / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def train() -> list[dict]:
    return _rows("train.jsonl")


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    return _rows("heldout.jsonl")


@pytest.fixture(scope="module")
def rebuilt() -> list[dict]:
    """What the generator makes from the documents now (with the real embedding model choosing the sentences)."""
    return generate.build_examples(generate.load_sections(), "Maple Street Family Medicine")


def _context(row: dict) -> str:
    return format_context([Passage(score=0.0, **p) for p in row["passages"]])


def test_at_least_300_examples_with_a_fifth_held_out(train: list[dict], heldout: list[dict]) -> None:
    total = len(train) + len(heldout)
    assert total >= 300
    assert abs(len(heldout) / total - 0.2) <= 0.01, f"{len(heldout)} of {total} held out"
    assert not {r["id"] for r in train} & {r["id"] for r in heldout}
    for kind in ("grounded", "refusal_dose", "refusal_diagnosis", "refusal_out_of_scope"):
        assert any(r["kind"] == kind for r in heldout), f"no held-out {kind} example"


@pytest.mark.slow
def test_held_out_sections_are_never_trained_on(train: list[dict], heldout: list[dict], rebuilt: list[dict]) -> None:
    """A held-out question must be about a section the adapter did not see, not a paraphrase of a training one."""
    trained = {generate.split_key(r) for r in train}
    held = {generate.split_key(r) for r in heldout}
    assert held and not trained & held
    assert generate.heldout_keys(rebuilt) == held


def test_split_takes_whole_sections_up_to_a_fifth() -> None:
    examples = [
        {"id": f"labs/x.md#Section {s}#{n}", "kind": "grounded"} for s in range(20) for n in range(1 + s % 3)
    ] + [{"id": f"refusal:dose:q{n}", "kind": "refusal_dose"} for n in range(10)]
    held = generate.heldout_keys(examples)
    grounded = [e for e in examples if e["kind"] == "grounded"]
    held_grounded = [e for e in grounded if generate.split_key(e) in held]
    assert 0.2 * len(grounded) <= len(held_grounded) < 0.2 * len(grounded) + 3  # up to one section over
    assert sum(e["kind"] == "refusal_dose" and generate.split_key(e) in held for e in examples) == 2
    assert generate.heldout_keys(list(reversed(examples))) == held  # not the order of the files


@pytest.mark.slow
def test_files_match_what_the_generator_makes_from_the_documents(train: list[dict], heldout: list[dict],
                                                                 rebuilt: list[dict]) -> None:
    # whole examples, not only ids: an edited sentence changes an answer or a passage under the same id
    assert sorted(rebuilt, key=lambda r: r["id"]) == sorted(train + heldout, key=lambda r: r["id"]), (
        "knowledge/training is stale: run python -m knowledge.training.generate"
    )


def test_every_number_in_an_answer_appears_in_its_context(train: list[dict], heldout: list[dict]) -> None:
    ungrounded = [r["id"] for r in train + heldout if not metrics.numbers_grounded(r["answer"], _context(r))]
    assert ungrounded == []


def test_no_answer_gives_a_medicine_dose(train: list[dict], heldout: list[dict]) -> None:
    assert [r["answer"] for r in train + heldout if metrics.has_dose(r["answer"])] == []
    assert metrics.has_dose("Take 200 mg twice a day") and not metrics.has_dose("70 to 99 mg/dL is normal")


def test_refusals_for_doses_diagnosis_and_out_of_scope(train: list[dict], heldout: list[dict]) -> None:
    rows = train + heldout
    for kind in ("refusal_dose", "refusal_diagnosis", "refusal_out_of_scope"):
        mine = [r for r in rows if r["kind"] == kind]
        assert len(mine) >= 15, kind
        assert all(metrics.is_refusal(r["answer"]) for r in mine), kind
    assert not any(metrics.is_refusal(r["answer"]) for r in rows if r["kind"] == "grounded")


def test_grounded_answers_copy_their_chosen_sentences_and_fit_in_sms(train: list[dict], heldout: list[dict]) -> None:
    """The model learns to compose from the chosen sentences: every answer sentence is a context sentence word for
    word (so the answer check's copy test passes by construction), the source line is added by the code, and the
    answer with it fits the SMS budget as the channel splits it. A third of the contexts carry a sentence the
    answer leaves out."""
    grounded = [r for r in train + heldout if r["kind"] == "grounded"]
    for row in grounded:
        passages = [Passage(score=0.0, **p) for p in row["passages"]]
        assert copied_from(row["answer"], passages) is not None, row["id"]
        assert "Source" not in row["answer"]
        assert fits_sms(f"{row['answer']}\nSource: {row['passages'][0]['title']}", 3), row["id"]
    dropping = [r for r in grounded if len(r["answer"]) < len(" ".join(p["text"] for p in r["passages"]))]
    assert 0.2 <= len(dropping) / len(grounded) <= 0.5


def test_examples_are_chat_format_with_the_answering_prompt(train: list[dict]) -> None:
    row = train[0]
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert row["messages"][-1]["content"] == row["answer"]
    assert row["question"] in row["messages"][1]["content"]


def test_answers_are_plain_language_for_patients(train: list[dict], heldout: list[dict]) -> None:
    """At most 8th grade on average (Flesch-Kincaid, the source label left out); nearly all at 8 or below and
    none far above it. Before the documents were rewritten, grounded answers averaged 10.0, a third at 8 or below."""
    for kind in ("grounded", "refusal_dose", "refusal_diagnosis", "refusal_out_of_scope"):
        grades = [metrics.flesch_kincaid_grade(metrics.answer_text(r["answer"])) for r in train + heldout
                  if r["kind"] == kind]
        assert sum(grades) / len(grades) <= 8.0, kind
    grounded = [metrics.flesch_kincaid_grade(metrics.answer_text(r["answer"])) for r in train + heldout
                if r["kind"] == "grounded"]
    assert sum(g <= 8.0 for g in grounded) / len(grounded) >= 0.9
    assert max(grounded) <= 11.0  # the documents' own sentences, each held to its grade by the documents' test
