"""Start the real processes (`clinicbot up`: Rasa engine, action server, gateway) for end-to-end tests.

Two backends, chosen for the whole run by ``CLINICBOT_E2E_BACKEND``:
- ``sqlite`` (default): the embedded defaults, one gateway;
- ``postgres``: PostgreSQL for the clinic store, the Rasa tracker store and the job store, Redis as Rasa's lock
  store (from ``scripts/services.sh``: ``CLINICBOT_TEST_POSTGRES_URL``, ``CLINICBOT_TEST_REDIS_URL``), and two
  gateways, each conversation's turns sent to them in turn.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT

CLINICBOT = Path(sys.executable).parent / "clinicbot"
TEST_MODELS_DIR = PROJECT_ROOT / "var" / "test-models"


@functools.cache
def shared_base() -> Path:
    """The base model prepared once under ``var/models`` (in a process of its own: the tests need no torch)."""
    models = PROJECT_ROOT / "var" / "models"
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from bot.llm.prepare import "
                    "prepare_base_model; prepare_base_model(Path(sys.argv[1]))", str(models)],
                   check=True, cwd=PROJECT_ROOT, timeout=600)
    return models / "base"


def backend() -> str:
    return os.environ.get("CLINICBOT_E2E_BACKEND", "sqlite")


def midday_zone() -> str:
    """A fixed-offset zone where it is early afternoon now: reminders sent in real time fall in quiet hours."""
    offset = (14 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/GMT" + ("+" if offset <= 0 else "-") + str(abs(offset))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (``clinicbot up --gateways N`` uses consecutive ports)."""
    for _ in range(200):
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError("no consecutive free ports")


def as_json(value: Any) -> Any:
    """A JSON column as read through raw SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def postgres_admin_url() -> str:
    url = os.environ.get("CLINICBOT_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("needs PostgreSQL and Redis: bash scripts/services.sh start; eval \"$(bash scripts/services.sh env)\"")
    return url


def create_database(prefix: str) -> str:
    """A fresh PostgreSQL database on the test server; returns its URL."""
    admin = make_url(postgres_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = make_url(postgres_admin_url())
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    engine.dispose()


@dataclass
class Stack:
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    backend: str = field(default_factory=backend)
    gateways: int = 0  # 0: one on sqlite, two on postgres
    gateway_port: int = 0
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    database_url: str = ""
    tracker_url: str = ""
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _db: Engine | None = None

    def __post_init__(self) -> None:
        self.gateways = self.gateways or (2 if self.backend == "postgres" else 1)
        self.gateway_port = self.gateway_port or free_ports(self.gateways)
        if self.backend == "postgres":
            self.database_url = create_database("e2e_clinic")
            self.tracker_url = create_database("e2e_rasa")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.gateway_port + i}" for i in range(self.gateways)]

    def next_url(self) -> str:
        """The gateway for the next request: each in turn, so a conversation's turns cross gateways."""
        return self.urls[next(self._turn) % self.gateways]

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CLINICBOT_DATA_DIR": str(self.data_dir),
            "CLINICBOT_ENVIRONMENT": "test",
            "CLINICBOT_SERVERS__GATEWAY_PORT": str(self.gateway_port),
            "CLINICBOT_SERVERS__RASA_PORT": str(self.rasa_port),
            "CLINICBOT_SERVERS__ACTION_PORT": str(self.action_port),
            "CLINICBOT_RASA__MODELS_DIR": str(TEST_MODELS_DIR),
            "CLINICBOT_GATEWAY__RETRY_PENDING_EVERY_S": "1",
            "CLINICBOT_SUPERVISOR__RESTART_BACKOFF_S": "0.5",
            "CLINICBOT_LLM__TUNE_ON_FIRST_RUN": "false",  # the tune has its own tests; keep the cores free
            **({"CLINICBOT_DATABASE_URL": self.database_url, "CLINICBOT_RASA__TRACKER_STORE_URL": self.tracker_url,
                "CLINICBOT_RASA__LOCK_STORE_URL": os.environ.get("CLINICBOT_TEST_REDIS_URL", "")}
               if self.backend == "postgres" else {}),
            **self.extra_env,
        }

    def start(self, timeout_s: float = 600) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        base = self.data_dir / "models" / "base"
        if not base.exists():  # the prepared base model (the gateway's triage model loads it), prepared once for
            base.parent.mkdir(parents=True, exist_ok=True)  # the run and linked, not prepared again per stack (~25 s)
            base.symlink_to(shared_base())
        log = open(self.data_dir / "up-output.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([str(CLINICBOT), "up", "--gateways", str(self.gateways)], env=self.env(),
                                     stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        self.wait_healthy(timeout_s)

    def wait_healthy(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"clinicbot up exited with {self.proc.returncode}: "
                                   + (self.data_dir / "up-output.log").read_text()[-3000:])
            try:
                if all(httpx.get(f"{url}/healthz", timeout=2).status_code == 200 for url in self.urls):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise TimeoutError("the stack did not become healthy: "
                           + (self.data_dir / "up-output.log").read_text()[-3000:])

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def child_pid(self, name: str) -> int:
        return int((self.data_dir / "run" / f"{name}.pid").read_text())

    def destroy(self) -> None:
        """Stop, and drop the PostgreSQL databases this stack made."""
        self.stop()
        if self._db is not None:
            self._db.dispose()
        for url in (self.database_url, self.tracker_url):
            if url:
                drop_database(url)

    def chat(self, sender: str, message: str, **extra: object) -> httpx.Response:
        """POST /api/chat. A 202 ("give me a moment": the turn outlasted the reply budget, as a cold or busy
        machine makes the first turns) is followed the way the page does: the late answer is read from the
        conversation's history and returned as the 200 the turn would have given."""
        url = self.next_url()
        response = httpx.post(f"{url}/api/chat", json={"sender": sender, "message": message, **extra}, timeout=60)
        if response.status_code != 202:
            return response
        body = response.json()
        # read after the patient's own message, not after the holding line: an answer made in the same instant
        # the budget ran out is stored before the holding line (a CI run waited 60 s for one it had passed)
        after, holding = int(body["message_id"]), {int(m["id"]) for m in body["messages"]}
        deadline, quiet_until = time.monotonic() + 60, 0.0
        late: list[dict[str, object]] = []
        while time.monotonic() < deadline and (not late or time.monotonic() < quiet_until):
            time.sleep(0.2)
            history = httpx.get(f"{url}/api/chat/messages", params={"sender": sender, "after": after},
                                timeout=10).json()["messages"]
            now = [m for m in history if m.get("direction") == "out" and int(m["id"]) not in holding]
            if len(now) != len(late):
                late, quiet_until = now, time.monotonic() + 1.0
        return httpx.Response(200 if late else 504, json={**body, "status": "answered" if late else "late",
                                                          "messages": late, "late": True},
                              request=response.request)

    def reply(self, sender: str, message: str, sep: str = "\n") -> str:
        """Send a chat message; the assistant's answers (which must come back 200), joined by ``sep``."""
        response = self.chat(sender, message)
        assert response.status_code == 200, response.text
        return sep.join(str(m["text"]) for m in response.json()["messages"])

    def clinic_db(self) -> Engine:
        """An engine on the stack's clinic store, to check what the conversation left there."""
        if self._db is None:
            self._db = create_engine(self.database_url or f"sqlite:///{self.data_dir / 'clinic.db'}")
        return self._db

    def history(self, sender: str) -> list[dict[str, object]]:
        response = httpx.get(f"{self.next_url()}/api/chat/messages", params={"sender": sender}, timeout=10)
        return list(response.json()["messages"])

    def texted_code(self, phone: str, timeout_s: float = 10) -> str:
        """The one-time code in the newest verification text to this number, once the gateway has handed it to
        the SMS sender (without Twilio credentials it waits in the outbox): what the patient reads on their phone."""
        deadline = time.monotonic() + timeout_s
        query = text("SELECT m.text, m.status FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                     "WHERE c.channel = 'sms' AND c.channel_user = :phone AND CAST(m.meta AS TEXT) LIKE '%verification_code%' "
                     "ORDER BY m.id DESC LIMIT 1")
        while time.monotonic() < deadline:
            with self.clinic_db().connect() as conn:
                found = conn.execute(query, {"phone": phone}).first()
            if found is not None and found.status in ("outbox", "sent"):  # the newest one, once handed over
                code = re.search(r"\b(\d{6})\b", str(found.text))
                assert code, found.text
                return code.group(1)
            time.sleep(0.2)
        raise AssertionError(f"no verification code was sent to {phone}")
