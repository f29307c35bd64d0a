"""The review dashboard's pages under /review: sign-in, overview, conversations, transcript, admin.

Every route but the sign-in page needs a session; every POST needs the session's CSRF token; admin
routes (exports, erasure, users, audit log) need the admin role. Views, exports and erasures are
written to the audit log.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from functools import wraps
from pathlib import Path
from typing import AbstractSet, Any, Callable, Dict, List, Optional
from urllib.parse import quote

from jinja2 import Environment
from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.contract import MILESTONE_PREFIX, OBSERVATION_PREFIX, SAFETY_PREFIX, UNSURE_SUFFIX
from bot.knowledge.milestones import Milestone
from bot.knowledge.store import KnowledgeBase
from bot.review import accounts, audit, index, privacy, queries, work
from bot.review.filters import REFERRALS, SORTS, FilterError, Filters, parse_filters
from bot.review.intents import known_intents
from bot.review.transcript import build_turns, decisions
from bot.settings import Settings
from bot.web.revalidated import revalidated

COOKIE = "review_session"
LOGIN_CSRF = "review_login_csrf"
PERIODS = (7, 30, 90, 365)
STYLESHEET = Path(__file__).resolve().parent / "static" / "review" / "review.css"
# Every dashboard response: no scripts at all, styles from our own stylesheet only, never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Refused(Exception):
    """Shown to the person as a page with a status code and a plain message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def observation_rules(rule_ids: List[str]) -> Dict[str, Any]:
    """Signs the parent described that raised the referral ("observation:<id>" in advice_rules), as rule-like rows."""
    from bot.nlu.observations import default_catalogue

    found: Dict[str, Any] = {}
    for rule_id in rule_ids:
        if isinstance(rule_id, str) and rule_id.startswith(OBSERVATION_PREFIX):
            observation = default_catalogue().observations.get(rule_id[len(OBSERVATION_PREFIX) :])
            if observation is not None:
                found[rule_id] = {
                    "id": rule_id,
                    "referral": observation.referral,
                    "say": f"{observation.label}. {observation.say}",
                }
    return found


def safety_rules(kb: Optional[KnowledgeBase], rule_ids: List[str]) -> Dict[str, Any]:
    """Safety-net checks that raised the referral ("safety:<id>" or "safety:<id>:unsure"), as rule-like rows."""
    from bot.triage.safety_net import UNSURE_REFERRAL

    net = kb.safety_net if kb else None
    checks = {c.id: c for c in net.checks} if net else {}
    found: Dict[str, Any] = {}
    for rule_id in rule_ids:
        if not (isinstance(rule_id, str) and rule_id.startswith(SAFETY_PREFIX)):
            continue
        unsure = rule_id.endswith(UNSURE_SUFFIX)
        check = checks.get(rule_id[len(SAFETY_PREFIX) : len(rule_id) - (len(UNSURE_SUFFIX) if unsure else 0)])
        if check is not None:
            label = f"Safety net: {check.slot.replace('_', ' ')} {'not sure' if unsure else check.crosses}"
            found[rule_id] = {
                "id": rule_id,
                "referral": UNSURE_REFERRAL if unsure else check.referral,
                "say": f"{label}. {check.unsure if unsure else check.say}",
            }
    return found


def milestone_of(kb: Optional[KnowledgeBase], rule_ids: List[str]) -> Optional[Milestone]:
    """The milestone a milestone answer recorded in advice_rules ("milestone:<id>"), if any."""
    if not kb or not kb.milestones:
        return None
    for rule_id in rule_ids:
        if isinstance(rule_id, str) and rule_id.startswith(MILESTONE_PREFIX):
            return kb.milestones.get(rule_id[len(MILESTONE_PREFIX) :])
    return None


def is_dashboard(path: str) -> bool:
    """Whether a request path belongs to the dashboard."""
    return path == "/review" or path.startswith("/review/")


def not_found_page(templates: Environment) -> HTTPResponse:
    """The dashboard's page for a path under /review that no route serves (it needs no session)."""
    html = templates.get_template("review/message.html").render(
        user=None, csrf="", path="", title="Page not found", message="There is no such page in the dashboard."
    )
    return response.html(html, status=404, headers={"Cache-Control": "no-store"})


def blueprint(
    settings: Settings, templates: Environment, engine_of: Callable[[], Any], knowledge_of: Callable[[], Any]
) -> Blueprint:
    """The dashboard's routes; engine_of/knowledge_of give the database and knowledge base lazily."""
    bp = Blueprint("review", url_prefix="/review")

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
        session = request.ctx.__dict__.get("session")
        html = templates.get_template(f"review/{template}").render(
            user=session.user if session else None, csrf=session.csrf_token if session else "", path=request.path, **context
        )
        return response.html(html, status=status, headers={"Cache-Control": "no-store"})

    def known_topics() -> Optional[AbstractSet[str]]:
        kb = knowledge_of()
        return frozenset(kb.topics) if kb else None

    def sync() -> None:
        index.sync(engine_of(), known_topics())

    def set_cookie(resp: HTTPResponse, name: str, value: str, max_age: Optional[int] = None) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["path"] = "/review"
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["secure"] = settings.review_cookie_secure
        if max_age is not None:
            cookie["max-age"] = max_age

    def signed_in(role: Optional[str] = None) -> Callable:
        def decorate(handler: Callable) -> Callable:
            @wraps(handler)
            async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                token = request.cookies.get(COOKIE)
                session = accounts.session_for(engine_of(), token)
                if session is None:
                    reason = "expired" if token else "required"
                    target = quote(request.path + (f"?{request.query_string}" if request.query_string else ""), safe="")
                    return response.redirect(f"/review/login?reason={reason}&next={target}")
                request.ctx.session = session
                if request.method == "POST" and not accounts.csrf_ok(session.csrf_token, request.form.get("csrf")):
                    raise Refused(
                        403,
                        "This form has expired",
                        "The page was open too long or came from elsewhere. Go back, reload it and try again.",
                    )
                if role and session.user.role != role:
                    raise Refused(403, "Not allowed", "This needs an administrator account.")
                return await handler(request, *args, **kwargs)

            return wrapper

        return decorate

    def filters_of(request: Request) -> Filters:
        try:
            return parse_filters({k: v[0] for k, v in request.args.items()})
        except FilterError as error:
            raise Refused(400, "That filter doesn't work", str(error)) from None

    def conversation_or_404(sender_id: str) -> Dict[str, Any]:
        found = queries.conversation(engine_of(), sender_id)
        if found is None:
            raise Refused(404, "No such conversation", "It may have been erased, or the link is incomplete.")
        return found

    def user_of(request: Request) -> str:
        return request.ctx.session.user.username

    stylesheet_response = revalidated(STYLESHEET.read_bytes(), "text/css; charset=utf-8")

    @bp.get("/static/review.css")
    async def review_css(request: Request) -> HTTPResponse:
        return stylesheet_response(request)

    @bp.get("/login")
    async def login_page(request: Request) -> HTTPResponse:
        if accounts.session_for(engine_of(), request.cookies.get(COOKIE)):
            return response.redirect("/review/")
        token = secrets.token_urlsafe(32)
        reason = request.args.get("reason")
        notice = {
            "expired": "Your session has ended. Please sign in again.",
            "required": "Please sign in to continue.",
            "out": "You are signed out.",
        }.get(reason or "")
        page = render(request, "login.html", notice=notice, login_csrf=token, next=request.args.get("next", ""))
        set_cookie(page, LOGIN_CSRF, token, max_age=3600)
        return page

    @bp.post("/login")
    async def login(request: Request) -> HTTPResponse:
        token = request.cookies.get(LOGIN_CSRF)
        if not accounts.csrf_ok(token, request.form.get("csrf")):
            raise Refused(403, "This form has expired", "Reload the sign-in page and try again.")
        try:
            session_token = accounts.sign_in(
                engine_of(), request.form.get("username", ""), request.form.get("password", ""), request.ip or "unknown"
            )
        except accounts.AccountError as error:
            status = 429 if "Too many" in str(error) else 401
            fresh = secrets.token_urlsafe(32)
            page = render(
                request, "login.html", status=status, error=str(error), login_csrf=fresh, next=request.form.get("next", "")
            )
            set_cookie(page, LOGIN_CSRF, fresh, max_age=3600)
            return page
        audit.record(engine_of(), request.form.get("username", "").strip().lower(), "sign_in")
        target = request.form.get("next", "")
        resp = response.redirect(target if target.startswith("/review") and not target.startswith("//") else "/review/")
        set_cookie(resp, COOKIE, session_token, max_age=accounts.MAX_SECONDS)
        set_cookie(resp, LOGIN_CSRF, "", max_age=0)
        return resp

    @bp.post("/logout")
    @signed_in()
    async def logout(request: Request) -> HTTPResponse:
        accounts.sign_out(engine_of(), request.cookies.get(COOKIE))
        audit.record(engine_of(), user_of(request), "sign_out")
        resp = response.redirect("/review/login?reason=out")
        set_cookie(resp, COOKIE, "", max_age=0)
        return resp

    @bp.get("/")
    @signed_in()
    async def overview(request: Request) -> HTTPResponse:
        days_text = request.args.get("days", "30")
        if not days_text.isdigit() or int(days_text) not in PERIODS:
            raise Refused(400, "That period doesn't work", f"Choose one of {', '.join(map(str, PERIODS))} days.")
        sync()
        stats = queries.overview(engine_of(), int(days_text))
        return render(
            request,
            "overview.html",
            stats=stats,
            days=int(days_text),
            periods=PERIODS,
            peak=max([n for _, n in stats["days"]] + [1]),
        )

    @bp.get("/conversations")
    @signed_in()
    async def conversation_list(request: Request) -> HTTPResponse:
        filters = filters_of(request)
        sync()
        page = queries.list_conversations(engine_of(), filters)
        return render(
            request,
            "list.html",
            page=page,
            filters=filters,
            choices=queries.choices(engine_of()),
            referrals=REFERRALS,
            sorts=SORTS,
        )

    @bp.get("/conversations/<sender_id:str>", unquote=True)
    @signed_in()
    async def transcript(request: Request, sender_id: str) -> HTTPResponse:
        sync()
        found = conversation_or_404(sender_id)
        events = queries.event_rows(engine_of(), sender_id, known_topics())
        kb = knowledge_of()
        found_decisions = []
        for decision in decisions(events):
            topic = kb.topic(decision["topic"]) if kb else None
            rules = {r.id: r for r in topic.rules} if topic else {}
            decision["sources"] = list(topic.sources) if topic else []
            signs = {**observation_rules(decision["rules"]), **safety_rules(kb, decision["rules"])}
            milestone = milestone_of(kb, decision["rules"])
            if milestone:  # a milestone question: its table row and sources, not the topic's rules
                decision["sources"] = list(milestone.sources)
                check = f"check by {milestone.check_by:g} months" if milestone.check_by is not None else "no fixed age to check"
                decision["rules"] = [f"milestone question: {milestone.name.lower()} ({check})"]
            decision["rules"] = [rules.get(rule_id) or rule_id for rule_id in decision["rules"] if rule_id not in signs] + list(
                signs.values()
            )
            found_decisions.append(decision)
        audit.record(engine_of(), user_of(request), "view", sender_id)
        return render(
            request,
            "conversation.html",
            conversation=found,
            turns=build_turns(events),
            decisions=found_decisions,
            intents=known_intents(),
            back=request.args.get("back", ""),
        )

    def back_to(sender_id: str, request: Request) -> HTTPResponse:
        back = request.form.get("back", "")
        return response.redirect(
            f"/review/conversations/{quote(sender_id, safe='')}" + (f"?back={quote(back, safe='')}" if back else "")
        )

    def review_action(path: str, action: Callable[[Request, str], None], role: Optional[str] = None) -> None:
        @bp.post(f"/conversations/<sender_id:str>/{path}", unquote=True, name=f"review_{path.replace('-', '_')}")
        @signed_in(role)
        async def handler(request: Request, sender_id: str) -> HTTPResponse:
            conversation_or_404(sender_id)
            try:
                action(request, sender_id)
            except (work.WorkError, ValueError) as error:
                raise Refused(400, "That didn't work", str(error)) from None
            return back_to(sender_id, request)

    def do_tag(request: Request, sender_id: str) -> None:
        tag = work.add_tag(engine_of(), sender_id, request.form.get("tag", ""), user_of(request))
        audit.record(engine_of(), user_of(request), "tag", sender_id, tag)

    def do_untag(request: Request, sender_id: str) -> None:
        work.remove_tag(engine_of(), sender_id, request.form.get("tag", ""))
        audit.record(engine_of(), user_of(request), "untag", sender_id, request.form.get("tag", ""))

    def do_note(request: Request, sender_id: str) -> None:
        work.add_note(engine_of(), sender_id, request.form.get("text", ""), user_of(request))
        audit.record(engine_of(), user_of(request), "note", sender_id)

    def do_review(request: Request, sender_id: str) -> None:
        reviewed = request.form.get("reviewed") == "yes"
        work.set_reviewed(engine_of(), sender_id, reviewed, user_of(request))
        audit.record(engine_of(), user_of(request), "reviewed" if reviewed else "unreviewed", sender_id)

    def do_correct(request: Request, sender_id: str) -> None:
        event_id = request.form.get("event_id", "")
        if not event_id.isdigit():
            raise work.WorkError("Choose a message to correct.")
        work.correct_intent(
            engine_of(), sender_id, int(event_id), request.form.get("intent", ""), known_intents(), user_of(request)
        )
        audit.record(engine_of(), user_of(request), "correct", sender_id, f"{event_id} -> {request.form.get('intent')}")

    for path, action in (
        ("tags", do_tag),
        ("untag", do_untag),
        ("notes", do_note),
        ("review", do_review),
        ("correct", do_correct),
    ):
        review_action(path, action)

    @bp.post("/conversations/<sender_id:str>/erase", unquote=True)
    @signed_in("admin")
    async def erase(request: Request, sender_id: str) -> HTTPResponse:
        conversation_or_404(sender_id)
        if request.form.get("confirm") != sender_id:
            raise Refused(400, "Not erased", "Type the conversation id in the box to confirm the erasure.")
        privacy.erase(engine_of(), [sender_id], user_of(request), request.form.get("reason", "")[:500] or "erased on request")
        return render(
            request,
            "message.html",
            title="Conversation erased",
            message=f"Conversation {sender_id} and everything the team recorded about it have been deleted.",
        )

    def export_filename(kind: str) -> str:
        return f"conversations.{kind}"

    @bp.get("/export.csv")
    @signed_in("admin")
    async def export_csv(request: Request) -> HTTPResponse:
        filters = filters_of(request)
        sync()
        out = io.StringIO()
        columns = [
            "sender_id",
            "started_at",
            "last_at",
            "channel",
            "topic",
            "referral",
            "red_flag",
            "had_fallback",
            "low_confidence",
            "asked_person",
            "user_messages",
            "first_message",
            "tags",
            "reviewed_by",
            "reviewed_at",
        ]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        count = 0
        for row in queries.export_rows(engine_of(), filters, with_messages=False):
            row["tags"] = " ".join(row["tags"])
            writer.writerow({key: _csv_safe(value) if isinstance(value, str) else value for key, value in row.items()})
            count += 1
        audit.record(engine_of(), user_of(request), "export_csv", None, f"{count} conversations; {filters.query()}")
        return response.text(
            out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{export_filename("csv")}"'},
        )

    @bp.get("/export.jsonl")
    @signed_in("admin")
    async def export_jsonl(request: Request) -> HTTPResponse:
        filters = filters_of(request)
        sync()
        lines = [json.dumps(row, default=str) for row in queries.export_rows(engine_of(), filters, with_messages=True)]
        audit.record(engine_of(), user_of(request), "export_jsonl", None, f"{len(lines)} conversations; {filters.query()}")
        return response.text(
            "\n".join(lines) + ("\n" if lines else ""),
            content_type="application/x-ndjson; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{export_filename("jsonl")}"'},
        )

    @bp.get("/corrections.yml")
    @signed_in("admin")
    async def export_corrections(request: Request) -> HTTPResponse:
        audit.record(engine_of(), user_of(request), "export_corrections")
        return response.text(
            work.corrections_yaml(engine_of()),
            content_type="text/yaml; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="corrections.yml"'},
        )

    @bp.get("/users")
    @signed_in("admin")
    async def users_page(request: Request) -> HTTPResponse:
        return render(request, "users.html", users=accounts.list_users(engine_of()), roles=accounts.ROLES)

    @bp.post("/users")
    @signed_in("admin")
    async def users_change(request: Request) -> HTTPResponse:
        form = request.form
        action, name = form.get("action", ""), form.get("username", "")
        try:
            if action == "add":
                accounts.add_user(engine_of(), name, form.get("password", ""), form.get("role", "reviewer"))
            elif action == "role":
                accounts.set_role(engine_of(), name, form.get("role", ""))
            elif action in ("disable", "enable"):
                if name == user_of(request):
                    raise accounts.AccountError("You cannot disable your own account.")
                accounts.set_active(engine_of(), name, action == "enable")
            else:
                raise accounts.AccountError("Unknown change.")
        except accounts.AccountError as error:
            return render(
                request, "users.html", status=400, error=str(error), users=accounts.list_users(engine_of()), roles=accounts.ROLES
            )
        audit.record(engine_of(), user_of(request), f"user_{action}", name, form.get("role", "") if action != "disable" else "")
        return response.redirect("/review/users")

    @bp.get("/audit")
    @signed_in("admin")
    async def audit_page(request: Request) -> HTTPResponse:
        return render(request, "audit.html", entries=audit.recent(engine_of()))

    @bp.exception(Refused)
    async def refused(request: Request, error: Refused) -> HTTPResponse:
        return render(request, "message.html", status=error.status, title=error.title, message=error.message)

    @bp.exception(NotFound)
    async def not_found(request: Request, _: Exception) -> HTTPResponse:
        return render(
            request, "message.html", status=404, title="Page not found", message="There is no such page in the dashboard."
        )

    return bp


FORMULA = re.compile(r"[\s;,]*[=+\-@]|[\t\r]")  # what a spreadsheet may run, also after a separator


def _csv_safe(value: Optional[str]) -> str:
    """Cell text that spreadsheets will not run as a formula (even split at a leading `;` or `,`)."""
    value = value or ""
    return "'" + value if FORMULA.match(value) else value
