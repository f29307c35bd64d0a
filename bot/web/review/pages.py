"""The pages reviewers read: the overview, the conversation list, one conversation's transcript, the stylesheet."""

from __future__ import annotations

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.review import audit, queries
from bot.review.decisions import explain
from bot.review.filters import PERIODS, REFERRALS, SORTS, FilterError, parse_period
from bot.review.intents import known_intents
from bot.review.transcript import build_turns, decisions
from bot.web.review.context import Refused, conversation_or_404, dashboard_of, filters_of, render, user_of


async def review_css(request: Request) -> HTTPResponse:
    """GET /review/static/review.css: the dashboard's only stylesheet (revalidated with its ETag)."""
    return dashboard_of(request).stylesheet(request)


async def overview(request: Request) -> HTTPResponse:
    """GET /review/?days=N: conversations per day, referral shares, fallback rate and top topics over N days."""
    try:
        days = parse_period(request.args.get("days"))
    except FilterError as error:
        raise Refused(400, "That period doesn't work", str(error)) from None
    dashboard = dashboard_of(request)
    dashboard.sync()
    stats = queries.overview(dashboard.engine, days)
    peak = max([count for _, count in stats["days"]] + [1])
    return render(request, "overview.html", stats=stats, days=days, periods=PERIODS, peak=peak)


async def conversation_list(request: Request) -> HTTPResponse:
    """GET /review/conversations: the filtered, sorted, paginated list."""
    filters = filters_of(request)
    dashboard = dashboard_of(request)
    dashboard.sync()
    return render(
        request,
        "list.html",
        page=queries.list_conversations(dashboard.engine, filters),
        filters=filters,
        choices=queries.choices(dashboard.engine),
        referrals=REFERRALS,
        sorts=SORTS,
    )


async def transcript(request: Request, sender_id: str) -> HTTPResponse:
    """GET /review/conversations/<id>: the transcript, each referral decision explained, the review tools."""
    dashboard = dashboard_of(request)
    dashboard.sync()
    found = conversation_or_404(request, sender_id)
    events = queries.event_rows(dashboard.engine, sender_id, dashboard.known_topics())
    kb = dashboard.knowledge_of()
    explained = [explain(decision, kb) for decision in decisions(events)]
    audit.record(dashboard.engine, user_of(request), "view", sender_id)
    return render(
        request,
        "conversation.html",
        conversation=found,
        turns=build_turns(events),
        decisions=explained,
        intents=known_intents(),
        back=request.args.get("back", ""),
    )
