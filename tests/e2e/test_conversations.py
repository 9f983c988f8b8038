"""Scripted patient conversations (tests/data/blind/conversations.yml, written from the product's description
only) through the real stack, web and SMS, each asserting what the patient sees. The module prints the table of
every conversation with its result and turn latencies (``pytest -s``). The project's conversations
(tests/data/conversations_project.yml: blind ones whose misses led to a fix, moved out of the blind set) run
beside them and must all pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.e2e.conversations import PROJECT_SCRIPTS, Result, Runner, load_scripts, stack_env, table
from tests.e2e.stack import Stack, midday_zone
from tests.fake_twilio import FakeTwilio

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCRIPTS = load_scripts()
PROJECT = load_scripts(PROJECT_SCRIPTS)
ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    fake = FakeTwilio().start()
    stack = Stack(Path(tmp_path_factory.mktemp("conversations")) / "data")
    stack.extra_env = {**stack_env(fake, stack.url), "CLINICBOT_CLINIC__TIMEZONE": midday_zone()}
    stack.start()
    running = Runner(stack.url, f"sqlite:///{stack.data_dir / 'clinic.db'}", fake, stack.url, stack.extra_env)
    yield running
    running.close()
    stack.stop()
    fake.stop()


# The share of conversations that must pass. The scripts were written from the product's description by
# someone who never saw the code (a blind set), so they are a measurement first: this floor is the figure on
# record in README, and a change that loses a conversation which passed fails CI. Raise it as fixes land.
FLOOR = 0.65


def test_scripted_conversations_pass_at_least_the_recorded_share(runner: Runner) -> None:
    blind: list[Result] = [runner.run(script) for script in SCRIPTS]
    project: list[Result] = [runner.run(script) for script in PROJECT]
    report = f"blind set\n{table(blind)}\n\nproject set\n{table(project)}"
    print("\n" + report)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the tables, for CI's record
    (ARTIFACTS / "conversations.txt").write_text(report + "\n", encoding="utf-8")
    passed = sum(r.passed for r in blind) / len(blind)
    failures = "\n".join(f"{r.name}: {r.failure()}" for r in blind + project if not r.passed)
    assert passed >= FLOOR, f"{passed:.2f} of the blind conversations passed (floor {FLOOR}):\n{failures}"
    assert all(r.passed for r in project), f"a project conversation failed:\n{failures}"
