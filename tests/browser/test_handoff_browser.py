"""A whole handoff in headless Chromium against a real gateway (uvicorn on a free port) with a fake engine:
a patient asks for a person in web chat, a staff member signs in, claims, replies, the patient's page shows
the reply without a reload, the staff member hands back, and the assistant answers the next message."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings
from tests.browser.conftest import free_port
from tests.console_helpers import HANDOFF_REPLY, HandoffRasa, add_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct horse battery"


@pytest.fixture
def gateway(seeded: Settings) -> Iterator[str]:
    add_staff(seeded.database_url, "dana", PASSWORD)
    rasa = HandoffRasa(database_url=seeded.database_url)
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook", transport=httpx.MockTransport(rasa.handler))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(seeded, engine), host="127.0.0.1", port=port,
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


def test_patient_and_staff_hold_a_handoff_in_real_browsers(gateway: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    patient = browser.new_context().new_page()
    patient.goto(gateway + "/")
    patient.fill("#message", "I would like to talk to a person please")
    patient.press("#message", "Enter")
    expect(patient.locator("#log li.bot").last).to_contain_text(HANDOFF_REPLY)

    staff = browser.new_context().new_page()
    staff.goto(gateway + "/console")
    assert staff.url.endswith("/console/login")
    staff.fill("#username", "dana")
    staff.fill("#password", PASSWORD)
    staff.click("button[type=submit]")
    staff.click("text=Asked for a person")
    expect(staff.locator("#transcript")).to_contain_text("talk to a person please")
    staff.click("#claim")
    expect(staff.locator("#state")).to_contain_text("You have this conversation")

    patient.fill("#message", "Hello? Is someone there?")
    patient.press("#message", "Enter")
    expect(staff.locator("#transcript")).to_contain_text("Is someone there?", timeout=10_000)  # live, no reload

    staff.fill("#reply-text", "Hi, this is Dana at the front desk. How can I help?")
    started = time.monotonic()
    staff.click("#send-reply")
    reply = patient.locator("#log li.staff")
    expect(reply).to_contain_text("this is Dana at the front desk", timeout=3_000)  # websocket, not the 20 s poll
    print(f"staff reply shown on the patient's page after {time.monotonic() - started:.2f} s")
    expect(reply.locator(".who")).to_have_text("Front desk")

    staff.click("#hand-back")
    expect(staff.locator("body")).to_contain_text("Nobody is waiting")
    patient.fill("#message", "What are your hours?")
    patient.press("#message", "Enter")
    expect(patient.locator("#log li.bot").last).to_contain_text("echo: What are your hours?")
