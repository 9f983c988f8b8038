"""The patient's chat page in headless Chromium, on a desktop and on a 390 x 844 phone (also with the keyboard
open): the patient's own message and the typing line appear the moment they press Send, and the newest message
is always in view above the message box. Screenshots go to var/test-artifacts/<test>/."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.conversations.service import ConversationService
from bot.engine.client import RasaClient
from bot.settings import PROJECT_ROOT, Settings
from bot.store import Message
from bot.store.states import Author
from tests.browser.conftest import served

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"
REPLY_DELAY_S = 2.0
LONG_REPLY = ("Our office is at 412 Maple Street. Parking is free in the lot behind the building, and there are "
              "two accessible spaces by the door. Street parking is also free after 6 pm.")


async def slow_engine(request: httpx.Request) -> httpx.Response:
    """An engine that takes two seconds to answer, with a long reply, so the page's behaviour while waiting
    and with a full screen can be seen."""
    if request.url.path == "/webhooks/rest/webhook":
        body = json.loads(request.content)
        await asyncio.sleep(REPLY_DELAY_S)
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": f"{LONG_REPLY} ({body['message']})"}])
    if request.url.path == "/status":
        return httpx.Response(200, json={"model_file": "x.tar.gz"})
    return httpx.Response(200, json={"status": "ok"})


@pytest.fixture
def gateway(seeded: Settings) -> Iterator[str]:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook", transport=httpx.MockTransport(slow_engine))
    with served(seeded, engine) as url:
        yield url


def in_view(page: object, selector: str) -> bool:
    """The element is inside the scrolling conversation's visible part and above the message box."""
    return bool(page.evaluate(  # type: ignore[attr-defined]
        """(selector) => {
            const el = document.querySelector(selector);
            const box = document.getElementById('scroller').getBoundingClientRect();
            const composer = document.getElementById('composer').getBoundingClientRect();
            const r = el.getBoundingClientRect();
            return r.bottom <= box.bottom + 1 && r.top >= box.top - 1 && r.bottom <= composer.top + 1
                   && r.bottom <= window.innerHeight;
        }""", selector))


@pytest.mark.parametrize(("viewport", "name"), [({"width": 1280, "height": 800}, "desktop"),
                                                ({"width": 390, "height": 844}, "phone")])
def test_own_message_and_typing_at_once_and_the_newest_message_always_in_view(
    gateway: str, browser: object, viewport: dict[str, int], name: str, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    out = ARTIFACTS / request.node.name
    out.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(gateway + "/")
    for turn in range(5):
        page.fill("#message", f"where do i park, question {turn}")
        started = time.monotonic()
        page.press("#message", "Enter")
        expect(page.locator("#log li.patient").last).to_contain_text(f"question {turn}", timeout=1_000)
        expect(page.locator("#typing")).to_be_visible(timeout=1_000)
        assert time.monotonic() - started < REPLY_DELAY_S, "the patient's message waited for the answer"
        if turn == 0:
            page.screenshot(path=str(out / "waiting.png"))
        assert in_view(page, "#typing")
        expect(page.locator("#log li.bot").last).to_contain_text(f"(where do i park, question {turn})",
                                                                 timeout=15_000)
        expect(page.locator("#typing")).to_be_hidden()
        assert in_view(page, "#log li:last-child"), f"turn {turn}: the newest reply is hidden"
    page.screenshot(path=str(out / "answered.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the page scrolls sideways"

    if name == "phone":  # the keyboard takes half the screen: the newest message stays above the box
        page.focus("#message")
        page.set_viewport_size({"width": 390, "height": 450})
        page.wait_for_timeout(300)
        assert in_view(page, "#log li:last-child")
        page.screenshot(path=str(out / "keyboard-open.png"))
    assert (out / "answered.png").stat().st_size > 0



def test_an_answer_stored_before_the_give_me_a_moment_line_still_shows(
    seeded: Settings, browser: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reply budget runs out while the turn is ending: the answer is stored, then the holding line after it.
    # The page reads late answers after the patient's own message, not after the holding line it was given.
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    seeded.gateway.reply_wait_s = 0.3
    post_outbound = ConversationService.post_outbound

    async def holding_line_after_the_answer(self: ConversationService, conversation_id: str, text: str, *,
                                            author: Author, meta: dict[str, Any] | None = None) -> Message:
        if meta and meta.get("holding"):
            for _ in range(200):
                if any(m.author == Author.BOT for m in await asyncio.to_thread(self.history, conversation_id)):
                    break
                await asyncio.sleep(0.05)
        return await post_outbound(self, conversation_id, text, author=author, meta=meta)

    monkeypatch.setattr(ConversationService, "post_outbound", holding_line_after_the_answer)
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook", transport=httpx.MockTransport(slow_engine))
    with served(seeded, engine) as url:
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(url + "/")
        page.fill("#message", "where do i park")
        page.press("#message", "Enter")
        expect(page.locator("#log li", has_text="Give me a moment")).to_have_count(1, timeout=10_000)
        expect(page.locator("#log li.bot").filter(has_text="(where do i park)")).to_have_count(1, timeout=10_000)
        expect(page.locator("#typing")).to_be_hidden(timeout=5_000)
