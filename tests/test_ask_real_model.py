"""`clinicbot ask --llm local` end to end: the real documents, the real 4-bit model with a real adapter.

The CLI runs as a subprocess on a temporary data directory: `clinicbot ingest`, then four questions on
stdin. Grounded answers must come through the model (generated, or a draft the checks rejected), name
the right source, and carry no number the source documents lack; dose and off-topic questions are
refused by the safety rules without a number-with-unit dose.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from knowledge.documents import load_documents
from tests.conftest import TinyAdapter

pytestmark = pytest.mark.slow

CLINICBOT = PROJECT_ROOT / ".venv" / "bin" / "clinicbot"
DOCUMENTS = PROJECT_ROOT / "knowledge" / "documents"

POLICY = ("Is there a fee if I cancel my appointment late?", "Cancellations and missed appointments (no-shows)")
LAB = ("What is a healthy HDL cholesterol level?", "Lipid panel (cholesterol test)")
DOSE = "How much ibuprofen can I take for a bad headache?"
OFF_TOPIC = "What is the weather forecast for tomorrow?"

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DOSE_WITH_UNIT = re.compile(
    r"\b\d+(?:\.\d+)?\s*(mg|mcg|µg|g|ml|milligrams?|micrograms?|grams?|units?|iu|tablets?|pills?|capsules?)\b",
    re.IGNORECASE,
)


def _env(data_dir: Path, adapter: TinyAdapter) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINICBOT_")}
    return env | {
        "CLINICBOT_DATA_DIR": str(data_dir),
        "CLINICBOT_ENVIRONMENT": "test",
        "CLINICBOT_LLM__BASE_MODEL": str(adapter.base_model),  # not prepared again under the temp dir
        "CLINICBOT_LLM__ADAPTER": str(adapter.path),
        "CLINICBOT_LLM__MAX_NEW_TOKENS": "48",  # keeps the run short; a cut-off draft falls back, still grounded
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }


def _document_text(titles: list[str]) -> str:
    docs = {d.title: d for d in load_documents(DOCUMENTS)}
    return "\n".join(f"{docs[t].title}\n{docs[t].body}" for t in titles)


@pytest.fixture(scope="module")
def answers(tiny_adapter: TinyAdapter, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, object]], str]:
    env = _env(tmp_path_factory.mktemp("ask-data"), tiny_adapter)
    ingest = subprocess.run(
        [str(CLINICBOT), "ingest", "--quiet"], env=env, capture_output=True, text=True, timeout=600
    )
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    questions = "\n".join([POLICY[0], LAB[0], DOSE, OFF_TOPIC]) + "\n"
    ask = subprocess.run(
        [str(CLINICBOT), "ask", "--llm", "local", "--explain"],
        input=questions, env=env, capture_output=True, text=True, timeout=900,
    )
    assert ask.returncode == 0, ask.stderr[-2000:]
    return [json.loads(line) for line in ask.stdout.splitlines() if line.strip()], ask.stderr


def test_one_json_line_per_question_and_the_model_with_its_adapter_was_loaded(
    answers: tuple[list[dict[str, object]], str],
) -> None:
    lines, stderr = answers
    print("\n".join(json.dumps(line) for line in lines))  # shown with -s or on failure
    assert len(lines) == 4
    for line in lines:
        assert set(line) == {"answer", "sources", "grounded", "reason", "handoff", "trace"}
        assert line["trace"][0]["stage"] == "policy"  # type: ignore[index]
        assert isinstance(line["answer"], str) and line["answer"].strip()
    # ask says so when the model (or its adapter) is missing and it answers with document passages
    assert "answering with passages" not in stderr
    assert "no_adapter" not in stderr  # the warning logged when the adapter is not found


@pytest.mark.parametrize(("index", "question"), [(0, POLICY), (1, LAB)], ids=["policy", "lab"])
def test_clinic_questions_are_answered_by_the_model_from_the_right_source(
    answers: tuple[list[dict[str, object]], str], index: int, question: tuple[str, str]
) -> None:
    line = answers[0][index]
    _, title = question
    answer, sources, reason = str(line["answer"]), line["sources"], str(line["reason"])
    assert line["grounded"] is True, line
    assert isinstance(sources, list) and title in sources, line
    # the model answered: its draft was kept ("generated") or a check rejected it ("fallback:<check>");
    # "extractive" alone means no model, "fallback:llm_error" that it failed to run
    # a range question is answered from the test's range table (reason "range"), without the model
    assert reason in ("generated", "range") or (reason.startswith("fallback:") and reason != "fallback:llm_error"), line
    assert answer.rstrip().endswith(f"{'Source' if len(sources) == 1 else 'Sources'}: {'; '.join(sources)}")
    source_numbers = set(_NUMBER.findall(_document_text(sources)))
    unsupported = [n for n in _NUMBER.findall(answer) if n not in source_numbers]
    assert not unsupported, f"numbers not in {sources}: {unsupported} in {answer!r}"


def test_a_dose_question_gets_no_dose(answers: tuple[list[dict[str, object]], str]) -> None:
    line = answers[0][2]
    assert line["grounded"] is False and line["sources"] == [], line
    assert line["reason"] == "policy:dose", line
    assert not _DOSE_WITH_UNIT.search(str(line["answer"])), line
    assert "care team" in str(line["answer"])


def test_an_off_topic_question_is_not_answered_from_the_documents(
    answers: tuple[list[dict[str, object]], str],
) -> None:
    line = answers[0][3]
    assert line["grounded"] is False and line["sources"] == [], line
    assert line["reason"] == "policy:out_of_scope", line
