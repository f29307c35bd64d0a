"""The web server on its own: demo pages, the bundled widget script, caching, licences."""

from __future__ import annotations

import re

import httpx

from bot.web.app import script_json
from bot.web.bundle import build_widget
from tests.servers import Services


def test_demo_pages_embed_the_widget_with_its_config(web_stack: Services) -> None:
    for path in ("/", "/another-page"):
        page = httpx.get(web_stack.web_url + path, timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script src="/widget.js" defer></script>' in page.text
        assert f'"serverUrl": "{web_stack.rasa_url}"' in page.text
        assert page.headers["x-content-type-options"] == "nosniff"


def test_widget_script_is_served_with_revalidation(web_stack: Services) -> None:
    script = httpx.get(web_stack.web_url + "/widget.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert script.headers["cache-control"] == "no-cache" and script.headers["etag"]
    assert "MIT License" in script.text and "Socket.IO" in script.text
    again = httpx.get(web_stack.web_url + "/widget.js", headers={"If-None-Match": script.headers["etag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""


def test_vendored_licence_is_served(web_stack: Services) -> None:
    licence = httpx.get(web_stack.web_url + "/vendor/socket.io-client.LICENSE", timeout=10)
    assert licence.status_code == 200 and "Permission is hereby granted" in licence.text


def test_unknown_pages_get_a_plain_not_found(web_stack: Services) -> None:
    missing = httpx.get(web_stack.web_url + "/no-such-page", timeout=10)
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
