"""A reviewer's work on a conversation (forms on the transcript page): tags, notes, the reviewed mark, intent
corrections. Each is written to the audit log and goes back to the transcript; a refused one shows why (400)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Tuple
from urllib.parse import quote

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine

from bot.review import audit, work
from bot.review.intents import known_intents
from bot.web.review.context import PREFIX, Refused, conversation_or_404, dashboard_of, form_text, user_of


@contextmanager
def _refusing_bad_input() -> Iterator[None]:
    """Turn the reason bot.review.work gives for refusing a change into a 400 page."""
    try:
        yield
    except (work.WorkError, ValueError) as error:
        raise Refused(400, "That didn't work", str(error)) from None


def _acting_on(request: Request, sender_id: str) -> Tuple[Engine, str]:
    """The database and the reviewer, once the conversation is known to exist (else a 404 page)."""
    conversation_or_404(request, sender_id)
    return dashboard_of(request).engine, user_of(request)


def _back_to(request: Request, sender_id: str) -> HTTPResponse:
    """Back to the transcript, keeping the list filters it was opened from."""
    back = form_text(request, "back")
    return response.redirect(
        f"{PREFIX}/conversations/{quote(sender_id, safe='')}" + (f"?back={quote(back, safe='')}" if back else "")
    )


async def add_tag(request: Request, sender_id: str) -> HTTPResponse:
    """POST /review/conversations/<id>/tags."""
    engine, user = _acting_on(request, sender_id)
    with _refusing_bad_input():
        tag = work.add_tag(engine, sender_id, form_text(request, "tag"), user)
        audit.record(engine, user, "tag", sender_id, tag)
    return _back_to(request, sender_id)


async def remove_tag(request: Request, sender_id: str) -> HTTPResponse:
    """POST /review/conversations/<id>/untag."""
    engine, user = _acting_on(request, sender_id)
    tag = form_text(request, "tag")
    with _refusing_bad_input():
        work.remove_tag(engine, sender_id, tag)
        audit.record(engine, user, "untag", sender_id, tag)
    return _back_to(request, sender_id)


async def add_note(request: Request, sender_id: str) -> HTTPResponse:
    """POST /review/conversations/<id>/notes."""
    engine, user = _acting_on(request, sender_id)
    with _refusing_bad_input():
        work.add_note(engine, sender_id, form_text(request, "text"), user)
        audit.record(engine, user, "note", sender_id)
    return _back_to(request, sender_id)


async def mark_reviewed(request: Request, sender_id: str) -> HTTPResponse:
    """POST /review/conversations/<id>/review: reviewed=yes marks it reviewed, anything else clears the mark."""
    engine, user = _acting_on(request, sender_id)
    reviewed = form_text(request, "reviewed") == "yes"
    with _refusing_bad_input():
        work.set_reviewed(engine, sender_id, reviewed, user)
        audit.record(engine, user, "reviewed" if reviewed else "unreviewed", sender_id)
    return _back_to(request, sender_id)


async def correct_intent(request: Request, sender_id: str) -> HTTPResponse:
    """POST /review/conversations/<id>/correct: the right intent for one of the parent's messages."""
    engine, user = _acting_on(request, sender_id)
    event_id, intent = form_text(request, "event_id"), form_text(request, "intent")
    with _refusing_bad_input():
        if not event_id.isdigit():
            raise work.WorkError("Choose a message to correct.")
        work.correct_intent(engine, sender_id, int(event_id), intent, known_intents(), user)
        audit.record(engine, user, "correct", sender_id, f"{event_id} -> {intent}")
    return _back_to(request, sender_id)
