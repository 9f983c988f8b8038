"""Log records without data, for the Rasa engine and the action server (standard library only).

Both run stock code that writes data on its failure paths:

- Rasa's REST channel logs ``rest.message.received.failure`` / ``.timeout`` with the patient's text,
  and, because its output is not a terminal, structlog renders every exception with
  ``dict_tracebacks``, whose frames carry their local variables (the tracker, the slots, the message).
- When an action fails or the action server's response timeout fires, rasa-sdk answers 500 with
  ``{"error": ..., "request_body": <the whole tracker>}``; the engine's ``ClientResponseError`` puts
  that body in its message, and ``logger.exception`` writes it with the traceback.

:func:`install` replaces the logging record factory, so every record of every logger (whatever
handler later formats it: coloredlogs, Sanic's own, a file) is made safe when it is created:

- an exception keeps its types and code locations (file, line, function) and loses its messages;
- a structlog event keeps its event name, level and numbers, and loses every text value, the
  exception values and the frames' locals (the names of the dropped keys are listed);
- a message longer than :data:`MAX_MESSAGE` characters is cut (a dump, whatever it holds).

What is left still goes through the strict PHI scrubber in the supervisor. It is configured with
the ``--logging-config-file`` option both servers have (``bot/runtime_files.py`` writes the file):
building the ``filters`` entry below calls :func:`install`.
"""

from __future__ import annotations

import json
import logging
import traceback
from types import TracebackType
from typing import Any

MAX_MESSAGE = 2000
MAX_FRAMES = 12
SAFE_KEYS = ("event", "level", "log_level", "event_key", "timestamp", "logger", "logger_name")


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    name = kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
    status = getattr(exc, "status", None)
    return f"{name} (status {status})" if isinstance(status, int) else name


def describe_exception(exc: BaseException | None, tb: TracebackType | None = None) -> str:
    """Code locations and exception types of a chain of exceptions; no message, no value."""
    lines: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = traceback.extract_tb(tb if tb is not None else exc.__traceback__)[-MAX_FRAMES:]
        block = ["Traceback (most recent call last, messages left out):"]
        block += [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
        block.append(_type_name(exc))
        lines = block + (["", "The above exception caused or preceded:", "", *lines] if lines else [])
        tb = None
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n".join(lines)


def summarize_event(data: dict[str, Any]) -> dict[str, Any]:
    """A structlog event dict with its data dropped: names, level, numbers and exception types stay."""
    out: dict[str, Any] = {}
    omitted = []
    for key, value in data.items():
        if (key in SAFE_KEYS and isinstance(value, str) and len(value) < 200) or isinstance(value, bool | int | float):
            out[key] = value
        elif key == "exception" and isinstance(value, list):
            out["exception"] = [
                {
                    "exc_type": str(item.get("exc_type", "")),
                    "frames": [
                        {"file": f.get("filename"), "line": f.get("lineno"), "function": f.get("name")}
                        for f in item.get("frames", [])[-MAX_FRAMES:]
                        if isinstance(f, dict)
                    ],
                }
                for item in value
                if isinstance(item, dict)
            ]
        else:
            omitted.append(key)
    if omitted:
        out["omitted"] = sorted(omitted)
    return out


def sanitize(record: logging.LogRecord) -> logging.LogRecord:
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = describe_exception(record.exc_info[1], record.exc_info[2])
        record.exc_info = None
    record.stack_info = None
    msg = record.msg
    if isinstance(msg, dict):
        record.msg, record.args = json.dumps(summarize_event(msg), default=str), ()
        return record
    if isinstance(msg, str) and msg.startswith("{") and '"event"' in msg:
        try:
            data = json.loads(msg)
        except ValueError:
            data = None
        if isinstance(data, dict):
            record.msg, record.args = json.dumps(summarize_event(data), default=str), ()
            return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the template only
        message = str(msg)
    if len(message) > MAX_MESSAGE:
        message = f"{message[:MAX_MESSAGE]} ... ({len(message) - MAX_MESSAGE} characters left out)"
    record.msg, record.args = message, ()
    return record


def install() -> None:
    """Make every log record of this process safe when it is created (once per process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "clinicbot_safe", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return sanitize(previous(*args, **kwargs))

    factory.clinicbot_safe = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class RecordsWithoutData(logging.Filter):
    """The ``filters`` entry of the logging config: building it installs the record factory."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        install()
