"""What the team learns from many conversations at once: the gaps (messages the assistant could not handle, grouped,
exportable as NLU examples) and the parents' feedback on the advice. Decisions about the data are in bot/review/
(gaps, grouping, feedback, insight_filters)."""

from __future__ import annotations

import re
from typing import Set

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.contract import MILESTONE_PREFIX
from bot.review import audit, queries
from bot.review.feedback import MAX_COMMENTS, MAX_ROWS, csv_document, selected, stored_feedback, subject_titles, summarise
from bot.review.filters import PERIODS, FilterError
from bot.review.gaps import INTENT, MAX_CONVERSATIONS, MAX_MESSAGES, SHOWN_GROUPS, chosen_texts, find_gaps, gaps_yaml
from bot.review.insight_filters import ANSWERS, InsightFilters, parse_insight_filters
from bot.review.intents import known_intents
from bot.web.review.context import Refused, dashboard_of, render, user_of

MAX_CHOSEN = 500  # groups or messages one export may name
GROUP_KEY, MESSAGE_ID = re.compile(r"[0-9a-f]{1,64}"), re.compile(r"[0-9]{1,18}")


def _attachment(text: str, content_type: str, filename: str) -> HTTPResponse:
    """text as a file download."""
    return response.text(text, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def insight_filters_of(request: Request) -> InsightFilters:
    """The page's filters from the query string; a 400 page says which one does not work."""
    try:
        return parse_insight_filters({name: values[0] for name, values in request.args.items()})
    except FilterError as error:
        raise Refused(400, "That filter doesn't work", str(error)) from None


async def gaps_page(request: Request) -> HTTPResponse:
    """GET /review/gaps: the period's messages the assistant could not handle, grouped by similarity."""
    filters = insight_filters_of(request)
    dashboard = dashboard_of(request)
    dashboard.sync()
    found = find_gaps(dashboard.engine, filters)
    return render(
        request,
        "gaps.html",
        gaps=found,
        shown=found.groups[:SHOWN_GROUPS],
        filters=filters,
        periods=PERIODS,
        channels=queries.choices(dashboard.engine)["channels"],
        intents=known_intents(),
        limits={"conversations": MAX_CONVERSATIONS, "messages": MAX_MESSAGES, "groups": SHOWN_GROUPS},
    )


def _chosen(request: Request) -> tuple[set[str], set[int]]:
    """The group keys and message row ids chosen on the gaps page (odd values are ignored)."""
    keys = {key for key in (request.args.getlist("group") or [])[:MAX_CHOSEN] if GROUP_KEY.fullmatch(key)}
    ids = {int(value) for value in (request.args.getlist("message") or [])[:MAX_CHOSEN] if MESSAGE_ID.fullmatch(value)}
    return keys, ids


async def export_gaps(request: Request) -> HTTPResponse:
    """GET /review/gaps.yml: the chosen groups' and messages' texts as NLU examples of the chosen intent, audited."""
    filters = insight_filters_of(request)
    intent = (request.args.get("intent") or "").strip()
    if not INTENT.fullmatch(intent):
        raise Refused(400, "Choose an intent", "Name the intent in lower case letters, digits and underscores, like ask_sleep.")
    keys, ids = _chosen(request)
    if not keys and not ids:
        raise Refused(400, "Nothing chosen", "Tick the groups or messages to export, then export again.")
    dashboard = dashboard_of(request)
    dashboard.sync()
    texts = chosen_texts(find_gaps(dashboard.engine, filters).groups, keys, ids)
    if not texts:
        raise Refused(404, "Nothing to export", "The chosen messages are no longer among this period's gaps. Reload the page.")
    audit.record(dashboard.engine, user_of(request), "export_gaps", None, f"{len(texts)} examples of {intent}; {filters.query()}")
    return _attachment(gaps_yaml(intent, texts), "text/yaml; charset=utf-8", f"gaps-{intent}.yml")


async def feedback_page(request: Request) -> HTTPResponse:
    """GET /review/feedback: helpful rates by topic, week and part of the advice, and what parents said was missing."""
    filters = insight_filters_of(request)
    dashboard = dashboard_of(request)
    dashboard.sync()
    items, capped = stored_feedback(dashboard.engine, filters)
    summary = summarise(items, filters)
    summary.capped = capped
    kb = dashboard.knowledge_of()
    seen: Set[str] = {item.subject for item in items if item.subject} | set(kb.topics if kb else ()) | {filters.topic} - {""}
    titles = subject_titles(kb, seen)
    subjects = sorted(seen, key=lambda s: (s.startswith(MILESTONE_PREFIX), (titles.get(s) or s).lower(), s))
    return render(
        request,
        "feedback.html",
        summary=summary,
        filters=filters,
        periods=PERIODS,
        answers=ANSWERS,
        channels=queries.choices(dashboard.engine)["channels"],
        subjects=subjects,
        titles=titles,
        limits={"rows": MAX_ROWS, "comments": MAX_COMMENTS},
    )


async def export_feedback(request: Request) -> HTTPResponse:
    """GET /review/feedback.csv: the filtered votes and comments, one row each (topic ids, not titles), audited."""
    filters = insight_filters_of(request)
    dashboard = dashboard_of(request)
    dashboard.sync()
    text, count = csv_document(selected(stored_feedback(dashboard.engine, filters)[0], filters))
    audit.record(dashboard.engine, user_of(request), "export_feedback", None, f"{count} votes and comments; {filters.query()}")
    return _attachment(text, "text/csv; charset=utf-8", "feedback.csv")
