"""The dashboard and the front desk's pages in headless Chromium against a real gateway (uvicorn) with the demo's
90 days of history: the dashboard draws its charts and numbers (screenshots saved as the test's artefacts, wide
and at a phone's 390 px), nothing on the queue, a conversation, the settings or the dashboard scrolls sideways
at 390 px, and a red flag tops the queue with its banner."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.conversations.handoffs import request_handoff
from bot.runtime.demo_history import seed_history
from bot.settings import PROJECT_ROOT, Settings
from bot.store import Conversation, Message, session_scope
from tests.console_helpers import add_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where this test's screenshots go: ``var/test-artifacts/<test>/`` (``CLINICBOT_TEST_ARTIFACTS`` moves it)."""
    root = Path(os.environ.get("CLINICBOT_TEST_ARTIFACTS", PROJECT_ROOT / "var" / "test-artifacts"))
    folder = root / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def seeded(seeded: Settings) -> Settings:  # the demo clinic with its 90 days of history, and a red flag waiting
    with session_scope(seeded.database_url) as session:
        seed_history(session, seeded)
        for user, reason, summary, text in [
                ("page-asked", "requested_human", {}, "Can I talk to someone about my bill please"),
                ("page-chest", "triage_flag", {"red_flags": ["chest_pain"]}, "crushing chest pain and sweating")]:
            conversation = Conversation(channel="web", channel_user=user)
            session.add(conversation)
            session.flush()
            session.add(Message(conversation_id=conversation.id, direction="in", author="patient", text=text,
                                status="answered"))
            request_handoff(session, conversation, reason=reason, summary=summary)
    return seeded


def sign_in(page: object, base: str, username: str) -> None:
    page.goto(base + "/console/login")  # type: ignore[attr-defined]
    page.fill("#username", username)  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(base + "/console")  # type: ignore[attr-defined]


def overflow(page: object) -> int:
    """How far the page scrolls sideways (0 when nothing is wider than the screen)."""
    return int(page.evaluate(  # type: ignore[attr-defined]
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_the_dashboard_in_chromium_wide_and_on_a_phone(gateway: str, browser: object, seeded: Settings,
                                                       artifacts: Path) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    add_staff(seeded.database_url, "olga", PASSWORD, role="owner")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, gateway, "olga")
    page.click("text=Dashboard")
    expect(page.locator("h1")).to_have_text("What the assistant did")
    page.select_option("#range", "90")
    page.click("#filters button[type=submit]")
    expect(page.locator("#period")).to_contain_text("All channels")
    assert int(page.locator("#kpi-conversations").inner_text().replace(",", "")) > 1000
    assert page.locator("section.panel svg").count() >= 8
    box = page.locator("#traffic svg").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn, not collapsed
    assert page.locator("#table-intents tbody tr").count() >= 10
    page.select_option("#channel", "sms")
    page.click("#filters button[type=submit]")
    expect(page.locator("#period")).to_contain_text("Text (SMS)")
    page.select_option("#channel", "")
    page.click("#filters button[type=submit]")
    page.screenshot(path=str(artifacts / "dashboard-wide.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#intents a[download]").click()
    assert download.value.suggested_filename.startswith("clinicbot-intents-")

    phone = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    sign_in(phone, gateway, "olga")
    for path in ("/console/dashboard?range=30", "/console", "/console/settings"):
        phone.goto(gateway + path)
        assert overflow(phone) == 0, path
    phone.goto(gateway + "/console/dashboard?range=90")
    phone.screenshot(path=str(artifacts / "dashboard-390px.png"), full_page=True)
    assert (artifacts / "dashboard-wide.png").stat().st_size > 20_000
    assert (artifacts / "dashboard-390px.png").stat().st_size > 20_000


def test_a_red_flag_tops_the_queue_and_the_pages_fit_a_phone(gateway: str, browser: object, seeded: Settings,
                                                           artifacts: Path) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)  # "dana" (front desk) comes with the gateway fixture
    phone = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    sign_in(phone, gateway, "dana")
    expect(phone.locator("#red-flag-banner")).to_be_visible()
    assert phone.title().startswith("(!) Red flag")
    first = phone.locator("table.queue tbody tr").first
    expect(first).to_have_class(re.compile(r"\bred-flag\b"))
    expect(first.locator(".preview")).not_to_contain_text("Loading preview", timeout=60_000)  # filled in by itself
    assert overflow(phone) == 0
    phone.screenshot(path=str(artifacts / "queue-390px.png"), full_page=True)
    first.locator("a").click()
    expect(phone.locator(".banner.red-flag")).to_be_visible()
    assert overflow(phone) == 0
    phone.screenshot(path=str(artifacts / "conversation-390px.png"), full_page=True)
