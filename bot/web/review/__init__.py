"""The review dashboard under /review: sign-in, overview, conversations, transcript, exports, administration.

Every route but the sign-in page and the stylesheet needs a session; every POST needs the session's CSRF token;
admin routes (exports, erasure, users, audit log) need the admin role. Views, exports, erasures and every change
are written to the audit log. ROUTES lists each route with who may use it; the handlers live by area: auth (sign-in,
sign-out, the guard), pages (overview, list, transcript), work (tags, notes, reviewed, corrections), exports, insights
(gaps, feedback), admin (erasure, accounts, audit log), with what they share in context. Decisions about the data are in bot/review/.
"""

from __future__ import annotations

from enum import Enum
from typing import Callable, NamedTuple, Optional, Tuple

from jinja2 import Environment
from sanic import Blueprint
from sanic.exceptions import NotFound
from sqlalchemy.engine import Engine

from bot.knowledge.store import KnowledgeBase
from bot.settings import Settings
from bot.web.revalidated import revalidated
from bot.web.review import admin, auth, exports, insights, pages, work
from bot.web.review.context import (
    PREFIX,
    SECURITY_HEADERS,
    STYLESHEET,
    Dashboard,
    Refused,
    is_dashboard,
    not_found_in_route,
    not_found_page,
    refused_page,
)

__all__ = ["ROUTES", "Access", "SECURITY_HEADERS", "Refused", "blueprint", "is_dashboard", "not_found_page"]

GET, POST = ("GET",), ("POST",)
CONVERSATION = "/conversations/<sender_id:str>"


class Access(Enum):
    """Who may use a route."""

    PUBLIC = "anyone"
    SIGNED_IN = "any account"
    ADMIN = "an administrator account"


PUBLIC, SIGNED_IN, ADMIN = Access.PUBLIC, Access.SIGNED_IN, Access.ADMIN


class Route(NamedTuple):
    """One dashboard route: methods, path under /review, handler, who may use it."""

    methods: Tuple[str, ...]
    uri: str
    handler: auth.Handler
    access: Access
    name: Optional[str] = None  # the route's name when it is not the handler's

    def guarded_handler(self) -> auth.Handler:
        """The handler behind the sign-in its access calls for."""
        return self.handler if self.access is PUBLIC else auth.guarded(self.handler, admin_only=self.access is ADMIN)


ROUTES = (
    Route(GET, "/static/review.css", pages.review_css, PUBLIC),
    Route(GET, "/login", auth.login_page, PUBLIC),
    Route(POST, "/login", auth.login, PUBLIC),
    Route(POST, "/logout", auth.logout, SIGNED_IN),
    Route(GET, "/", pages.overview, SIGNED_IN),
    Route(GET, "/conversations", pages.conversation_list, SIGNED_IN),
    Route(GET, CONVERSATION, pages.transcript, SIGNED_IN),
    Route(POST, f"{CONVERSATION}/tags", work.add_tag, SIGNED_IN, "review_tags"),
    Route(POST, f"{CONVERSATION}/untag", work.remove_tag, SIGNED_IN, "review_untag"),
    Route(POST, f"{CONVERSATION}/notes", work.add_note, SIGNED_IN, "review_notes"),
    Route(POST, f"{CONVERSATION}/review", work.mark_reviewed, SIGNED_IN, "review_review"),
    Route(POST, f"{CONVERSATION}/correct", work.correct_intent, SIGNED_IN, "review_correct"),
    Route(POST, f"{CONVERSATION}/erase", admin.erase, ADMIN),
    Route(GET, "/export.csv", exports.export_csv, ADMIN),
    Route(GET, "/export.jsonl", exports.export_jsonl, ADMIN),
    Route(GET, "/corrections.yml", exports.export_corrections, ADMIN),
    Route(GET, "/gaps", insights.gaps_page, SIGNED_IN),
    Route(GET, "/gaps.yml", insights.export_gaps, ADMIN),
    Route(GET, "/feedback", insights.feedback_page, SIGNED_IN),
    Route(GET, "/feedback.csv", insights.export_feedback, ADMIN),
    Route(GET, "/users", admin.users_page, ADMIN),
    Route(POST, "/users", admin.users_change, ADMIN),
    Route(GET, "/audit", admin.audit_page, ADMIN),
)


def blueprint(
    settings: Settings,
    templates: Environment,
    engine_of: Callable[[], Engine],
    knowledge_of: Callable[[], Optional[KnowledgeBase]],
) -> Blueprint:
    """The dashboard's routes; engine_of/knowledge_of give the database and knowledge base lazily."""
    dashboard = Dashboard(
        settings, templates, engine_of, knowledge_of, revalidated(STYLESHEET.read_bytes(), "text/css; charset=utf-8")
    )
    bp = Blueprint("review", url_prefix=PREFIX)
    for route in ROUTES:
        bp.route(
            route.uri,
            methods=route.methods,
            name=route.name or route.handler.__name__,
            unquote="<" in route.uri,
            ctx_dashboard=dashboard,
        )(route.guarded_handler())
    bp.exception(Refused)(refused_page)
    bp.exception(NotFound)(not_found_in_route)
    return bp
