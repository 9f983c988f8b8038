"""What reaches logs/ from output the project does not write itself (the Rasa engine, libraries, tracebacks).

The project's own processes log JSON events that never hold message text (``{"ts": ...``); they pass.
Everything else is grouped into records first (a log line and its continuation: a traceback, a
pretty-printed JSON body, a wrapped message) and each record goes through the STRICT PHI scrubber as
one unit, so a name on one line and a surname on the next are judged together. A record's header
(timestamp, level, logger) is kept as written; so are the code locations of a traceback.

:func:`read_records` does the grouping on a child's output pipe: a record ends when the next one
starts, when the child has been quiet for ``idle_s`` or when it grows past ``max_chars``.
"""

from __future__ import annotations

import json
import os
import re
import select
import threading
from collections.abc import Callable, Iterator
from typing import IO

# Where a record starts: a timestamp ("2026-11-30 08:05:04 WARNING rasa.core..."; Sanic's
# "[2026-11-30 08:05:04 +0000] [12] [ERROR]"), a JSON object or a warning. A traceback continues the
# record before it (logging writes it after the message), or starts one when nothing is pending.
RECORD_START = re.compile(r"^(?:\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d|\{|\S+\.py:\d+: \w*Warning)")
HEADER = re.compile(
    r"^(?:\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)?(?:[+-]\d\d:?\d\d|Z)?[ \t]+(?:[A-Z]+[ \t]+)?(?:[\w.\-]+[ \t]+-[ \t]+)?"
    r"|\[\d{4}-\d\d-\d\d[^\]\n]*\][ \t]*(?:\[\d+\][ \t]*)?(?:\[[A-Z]+\][ \t]*)?)"
)


def is_own_event(line: str) -> bool:
    """One of the project's JSON events (ids and counts only, by design)."""
    if not line.startswith('{"ts": '):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def make_record_scrubber(allow_list: tuple[str, ...]) -> Callable[[str], str]:
    """A record (one or more lines, each ending in a line break) in, the same record scrubbed out."""
    lock = threading.Lock()  # the supervisor pumps each child's output on its own thread

    def scrub_record(record: str) -> str:
        if not record.strip():
            return record
        first, _, rest = record.partition("\n")
        if is_own_event(first):
            return first + "\n" + (scrub_record(rest) if rest.strip() else rest)
        header = HEADER.match(record)
        keep = header.group(0) if header else ""
        body = record[len(keep) :]
        ending = body[len(body.rstrip("\n")) :]
        from bot.phi import get_scrubber

        with lock:
            cleaned = get_scrubber(allow_list, "strict").scrub(body.rstrip("\n"))
        return keep + cleaned + (ending or "\n")

    return scrub_record


def make_line_scrubber(allow_list: tuple[str, ...]) -> Callable[[str], str]:
    """The older name of :func:`make_record_scrubber` (a line is a one-line record)."""
    return make_record_scrubber(allow_list)


class RecordGrouper:
    """Lines in, whole records out."""

    def __init__(self, max_chars: int = 64_000) -> None:
        self.max_chars = max_chars
        self._lines: list[str] = []
        self._size = 0

    def feed(self, line: str) -> list[str]:
        out = []
        if self._lines and (RECORD_START.match(line) or self._size + len(line) > self.max_chars):
            out = self.flush()
        self._lines.append(line)
        self._size += len(line)
        return out

    def flush(self) -> list[str]:
        if not self._lines:
            return []
        record = "".join(self._lines)
        self._lines, self._size = [], 0
        return [record]


def read_records(stream: IO[bytes], idle_s: float = 0.3, max_chars: int = 64_000) -> Iterator[str]:
    """Records from a child's output pipe until it closes (see the module docstring)."""
    fd = stream.fileno()
    grouper = RecordGrouper(max_chars)
    pending = b""
    poller = select.poll()  # not select.select: it fails on descriptors numbered 1024 and up (a busy process)
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        ready = poller.poll(idle_s * 1000)
        if not ready:
            yield from grouper.flush()
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            yield from grouper.feed(raw.decode("utf-8", errors="replace") + "\n")
    if pending:
        yield from grouper.feed(pending.decode("utf-8", errors="replace") + "\n")
    yield from grouper.flush()
