"""A local stand-in for Twilio's Messages endpoint: a real HTTP server on 127.0.0.1 in a thread.

It checks what it is sent (Basic auth with the account SID and token, To, From, Body) and answers like
Twilio: 201 with the message's JSON, or a scripted error (400 with a Twilio error code, 429, 500).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+15555550199"


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    from_number: str = FROM_NUMBER
    sent: list[dict[str, str]] = field(default_factory=list)  # accepted messages
    attempts: int = 0  # every request to the Messages endpoint, accepted or not
    problems: list[str] = field(default_factory=list)  # what the fake found wrong in a request
    # responses to give before accepting again: (status, twilio error code or None)
    script: list[tuple[int, int | None]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def bodies(self) -> list[str]:
        return [m["Body"] for m in self.sent]

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                expected_path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    fake.attempts += 1
                    if self.path != expected_path:
                        fake.problems.append(f"path {self.path}")
                        return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    auth = self.headers.get("Authorization", "")
                    wanted = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                    if auth != wanted:
                        fake.problems.append("auth")
                        return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    for name in ("To", "From", "Body"):
                        if not form.get(name):
                            fake.problems.append(f"missing {name}")
                            return self._answer(400, {"code": 21602, "message": f"{name} is required",
                                                      "status": 400})
                    if form["From"] != fake.from_number:
                        fake.problems.append(f"From {form['From']}")
                    if fake.script:
                        status, code = fake.script.pop(0)
                        return self._answer(status, {"code": code, "message": f"scripted {status}",
                                                     "more_info": "", "status": status})
                    fake.sent.append(form)
                    sid = f"SM{len(fake.sent):032x}"
                return self._answer(201, {
                    "sid": sid, "account_sid": fake.account_sid, "to": form["To"], "from": form["From"],
                    "body": form["Body"], "status": "queued", "num_segments": "1", "direction": "outbound-api",
                    "api_version": "2010-04-01", "uri": f"{expected_path[:-5]}/{sid}.json",
                })

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
