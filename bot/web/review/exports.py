"""Exports for administrators (each written to the audit log): conversations as CSV or JSON lines, with the list's
filters, and the intent corrections as Rasa NLU training data."""

from __future__ import annotations

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.review import audit, exports, queries, work
from bot.web.review.context import dashboard_of, filters_of, user_of


def _attachment(text: str, content_type: str, filename: str) -> HTTPResponse:
    """text as a file download."""
    return response.text(text, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def export_csv(request: Request) -> HTTPResponse:
    """GET /review/export.csv: the filtered conversations, one row each, without their messages."""
    filters = filters_of(request)
    dashboard = dashboard_of(request)
    dashboard.sync()
    text, count = exports.csv_document(queries.export_rows(dashboard.engine, filters, with_messages=False))
    audit.record(dashboard.engine, user_of(request), "export_csv", None, f"{count} conversations; {filters.query()}")
    return _attachment(text, "text/csv; charset=utf-8", "conversations.csv")


async def export_jsonl(request: Request) -> HTTPResponse:
    """GET /review/export.jsonl: the filtered conversations with their messages, one JSON object a line."""
    filters = filters_of(request)
    dashboard = dashboard_of(request)
    dashboard.sync()
    text, count = exports.jsonl_document(queries.export_rows(dashboard.engine, filters, with_messages=True))
    audit.record(dashboard.engine, user_of(request), "export_jsonl", None, f"{count} conversations; {filters.query()}")
    return _attachment(text, "application/x-ndjson; charset=utf-8", "conversations.jsonl")


async def export_corrections(request: Request) -> HTTPResponse:
    """GET /review/corrections.yml: every intent correction, as NLU examples to check and add to data/nlu/."""
    dashboard = dashboard_of(request)
    audit.record(dashboard.engine, user_of(request), "export_corrections")
    return _attachment(work.corrections_yaml(dashboard.engine), "text/yaml; charset=utf-8", "corrections.yml")
