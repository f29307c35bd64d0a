"""The appointment summary page in headless Chromium: desktop, a 390x844 phone, and the print view (print media
emulated through the DevTools protocol, and real PDFs on A4 and Letter), with screenshots."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any, Dict, Iterator

import pytest

from bot.knowledge.messages import say
from bot.privacy.summary_links import DAY_SECONDS, link_key, make_token
from bot.settings import get_settings
from bot.triage.appointment import Record, compose, record_of
from bot.triage.appointment_library import current_library
from bot.triage.respond import advise
from tests.browser import DESKTOP, PHONE, SCREENSHOTS, screenshot
from tests.servers import Services
from tests.test_appointment import LATE_WALKER

ANSWERS = LATE_WALKER
# Printable width in CSS pixels (96 per inch) inside the stylesheet's @page margins of 14 mm left and right.
PRINTABLE = {"A4": round((210 - 28) / 25.4 * 96), "Letter": round((215.9 - 28) / 25.4 * 96)}


@pytest.fixture(scope="module")
def summary_url(web_server: Services, kb_path: Any) -> Iterator[Dict[str, Any]]:
    """A signed link to a late walker's summary on the web server (a provider referral, corrected age)."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("KNOWLEDGE_DB", str(kb_path))
    get_settings.cache_clear()
    library = current_library()
    outcome = advise(
        "late_walking", library.topics, library.questions, library.milestones, library.catalogue, ANSWERS,
        safety_net=library.safety_net,
    )  # fmt: skip
    assert outcome is not None and outcome.referral == "provider"
    record = record_of("late_walking", "provider", ANSWERS, (), outcome.rule_ids, made_at=time.time())
    key = link_key(replace(get_settings(), webchat_secret=None, webchat_secret_file=web_server.logs / "webchat_secret"))
    yield {
        "url": f"{web_server.web_url}/summary/{make_token(record, key, 7)}",
        "expired": f"{web_server.web_url}/summary/{make_token(replace(record, made_at=int(time.time() - 9 * DAY_SECONDS)), key, 7)}",
        "summary": compose(record, library),
    }
    monkeypatch.undo()
    get_settings.cache_clear()


def full_screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def overflow(page: Any) -> int:
    """How far the page is wider than the window (0 when nothing scrolls sideways)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def style(page: Any, selector: str, prop: str) -> str:
    return str(page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}"))


def test_the_summary_reads_well_on_a_desktop_and_its_button_prints(browser: Any, summary_url: Dict[str, Any]) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list = []  # policy refusals, and anything of the page's own that failed to load (the browser asks for a favicon)
    page.on("console", lambda message: errors.append(message.text) if "Security Policy" in message.text else None)
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    try:
        page.goto(summary_url["url"])
        summary = summary_url["summary"]
        assert page.inner_text("h1") == summary.title
        button = page.locator("#print-button")
        assert button.is_visible() and button.inner_text() == say("appointment.page.print")
        assert page.locator(".reasons li").count() == len(summary.reasons)
        assert page.locator(".fact").count() == len(summary.facts)
        assert page.locator(".sources li").count() == len(summary.sources) > 0
        assert overflow(page) == 0 and not errors  # no script or style refused by the page's policy
        page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
        button.click()
        assert page.evaluate("() => window.printed") == 1
        full_screenshot(page, "appointment-summary-desktop")
    finally:
        context.close()


def test_the_summary_fits_a_phone(browser: Any, summary_url: Dict[str, Any]) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(summary_url["url"])
        assert overflow(page) == 0
        box = page.locator("#print-button").bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= PHONE["width"] - 60  # a full-width tap target
        assert float(style(page, "body", "fontSize").rstrip("px")) >= 16
        for selector in ("h1", ".reasons li", ".sources .url"):
            right = page.eval_on_selector_all(selector, "els => Math.max(...els.map(e => e.getBoundingClientRect().right))")
            assert right <= PHONE["width"], selector
        screenshot(page, "appointment-summary-phone")
        full_screenshot(page, "appointment-summary-phone-full")
        page.goto(summary_url["expired"])
        assert page.inner_text("h1") == say("appointment.page.expired_title") and overflow(page) == 0
        screenshot(page, "appointment-summary-expired-phone")
    finally:
        context.close()


def test_the_print_view_is_black_on_white_without_buttons_and_fits_a4_and_letter(
    browser: Any, summary_url: Dict[str, Any]
) -> None:
    context = browser.new_context(viewport={"width": PRINTABLE["A4"], "height": 1100})
    page = context.new_page()
    try:
        page.goto(summary_url["url"])
        assert page.locator("#print-button").is_visible()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setEmulatedMedia", {"media": "print"})
        assert page.evaluate("() => matchMedia('print').matches")
        assert not page.locator("#print-button").is_visible() and style(page, ".actions", "display") == "none"
        assert style(page, "body", "color") == "rgb(0, 0, 0)"
        assert style(page, "body", "backgroundColor") == style(page, "main", "backgroundColor") == "rgb(255, 255, 255)"
        assert style(page, ".reasons li", "backgroundColor") == "rgb(255, 255, 255)"
        urls = page.locator(".sources .url")
        assert urls.count() == len(summary_url["summary"].sources) and all(u.is_visible() for u in urls.all())
        assert [u.inner_text() for u in urls.all()] == [s.url for s in summary_url["summary"].sources]
        for paper, width in PRINTABLE.items():
            page.set_viewport_size({"width": width, "height": 1100})
            assert overflow(page) == 0, paper
        full_screenshot(page, "appointment-summary-print")
    finally:
        context.close()


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_summary_prints_on_two_pages_at_most(browser: Any, summary_url: Dict[str, Any], paper: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(summary_url["url"])
        pdf = page.pdf(format=paper, prefer_css_page_size=False)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pdf.startswith(b"%PDF") and 1 <= pages <= 2, pages
    finally:
        context.close()


def test_an_urgent_summary_from_a_red_flag_alone(browser: Any, web_server: Services, summary_url: Dict[str, Any]) -> None:
    key = link_key(replace(get_settings(), webchat_secret=None, webchat_secret_file=web_server.logs / "webchat_secret"))
    record = Record(None, "urgent", red_flag="loss_of_skills", made_at=int(time.time()))
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{web_server.web_url}/summary/{make_token(record, key, 7)}")
        assert page.inner_text("h2#reasons-heading") == say("appointment.reasons_heading.urgent")
        assert "stops doing something they could already do" in page.inner_text(".reasons")
        assert overflow(page) == 0
        screenshot(page, "appointment-summary-urgent-phone")
    finally:
        context.close()
