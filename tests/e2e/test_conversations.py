"""Scripted patient conversations (tests/data/blind/conversations.yml, written from the product's description
only) through the real stack, web and SMS, each asserting what the patient sees. The module prints the table of
every conversation with its result and turn latencies (``pytest -s``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.e2e.conversations import Result, Runner, load_scripts, stack_env, table
from tests.e2e.stack import Stack, midday_zone
from tests.fake_twilio import FakeTwilio

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCRIPTS = load_scripts()
RESULTS: list[Result] = []
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
FLOOR = 0.60


def test_scripted_conversations_pass_at_least_the_recorded_share(runner: Runner) -> None:
    for script in SCRIPTS:
        RESULTS.append(runner.run(script))
    passed = sum(r.passed for r in RESULTS) / len(RESULTS)
    print("\n" + table(RESULTS))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the table, for CI's record
    (ARTIFACTS / "conversations.txt").write_text(table(RESULTS) + "\n", encoding="utf-8")
    failures = "\n".join(f"{r.name}: {r.failure()}" for r in RESULTS if not r.passed)
    assert passed >= FLOOR, f"{passed:.2f} of the conversations passed (floor {FLOOR}):\n{failures}"
