"""The web server on its own: demo pages, the bundled widget script, caching, licences, security headers."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, List

import httpx
import pytest

from bot.web.app import script_json, socket_sources
from bot.web.bundle import STATIC, build_widget
from tests.servers import Services


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directives(policy: str) -> dict:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_demo_pages_embed_the_widget_with_its_config(web_server: Services) -> None:
    for path in ("/", "/another-page"):
        page = httpx.get(web_server.web_url + path, timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script src="/widget.js" defer></script>' in page.text
        assert f'"serverUrl": "{web_server.rasa_url}"' in page.text
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"


def test_demo_pages_allow_only_their_own_scripts_styles_and_the_rasa_server(web_server: Services) -> None:
    for path in ("/", "/another-page"):
        page = httpx.get(web_server.web_url + path, timeout=10)
        policy = directives(page.headers["content-security-policy"])
        inline = re.findall(r"<script>(.*?)</script>", page.text, re.S)
        assert len(inline) == 1 and policy["script-src"] == ["'self'", sha256_source(inline[0])]  # the config, by its hash
        assert "<style" not in page.text and " style=" not in page.text
        widget_css = (STATIC / "widget" / "widget.css").read_text(encoding="utf-8")
        assert policy["style-src"] == ["'self'", sha256_source(widget_css)]  # the widget's <style> in its shadow root
        rasa = web_server.rasa_url
        assert policy["connect-src"] == ["'self'", rasa, rasa.replace("http://", "ws://")]
        assert policy["frame-ancestors"] == ["'self'"] and policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
    stylesheet = httpx.get(web_server.web_url + "/demo.css", timeout=10)
    assert (
        stylesheet.status_code == 200
        and stylesheet.headers["content-type"].startswith("text/css")
        and "header" in stylesheet.text
    )
    for path in ("/widget.js", "/vendor/socket.io-client.LICENSE", "/no-such-page", "/health"):
        response = httpx.get(web_server.web_url + path, timeout=10)
        assert response.headers["x-content-type-options"] == "nosniff" and response.headers["referrer-policy"] == "no-referrer", (
            path
        )


@pytest.mark.parametrize(
    "url, sources",
    [
        ("http://localhost:5005", ["http://localhost:5005", "ws://localhost:5005"]),
        ("https://chat.example.org/rasa", ["https://chat.example.org", "wss://chat.example.org"]),
        ("", []),
        ("/rasa", []),
    ],
)
def test_the_policy_lets_the_widget_reach_rasa_over_http_and_websocket(url: str, sources: List[str]) -> None:
    assert list(socket_sources(url)) == sources


def test_the_widget_runs_and_is_styled_under_the_policy(browser: Any, web_stack: Services) -> None:
    context = browser.new_context()
    page = context.new_page()
    refused: List[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    try:
        page.goto(web_stack.web_url + "/")
        page.wait_for_selector("#caregiver-chat .launcher")
        assert (
            page.evaluate(
                "() => getComputedStyle(document.querySelector('#caregiver-chat').shadowRoot.querySelector('.launcher')).position"
            )
            == "fixed"
        )
        assert (
            page.evaluate("() => getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(45, 74, 62)"
        )  # demo.css
        page.click("#caregiver-chat .launcher")
        page.wait_for_function(
            "() => document.querySelector('#caregiver-chat').shadowRoot.querySelectorAll('.msg.bot').length > 0", timeout=60_000
        )
        assert refused == []
    finally:
        context.close()


def test_widget_script_is_served_with_revalidation(web_server: Services) -> None:
    script = httpx.get(web_server.web_url + "/widget.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert script.headers["cache-control"] == "no-cache" and script.headers["etag"]
    assert "MIT License" in script.text and "Socket.IO" in script.text
    again = httpx.get(web_server.web_url + "/widget.js", headers={"If-None-Match": script.headers["etag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""


def test_vendored_licence_is_served(web_server: Services) -> None:
    licence = httpx.get(web_server.web_url + "/vendor/socket.io-client.LICENSE", timeout=10)
    assert licence.status_code == 200 and "Permission is hereby granted" in licence.text


def test_unknown_pages_get_a_plain_not_found(web_server: Services) -> None:
    missing = httpx.get(web_server.web_url + "/no-such-page", timeout=10)
    assert missing.status_code == 404 and "Traceback" not in missing.text


def test_bundle_is_self_contained() -> None:
    bundle = build_widget()
    assert "sourceMappingURL" not in bundle  # no request for a map file we don't serve
    urls = set(re.findall(r"https?://[^\s\"')]+", bundle))
    assert urls <= {"https://socket.io/docs/v3/migrating-from-2-x-to-3-0/", "https://..."}  # only texts, nothing fetched
    assert bundle.count("window.CaregiverChat =") == 1


def test_inline_config_cannot_close_its_script_element() -> None:
    text = script_json({"title": "</script><script>alert(1)</script> & more"})
    assert "</script>" not in text and "<" not in text and "&" not in text
