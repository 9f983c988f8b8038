"""The layout holds: no import cycles between files or between packages, lower layers never import the gateway or
the channels, no module over 400 lines, and importing a module does no work (no thread, no database, no model).

Packages, for the package graph: each subpackage of ``bot`` (``bot.conversations``, ``bot.scheduling`` ...),
each top-level module of ``bot`` (``bot.cli``, ``bot.labs``), and ``actions``, ``adapters``, ``knowledge``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

PACKAGES = ("bot", "actions", "adapters", "knowledge")
MAX_LINES = 400
# The composition roots may import anything; nothing may import them.
ROOTS = {"bot.runtime", "bot.cli"}
# Lower layers that must never reach up into the HTTP layer or the channels.
NEVER_IMPORT = {
    "bot.store": {"bot.gateway", "adapters", "bot.conversations", "bot.runtime"},
    "bot.llm": {"knowledge", "bot.triage", "bot.gateway", "adapters"},
    "bot.phi": {"bot.gateway", "adapters", "bot.conversations"},
    "bot.triage": {"bot.gateway", "adapters", "bot.conversations", "knowledge"},
    "knowledge": {"bot.gateway", "adapters", "bot.conversations", "actions"},
    "bot.conversations": {"bot.gateway", "adapters", "bot.reminders", "bot.messaging"},
    "bot.messaging": {"bot.gateway", "adapters"},
    "bot.reminders": {"bot.gateway", "adapters"},
    "bot.scheduling": {"bot.gateway", "adapters", "bot.conversations"},
    "bot.identity": {"bot.gateway", "adapters"},
    "bot.engine": {"bot.gateway", "adapters", "bot.conversations"},
    "bot.gateway": {"adapters"},
    "bot.waitlist": {"bot.gateway", "adapters"},
    "bot.reports": {"bot.gateway", "adapters", "bot.waitlist"},
    "actions": {"adapters", "bot.gateway"},
}


def source_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or "tools" in path.relative_to(PROJECT_ROOT).parts[:3]:
                continue
            files.append(path)
    return files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The project modules a file imports (module level and inside functions alike)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "bot":
        return parts[0]
    return ".".join(parts[:2]) if len(parts) > 1 else "bot"


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in source_files()}
    modules = set(files)
    return {name: imports_of(path, modules) - {name} for name, path in files.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def without_package_inits(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exporting its modules is not a cycle with them."""
    out: dict[str, set[str]] = {}
    for name, targets in edges.items():
        out[name] = {t for t in targets if not (t == name.rpartition(".")[0] or name.startswith(t + "."))}
    return out


def test_no_import_cycle_between_files() -> None:
    cycle = find_cycle(without_package_inits(graph()))
    assert cycle is None, " -> ".join(cycle or [])


def package_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for name, targets in graph().items():
        for target in targets:
            if package_of(target) != package_of(name):
                edges[package_of(name)].add(package_of(target))
    return edges


def test_no_import_cycle_between_packages() -> None:
    cycle = find_cycle(package_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_nothing_imports_the_composition_roots() -> None:
    offenders = {(name, target) for name, targets in graph().items() for target in targets
                 if package_of(target) in ROOTS and package_of(name) not in ROOTS}
    assert offenders == set()


@pytest.mark.parametrize("lower", sorted(NEVER_IMPORT))
def test_lower_layers_never_import_upper_ones(lower: str) -> None:
    reached = package_graph().get(lower, set()) & NEVER_IMPORT[lower]
    assert reached == set(), f"{lower} imports {sorted(reached)}"


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(PROJECT_ROOT)): n for p in source_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_guarded_imports() -> None:
    """Dependencies are real: no ``try: import ... except ImportError`` hiding one."""
    guarded = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Try) and any(isinstance(n, ast.Import | ast.ImportFrom) for n in node.body):
                handlers = [h.type for h in node.handlers]
                if any(isinstance(h, ast.Name) and h.id in ("ImportError", "ModuleNotFoundError") for h in handlers):
                    guarded.append(str(path.relative_to(PROJECT_ROOT)))
    assert guarded == []


IMPORT = """
import importlib, os, sys, threading
names = sys.argv[1:]
before = set(os.listdir(os.environ["CLINICBOT_DATA_DIR"]))
for name in names:
    importlib.import_module(name)
heavy = sorted(m for m in ("torch", "transformers", "chromadb", "spacy", "presidio_analyzer") if m in sys.modules)
print("threads", threading.active_count())
print("files", sorted(set(os.listdir(os.environ["CLINICBOT_DATA_DIR"])) - before))
print("heavy", heavy)
"""
# What the processes import to start: none of them may pull in a model library until it is used.
ENTRY_POINTS = ("bot.cli", "bot.runtime.gateway", "bot.conversations.service", "bot.phi", "bot.llm", "bot.triage",
                "knowledge.answer", "knowledge.store", "bot.reminders", "adapters.webchat", "adapters.console")


def import_report(names: list[str], data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "CLINICBOT_DATA_DIR": str(data_dir), "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-c", IMPORT, *names], env=env, capture_output=True, text=True,
                            timeout=300, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())


@pytest.mark.slow
def test_importing_every_module_does_no_work(tmp_path: Path) -> None:
    """No thread started and nothing written under the data directory by importing any module."""
    report = import_report(sorted(n for n in graph() if not n.startswith("actions")), tmp_path)
    assert report["threads"] == "1"
    assert report["files"] == "[]"


@pytest.mark.slow
def test_starting_a_process_loads_no_model_library_before_it_is_used(tmp_path: Path) -> None:
    """torch, transformers, spaCy, Presidio and Chroma load when first needed, not when a process starts."""
    assert import_report(list(ENTRY_POINTS), tmp_path)["heavy"] == "[]"
