"""Administration: erasing a conversation, the accounts page, the audit log."""

from __future__ import annotations

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.review import accounts, audit, privacy
from bot.web.review.context import PREFIX, Refused, conversation_or_404, dashboard_of, form_text, form_value, render, user_of

MAX_REASON = 500  # characters of an erasure's reason kept in the audit log


async def erase(request: Request, sender_id: str) -> HTTPResponse:
    """POST /review/conversations/<id>/erase: delete a conversation and what the team recorded about it, once the
    administrator has typed its id to confirm."""
    conversation_or_404(request, sender_id)
    if form_text(request, "confirm") != sender_id:
        raise Refused(400, "Not erased", "Type the conversation id in the box to confirm the erasure.")
    reason = form_text(request, "reason")[:MAX_REASON] or "erased on request"
    privacy.erase(dashboard_of(request).engine, [sender_id], user_of(request), reason)
    return render(
        request,
        "message.html",
        title="Conversation erased",
        message=f"Conversation {sender_id} and everything the team recorded about it have been deleted.",
    )


async def users_page(request: Request) -> HTTPResponse:
    """GET /review/users: the accounts and the forms to change them."""
    return render(request, "users.html", users=accounts.list_users(dashboard_of(request).engine), roles=accounts.ROLES)


async def users_change(request: Request) -> HTTPResponse:
    """POST /review/users: add an account, change its role, disable or enable it (accounts.change_user)."""
    engine = dashboard_of(request).engine
    action, name = form_text(request, "action"), form_text(request, "username")
    role = form_value(request, "role")
    try:
        accounts.change_user(engine, user_of(request), action, name, form_text(request, "password"), role)
    except accounts.AccountError as error:
        return render(
            request, "users.html", status=400, error=str(error), users=accounts.list_users(engine), roles=accounts.ROLES
        )
    audit.record(engine, user_of(request), f"user_{action}", name, (role or "") if action != "disable" else "")
    return response.redirect(f"{PREFIX}/users")


async def audit_page(request: Request) -> HTTPResponse:
    """GET /review/audit: the most recent audit log entries."""
    return render(request, "audit.html", entries=audit.recent(dashboard_of(request).engine))
