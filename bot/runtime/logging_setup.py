"""Structured logs: one JSON object per line on stderr (the supervisor files them under data/logs).

Log calls name a stable event and ids (``log.info("message.received conversation_id=%s", cid)``),
never message text. Any string that must be logged goes through the PHI scrubber first.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def __init__(self, process_name: str) -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, _, rest = message.partition(" ")
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "process": self.process_name,
            "logger": record.name,
            "event": event,
        }
        for pair in rest.split():
            key, sep, value = pair.partition("=")
            if sep:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # the type only: tracebacks can quote data
        return json.dumps(entry)


def configure_logging(process_name: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "sanic.access", "chromadb", "urllib3", "apscheduler",
                   "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
