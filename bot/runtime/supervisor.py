"""Runs the engine, the action server and the gateway as child processes; restarts any that crash.

Each child's output goes record by record (a line with its continuation lines, see
:func:`bot.runtime.log_scrub.read_records`) through ``line_filter`` to ``<data_dir>/logs/<name>.log``; its pid to
``<data_dir>/run``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger("clinicbot.supervisor")
LineFilter = Callable[[str], str]


@dataclass
class ChildSpec:
    name: str
    cmd: list[str]
    env: dict[str, str]
    cwd: Path | None = None


@dataclass
class _Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    pump: threading.Thread | None = None


class Supervisor:
    def __init__(self, specs: list[ChildSpec], logs_dir: Path, run_dir: Path, *, backoff_s: float = 2.0,
                 max_restarts_per_minute: int = 5, line_filter: LineFilter | None = None) -> None:
        self.children = [_Child(spec) for spec in specs]
        self.logs_dir, self.run_dir = logs_dir, run_dir
        self.backoff_s, self.max_restarts = backoff_s, max_restarts_per_minute
        self.line_filter = line_filter or (lambda line: line)
        self._stopping = threading.Event()
        logs_dir.mkdir(parents=True, exist_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)

    def _spawn(self, child: _Child) -> None:
        spec = child.spec
        child.proc = subprocess.Popen(spec.cmd, env=spec.env, cwd=spec.cwd, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        (self.run_dir / f"{spec.name}.pid").write_text(str(child.proc.pid))
        assert child.proc.stdout is not None
        child.pump = threading.Thread(target=self._pump, args=(spec.name, child.proc.stdout), daemon=True)
        child.pump.start()
        log.info("supervisor.child.started name=%s pid=%s", spec.name, child.proc.pid)

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        from bot.runtime.log_scrub import read_records

        with open(self.logs_dir / f"{name}.log", "a", encoding="utf-8") as out:
            for record in read_records(stream):
                out.write(self.line_filter(record))
                out.flush()

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def poll_once(self) -> None:
        """Restart children that exited on their own (with backoff and a crash-loop limit)."""
        for child in self.children:
            if self._stopping.is_set() or child.proc is None or child.proc.poll() is None:
                continue
            code = child.proc.returncode
            now = time.monotonic()
            while child.restarts and now - child.restarts[0] > 60:
                child.restarts.popleft()
            if len(child.restarts) >= self.max_restarts:
                log.error("supervisor.child.crash_loop name=%s code=%s restarts_last_minute=%d",
                          child.spec.name, code, len(child.restarts))
                child.proc = None
                continue
            log.warning("supervisor.child.exited name=%s code=%s action=restart", child.spec.name, code)
            time.sleep(self.backoff_s)
            child.restarts.append(now)
            self._spawn(child)
            log.info("supervisor.child.restarted name=%s restarts_last_minute=%d",
                     child.spec.name, len(child.restarts))

    def restart(self, name: str) -> None:
        """Stop one child on purpose; the supervision loop starts it again (to reload a model, say)."""
        for child in self.children:
            if child.spec.name == name and child.proc is not None and child.proc.poll() is None:
                log.info("supervisor.child.reload name=%s", name)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGTERM)

    def given_up(self) -> list[str]:
        """Children left down after a crash loop."""
        return [c.spec.name for c in self.children if c.proc is None and c.restarts]

    def run(self, should_stop: Callable[[], bool], tick_s: float = 0.5) -> None:
        while not should_stop():
            self.poll_once()
            time.sleep(tick_s)

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stopping.set()
        live = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        for child in live:
            assert child.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for child in live:
            assert child.proc is not None
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
            log.info("supervisor.child.stopped name=%s code=%s", child.spec.name, child.proc.returncode)
            (self.run_dir / f"{child.spec.name}.pid").unlink(missing_ok=True)
        for child in self.children:
            if child.pump is not None:
                child.pump.join(timeout=2)

