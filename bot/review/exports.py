"""Conversation exports for the team's own tools: CSV for spreadsheets (no cell a spreadsheet would run), JSON lines."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Dict, Iterable, Optional, Tuple

CSV_COLUMNS = (
    "sender_id",
    "started_at",
    "last_at",
    "channel",
    "topic",
    "referral",
    "red_flag",
    "misunderstood",
    "misunderstood_reasons",
    "had_fallback",
    "low_confidence",
    "asked_person",
    "user_messages",
    "first_message",
    "tags",
    "reviewed_by",
    "reviewed_at",
)
FORMULA = re.compile(r"[\s;,]*[=+\-@]|[\t\r]")  # what a spreadsheet may run, also after a separator


def csv_safe(value: Optional[str]) -> str:
    """Cell text that spreadsheets will not run as a formula (even split at a leading `;` or `,`)."""
    value = value or ""
    return "'" + value if FORMULA.match(value) else value


def csv_document(rows: Iterable[Dict[str, Any]]) -> Tuple[str, int]:
    """Conversation rows (bot.review.queries.export_rows) as CSV text with a header, and how many rows it holds."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        cells = {**row, "tags": " ".join(row.get("tags") or [])}
        writer.writerow({key: csv_safe(value) if isinstance(value, str) else value for key, value in cells.items()})
        count += 1
    return out.getvalue(), count


def jsonl_document(rows: Iterable[Dict[str, Any]]) -> Tuple[str, int]:
    """Conversation rows as JSON lines (one object a line, newline-terminated), and how many rows it holds."""
    lines = [json.dumps(row, default=str) for row in rows]
    return "".join(line + "\n" for line in lines), len(lines)
