"""Fold Rasa events into a per-conversation summary (pure functions, no database).

A summary is what the conversation list filters and sorts on: when, which channel, which topic, the
highest referral given, whether NLU fell back or was unsure, whether the parent asked for a person.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

REFERRAL_ORDER = {None: 0, "none": 1, "provider": 2, "urgent": 3}
LOW_CONFIDENCE = 0.5  # an intent below this is "low confidence" for reviewers
FALLBACK_INTENT = "nlu_fallback"
PERSON_INTENT = "request_human"
SEARCH_LIMIT = 20_000  # characters of text kept for free-text search


def new_summary(sender_id: str, timestamp: float) -> Dict[str, Any]:
    """An empty summary for a conversation first seen at timestamp."""
    return {
        "sender_id": sender_id, "started_at": timestamp, "last_at": timestamp, "channel": None, "topic": None,
        "referral": None, "red_flag": None, "had_fallback": False, "low_confidence": False, "asked_person": False,
        "user_messages": 0, "first_message": None, "search_text": "", "last_event_id": 0,
    }  # fmt: skip


def _add_text(summary: Dict[str, Any], text: Optional[str]) -> None:
    if text and len(summary["search_text"]) < SEARCH_LIMIT:
        summary["search_text"] = (summary["search_text"] + "\n" + text.lower())[:SEARCH_LIMIT]


def apply_event(summary: Dict[str, Any], row: Dict[str, Any]) -> Dict[str, Any]:
    """Update summary (in place, and returned) with one `events` row."""
    try:
        data = json.loads(row.get("data") or "{}")
    except ValueError:
        data = {}
    kind = row.get("type_name")
    timestamp = row.get("timestamp") or summary["last_at"]
    summary["started_at"] = min(summary["started_at"], timestamp)
    summary["last_at"] = max(summary["last_at"], timestamp)
    summary["last_event_id"] = max(summary["last_event_id"], row["id"])
    if kind == "user":
        intent = (data.get("parse_data") or {}).get("intent") or {}
        summary["user_messages"] += 1
        summary["channel"] = data.get("input_channel") or summary["channel"]
        summary["first_message"] = summary["first_message"] or (data.get("text") or "")[:200]
        _add_text(summary, data.get("text"))
        name, confidence = intent.get("name"), intent.get("confidence")
        summary["had_fallback"] |= name == FALLBACK_INTENT
        summary["asked_person"] |= name == PERSON_INTENT
        summary["low_confidence"] |= confidence is not None and confidence < LOW_CONFIDENCE
    elif kind == "bot":
        _add_text(summary, data.get("text"))
    elif kind == "action":
        summary["had_fallback"] |= data.get("name") == "action_default_fallback"
    elif kind == "slot":
        name, value = data.get("name"), data.get("value")
        if name == "topic" and value:
            summary["topic"] = value
        elif name == "referral" and REFERRAL_ORDER.get(value, 0) > REFERRAL_ORDER.get(summary["referral"], 0):
            summary["referral"] = value
        elif name == "red_flag" and value:
            summary["red_flag"] = value
        elif name == "human_requested" and value:
            summary["asked_person"] = True
    return summary
