"""A line filter for output the project does not write itself (the Rasa engine, libraries, tracebacks).

The project's own processes log JSON events that never hold message text; every other line goes
through the PHI scrubber before it reaches a log file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def make_line_scrubber(allow_list: tuple[str, ...]) -> Callable[[str], str]:
    lock = threading.Lock()  # the supervisor pumps each child's output on its own thread

    def scrub_line(line: str) -> str:
        if line.startswith('{"ts": ') or not line.strip():
            return line
        from bot.phi import get_scrubber

        with lock:
            cleaned = get_scrubber(allow_list).scrub(line.rstrip("\n"))
        return cleaned + "\n"

    return scrub_line
