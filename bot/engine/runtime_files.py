"""Files the engine reads at start, written from settings into the data directory: where the action server is,
the tracker store (SQL: SQLite by default, PostgreSQL at scale) and the lock store (Redis, so several engines
can serve one clinic group; in memory otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bot.settings import Settings


def tracker_store_config(url: str) -> dict[str, Any]:
    """Rasa's SQL tracker store block for a SQLAlchemy URL (SQLite by default, PostgreSQL at scale)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": parsed.database}
    config: dict[str, Any] = {"type": "SQL", "dialect": parsed.get_backend_name(), "url": parsed.host,
                              "db": parsed.database}
    if parsed.port:
        config["port"] = parsed.port
    if parsed.username:
        config["username"] = parsed.username
    if parsed.password:
        config["password"] = parsed.password
    if parsed.query:  # e.g. sslmode=require
        config["query"] = dict(parsed.query)
    return config


def lock_store_config(url: str) -> dict[str, Any] | None:
    if not url:
        return None
    parsed = make_url(url)
    config: dict[str, Any] = {"type": "redis", "url": parsed.host, "port": parsed.port or 6379,
                              "db": int(parsed.database or 0), "key_prefix": "clinicbot"}
    if parsed.username:
        config["username"] = parsed.username
    if parsed.password:
        config["password"] = parsed.password
    if parsed.drivername == "rediss":
        config["use_ssl"] = True
    return config


ENGINE_TOOLS = Path(__file__).resolve().parent / "tools"  # put on PYTHONPATH of both servers


def logging_config(json_events_for: tuple[str, ...] = ()) -> dict[str, Any]:
    """A ``--logging-config-file`` for the engine and the action server (see bot/engine/tools/log_records.py):
    every record is made safe when it is created; ``json_events_for`` loggers (the project's own, in the
    action server) write the project's JSON events."""
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"records_without_data": {"()": "log_records.RecordsWithoutData"}},
    }
    if json_events_for:
        config["formatters"] = {"json": {"()": "bot.runtime.logging_setup.JsonFormatter", "process_name": "actions"}}
        config["handlers"] = {"json": {"class": "logging.StreamHandler", "formatter": "json",
                                       "stream": "ext://sys.stderr"}}
        config["loggers"] = {name: {"handlers": ["json"], "level": "INFO", "propagate": False}
                             for name in json_events_for}
    return config


def write_logging_configs(settings: Settings) -> tuple[Path, Path]:
    """The engine's and the action server's logging config files."""
    folder = settings.data_dir / "engine"
    folder.mkdir(parents=True, exist_ok=True)
    engine, actions = folder / "engine-logging.yml", folder / "actions-logging.yml"
    engine.write_text(yaml.safe_dump(logging_config(), sort_keys=False))
    actions.write_text(yaml.safe_dump(logging_config(("actions", "bot", "knowledge", "adapters")), sort_keys=False))
    return engine, actions


def write_engine_files(settings: Settings) -> tuple[Path, Path]:
    """endpoints.yml (action server, tracker store, lock store) and credentials.yml (REST channel only)."""
    folder = settings.data_dir / "engine"
    folder.mkdir(parents=True, exist_ok=True)
    endpoints: dict[str, Any] = {
        "action_endpoint": {"url": settings.servers.action_url},
        "tracker_store": tracker_store_config(settings.rasa.tracker_store_url),
    }
    lock = lock_store_config(settings.rasa.lock_store_url)
    if lock:
        endpoints["lock_store"] = lock
    endpoints_path, credentials_path = folder / "endpoints.yml", folder / "credentials.yml"
    endpoints_path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    credentials_path.write_text(yaml.safe_dump({"rest": None}))
    return endpoints_path, credentials_path
