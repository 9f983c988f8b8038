"""Browser tests: Debian's Chromium driven by Playwright (``playwright install`` cannot download a browser here)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings
from tests.console_helpers import HandoffRasa, add_staff

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (scripts/setup.sh installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@contextlib.contextmanager
def served(settings: Settings, engine: RasaClient) -> Iterator[str]:
    """The gateway app under uvicorn on a free port in a thread: its URL while the block runs."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the gateway did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def gateway(seeded: Settings) -> Iterator[str]:
    add_staff(seeded.database_url, "dana", PASSWORD)
    rasa = HandoffRasa(database_url=seeded.database_url)
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook", transport=httpx.MockTransport(rasa.handler))
    with served(seeded, engine) as url:
        yield url
