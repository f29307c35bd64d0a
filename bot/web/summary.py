"""GET /summary/<token>: the appointment summary page (a signed link that expires; bot/privacy/summary_links.py).

The page shows what the token's record composes to (bot/triage/appointment.py) in the catalogue's wording, with a
print layout and a "Print or save as PDF" button (static/summary/print.js). No identifier is in it: the record holds
ids and typed values only. An expired link gets a friendly page (410), a forged or damaged one another (404); both
tell the parent to ask the assistant again. Nobody but the parent's browser keeps a copy: `private, no-store`, and
`noindex` for search engines. Its own security headers: only our stylesheet and script, never framed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from jinja2 import Environment
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.knowledge.messages import get_catalogue, say
from bot.knowledge.store import KnowledgeBaseMissing
from bot.privacy.summary_links import MAX_TOKEN_CHARS, LinkExpired, LinkInvalid, link_key, open_token
from bot.settings import Settings
from bot.triage.appointment import Library, compose
from bot.triage.appointment_library import current_library
from bot.triage.appointment_text import day_of
from bot.web.bundle import STATIC
from bot.web.revalidated import revalidated

PREFIX = "/summary"
ASSETS = "/static/summary"
STATIC_SUMMARY = STATIC / "summary"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the token never leaves in a Referer header (the sources are links)
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}
PAGE_HEADERS = {"Cache-Control": "private, no-store"}  # no shared cache keeps a copy, the browser doesn't store it


def is_summary(path: str) -> bool:
    """Whether a request path belongs to the summary pages (they carry SECURITY_HEADERS)."""
    return path.startswith((PREFIX + "/", ASSETS + "/"))


@dataclass(frozen=True, eq=False)  # hashed by identity: Sanic keeps route contexts in a set
class SummaryPages:
    """What the pages need: the templates, the signing key and the knowledge (each found on first use), the assets."""

    templates: Environment
    key_of: Callable[[], bytes]
    library_of: Callable[[], Library]
    stylesheet: Callable[[Request], HTTPResponse]
    script: Callable[[Request], HTTPResponse]

    def render(self, template: str, status: int, **context: Any) -> HTTPResponse:
        """A summary page in the catalogue's wording, never stored by a cache."""
        words = get_catalogue().under("appointment.page")
        html = self.templates.get_template(template).render(words=words, **context)
        return response.html(html, status=status, headers=PAGE_HEADERS)

    def message(self, status: int, name: str) -> HTTPResponse:
        """The friendly page for an expired (410), broken (404) or unavailable (503) summary."""
        return self.render("summary_message.html", status, name=name)

    def page(self, token: str, now: float) -> HTTPResponse:
        """The summary a token holds, or the page that says why it can't be shown."""
        if len(token) > MAX_TOKEN_CHARS:
            return self.message(404, "invalid")
        try:
            record, expires = open_token(token, self.key_of(), now)
            library = self.library_of()
        except LinkExpired:
            return self.message(410, "expired")
        except LinkInvalid:
            return self.message(404, "invalid")
        except KnowledgeBaseMissing:
            return self.message(503, "unavailable")
        summary = compose(record, library)
        dates = {
            "made_on": say("appointment.made_on", date=day_of(summary.made_at)),
            "expires_on": say("appointment.expires_on", date=day_of(expires)),
        }
        headings = {
            "reasons": say(f"appointment.reasons_heading.{summary.referral}"),
            "facts": say("appointment.facts_heading"),
            "described": say("appointment.described_heading"),
            "sources": say("appointment.sources_heading"),
            "not_a_diagnosis": say("appointment.not_a_diagnosis"),
        }
        return self.render("summary.html", 200, summary=summary, dates=dates, headings=headings)


def _cached(make: Callable[[], Any]) -> Callable[[], Any]:
    """make() on first use, then the same value (a failure is not kept: the next request tries again)."""
    kept: Dict[str, Any] = {}

    def get() -> Any:
        if "value" not in kept:
            kept["value"] = make()
        return kept["value"]

    return get


def pages_of(request: Request) -> SummaryPages:
    """The summary pages a route was registered with (`ctx_pages`)."""
    pages = request.route.ctx.pages if request.route else None
    if not isinstance(pages, SummaryPages):
        raise RuntimeError(f"{request.path} is not a summary route")
    return pages


async def summary_page(request: Request, token: str) -> HTTPResponse:
    """GET /summary/<token>: the summary, or why it can't be shown."""
    return pages_of(request).page(token, time.time())


async def summary_css(request: Request) -> HTTPResponse:
    """The page's stylesheet (screen and print)."""
    return pages_of(request).stylesheet(request)


async def print_js(request: Request) -> HTTPResponse:
    """The script behind the "Print or save as PDF" button."""
    return pages_of(request).script(request)


ROUTES = ((f"{PREFIX}/<token:str>", summary_page), (f"{ASSETS}/summary.css", summary_css), (f"{ASSETS}/print.js", print_js))


def blueprint(settings: Settings, templates: Environment, library_of: Optional[Callable[[], Library]] = None) -> Blueprint:
    """The summary page and its stylesheet and script; the key and the knowledge are read on first use."""
    pages = SummaryPages(
        templates,
        _cached(lambda: link_key(settings)),
        _cached(library_of or current_library),
        revalidated((STATIC_SUMMARY / "summary.css").read_bytes(), "text/css; charset=utf-8"),
        revalidated((STATIC_SUMMARY / "print.js").read_bytes(), "application/javascript; charset=utf-8"),
    )
    bp = Blueprint("summary")
    for uri, handler in ROUTES:
        bp.route(uri, methods=["GET"], name=handler.__name__, ctx_pages=pages)(handler)
    return bp
