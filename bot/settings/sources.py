"""Where settings come from: config.yml (CLINICBOT_CONFIG), then the owner's changes from the settings page
merged over it (kept in the clinic database, ``bot.settings.stored``; an older install's
``<data_dir>/settings-overrides.yml`` is still read first); environment variables win over all (see ``Settings``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.settings.sections import PROJECT_ROOT

DEFAULT_CONFIG = PROJECT_ROOT / "config.yml"
# the owner's changes read from the database, merged while one Settings is being built
_owner_changes: ContextVar[dict[str, Any] | None] = ContextVar("owner_changes", default=None)


@contextmanager
def owner_changes(changes: dict[str, Any] | None) -> Iterator[None]:
    """Settings built inside this block merge ``changes`` over config.yml (under the environment)."""
    token = _owner_changes.set(changes)
    try:
        yield
    finally:
        _owner_changes.reset(token)


class SettingsError(Exception):
    """A configuration problem, worded for the person who edits config.yml."""


class YamlSource(PydanticBaseSettingsSource):
    """Reads the file named by CLINICBOT_CONFIG (default ./config.yml in the project), then merges the owner's
    changes over it (an older install's ``<data_dir>/settings-overrides.yml``, then those from the database)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._data = _read_yaml(config_path())
        data_dir = Path(os.environ.get("CLINICBOT_DATA_DIR") or self._data.get("data_dir") or PROJECT_ROOT / "var")
        overrides = overrides_path(data_dir)
        if overrides.exists():
            self._data = _deep_merge(self._data, _read_yaml(overrides))
        changes = _owner_changes.get()
        if changes:
            self._data = _deep_merge(self._data, changes)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def overrides_path(data_dir: Path) -> Path:
    return Path(data_dir).expanduser() / "settings-overrides.yml"


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def config_path() -> Path:
    return Path(os.environ.get("CLINICBOT_CONFIG", str(DEFAULT_CONFIG))).expanduser()


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SettingsError(f"config file not found: {path} (set CLINICBOT_CONFIG to its path)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of settings at the top level")
    return data
