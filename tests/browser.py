"""Headless Chromium for browser tests (Debian's package; test tools cannot download browsers here).

`make test` installs Chromium when it is missing. Without it, browser tests skip with the reason;
under CI=true they fail instead, so a missing browser never passes silently.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from bot.settings import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def chromium_browser() -> Iterator[Any]:
    """A launched Chromium (generator for a session fixture)."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot as a test artifact (artifacts/screenshots/<name>.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path))
    return path


WIDGET = "document.querySelector('#caregiver-chat').shadowRoot"


class WidgetPage:
    """A page embedding the chat widget, driven like a caregiver would."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url

    def goto(self, path: str = "/") -> WidgetPage:
        self.page.goto(self.url + path)
        self.page.wait_for_selector("#caregiver-chat .launcher")
        return self

    def open(self) -> WidgetPage:
        if self.page.locator("#caregiver-chat .panel").is_hidden():
            self.page.click("#caregiver-chat .launcher")
        self.page.wait_for_selector("#caregiver-chat .panel", state="visible")
        return self

    def settle(self) -> None:
        """Jump the conversation to its end (no smooth scrolling mid-screenshot)."""
        self.page.evaluate(
            f"() => {{ const log = {WIDGET}.querySelector('.log'); log.scrollTo({{top: log.scrollHeight, behavior: 'instant'}}); }}"
        )
        self.page.wait_for_timeout(100)

    def bot_count(self) -> int:
        return self.page.locator("#caregiver-chat .msg.bot").count()

    def wait_idle(self, more_than: int, timeout: float = 60_000) -> None:
        """Wait until there are more than `more_than` bot messages and nothing is in flight."""
        self.page.wait_for_function(
            f"""() => {{ const r = {WIDGET};
                return r.querySelectorAll('.msg.bot').length > {more_than}
                    && r.querySelector('.typing').hidden && !r.querySelector('[data-queued]'); }}""",
            timeout=timeout,
        )

    def say(self, text: str) -> str:
        """Type a message, press Enter, wait for the replies; return the new bot text."""
        before = self.bot_count()
        self.page.fill("#caregiver-chat textarea", text)
        self.page.press("#caregiver-chat textarea", "Enter")
        self.wait_idle(before)
        return self.bot_text_since(before)

    def tap(self, title: str) -> str:
        """Click a quick-reply button; return the new bot text."""
        before = self.bot_count()
        self.page.click(f"#caregiver-chat .replies button:text-is('{title}')")
        self.wait_idle(before)
        return self.bot_text_since(before)

    def bot_text_since(self, index: int) -> str:
        return "\n".join(self.page.locator("#caregiver-chat .msg.bot").all_inner_texts()[index:])

    def log_text(self) -> str:
        return self.page.inner_text("#caregiver-chat .log")

    def reply_titles(self) -> list:
        return self.page.locator("#caregiver-chat .replies button").all_inner_texts()

    def stored(self) -> Dict[str, Any]:
        """What the widget keeps in localStorage."""
        return (
            self.page.evaluate(
                "() => { for (const k of Object.keys(localStorage)) if (k.startsWith('caregiver-chat:')) "
                "return JSON.parse(localStorage.getItem(k)); return null; }"
            )
            or {}
        )

    def session_id(self) -> str:
        return (self.stored().get("session") or {}).get("id", "")
