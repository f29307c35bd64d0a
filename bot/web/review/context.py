"""What every dashboard handler shares: its dependencies (given to each route), pages, refusals, cookies, headers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Any, Callable, Dict, Optional

from jinja2 import Environment
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.knowledge.store import KnowledgeBase
from bot.review import accounts, index, queries
from bot.review.filters import FilterError, Filters, parse_filters
from bot.review.signals import REASON_LABELS
from bot.settings import Settings

PREFIX = "/review"
COOKIE = "review_session"
LOGIN_CSRF = "review_login_csrf"
STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "review" / "review.css"
# Every dashboard response: no scripts at all, styles from our own stylesheet only, never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
NO_SUCH_PAGE = {"title": "Page not found", "message": "There is no such page in the dashboard."}


@dataclass(frozen=True, eq=False)  # hashed by identity: Sanic keeps route contexts in a set
class Dashboard:
    """The dashboard's dependencies; engine_of and knowledge_of give the database and knowledge base lazily."""

    settings: Settings
    templates: Environment
    engine_of: Callable[[], Engine]
    knowledge_of: Callable[[], Optional[KnowledgeBase]]
    stylesheet: Callable[[Request], HTTPResponse]

    @property
    def engine(self) -> Engine:
        """The tracker store's database."""
        return self.engine_of()

    def known_topics(self) -> Optional[AbstractSet[str]]:
        """The knowledge base's topic ids (None before the knowledge base is built)."""
        kb = self.knowledge_of()
        return frozenset(kb.topics) if kb else None

    def topic_title(self, topic_id: Any) -> str:
        """A topic's title from the knowledge base ("Crawling backwards"); an id it doesn't know, as it is."""
        if not isinstance(topic_id, str):
            return "" if topic_id is None else str(topic_id)
        kb = self.knowledge_of()
        topic = kb.topics.get(topic_id) if kb else None
        if topic is not None:
            return topic.title
        milestone = kb.milestones.get(topic_id.split(":", 1)[1]) if kb and kb.milestones and ":" in topic_id else None
        return f"Milestone: {milestone.name}" if milestone else topic_id

    def sync(self) -> None:
        """Fold the events stored since the last request into the conversation index."""
        index.sync(self.engine, self.known_topics())


class Refused(Exception):
    """Shown to the person as a page with a status code and a plain message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def dashboard_of(request: Request) -> Dashboard:
    """The dashboard the request's route belongs to (each route is registered with it as `ctx_dashboard`)."""
    dashboard = request.route.ctx.dashboard if request.route else None
    if not isinstance(dashboard, Dashboard):
        raise RuntimeError(f"{request.path} is not a dashboard route")
    return dashboard


def session_of(request: Request) -> Optional[accounts.Session]:
    """The signed-in session (set by bot.web.review.auth.guarded), if any."""
    session = getattr(request.ctx, "session", None)
    return session if isinstance(session, accounts.Session) else None


def user_of(request: Request) -> str:
    """The signed-in user's name (on routes that need a session)."""
    session = session_of(request)
    if session is None:
        raise RuntimeError(f"{request.path} needs a session")
    return session.user.username


def form_value(request: Request, name: str) -> Optional[str]:
    """A form field's value (its first one), or None when absent."""
    value = request.form.get(name) if request.form else None
    return value if isinstance(value, str) else None


def form_text(request: Request, name: str, default: str = "") -> str:
    """A form field's value (its first one), or default when absent."""
    value = form_value(request, name)
    return default if value is None else value


def page(templates: Environment, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    """A dashboard page, never cached."""
    html = templates.get_template(f"review/{template}").render(**context)
    return response.html(html, status=status, headers={"Cache-Control": "no-store"})


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    """A dashboard page for this request: with the signed-in user, the CSRF token for its forms, the path, and what
    names things for people (topic_title(id), reason_labels[reason])."""
    session = session_of(request)
    dashboard = dashboard_of(request)
    return page(
        dashboard.templates,
        template,
        status,
        user=session.user if session else None,
        csrf=session.csrf_token if session else "",
        path=request.path,
        topic_title=dashboard.topic_title,
        reason_labels=REASON_LABELS,
        **context,
    )


def set_cookie(resp: HTTPResponse, settings: Settings, name: str, value: str, max_age: Optional[int] = None) -> None:
    """A dashboard cookie: only for /review, not readable by scripts, never sent from other sites."""
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = PREFIX
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["secure"] = settings.review_cookie_secure
    if max_age is not None:
        cookie["max-age"] = max_age


def filters_of(request: Request) -> Filters:
    """The conversation filters in the query string; a 400 page says which one does not work."""
    try:
        return parse_filters({name: values[0] for name, values in request.args.items()})
    except FilterError as error:
        raise Refused(400, "That filter doesn't work", str(error)) from None


def conversation_or_404(request: Request, sender_id: str) -> Dict[str, Any]:
    """The conversation's summary, tags, notes and corrections; a 404 page when there is no such conversation."""
    found = queries.conversation(dashboard_of(request).engine, sender_id)
    if found is None:
        raise Refused(404, "No such conversation", "It may have been erased, or the link is incomplete.")
    return found


def is_dashboard(path: str) -> bool:
    """Whether a request path belongs to the dashboard."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def not_found_page(templates: Environment) -> HTTPResponse:
    """The dashboard's page for a path under /review that no route serves (it needs no session)."""
    return page(templates, "message.html", status=404, user=None, csrf="", path="", **NO_SUCH_PAGE)


async def refused_page(request: Request, error: Refused) -> HTTPResponse:
    """The page for a refused request: its status, title and message."""
    return render(request, "message.html", status=error.status, title=error.title, message=error.message)


async def not_found_in_route(request: Request, _: Exception) -> HTTPResponse:
    """The page for a NotFound raised while a dashboard route handled the request."""
    return render(request, "message.html", status=404, **NO_SUCH_PAGE)
