"""The pages reviewers read: the overview, the conversation list, one conversation's transcript, the stylesheet."""

from __future__ import annotations

from typing import Dict, Iterable, Tuple

from sanic.request import Request
from sanic.response import HTTPResponse

from bot.review import audit, markdown, queries
from bot.review.chart import day_chart
from bot.review.decisions import explain
from bot.review.filters import PERIODS, REFERRALS, SORTS, FilterError, parse_period
from bot.review.intents import known_intents
from bot.review.signals import REASONS, misunderstood_turns
from bot.review.transcript import attach_flags, build_turns, decisions
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
    charts = {"wide": day_chart(stats["days"], 900), "narrow": day_chart(stats["days"], 330, 190, font=13)}
    return render(request, "overview.html", stats=stats, days=days, periods=PERIODS, charts=charts)


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
        reasons=REASONS,
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
    turns = attach_flags(build_turns(events), misunderstood_turns(events))
    audit.record(dashboard.engine, user_of(request), "view", sender_id)
    return render(
        request,
        "conversation.html",
        conversation=found,
        turns=turns,
        decisions=explained,
        intents=known_intents(),
        back=request.args.get("back", ""),
        markdown=markdown.render,
        observations=observation_names(o for turn in turns for o in turn.recorded + turn.observations),
    )


def observation_names(ids: Iterable[str]) -> Dict[str, Tuple[str, str]]:
    """(label, say_back) of each observation id from the catalogue (knowledge/observations.yml); unknown ids are
    left out (the page shows them as they are)."""
    from bot.nlu.observations import default_catalogue

    try:
        known = default_catalogue().observations
    except Exception:  # noqa: BLE001 - a broken catalogue must not hide the transcript
        return {}
    return {o: (known[o].label, known[o].say_back) for o in set(ids) if o in known}
