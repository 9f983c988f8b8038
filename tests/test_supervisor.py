from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from bot.runtime.supervisor import ChildSpec, Supervisor

SLEEPER = [sys.executable, "-c", "import time, sys; print('up', flush=True); time.sleep(60)"]


def wait_for(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.05)
    return False


def read(path: Path) -> str:
    """The file's text, or "" while the supervisor has not written it yet (it is written by another thread)."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def pid_of(path: Path) -> int:
    text = read(path).strip()
    return int(text) if text else 0


def test_a_crashed_child_is_restarted_and_logged(tmp_path: Path) -> None:
    sup = Supervisor([ChildSpec("worker", SLEEPER, dict(os.environ))], tmp_path / "logs", tmp_path / "run",
                     backoff_s=0.0)
    sup.start()
    try:
        first = int((tmp_path / "run" / "worker.pid").read_text())
        assert wait_for(lambda: read(tmp_path / "logs" / "worker.log").count("up") == 1)
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: (sup.poll_once(), pid_of(tmp_path / "run" / "worker.pid") not in (0, first))[1])
        second = pid_of(tmp_path / "run" / "worker.pid")
        os.kill(second, 0)  # alive
        assert wait_for(lambda: read(tmp_path / "logs" / "worker.log").count("up") == 2), (
            read(tmp_path / "logs" / "worker.log"))
    finally:
        sup.stop(timeout_s=5)
    assert not (tmp_path / "run" / "worker.pid").exists()


def test_a_crash_loop_stops_being_restarted(tmp_path: Path) -> None:
    crasher = [sys.executable, "-c", "raise SystemExit(3)"]
    sup = Supervisor([ChildSpec("bad", crasher, dict(os.environ))], tmp_path / "logs", tmp_path / "run",
                     backoff_s=0.0, max_restarts_per_minute=2)
    sup.start()
    for _ in range(40):
        sup.poll_once()
        time.sleep(0.05)
    assert sup.children[0].proc is None  # given up after 2 restarts
    assert len(sup.children[0].restarts) == 2
    sup.stop()


def test_stop_ends_children_that_ignore_sigterm(tmp_path: Path) -> None:
    stubborn = [sys.executable, "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('x', flush=True); "
                "time.sleep(60)"]
    sup = Supervisor([ChildSpec("stubborn", stubborn, dict(os.environ))], tmp_path / "logs", tmp_path / "run")
    sup.start()
    assert wait_for(lambda: "x" in read(tmp_path / "logs" / "stubborn.log"))
    started = time.monotonic()
    sup.stop(timeout_s=1.0)
    assert time.monotonic() - started < 5
    proc = sup.children[0].proc
    assert proc is not None and proc.returncode is not None


def test_a_child_is_logged_even_when_the_supervisor_holds_over_a_thousand_files(tmp_path: Path) -> None:
    """select() cannot watch a descriptor numbered 1024 or more; a long-lived process may hold that many."""
    held = [open(os.devnull) for _ in range(1100)]  # noqa: SIM115 - held open on purpose
    try:
        sup = Supervisor([ChildSpec("worker", SLEEPER, dict(os.environ))], tmp_path / "logs", tmp_path / "run")
        sup.start()
        try:
            assert wait_for(lambda: "up" in read(tmp_path / "logs" / "worker.log"))
        finally:
            sup.stop(timeout_s=5)
    finally:
        for f in held:
            f.close()
