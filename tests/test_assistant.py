"""The Rasa assistant itself: its data validates, its story tests pass, and its NLU understands
held-out patient messages. These run the engine's own tools from .venv-rasa."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.engine.models import engine_env, ensure_model
from bot.settings import PROJECT_ROOT, Settings
from tests.bench_scripts import load_bench
from tests.e2e.stack import TEST_MODELS_DIR

ASSISTANT = PROJECT_ROOT / "bot" / "assistant"
CLINICBOT = Path(sys.executable).parent / "clinicbot"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bot.settings import load_settings

    cfg = load_settings(data_dir=tmp_path_factory.mktemp("train"))
    cfg.rasa.models_dir = TEST_MODELS_DIR
    return ensure_model(cfg)


def test_rasa_data_validate_is_clean(settings: Settings) -> None:
    result = subprocess.run(
        [str(settings.rasa_python.parent / "rasa"), "data", "validate", "--domain", ".", "--data", "data",
         "--config", "config.yml"],
        cwd=ASSISTANT, capture_output=True, text=True, env=engine_env(settings), timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    output = result.stdout + result.stderr
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    # The only warning allowed: a response sent by a custom action rather than by a story step.
    action_sources = "\n".join(p.read_text() for p in (PROJECT_ROOT / "actions").glob("*.py"))
    for line in warnings:
        match = re.search(r"The utterance '(\w+)' is not used in any story or rule", line)
        assert match, line
        assert f'"{match.group(1)}"' in action_sources, f"{match.group(1)} is used nowhere"


def test_story_tests_pass(settings: Settings, model: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(settings.rasa_python.parent / "rasa"), "test", "core", "--stories", str(ASSISTANT / "tests"),
         "--model", str(model), "--out", str(tmp_path / "results"), "--fail-on-prediction-errors"],
        cwd=tmp_path, capture_output=True, text=True, env=engine_env(settings), timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_parse_understands_held_out_patient_messages(settings: Settings, model: Path) -> None:
    cases = [json.loads(line) for line in (PROJECT_ROOT / "tests/data/nlu_holdout.jsonl").read_text().splitlines()
             if line.strip()]
    stdin = "\n".join(c["text"] for c in cases) + "\n"
    result = subprocess.run([str(CLINICBOT), "parse", "--model", str(model)], input=stdin, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(cases)  # one line out per line in, nothing else on stdout
    assert [r["text"] for r in rows] == [c["text"] for c in cases]
    assert all(set(r) >= {"text", "intent", "confidence", "entities"} for r in rows)
    correct = sum(r["intent"] == c["intent"] for r, c in zip(rows, cases, strict=True))
    accuracy = correct / len(cases)
    misses = Counter(c["intent"] for r, c in zip(rows, cases, strict=True) if r["intent"] != c["intent"])
    print(f"holdout intent accuracy {accuracy:.3f} over {len(cases)} messages; misses by intent {dict(misses)}")
    assert accuracy >= 0.85


def test_off_topic_messages_get_the_scope_reply_and_clinic_messages_are_kept(settings: Settings, model: Path) -> None:
    """On the project's own set of off-topic and clinic messages (none of them trained on), through the engine
    and the actions' scope rule (scripts/bench_scope.py): off-topic questions about books, travel, cars, music,
    phone plans... get the scope reply, and clinic messages are not turned away."""
    bench = load_bench("bench_scope")
    results = bench.evaluate(PROJECT_ROOT / "tests/data/scope_dev.jsonl", [f"model={model}"], ["stock", "clinicbot"])
    print("\n" + bench.table(results))
    figures = results["model/clinicbot"]
    assert figures["off_topic_recall"] >= 0.9, figures["off_topic_sent_to"]
    assert figures["in_scope_kept"] >= 0.95, figures["scope_reply_by_intent"]
    assert figures["in_scope_intent_accuracy"] >= 0.9, figures["misses_by_intent"]


def test_parse_extracts_provider_entities(settings: Settings, model: Path) -> None:
    result = subprocess.run([str(CLINICBOT), "parse", "--model", str(model)],
                            input="can i book a physical with dr okafor next week\n\n",
                            capture_output=True, text=True, timeout=600, check=False)
    first, blank = (json.loads(line) for line in result.stdout.splitlines())
    assert first["intent"] == "book_appointment"
    assert {"entity": "provider", "value": "okafor"}.items() <= next(
        e for e in first["entities"] if e["entity"] == "provider").items()
    assert blank["intent"] is None and blank["fallback"] is True
