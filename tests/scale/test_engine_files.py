"""The files written for the stock Rasa engine name PostgreSQL as its tracker store and Redis as its lock store
when the settings say so (what `make test-scale` runs the engine on)."""

from __future__ import annotations

import yaml

from bot.engine.runtime_files import lock_store_config, tracker_store_config, write_engine_files
from bot.settings import Settings


def test_postgres_tracker_and_redis_lock_store_blocks() -> None:
    assert tracker_store_config("postgresql+psycopg://rasa:s3cret@db.internal:5433/rasa?sslmode=require") == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "db": "rasa", "port": 5433,
        "username": "rasa", "password": "s3cret", "query": {"sslmode": "require"}}
    assert tracker_store_config("sqlite:////srv/clinic/tracker.db") == {"type": "SQL", "dialect": "sqlite",
                                                                          "db": "/srv/clinic/tracker.db"}
    assert lock_store_config("rediss://:pw@cache:6380/2") == {"type": "redis", "url": "cache", "port": 6380, "db": 2,
                                                              "key_prefix": "clinicbot", "password": "pw",
                                                              "use_ssl": True}
    assert lock_store_config("") is None  # one engine: Rasa's in-memory lock store


def test_endpoints_file_carries_both_stores(settings: Settings) -> None:
    settings.rasa.tracker_store_url = "postgresql://rasa@127.0.0.1:55432/rasa"
    settings.rasa.lock_store_url = "redis://127.0.0.1:56379/0"
    endpoints, credentials = write_engine_files(settings)
    written = yaml.safe_load(endpoints.read_text())
    assert written["tracker_store"]["dialect"] == "postgresql" and written["tracker_store"]["port"] == 55432
    assert written["lock_store"] == {"type": "redis", "url": "127.0.0.1", "port": 56379, "db": 0,
                                     "key_prefix": "clinicbot"}
    assert yaml.safe_load(credentials.read_text()) == {"rest": None}
