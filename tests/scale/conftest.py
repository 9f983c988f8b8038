"""Fixtures for the scale-out tests: a clinic store on the run's backend (SQLite by default; PostgreSQL when
``CLINICBOT_E2E_BACKEND=postgres``, as ``make test-scale`` runs them), seeded with the demo clinic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runtime import demo
from bot.settings import Settings, get_settings, load_settings
from bot.store import migrate, session_scope
from tests.e2e.stack import backend, create_database, drop_database


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if backend() == "postgres":
        url = create_database("scale")
        yield url
        drop_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'data' / 'clinic.db'}"


@pytest.fixture
def store(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on a seeded clinic store of this run's backend (the environment points every process at it)."""
    monkeypatch.setenv("CLINICBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLINICBOT_ENVIRONMENT", "test")
    monkeypatch.setenv("CLINICBOT_DATABASE_URL", database_url)
    get_settings.cache_clear()
    settings = load_settings()
    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        demo.seed(session, settings)
    yield settings
    get_settings.cache_clear()
    from bot.store import get_engine

    get_engine(database_url).dispose()
