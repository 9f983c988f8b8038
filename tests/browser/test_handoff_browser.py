"""A whole handoff in headless Chromium against a real gateway (uvicorn on a free port) with a fake engine:
a patient asks for a person in web chat, a staff member signs in, claims, replies, the patient's page shows
the reply without a reload, the staff member hands back, and the assistant answers the next message."""

from __future__ import annotations

import time

import pytest

from tests.console_helpers import HANDOFF_REPLY

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct horse battery"


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
