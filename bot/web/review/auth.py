"""Signing in and out, and the guard every other dashboard route passes: a live session, the form's CSRF token, a role."""

from __future__ import annotations

import secrets
from functools import wraps
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.review import accounts, audit
from bot.web.review.context import COOKIE, LOGIN_CSRF, PREFIX, Refused, dashboard_of, form_text, render, set_cookie, user_of

Handler = Callable[..., Awaitable[HTTPResponse]]
LOGIN_CSRF_SECONDS = 3600
NOTICES = {
    "expired": "Your session has ended. Please sign in again.",
    "required": "Please sign in to continue.",
    "out": "You are signed out.",
}


def guarded(handler: Handler, admin_only: bool = False) -> Handler:
    """handler behind the dashboard's sign-in: a session (else to the sign-in page, coming back afterwards), the
    session's CSRF token on every POST, and an administrator account when admin_only."""

    @wraps(handler)
    async def guard(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        token = request.cookies.get(COOKIE)
        session = accounts.session_for(dashboard_of(request).engine, token)
        if session is None:
            reason = "expired" if token else "required"
            target = quote(request.path + (f"?{request.query_string}" if request.query_string else ""), safe="")
            return response.redirect(f"{PREFIX}/login?reason={reason}&next={target}")
        request.ctx.session = session
        if request.method == "POST" and not accounts.csrf_ok(session.csrf_token, form_text(request, "csrf")):
            raise Refused(
                403,
                "This form has expired",
                "The page was open too long or came from elsewhere. Go back, reload it and try again.",
            )
        if admin_only and not session.user.is_admin:
            raise Refused(403, "Not allowed", "This needs an administrator account.")
        return await handler(request, *args, **kwargs)

    return guard


def safe_next(target: str) -> str:
    """Where to go after signing in: a dashboard path from the sign-in form, never another site."""
    return target if target.startswith(PREFIX) and not target.startswith("//") else f"{PREFIX}/"


def _login_form(request: Request, status: int = 200, **context: Any) -> HTTPResponse:
    """The sign-in page with a fresh sign-in CSRF token (in its form and in a cookie)."""
    token = secrets.token_urlsafe(32)
    page = render(request, "login.html", status=status, login_csrf=token, **context)
    set_cookie(page, dashboard_of(request).settings, LOGIN_CSRF, token, max_age=LOGIN_CSRF_SECONDS)
    return page


async def login_page(request: Request) -> HTTPResponse:
    """GET /review/login: the sign-in form (to the overview when already signed in)."""
    if accounts.session_for(dashboard_of(request).engine, request.cookies.get(COOKIE)):
        return response.redirect(f"{PREFIX}/")
    notice = NOTICES.get(request.args.get("reason") or "")
    return _login_form(request, notice=notice, next=request.args.get("next", ""))


async def login(request: Request) -> HTTPResponse:
    """POST /review/login: check the password, open a session, go where the person was heading."""
    dashboard = dashboard_of(request)
    if not accounts.csrf_ok(request.cookies.get(LOGIN_CSRF), form_text(request, "csrf")):
        raise Refused(403, "This form has expired", "Reload the sign-in page and try again.")
    username = form_text(request, "username")
    try:
        session_token = accounts.sign_in(dashboard.engine, username, form_text(request, "password"), request.ip or "unknown")
    except accounts.AccountError as error:
        status = 429 if isinstance(error, accounts.SignInThrottled) else 401
        return _login_form(request, status=status, error=str(error), next=form_text(request, "next"))
    audit.record(dashboard.engine, username.strip().lower(), "sign_in")
    resp = response.redirect(safe_next(form_text(request, "next")))
    set_cookie(resp, dashboard.settings, COOKIE, session_token, max_age=accounts.MAX_SECONDS)
    set_cookie(resp, dashboard.settings, LOGIN_CSRF, "", max_age=0)
    return resp


async def logout(request: Request) -> HTTPResponse:
    """POST /review/logout: end the session."""
    dashboard = dashboard_of(request)
    accounts.sign_out(dashboard.engine, request.cookies.get(COOKIE))
    audit.record(dashboard.engine, user_of(request), "sign_out")
    resp = response.redirect(f"{PREFIX}/login?reason=out")
    set_cookie(resp, dashboard.settings, COOKIE, "", max_age=0)
    return resp
