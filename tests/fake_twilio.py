"""A local stand-in for Twilio's Messages resource: a real HTTP server on 127.0.0.1 in a thread.

``POST /2010-04-01/Accounts/{sid}/Messages.json`` checks what it is sent (Basic auth with the account SID and
token, To, From, Body) and answers like Twilio: 201 with the message's JSON, or a scripted error (400 with a
Twilio error code, 429, 500). A message is on Twilio's books the moment the request is read, even when the
client is gone before the answer (``delay_s`` holds the answer back, to kill a sender in that window).

``GET /2010-04-01/Accounts/{sid}/Messages.json`` is Twilio's message list: newest first, filtered by ``To``,
``From`` and the sent date (``DateSent``, ``DateSent<``, ``DateSent>``: a day, ``YYYY-MM-DD``; a full timestamp
is read as its day, the filter's documented granularity), paged by ``PageSize``/``Page`` with
``next_page_uri``. As on Twilio, a message still ``queued`` (for ``queued_s`` after it was created) has no
``date_sent`` and so no sent-date filter finds it.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+15555550199"


def rfc2822(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


@dataclass
class Record:
    sid: str
    to: str
    from_: str
    body: str
    created: datetime


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    from_number: str = FROM_NUMBER
    sent: list[dict[str, str]] = field(default_factory=list)  # accepted messages (the posted forms)
    records: list[Record] = field(default_factory=list)  # the same, as Twilio keeps them
    attempts: int = 0  # every request to create a message, accepted or not
    list_requests: int = 0
    problems: list[str] = field(default_factory=list)  # what the fake found wrong in a request
    # responses to give before accepting again: (status, twilio error code or None)
    script: list[tuple[int, int | None]] = field(default_factory=list)
    delay_s: tuple[float, float] = (0.0, 0.0)  # an accepted message is answered after a random time in this range
    queued_s: float = 0.0  # how long a new message stays queued (no date_sent) before Twilio has sent it
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def bodies(self) -> list[str]:
        return [m["Body"] for m in self.sent]

    def resource(self, record: Record, now: datetime) -> dict[str, Any]:
        sent = now - record.created >= timedelta(seconds=self.queued_s)
        return {
            "sid": record.sid, "account_sid": self.account_sid, "to": record.to, "from": record.from_,
            "body": record.body, "status": "sent" if sent else "queued", "num_segments": "1",
            "direction": "outbound-api", "api_version": "2010-04-01", "error_code": None, "price": None,
            "date_created": rfc2822(record.created), "date_updated": rfc2822(record.created),
            "date_sent": rfc2822(record.created) if sent else None,
            "uri": f"{self.messages_path[:-5]}/{record.sid}.json",
        }

    def listing(self, query: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        with self._lock:
            found = list(reversed(self.records))
        if query.get("To"):
            found = [r for r in found if r.to == query["To"]]
        if query.get("From"):
            found = [r for r in found if r.from_ == query["From"]]
        for name, keep in (("DateSent", lambda d, v: d == v), ("DateSent>", lambda d, v: d >= v),
                           ("DateSent<", lambda d, v: d <= v)):
            if query.get(name):
                wanted = _day(query[name])
                found = [r for r in found if self.resource(r, now)["date_sent"] is not None
                         and keep(r.created.astimezone(UTC).date(), wanted)]
        size = max(1, min(1000, int(query.get("PageSize", "50"))))
        page = int(query.get("Page", "0"))
        chunk = found[page * size:(page + 1) * size]
        base = {k: v for k, v in query.items() if k not in ("Page", "PageToken")}

        def uri(n: int) -> str:
            return f"{self.messages_path}?{urlencode({**base, 'Page': n, 'PageSize': size})}"

        more = (page + 1) * size < len(found)
        return {"messages": [self.resource(r, now) for r in chunk], "page": page, "page_size": size,
                "start": page * size, "end": page * size + max(0, len(chunk) - 1), "uri": uri(page),
                "first_page_uri": uri(0), "previous_page_uri": uri(page - 1) if page else None,
                "next_page_uri": uri(page + 1) if more else None}

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the sender was killed while we held the answer
                    pass

            def _authorised(self) -> bool:
                wanted = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization", "") != wanted:
                    fake.problems.append("auth")
                    self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return False
                return True

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with fake._lock:
                    fake.list_requests += 1
                if parts.path != fake.messages_path:
                    fake.problems.append(f"path {parts.path}")
                    return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                if self._authorised():
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    self._answer(200, fake.listing(query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    fake.attempts += 1
                    if self.path != fake.messages_path:
                        fake.problems.append(f"path {self.path}")
                        return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    if not self._authorised():
                        return None
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
                    record = Record(f"SM{len(fake.sent):032x}", form["To"], form["From"], form["Body"],
                                    datetime.now(UTC))
                    fake.records.append(record)
                low, high = fake.delay_s
                if high > 0:
                    time.sleep(random.uniform(low, high))  # on Twilio's books already; the answer is late
                body = fake.resource(record, datetime.now(UTC))
                return self._answer(201, {**body, "status": "queued", "date_sent": None})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
