"""Readable dashboard pages in headless Chromium, on a 1366 px desktop and a 390x844 phone: the transcript shows the
assistant's Markdown as formatting, why a turn counts as misunderstood and what was recorded; the overview's day
labels never overlap and stay legible for 7 to 365 days. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from tests.browser import PHONE, screenshot
from tests.review_server import ReviewServer, signed_in_page
from tests.test_review_readable_http import SENDER, readable_conversation
from tests.tools.review_data import create_events_table, generate, write

WIDE = {"width": 1366, "height": 768}
VIEWPORTS = {"desktop": WIDE, "phone": PHONE}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, kb_path: Path) -> Iterator[ReviewServer]:
    tmp = tmp_path_factory.mktemp("review-readable-browser")
    running = ReviewServer(f"sqlite:///{tmp / 'tracker.db'}", tmp, kb_path, conversations=40).start()
    engine = create_events_table(running.db_url)
    write(engine, iter([(SENDER, readable_conversation(time.time() - 600))]))
    write(engine, generate(300, seed=11, days=365, now=time.time()))  # a year of conversations for the long chart
    engine.dispose()
    try:
        yield running
    finally:
        running.stop()


def fits_the_width(page: Any) -> bool:
    """Nothing on the page is wider than the screen (no sideways scrolling); the culprits are printed otherwise."""
    wider = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
              .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60))"""
    )
    print(wider)
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_transcript_reads_like_the_chat(browser: Any, server: ReviewServer, device: str) -> None:
    page = signed_in_page(browser, server, VIEWPORTS[device])
    try:
        page.goto(f"{page.base}/review/conversations/{SENDER}")
        page.wait_for_selector("h2:text('Transcript')")
        bold = page.locator(".reply strong", has_text="crawling backwards")
        assert bold.count() == 1 and bold.evaluate("e => getComputedStyle(e).fontWeight") in ("700", "bold")
        items = page.locator(".reply ul li")
        assert items.count() >= 3 and "play on the floor every day" in items.all_inner_texts()
        link = page.locator(".reply a", has_text="CDC milestones")
        assert link.get_attribute("href") == "https://www.cdc.gov/milestones?a=1&b=2"
        assert link.get_attribute("rel") == "noopener noreferrer nofollow" and link.get_attribute("target") == "_blank"
        assert page.locator(".reply script, .reply img").count() == 0
        assert '<script>alert("x")</script>' in page.locator(".reply").all_inner_texts()[-2]  # shown as text
        flagged = page.locator("section.turn.flagged")
        assert flagged.count() == 1 and "zxqv blorp" in flagged.inner_text()
        badge = flagged.locator(".flags .badge")
        assert badge.inner_text() == "not understood (fallback reply)" and badge.is_visible()
        recorded = page.locator(".recorded li")
        assert recorded.count() == 1 and "Drags one leg" in recorded.inner_text() and recorded.is_visible()
        assert "Crawling backwards" in page.locator("h1 + p").inner_text()
        assert fits_the_width(page)
        flagged.scroll_into_view_if_needed()
        screenshot(page, f"review-readable-transcript-{device}")
    finally:
        page.context.close()


def label_boxes(page: Any) -> List[Dict[str, float]]:
    """The visible chart's day labels as drawn: left, right, height (CSS pixels)."""
    return page.evaluate(
        """() => {
          const svg = [...document.querySelectorAll('svg.chart')].find(s => getComputedStyle(s).display !== 'none');
          return [...svg.querySelectorAll('text')].slice(0, -1).map(t => {
            const r = t.getBoundingClientRect();
            return {left: r.left, right: r.right, height: r.height, size: parseFloat(getComputedStyle(t).fontSize)
                    * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width};
          });
        }"""
    )


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("days", [7, 30, 90, 365])
def test_the_day_labels_never_overlap(browser: Any, server: ReviewServer, device: str, days: int) -> None:
    page = signed_in_page(browser, server, VIEWPORTS[device])
    try:
        page.goto(f"{page.base}/review/?days={days}")
        page.wait_for_selector("h2:text('Conversations per day')")
        boxes = label_boxes(page)
        assert len(boxes) >= 2
        for a, b in zip(boxes, boxes[1:], strict=False):
            assert b["left"] >= a["right"] + 2, (a, b)  # apart, in drawing order
        assert all(box["size"] >= 10.5 for box in boxes)  # drawn at a legible size on this screen
        assert fits_the_width(page)
        if days in (30, 365):
            page.locator("h2:text('Conversations per day')").scroll_into_view_if_needed()
            screenshot(page, f"review-chart-{days}-days-{device}")
    finally:
        page.context.close()
