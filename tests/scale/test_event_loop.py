"""No database call blocks the gateway's event loop: while one conversation waits 5 s for a database lock, the
gateway (a real uvicorn server) goes on answering. On PostgreSQL the lock is a row lock on that conversation and
another conversation is answered meanwhile; on SQLite, where a lock is the whole file's write lock, every read
(another patient's page, the chat page) is still answered at once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text

from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings
from tests.conftest import FakeRasa
from tests.e2e.stack import free_port

X, Y = "locked-page-00001", "other-page-000001"
HOLD_S = 5.0


@pytest.fixture
def gateway(store: Settings, fake_rasa: FakeRasa) -> Iterator[str]:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, engine), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def chat(url: str, sender: str, message: str) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.post(f"{url}/api/chat", json={"sender": sender, "message": message}, timeout=60)
    return response.status_code, time.monotonic() - started


def hold_lock(store: Settings, ready: threading.Event) -> None:
    """Hold a database lock for HOLD_S: a row lock on X's conversation (PostgreSQL), the write lock (SQLite)."""
    url = store.database_url
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(HOLD_S)
        conn.execute("ROLLBACK")
        conn.close()
        return
    engine = create_engine(url)
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT id FROM conversations WHERE channel_user = :x FOR UPDATE"), {"x": X})
        ready.set()
        time.sleep(HOLD_S)
    engine.dispose()


def test_a_conversation_waiting_for_a_locked_database_holds_up_nobody_else(gateway: str, store: Settings) -> None:
    assert chat(gateway, X, "hello")[0] == 200 and chat(gateway, Y, "hello")[0] == 200
    ready = threading.Event()
    locker = threading.Thread(target=hold_lock, args=(store, ready))
    locker.start()
    assert ready.wait(10)
    locked_at = time.monotonic()
    waiting: dict[str, tuple[int, float]] = {}
    blocked = threading.Thread(target=lambda: waiting.update(x=chat(gateway, X, "are you there")))
    blocked.start()
    time.sleep(0.5)  # X's turn is now waiting for the lock, in a worker thread

    started = time.monotonic()
    assert httpx.get(f"{gateway}/api/chat/messages", params={"sender": Y}, timeout=10).status_code == 200
    assert httpx.get(f"{gateway}/", timeout=10).status_code == 200
    reads_s = time.monotonic() - started
    assert reads_s < 1.5, f"reads took {reads_s:.1f} s while another request waited for the database"
    if not store.database_url.startswith("sqlite"):
        status, took = chat(gateway, Y, "what are your hours")
        assert status == 200 and took < 2.0, f"another conversation took {took:.1f} s"
        assert time.monotonic() - locked_at < HOLD_S  # answered while X's row was still locked

    blocked.join(60)
    locker.join(10)
    status, took = waiting["x"]
    assert status == 200 and took >= HOLD_S - 1.5  # X itself did wait for the lock, and was answered after
