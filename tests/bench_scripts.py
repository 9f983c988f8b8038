"""The benchmark scripts (``scripts/bench_*.py``) loaded as modules, for the tests that use their scorers."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from bot.settings import PROJECT_ROOT


def load_bench(name: str) -> ModuleType:
    """``scripts/<name>.py`` as the module ``name`` (registered, so its dataclasses resolve their own types)."""
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
