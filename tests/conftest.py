"""Shared fixtures: settings on a temporary data directory, a seeded store, a fake Rasa engine, a tiny adapter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.runtime import demo
from bot.settings import PROJECT_ROOT, Settings, get_settings, load_settings
from bot.store import migrate, session_scope
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

SMS_PUBLIC_URL = "https://clinic.example.org"

# Trained Rasa models are shared by every test run on this machine (named by a fingerprint of the data).
TEST_MODELS_DIR = PROJECT_ROOT / "var" / "test-models"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLINICBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLINICBOT_ENVIRONMENT", "test")
    # The rules alone, so each test's outcome does not hang on a model loading in the background; the triage
    # model's own tests (tests/test_triage_*.py) turn it on.
    monkeypatch.setenv("CLINICBOT_TRIAGE__MODEL", "none")
    get_settings.cache_clear()
    cfg = load_settings()
    yield cfg
    get_settings.cache_clear()


@dataclass(frozen=True)
class TinyAdapter:
    base_model: Path  # the prepared SmolLM2 copy under var/models (shared by every test run)
    path: Path  # the LoRA adapter folder
    report: dict[str, Any]  # what tune() returned


@pytest.fixture(scope="session")
def tiny_adapter(tmp_path_factory: pytest.TempPathFactory) -> TinyAdapter:
    """A real QLoRA adapter from a 2-step run on the 4-bit base, trained once per test session (slow tests)."""
    from bot.llm.prepare import prepare_base_model
    from knowledge.training.tune import TuneConfig, tune

    base = prepare_base_model(PROJECT_ROOT / "var" / "models")
    out = tmp_path_factory.mktemp("tiny-adapter") / "adapter"
    report = tune(str(base), out, clinic_name="Maple Street Family Medicine", config=TuneConfig(steps=2, eval_limit=1))
    return TinyAdapter(base, out, report)


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        demo.seed(session, settings)
    return settings


@dataclass
class FakeRasa:
    """Behaves like Rasa's HTTP API for the routes the gateway uses; can be switched off."""

    up: bool = True
    slow: bool = False  # takes the message, then never answers in time
    drops: bool = False  # the connection drops (the engine died): nothing was processed
    replies: Callable[[str], list[str]] = lambda text: [f"echo: {text}"]
    received: list[dict[str, Any]] = field(default_factory=list)
    # what GET /conversations/{id}/tracker answers: the form the engine is in and its last turn's actions
    active_loop: str | None = None
    last_actions: list[str] = field(default_factory=list)
    delay_s: float = 0.0  # slow_handler: seconds before each turn is answered

    async def slow_handler(self, request: httpx.Request) -> httpx.Response:
        """The same answers after ``delay_s`` (a model taking its time), without blocking the event loop."""
        if request.url.path == "/webhooks/rest/webhook":
            await asyncio.sleep(self.delay_s)
        return self.handler(request)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        if self.drops:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response", request=request)
        if request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            self.received.append(body)
            if self.slow:
                raise httpx.ReadTimeout("timed out", request=request)
            return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": t}
                                             for t in self.replies(body["message"])])
        if request.url.path.startswith("/conversations/") and request.url.path.endswith("/tracker"):
            events = [{"event": "user", "text": "..."}] + [{"event": "action", "name": a} for a in self.last_actions]
            return httpx.Response(200, json={"active_loop": {"name": self.active_loop} if self.active_loop else {},
                                             "events": events})
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "assistant.tar.gz", "model_id": "x",
                                             "num_active_training_jobs": 0})
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(404, json={"status": "failure", "reason": "NotFound"})


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


# -- SMS: a local fake of Twilio's API and settings that send to it --------------------------------------
@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def sms_settings(seeded: Settings, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_PHONE_NUMBER", FROM_NUMBER)
    monkeypatch.setenv("CLINICBOT_PUBLIC_URL", SMS_PUBLIC_URL)
    seeded.sms.api_base_url = fake_twilio.url
    seeded.sms.retry_backoff_s = 0
    return seeded
