"""The gaps and feedback views in headless Chromium, on a desktop and a 390x844 phone, with screenshots."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
import yaml

from tests.browser import DESKTOP, PHONE, screenshot
from tests.review_server import ReviewServer, signed_in_page
from tests.tools.insight_data import COMMENTS, THEMES, feedback_conversations, gap_conversations
from tests.tools.review_data import write


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, kb_path: Path) -> Iterator[ReviewServer]:
    tmp = tmp_path_factory.mktemp("insights-browser")
    running = ReviewServer(f"sqlite:///{tmp / 'tracker.db'}", tmp, kb_path, conversations=40).start()
    try:
        engine = sa.create_engine(running.db_url)
        now = time.time()
        write(engine, gap_conversations(now))
        write(engine, feedback_conversations(now))
        engine.dispose()
        yield running
    finally:
        running.stop()


def fits_the_screen(page: Any) -> None:
    """Nothing wider than the viewport (no sideways scrolling)."""
    width, limit = page.evaluate("() => document.documentElement.scrollWidth"), page.viewport_size["width"]
    wide = page.evaluate(
        "(limit) => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > limit)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)",
        limit,
    )
    assert width <= limit, f"the page is {width}px wide: {wide}"


def test_gaps_on_a_desktop_choose_groups_and_export_them(browser: Any, server: ReviewServer, tmp_path: Path) -> None:
    page = signed_in_page(browser, server, DESKTOP, "/review/gaps", accept_downloads=True)
    try:
        assert "Gaps" in page.inner_text("h1")
        groups = page.locator("section.gap")
        assert groups.count() >= len(THEMES) + 1
        nappy = groups.filter(has_text=THEMES["nappy"][0])
        assert nappy.locator("h2").inner_text().startswith("4 messages")
        screenshot(page, "review-gaps-desktop")
        nappy.locator("input[name=group]").check()
        page.locator("section.gap", has_text="pizza").locator("input[name=message]").check()
        page.fill("#intent", "ask_nappy_change")
        with page.expect_download() as download:
            page.click("button:text('Export NLU YAML')")
        saved = tmp_path / "gaps.yml"
        download.value.save_as(saved)
        data = yaml.safe_load(saved.read_text(encoding="utf-8"))
        assert data["nlu"][0]["intent"] == "ask_nappy_change"
        examples = sorted(line[2:] for line in data["nlu"][0]["examples"].splitlines())
        assert examples == sorted([*THEMES["nappy"], "recommend a good pizza place near me"])

        page.select_option("#channel", "telegram")
        page.click("button:text('Apply')")
        page.wait_for_url("**channel=telegram**")
        assert THEMES["nappy"][0] not in page.inner_text("main")
        page.click("nav >> text=Feedback")
        page.wait_for_selector("h1:text('Feedback')")
    finally:
        page.context.close()


def test_gaps_on_a_phone(browser: Any, server: ReviewServer) -> None:
    page = signed_in_page(browser, server, PHONE, "/review/gaps", is_mobile=True, has_touch=True)
    try:
        page.wait_for_selector("section.gap")
        fits_the_screen(page)
        box = page.locator("section.gap").first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        page.locator("section.gap").first.scroll_into_view_if_needed()
        screenshot(page, "review-gaps-phone")
    finally:
        page.context.close()


def test_feedback_on_a_desktop_filters_to_unhelpful_answers(browser: Any, server: ReviewServer) -> None:
    page = signed_in_page(browser, server, DESKTOP, "/review/feedback")
    try:
        topics = page.locator("#by-topic + table tbody tr")
        assert topics.count() == 4 and "Not walking yet" in topics.first.inner_text()
        assert page.locator("#by-week + table meter").count() >= 2
        screenshot(page, "review-feedback-desktop")
        page.select_option("#answer", "unhelpful")
        page.click("button:text('Apply')")
        page.wait_for_url("**answer=unhelpful**")
        assert page.locator(".stat b").first.inner_text() == "4"
        comments = page.locator(".feedback-comments li")
        assert comments.count() == len(COMMENTS) and COMMENTS[1] in comments.first.inner_text()
        comments.first.locator("a").click()
        page.wait_for_selector("h1:text('Conversation')")
        assert "/review/conversations/feedback-" in page.url
    finally:
        page.context.close()


def test_feedback_on_a_phone(browser: Any, server: ReviewServer) -> None:
    page = signed_in_page(browser, server, PHONE, "/review/feedback?answer=unhelpful", is_mobile=True, has_touch=True)
    try:
        fits_the_screen(page)
        assert page.locator(".feedback-comments li").count() == len(COMMENTS)
        screenshot(page, "review-feedback-phone")
        page.locator("#missing").scroll_into_view_if_needed()
        screenshot(page, "review-feedback-phone-comments")
    finally:
        page.context.close()
