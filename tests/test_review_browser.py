"""The review dashboard in headless Chromium: a support agent's round trip, with screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.browser import DESKTOP, screenshot
from tests.review_server import PASSWORDS, ReviewServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, kb_path: Path) -> Iterator[ReviewServer]:
    tmp = tmp_path_factory.mktemp("review-browser")
    running = ReviewServer(f"sqlite:///{tmp / 'tracker.db'}", tmp, kb_path).start()
    try:
        yield running
    finally:
        running.stop()


def test_agent_reviews_an_urgent_conversation(browser: Any, server: ReviewServer, tmp_path: Path) -> None:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    base = server.base.replace("127.0.0.1", "localhost")  # browsers keep Secure cookies on localhost
    try:
        page.goto(f"{base}/review/conversations")
        assert "/review/login" in page.url and "Please sign in" in page.inner_text("main")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORDS["admin"])
        screenshot(page, "review-sign-in")
        page.click("button:text('Sign in')")
        page.wait_for_selector("h1:text('Conversations')")

        page.select_option("#referral", "urgent")
        page.click("button:text('Apply')")
        page.wait_for_url("**referral=urgent**")
        rows = page.locator("tbody tr.urgent")
        assert rows.count() >= 1 and page.locator("tbody tr:not(.urgent)").count() == 0
        screenshot(page, "review-urgent-list")

        rows.first.locator("a").first.click()
        page.wait_for_selector("h1:text('Conversation')")
        assert "Red flag: seizure" in page.inner_text("main")
        page.fill("#tag", "called back")
        page.click("button:text('Add tag')")
        page.wait_for_selector(".b-tag:text('called back')")
        page.click("button:text('Mark as reviewed')")
        page.wait_for_selector("text=reviewed by admin")
        screenshot(page, "review-transcript")

        page.click("text=← Back to the list")
        page.wait_for_url("**referral=urgent**")
        assert page.locator("tbody tr .b-reviewed").count() >= 1
        with page.expect_download() as download:
            page.click("a:text('CSV')")
        saved = tmp_path / "export.csv"
        download.value.save_as(saved)
        lines = saved.read_text().splitlines()
        assert lines[0].startswith("sender_id,") and all(",urgent," in line for line in lines[1:])
        assert any("called back" in line for line in lines[1:])

        page.click("button:text('Sign out')")
        page.wait_for_selector("text=You are signed out.")
        page.goto(f"{base}/review/")
        assert "/review/login" in page.url
        screenshot(page, "review-signed-out")
    finally:
        context.close()
