"""The project's web server on port 8000: the widget script, a demo site that embeds it, the review dashboard.

Routes: `/` and `/another-page` (two pages of a demo site, so the conversation can be followed across
pages), `/demo.css`, `/widget.js` (the bundled widget), `/vendor/socket.io-client.LICENSE`, `/health`,
the review dashboard under `/review` (the bot/web/review package) and the appointment summary page
`/summary/<token>` (bot/web/summary.py, with its own security headers).

Every response carries security headers (one middleware, `security_headers`): the dashboard's own set
(bot/web/review/context.py: no scripts, never framed), and for everything else a Content-Security-Policy that
lets the demo pages run only our scripts (the inline widget config by its hash), our stylesheet and the
widget's own style element (by its hash), and connect only to us and Rasa's socket.io server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from bot.knowledge.store import KnowledgeBaseMissing, get_knowledge_base
from bot.review.db import get_engine
from bot.settings import Settings
from bot.web import review, summary
from bot.web.bundle import STATIC, build_widget
from bot.web.revalidated import revalidated

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEMO_CSS = STATIC / "demo" / "demo.css"
WIDGET_CSS = STATIC / "widget" / "widget.css"  # the widget puts it in a <style> element of its shadow root
DEMO_PAGES = {
    "/": ("demo.html", "Little Steps Family Clinic"),
    "/another-page": ("another_page.html", "Visiting us · Little Steps Family Clinic"),
}


def widget_config(settings: Settings) -> Dict[str, Any]:
    """The config object the demo pages give the widget (its title is the widget's own, from the catalogue)."""
    return {"serverUrl": settings.rasa_public_url, "lang": "en"}


def script_json(value: Any) -> str:
    """JSON safe to place inside an inline <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def config_script(settings: Settings) -> str:
    """The demo pages' inline script: the widget config (the CSP allows exactly this text, by its hash)."""
    return f"window.CaregiverChatConfig = {script_json(widget_config(settings))};"


def csp_hash(text: str) -> str:
    """A CSP source expression allowing an inline script or style element whose content is exactly text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def socket_sources(url: str) -> Iterable[str]:
    """CSP sources for Rasa's socket.io server at url: its origin over HTTP(S) and WebSocket."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []  # same origin (behind a proxy): 'self' covers it
    return [f"{parts.scheme}://{parts.netloc}", f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"]


def site_headers(settings: Settings, inline_scripts: Iterable[str], inline_styles: Iterable[str]) -> Dict[str, str]:
    """Security headers of the demo site and the widget script (everything outside /review)."""
    policy = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *map(csp_hash, inline_scripts)],
        "style-src": ["'self'", *map(csp_hash, inline_styles)],
        "connect-src": ["'self'", *socket_sources(settings.rasa_public_url)],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],  # the demo site may frame its own pages, nobody else may
    }
    return {
        "Content-Security-Policy": "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items()),
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def format_timestamp(value: Any) -> str:
    """A Unix timestamp as `2026-11-21 14:05` (UTC); empty when value is not a usable time."""
    try:
        number = float(value)
        return datetime.fromtimestamp(number, timezone.utc).strftime("%Y-%m-%d %H:%M") if math.isfinite(number) else ""
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


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
    config = config_script(settings)
    demo_css = DEMO_CSS.read_bytes()
    headers_of_site = site_headers(settings, [config], [WIDGET_CSS.read_text(encoding="utf-8")])

    async def security_headers(request: Request, resp: BaseHTTPResponse) -> None:
        path = request.path
        headers = review.SECURITY_HEADERS if review.is_dashboard(path) else headers_of_site
        for name, value in (summary.SECURITY_HEADERS if summary.is_summary(path) else headers).items():
            resp.headers[name] = value

    app.register_middleware(security_headers, "response")

    async def not_found(request: Request, error: Exception) -> HTTPResponse:
        if review.is_dashboard(request.path):  # the dashboard's own page: no inline styles for its policy to block
            return review.not_found_page(templates)
        default: HTTPResponse = app.error_handler.default(request, error)  # type: ignore[no-untyped-call]  # sanic: untyped
        return default

    app.error_handler.add(NotFound, not_found)

    def demo_page(template: str, title: str) -> Any:
        async def handler(_: Request) -> HTTPResponse:
            return response.html(templates.get_template(template).render(title=title, config_script=config))

        return handler

    for path, (template, title) in DEMO_PAGES.items():
        app.add_route(demo_page(template, title), path, name=template.split(".")[0])

    @app.get("/demo.css")
    async def demo_stylesheet(_: Request) -> HTTPResponse:
        return response.raw(demo_css, content_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"})

    widget_response = revalidated(widget, "application/javascript; charset=utf-8")

    @app.get("/widget.js")
    async def widget_js(request: Request) -> HTTPResponse:
        return widget_response(request)

    @app.get("/vendor/socket.io-client.LICENSE")
    async def vendor_licence(_: Request) -> HTTPResponse:
        text = (STATIC / "vendor" / "socket.io-client.LICENSE").read_text(encoding="utf-8")
        return response.text(text)

    app.blueprint(review.blueprint(settings, templates, get_engine, knowledge_base))
    app.blueprint(summary.blueprint(settings, templates))  # /summary/<token>: the appointment summary (signed link)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return app
