"""A local stand-in for the Rasa engine's REST channel, a real HTTP server in a thread, for the gateway process
tests: what the gateways send it is recorded in order, and an answer can be held back (``hold``) until the test
lets it go, so a test can kill a gateway while it waits for the engine in the middle of a turn.

``POST /webhooks/rest/webhook`` answers ``[{"recipient_id": ..., "text": "Answer to: <message>"}]``;
``GET /status`` says a model is loaded. The real engine is exercised by ``tests/e2e`` (``test_scale_out``); this
one only makes the moment of a kill deterministic.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def answer_to(message: str) -> str:
    return f"Answer to: {message}"


@dataclass
class FakeEngine:
    received: list[tuple[str, str]] = field(default_factory=list)  # (conversation id, message), in arrival order
    hold: set[str] = field(default_factory=set)  # messages whose answer waits for ``release``
    _released: threading.Event = field(default_factory=threading.Event)
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def messages(self) -> list[str]:
        with self._arrived:
            return [message for _, message in self.received]

    def wait_for(self, message: str, count: int = 1, timeout_s: float = 30) -> None:
        """Until the engine has been sent ``message`` ``count`` times."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: self.messages().count(message) >= count, timeout_s):
                raise AssertionError(f"the engine was not sent {message!r} {count} time(s): {self.messages()}")

    def release(self) -> None:
        self._released.set()

    def start(self) -> FakeEngine:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, body: Any) -> None:
                raw = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the gateway was killed while we held the answer
                    pass

            def do_GET(self) -> None:
                self._answer({"model_file": "fake-model.tar.gz"} if self.path == "/status" else {"status": "ok"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                sender, message = str(body.get("sender", "")), str(body.get("message", ""))
                with fake._arrived:
                    fake.received.append((sender, message))
                    fake._arrived.notify_all()
                if message in fake.hold:
                    fake._released.wait(60)
                self._answer([{"recipient_id": sender, "text": answer_to(message)}])

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
