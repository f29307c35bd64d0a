"""The chat widget in real headless Chromium, against the real web, Rasa and action servers.

Screenshots land in artifacts/screenshots/ (desktop and a 390x844 phone viewport).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import httpx
import pytest

from tests.browser import DESKTOP, PHONE, WidgetPage, screenshot
from tests.servers import TOKEN, Services


@pytest.fixture
def stack(web_stack: Services) -> Services:
    """The session's shared stack (conftest); restarted if a test left part of it stopped."""
    return web_stack.ensure_running()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=DESKTOP)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def widget(context: Any, stack: Services) -> WidgetPage:
    return WidgetPage(context.new_page(), stack.web_url).goto()


def tracker(stack: Services, session_id: str) -> dict:
    response = httpx.get(f"{stack.rasa_url}/conversations/{session_id}/tracker", params={"token": TOKEN}, timeout=30)
    response.raise_for_status()
    return response.json()


def test_whole_conversation_typing_and_tapping_ends_with_linked_sources(widget: WidgetPage, stack: Services) -> None:
    widget.open()
    assert "not a diagnosis" in widget.log_text() and "emergency" in widget.log_text()
    assert "How old" in widget.say("why is my baby crawling backwards")
    assert "born early" in widget.say("9 months").lower()
    assert widget.reply_titles() == ["No, on time", "4 weeks early", "8 weeks early", "Not sure"]
    widget.settle()
    screenshot(widget.page, "widget-desktop-question")
    question = widget.tap("No, on time")
    assert "opposite arm and leg" in question
    assert widget.page.locator("#caregiver-chat .msg.user").last.inner_text().endswith("No, on time")  # the title shows
    widget.tap("Yes")
    assert "sit steadily" in widget.tap("Yes")  # at 9 months the safety net asks about sitting
    advice = widget.tap("Yes")
    assert "this looks on track" in advice and "Things to try" in advice and "When to check again" in advice
    assert "What you can try" not in advice  # the whole section is one tap away
    assert widget.reply_titles() == [
        "👍 Yes, helpful",
        "👎 Not really",
        "What else can I try?",
        "Why does this happen?",
        "When should I worry?",
        "All sources",
    ]
    sources = widget.page.locator("#caregiver-chat .msg.bot.sources details").last
    assert sources.get_attribute("open") is None and sources.locator("summary").inner_text().startswith("Sources (")
    sources.locator("summary").click()
    links = sources.locator("a")
    assert links.count() >= 2 and links.first.is_visible()
    for i in range(links.count()):
        link = links.nth(i)
        assert link.get_attribute("href").startswith(("http://", "https://"))
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    assert tracker(stack, widget.session_id())["slots"]["referral"] == "none"
    widget.settle()
    screenshot(widget.page, "widget-desktop-advice")
    why = widget.tap("Why does this happen?")
    assert "Why it happens" in why and "Why does this happen?" not in widget.reply_titles()
    section = widget.page.locator(
        "#caregiver-chat .msg.bot details", has=widget.page.locator("summary", has_text="Why it happens")
    )
    assert section.count() == 1 and section.get_attribute("open") == ""  # shown open
    section.locator("summary").click()  # the long part folds away
    assert section.get_attribute("open") is None
    assert "glad it helped" in widget.tap("👍 Yes, helpful")
    assert tracker(stack, widget.session_id())["slots"]["feedback"] == {
        "kind": "vote",
        "helpful": True,
        "subject": "crawling_backward",
        "referral": "none",
        "part": "why",
    }


def test_on_a_phone_the_short_answer_fits_and_feedback_asks_what_was_missing(browser: Any, stack: Services) -> None:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        widget = WidgetPage(ctx.new_page(), stack.web_url).goto().open()
        widget.say("my 20 month old is not walking yet, she pulls up and uses both sides the same")
        replies = {"born early": "no", "stand on her own": "about 5 seconds", "hips": "yes", "breech": "no"}
        for _ in range(8):
            if "Was this helpful?" in widget.log_text():
                break
            question = widget.page.locator("#caregiver-chat .msg.bot").last.inner_text().lower()
            widget.say(next((answer for cue, answer in replies.items() if cue in question), "no"))
        first = widget.page.locator("#caregiver-chat .msg.bot", has_text="worth raising").last
        assert first.is_visible()
        box = first.bounding_box()
        assert box["height"] < PHONE["height"] * 0.75  # the verdict, the reason and what to try fit on one screen
        titles = widget.reply_titles()
        assert "Summary for my appointment" in titles and "👎 Not really" in titles
        first.scroll_into_view_if_needed()
        screenshot(widget.page, "widget-phone-short-answer")
        assert "What was missing" in widget.tap("👎 Not really")
        assert "passed that on to the team" in widget.say("I wanted to know about shoes for her")
        widget.settle()
        screenshot(widget.page, "widget-phone-feedback")
        feedback = tracker(stack, widget.session_id())["slots"]["feedback"]
        assert feedback["kind"] == "comment" and feedback["text"] == "I wanted to know about shoes for her"
        assert feedback["subject"] == "late_walking" and feedback["referral"] == "provider"
    finally:
        ctx.close()


def test_reload_and_another_page_continue_the_same_conversation(widget: WidgetPage, stack: Services) -> None:
    widget.open()
    widget.say("my baby only crawls backwards")
    widget.say("10 months")
    session = widget.session_id()
    assert len(session) == 32

    widget.page.reload()
    widget.open()
    widget.page.wait_for_function(
        "() => !document.querySelector('#caregiver-chat').shadowRoot.querySelector('.banner:not([hidden])')"
    )
    assert "my baby only crawls backwards" in widget.log_text() and "10 months" in widget.log_text()
    widget.say("no, on time")  # the form goes on where it was: next comes the crawling pattern

    widget.goto("/another-page")
    widget.page.wait_for_selector("#caregiver-chat .panel", state="visible")  # it stays open across pages
    assert "no, on time" in widget.log_text()
    widget.say("no")
    widget.say("yes")
    advice = widget.say("yes")  # sits alone (asked at 10 months)
    assert "Sources" in advice
    assert widget.session_id() == session
    slots = tracker(stack, session)["slots"]
    assert slots["topic"] == "crawling_backward" and slots["age_months"] == pytest.approx(10) and slots["referral"]


def test_start_over_begins_a_fresh_conversation(widget: WidgetPage) -> None:
    widget.open()
    widget.say("she scoots on her bottom")
    first = widget.session_id()
    widget.page.click("#caregiver-chat .restart")
    widget.page.wait_for_function(
        f"() => {{ const s = Object.values(localStorage).map(JSON.parse)[0].session; return s && s.id !== '{first}'; }}"
    )
    assert widget.page.locator("#caregiver-chat .msg.user").count() == 0
    assert "New conversation started" in widget.log_text()
    assert "born early" in widget.say("my 14 month old isn't walking yet")  # a new conversation: new topic, fresh answers


def test_message_typed_while_rasa_is_down_is_delivered_after_restart(widget: WidgetPage, stack: Services) -> None:
    widget.open()
    widget.say("hello")
    session = widget.session_id()
    stack.stop_rasa()
    try:
        widget.page.wait_for_selector("#caregiver-chat .banner:not([hidden])", timeout=15_000)
        before = widget.bot_count()
        widget.page.fill("#caregiver-chat textarea", "why is my baby crawling backwards")
        widget.page.press("#caregiver-chat textarea", "Enter")
        widget.page.wait_for_selector("#caregiver-chat [data-queued]")
        assert "Not sent yet" in widget.log_text()
        screenshot(widget.page, "widget-offline-queued")
        widget.page.reload()  # even a reload loses nothing
        widget.page.wait_for_selector("#caregiver-chat [data-queued]")
    finally:
        stack.start_rasa()
    widget.wait_idle(before, timeout=90_000)
    assert "How old" in widget.bot_text_since(before)
    assert widget.log_text().count("why is my baby crawling backwards") == 1
    assert widget.session_id() == session  # the restarted server accepts the same session


def test_server_that_cannot_be_reached_gets_a_clear_message(context: Any, stack: Services) -> None:
    page = context.new_page()
    closed = "http://127.0.0.1:9"  # discard port: nothing listens
    html = f'<!doctype html><title>Embed</title><script src="/widget.js" data-server-url="{closed}" data-open-on-load="true"></script>'
    page.route(f"{stack.web_url}/embed-test", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{stack.web_url}/embed-test")
    page.wait_for_selector("#caregiver-chat .banner.error", timeout=30_000)
    assert "can't reach the assistant" in page.inner_text("#caregiver-chat .banner")
    page.fill("#caregiver-chat textarea", "is anyone there?")
    page.press("#caregiver-chat textarea", "Enter")
    assert page.locator("#caregiver-chat [data-queued]").count() == 1


def test_another_browser_cannot_join_a_conversation_with_its_id(browser: Any, widget: WidgetPage, stack: Services) -> None:
    widget.open()
    widget.say("my 11 month old crawls backwards only")
    victim = widget.session_id()
    other = browser.new_context(viewport=DESKTOP)
    try:
        for token in (None, "0" * 64):  # the id alone, then the id with a made-up token
            page = other.new_page()
            saved = json.dumps({"session": {"id": victim, "token": token}, "messages": [], "outbox": [], "open": True})
            page.add_init_script(f"localStorage.setItem({json.dumps('caregiver-chat:' + stack.rasa_url)}, {json.dumps(saved)})")
            intruder = WidgetPage(page, stack.web_url).goto()
            page.wait_for_function(
                f"() => {{ const s = Object.values(localStorage).map(JSON.parse)[0].session; return s && s.id !== '{victim}'; }}"
            )
            assert "my 11 month old" not in intruder.log_text()
            assert "could not be continued" in intruder.log_text()
            intruder.say("tell me everything")
            assert "my 11 month old" not in intruder.log_text()
            page.close()
    finally:
        other.close()
    events = tracker(stack, victim)["events"]
    assert not any(e.get("text") == "tell me everything" for e in events)


def test_keyboard_only(widget: WidgetPage) -> None:
    page = widget.page
    active = "() => { const r = document.querySelector('#caregiver-chat').shadowRoot; return r.activeElement ? r.activeElement.className || r.activeElement.tagName : ''; }"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate(active) == "launcher":
            break
    assert page.evaluate(active) == "launcher"
    page.keyboard.press("Enter")
    page.wait_for_selector("#caregiver-chat .panel", state="visible")
    assert page.evaluate(active) == "TEXTAREA"
    assert page.get_attribute("#caregiver-chat .launcher", "aria-expanded") == "true"
    before = widget.bot_count()
    page.keyboard.type("why is my baby crawling backwards")
    page.keyboard.press("Enter")
    widget.wait_idle(before)
    before = widget.bot_count()
    page.keyboard.type("9 months")
    page.keyboard.press("Enter")
    widget.wait_idle(before)
    page.keyboard.press("Shift+Tab")  # back from the text box to the last quick reply
    assert page.evaluate("() => document.querySelector('#caregiver-chat').shadowRoot.activeElement.textContent") == "Not sure"
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.querySelector('#caregiver-chat').shadowRoot.activeElement.textContent") == "No, on time"
    before = widget.bot_count()
    page.keyboard.press("Space")
    widget.wait_idle(before)
    assert "opposite arm and leg" in widget.bot_text_since(before)
    assert page.evaluate(active) == "TEXTAREA"  # focus returns to the text box after a tap
    page.keyboard.press("Escape")
    assert page.locator("#caregiver-chat .panel").is_hidden()
    assert page.evaluate(active) == "launcher"


def test_accessibility_attributes(widget: WidgetPage) -> None:
    widget.open()
    log = widget.page.locator("#caregiver-chat .log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    assert widget.page.get_attribute("#caregiver-chat textarea", "aria-label")
    assert widget.page.get_attribute("#caregiver-chat .close", "aria-label")
    assert widget.page.get_attribute("#caregiver-chat .panel", "role") == "dialog"
    assert widget.page.get_attribute("#caregiver-chat .banner", "role") == "status"


def test_reduced_motion_turns_animation_off(context: Any, stack: Services) -> None:
    page = context.new_page()
    page.emulate_media(reduced_motion="reduce")
    WidgetPage(page, stack.web_url).goto().open()
    duration = page.evaluate(
        "() => getComputedStyle(document.querySelector('#caregiver-chat').shadowRoot.querySelector('.typing span')).animationName"
    )
    assert duration == "none"


def test_phone_viewport_is_full_screen(browser: Any, stack: Services) -> None:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        widget = WidgetPage(ctx.new_page(), stack.web_url).goto()
        screenshot(widget.page, "widget-phone-closed")
        widget.open()
        box = widget.page.locator("#caregiver-chat .panel").bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"])
        widget.say("my 15 month old bum shuffles instead of crawling")
        widget.settle()
        screenshot(widget.page, "widget-phone-conversation")
    finally:
        ctx.close()


def test_long_message_gets_a_friendly_notice_and_is_kept(widget: WidgetPage) -> None:
    widget.open()
    text = "my baby " * 200  # 1,600 characters; the limit is 1,000
    widget.page.fill("#caregiver-chat textarea", text)
    notice = widget.page.locator("#caregiver-chat .limit")
    assert notice.is_visible() and "1000" in notice.inner_text()
    assert widget.page.locator("#caregiver-chat .send").is_disabled()
    widget.page.press("#caregiver-chat textarea", "Enter")
    assert widget.page.input_value("#caregiver-chat textarea") == text  # nothing is lost
    widget.page.fill("#caregiver-chat textarea", "my baby crawls backwards")
    assert notice.is_hidden()


def test_the_widget_leaves_the_host_page_alone(widget: WidgetPage) -> None:
    assert widget.page.evaluate("() => typeof window.io") == "undefined"
    assert widget.page.evaluate("() => Object.keys(window.CaregiverChat).sort().join(',')") == "close,lib,open,startOver,widget"
