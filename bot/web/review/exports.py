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


def _conversations(request: Request, jsonl: bool) -> HTTPResponse:
    """The filtered conversations as a download (JSON lines with their messages, CSV without), audited."""
    filters = filters_of(request)
    dashboard = dashboard_of(request)
    dashboard.sync()
    rows = queries.export_rows(dashboard.engine, filters, with_messages=jsonl)
    text, count = exports.jsonl_document(rows) if jsonl else exports.csv_document(rows)
    action, extension = ("export_jsonl", "jsonl") if jsonl else ("export_csv", "csv")
    audit.record(dashboard.engine, user_of(request), action, None, f"{count} conversations; {filters.query()}")
    content_type = "application/x-ndjson" if jsonl else "text/csv"
    return _attachment(text, f"{content_type}; charset=utf-8", f"conversations.{extension}")


async def export_csv(request: Request) -> HTTPResponse:
    """GET /review/export.csv: the filtered conversations, one row each, without their messages."""
    return _conversations(request, jsonl=False)


async def export_jsonl(request: Request) -> HTTPResponse:
    """GET /review/export.jsonl: the filtered conversations with their messages, one JSON object a line."""
    return _conversations(request, jsonl=True)


async def export_corrections(request: Request) -> HTTPResponse:
    """GET /review/corrections.yml: every intent correction, as NLU examples to check and add to data/nlu/."""
    dashboard = dashboard_of(request)
    audit.record(dashboard.engine, user_of(request), "export_corrections")
    return _attachment(work.corrections_yaml(dashboard.engine), "text/yaml; charset=utf-8", "corrections.yml")
