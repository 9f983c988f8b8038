"""The queue's scrubbed previews, kept per message so the scrubber runs once per message, and never in the way of
the page: the PHI analyzer's first use loads its models (about 20 s on 2 busy cores, measured), so until it is
loaded the queue is shown at once without previews, the analyzer loads in the background (from the first console
page a staff member opens, the sign-in page included), and the page fetches the previews when they are ready."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from fastapi import Request, WebSocket

from bot.conversations.queue import scrub_preview
from bot.phi import scrub

log = logging.getLogger(__name__)
KEPT = 2000  # previews kept (by message id)


class Previews:
    def __init__(self) -> None:
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loading: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def warm(self) -> None:
        """Load the analyzer in the background (once)."""
        with self._lock:
            if self._ready.is_set() or self._loading is not None:
                return
            self._loading = threading.Thread(target=self._load, name="phi-warm", daemon=True)
            self._loading.start()

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            scrub("warming up")
        except Exception:  # previews stay hidden ("(preview hidden)") rather than shown raw
            log.exception("console.previews_warm_failed")
        self._ready.set()
        log.info("console.previews_ready ms=%.0f", (time.perf_counter() - started) * 1000)

    def get(self, message_id: int, text: str) -> str | None:
        """The preview if it can be had now (cached, or the analyzer is loaded); None means 'later'."""
        with self._lock:
            if message_id in self._cache:
                self._cache.move_to_end(message_id)
                return self._cache[message_id]
        if not self._ready.is_set():
            self.warm()
            return None
        return self._keep(message_id, scrub_preview(text))

    def wait(self, message_id: int, text: str, timeout_s: float = 60) -> str | None:
        """The preview, waiting for the analyzer to load if it must (called off the event loop)."""
        found = self.get(message_id, text)
        if found is not None or not self._ready.wait(timeout_s):
            return found
        return self._keep(message_id, scrub_preview(text))

    def _keep(self, message_id: int, preview: str) -> str:
        with self._lock:
            self._cache[message_id] = preview
            while len(self._cache) > KEPT:
                self._cache.popitem(last=False)
        return preview


def previews_of(connection: Request | WebSocket) -> Previews:
    """The gateway's preview cache (made on first use, so creating the app loads nothing)."""
    state = connection.app.state
    if not hasattr(state, "console_previews"):
        state.console_previews = Previews()
    found: Previews = state.console_previews
    return found
