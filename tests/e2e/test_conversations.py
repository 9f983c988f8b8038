"""Scripted patient conversations (tests/data/blind/conversations.yml, written from the product's description
only) through the real stack, web and SMS, each asserting what the patient sees. The module prints the table of
every conversation with its result and turn latencies (``pytest -s``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conversations import Result, Runner, load_scripts, stack_env, table
from tests.e2e.stack import Stack, midday_zone
from tests.fake_twilio import FakeTwilio

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCRIPTS = load_scripts()
RESULTS: list[Result] = []


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    fake = FakeTwilio().start()
    stack = Stack(Path(tmp_path_factory.mktemp("conversations")) / "data")
    stack.extra_env = {**stack_env(fake, stack.url), "CLINICBOT_CLINIC__TIMEZONE": midday_zone()}
    stack.start()
    running = Runner(stack.url, f"sqlite:///{stack.data_dir / 'clinic.db'}", fake, stack.url)
    yield running
    running.close()
    stack.stop()
    fake.stop()
    print("\n" + table(RESULTS))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s["name"] for s in SCRIPTS])
def test_conversation(runner: Runner, script: dict[str, Any]) -> None:
    result = runner.run(script)
    RESULTS.append(result)
    assert result.passed, result.failure()
