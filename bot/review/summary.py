"""Fold Rasa events into a per-conversation summary (pure functions, no database).

A summary is what the conversation list filters and sorts on: when, which channel, which topic, the
highest referral given, whether the assistant failed the parent (`misunderstood`, from bot.review.signals over the
whole conversation: see with_flags), whether the parent asked for a person. `had_fallback` and `low_confidence`
are the intent classifier's own signals (it fell back; it was unsure), kept apart: a reply the form used is
understood whatever the classifier thought of it.
"""

from __future__ import annotations

import math
from typing import AbstractSet, Any, Dict, Optional, Sequence

from bot.contract import FALLBACK_INTENT, RED_FLAG_SLOT, REFERRAL_SLOT, REQUEST_HUMAN_INTENT, TOPIC_SLOT, referral_rank
from bot.review.reading import UNREADABLE, clean_text, clean_timestamp, read_event
from bot.review.signals import REASONS, Flag

LOW_CONFIDENCE = 0.5  # an intent below this is "low confidence" for reviewers
SEARCH_LIMIT = 20_000  # characters of text kept for free-text search
FIRST_MESSAGE = 200  # characters of the first message shown in the list


def new_summary(sender_id: str, timestamp: Optional[float]) -> Dict[str, Any]:
    """An empty summary for a conversation first seen at timestamp (None: not known yet)."""
    timestamp = clean_timestamp(timestamp)
    return {
        "sender_id": sender_id,
        "started_at": timestamp,
        "last_at": timestamp,
        "channel": None,
        "topic": None,
        "referral": None,
        "red_flag": None,
        "had_fallback": False,
        "low_confidence": False,
        "misunderstood": False,
        "misunderstood_reasons": None,
        "asked_person": False,
        "user_messages": 0,
        "first_message": None,
        "search_text": "",
        "last_event_id": 0,
    }


def storable(summary: Dict[str, Any]) -> Dict[str, Any]:
    """The summary as it is written: a conversation with no readable timestamp is dated 0 (1970)."""
    started, last = summary["started_at"], summary["last_at"]
    return {**summary, "started_at": 0.0 if started is None else started, "last_at": 0.0 if last is None else last}


def _add_text(summary: Dict[str, Any], text: Optional[str]) -> None:
    if text and len(summary["search_text"] or "") < SEARCH_LIMIT:
        summary["search_text"] = ((summary["search_text"] or "") + "\n" + text.lower())[:SEARCH_LIMIT]


def _at(summary: Dict[str, Any], timestamp: Optional[float]) -> None:
    if timestamp is None:
        return
    started, last = summary["started_at"], summary["last_at"]
    summary["started_at"] = timestamp if started is None or not math.isfinite(started) else min(started, timestamp)
    summary["last_at"] = timestamp if last is None or not math.isfinite(last) else max(last, timestamp)


def fold_event(
    summary: Dict[str, Any], event_id: int, event: Dict[str, Any], timestamp: Optional[float] = None
) -> Dict[str, Any]:
    """Update summary (in place, and returned) with one event read by bot.review.reading.read_event.

    timestamp: the row's own `timestamp` column, preferred to the one inside the event.
    """
    _at(summary, clean_timestamp(timestamp) if clean_timestamp(timestamp) is not None else event.get("timestamp"))
    summary["last_event_id"] = max(summary["last_event_id"], event_id)
    kind = event["event"]
    if kind == "user":
        intent = event["parse_data"]["intent"]
        summary["user_messages"] += 1
        summary["channel"] = event["input_channel"] or summary["channel"]
        summary["first_message"] = summary["first_message"] or clean_text(event["text"] or "", FIRST_MESSAGE)
        _add_text(summary, event["text"])
        name, confidence = intent["name"], intent["confidence"]
        summary["had_fallback"] |= name == FALLBACK_INTENT
        summary["asked_person"] |= name == REQUEST_HUMAN_INTENT
        summary["low_confidence"] |= confidence is not None and confidence < LOW_CONFIDENCE
    elif kind == "bot":
        _add_text(summary, event["text"])
    elif kind == "action":
        summary["had_fallback"] |= event["name"] == "action_default_fallback"
    elif kind == "slot":
        name, value = event["name"], event["value"]
        if name == TOPIC_SLOT and value:
            summary["topic"] = value
        elif name == REFERRAL_SLOT and referral_rank(value) > referral_rank(summary["referral"]):
            summary["referral"] = value
        elif name == RED_FLAG_SLOT and value:
            summary["red_flag"] = value
        elif name == "human_requested" and value:
            summary["asked_person"] = True
    return summary


def with_flags(summary: Dict[str, Any], flags: Sequence[Flag]) -> Dict[str, Any]:
    """Set (in place, and return) whether and why the assistant failed the parent, from the conversation's flags."""
    reasons = [reason for reason in REASONS if any(flag.reason == reason for flag in flags)]
    summary["misunderstood"] = bool(reasons)
    summary["misunderstood_reasons"] = ",".join(reasons) or None
    return summary


def read_row(row: Dict[str, Any], topics: Optional[AbstractSet[str]] = None) -> Dict[str, Any]:
    """The event of one `events` row, read defensively (see bot.review.reading.read_event)."""
    event = read_event(row.get("data") or "{}", topics)
    if event["event"] == UNREADABLE and row.get("type_name") == "user":
        return {**read_event({"event": "user"}), "problems": event["problems"], "unreadable": True}  # a message, content lost
    return event


def apply_event(summary: Dict[str, Any], row: Dict[str, Any], topics: Optional[AbstractSet[str]] = None) -> Dict[str, Any]:
    """Update summary (in place, and returned) with one `events` row, whatever its `data` holds."""
    return fold_event(summary, row["id"], read_row(row, topics), row.get("timestamp"))
