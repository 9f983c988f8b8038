"""Planted PHI reaches no log file: a whole conversation through the real processes (gateway, Rasa engine,
action server), with the action server frozen in the middle (the engine times out and the gateway
retries) and then killed (the engine's action call fails with an exception), then every log file read.

The stack runs with Sanic's response timeout at 4 s, so the engine gives up on the frozen action
server quickly: the path that, before the fix, wrote the whole conversation record into engine.log.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What a patient and a relative might type; each kind leaked from the old scrubber.
MESSAGES = [
    "hi this is Jordan Demo, my birthday is 01/01/1980",
    "call me at (555) 555-0100 or email jordan.demo@example.com",
    "my mrn is MS000100 and i live at 88 Birch Lane, springfield il 62704",
    "my sister-in-law Ximena Vukovic will drive me",  # a relative's full name, no cue before it
    "pt Oyelaran asked too",  # "pt" and a name
    "DAUGHTER KATRINA BLAYLOCK WILL CALL",  # names in capitals
    "please stop charging card 4000 1234 5678 9011",  # fails the Luhn check
    "i was born the ninth of march, 1961 actually",  # a date in words
    "i work at Tyrell Biscuit Works in Sheboygan",  # employer and city
    "i was at St. Aldhelm Hospital on june 14th",  # hospital, a date without a year
    "my grandmother is ninety-four years old",  # an age over 89
]
NEEDLES = [
    "Jordan Demo", "01/01/1980", "1980", "(555) 555-0100", "5555550100", "555-0100", "jordan.demo@example.com",
    "MS000100", "Birch", "Ximena", "Vukovic", "Oyelaran", "KATRINA", "BLAYLOCK", "4000 1234 5678 9011", "9011",
    "ninth of march", "1961", "Tyrell", "Biscuit", "Sheboygan", "Aldhelm", "june 14", "ninety-four",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("phi-stack")) / "data",
                    extra_env={"SANIC_RESPONSE_TIMEOUT": "4", "CLINICBOT_RASA__REQUEST_TIMEOUT_S": "8"})
    running.start()
    yield running
    running.stop()


def _chat(stack: Stack, sender: str, message: str) -> int:
    try:
        return stack.chat(sender, message).status_code
    except httpx.HTTPError:
        return 0  # the gateway gave up on this one; what matters is what reached the logs


def test_planted_phi_reaches_no_log_file_even_when_actions_time_out_and_fail(stack: Stack) -> None:
    sender = "e2e-browser-phi-1"
    for message in MESSAGES[:5]:
        assert stack.chat(sender, message).status_code == 200

    # The action server freezes mid-conversation: the engine's handler times out, the gateway keeps the
    # message and retries it while the action server is still frozen.
    # (The whole process group: Sanic serves from a worker process under its manager.)
    actions = stack.child_pid("actions")
    os.killpg(actions, signal.SIGSTOP)
    try:
        _chat(stack, sender, MESSAGES[5])
        time.sleep(6)
    finally:
        os.killpg(actions, signal.SIGCONT)
    stack.wait_healthy()
    for message in MESSAGES[6:8]:
        _chat(stack, sender, message)

    # The action server dies mid-conversation: the engine's action call fails with an exception.
    os.killpg(stack.child_pid("actions"), signal.SIGKILL)
    _chat(stack, sender, MESSAGES[8])
    stack.wait_healthy(timeout_s=240)  # the supervisor restarts it
    for message in [*MESSAGES[9:], "asdfgh qwerty zxcv"]:  # and a fallback turn
        _chat(stack, sender, message)
    stack.stop()

    logs = [p for p in stack.data_dir.rglob("*.log") if p.is_file()]
    assert {p.name for p in logs} >= {"engine.log", "actions.log", "gateway.log", "up-output.log"}
    engine_log = (stack.data_dir / "logs" / "engine.log").read_text(errors="replace")
    # The failure paths really ran (so the test cannot pass by the engine staying quiet): a refused connection,
    # an error status from the action server while it restarts, or the channel's own timeout. (None of these
    # messages is an emergency; a false flag would answer them in the gateway and keep the engine out.)
    gateway_log = (stack.data_dir / "logs" / "gateway.log").read_text(errors="replace")
    assert "triage.red_flag" not in gateway_log, "a planted message was flagged as an emergency"
    failures = ("Failed to run custom action", "Encountered an exception while running action",
                "rest.message.received.timeout")
    assert any(f in engine_log for f in failures), engine_log[-3000:]
    for path in logs:
        content = path.read_text(errors="replace")
        # whole tokens: a process id 19800 or a port is not the planted year 1980
        found = [n for n in NEEDLES if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", content, re.I)]
        assert not found, f"{path.name} holds {found}"
    stack.start(timeout_s=240)  # leave the module's stack running for its teardown
