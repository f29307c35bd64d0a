"""The project's web server on port 8000: the widget script, a demo site that embeds it, the review dashboard.

Routes: `/` and `/another-page` (two pages of a demo site, so the conversation can be followed across
pages), `/widget.js` (the bundled widget), `/vendor/socket.io-client.LICENSE`, `/health`, and the
review dashboard under `/review` (bot/web/review.py).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.knowledge.store import KnowledgeBaseMissing, get_knowledge_base
from bot.review.db import get_engine
from bot.settings import Settings
from bot.web import review
from bot.web.bundle import STATIC, build_widget

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
DEMO_PAGES = {
    "/": ("demo.html", "Little Steps Family Clinic"),
    "/another-page": ("another_page.html", "Visiting us · Little Steps Family Clinic"),
}


def widget_config(settings: Settings) -> Dict[str, Any]:
    """The config object the demo pages give the widget."""
    return {"serverUrl": settings.rasa_public_url, "title": "Baby movement helper", "lang": "en"}


def script_json(value: Any) -> str:
    """JSON safe to place inside an inline <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def format_timestamp(value: Any) -> str:
    """A Unix timestamp as `2026-11-21 14:05` (UTC)."""
    if value is None:
        return ""
    return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%d %H:%M")


def knowledge_base() -> Any:
    """The built knowledge base, or None before `make knowledge` (transcripts then show rule ids only)."""
    try:
        return get_knowledge_base()
    except KnowledgeBaseMissing:
        return None


def create_app(settings: Settings, name: str = "caregiver_web") -> Sanic:
    """The web app, with the widget bundled once at start-up."""
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "html"
    templates = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    templates.filters["timestamp"] = format_timestamp
    widget = build_widget().encode()
    widget_etag = '"' + hashlib.sha256(widget).hexdigest()[:32] + '"'
    config_json = script_json(widget_config(settings))

    def demo_page(template: str, title: str) -> Any:
        async def handler(_: Request) -> HTTPResponse:
            html = templates.get_template(template).render(title=title, widget_config=config_json)
            return response.html(html, headers=SECURITY_HEADERS)

        return handler

    for path, (template, title) in DEMO_PAGES.items():
        app.add_route(demo_page(template, title), path, name=template.split(".")[0])

    @app.get("/widget.js")
    async def widget_js(request: Request) -> HTTPResponse:
        headers = {**SECURITY_HEADERS, "ETag": widget_etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == widget_etag:
            return response.empty(status=304, headers=headers)
        return response.raw(widget, content_type="application/javascript; charset=utf-8", headers=headers)

    @app.get("/vendor/socket.io-client.LICENSE")
    async def vendor_licence(_: Request) -> HTTPResponse:
        text = (STATIC / "vendor" / "socket.io-client.LICENSE").read_text(encoding="utf-8")
        return response.text(text, headers=SECURITY_HEADERS)

    app.blueprint(review.blueprint(settings, templates, get_engine, knowledge_base))

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return app
