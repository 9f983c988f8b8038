"""The content security policy in a real browser: the chat page and the console work under it (scripts, styles,
the live socket) and Chromium reports no violation; the console's sign-in throttling shows its message."""

from __future__ import annotations

import contextlib

import pytest

from tests.browser.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_pages_run_under_the_policy_without_a_violation(gateway: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_context().new_page()
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(gateway + "/")
    page.fill("#message", "hello there")
    page.press("#message", "Enter")
    expect(page.locator("#log li.bot").last).to_contain_text("echo: hello there")
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != ""  # the style sheet applied
    with contextlib.suppress(Exception):  # an injected inline script is refused by the browser
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected === undefined")
    assert complaints and "inline" in complaints[0]
    complaints.clear()

    page.goto(gateway + "/console/login")
    for attempt in range(4):
        page.fill("#username", "dana")
        page.fill("#password", f"not the password {attempt}")
        page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Please wait")
    page.fill("#username", "dana")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Please wait")  # even the right password waits
    assert complaints == []
