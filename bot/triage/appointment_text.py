"""The appointment summary as plain text, for Telegram and WhatsApp: sections packed into messages within a limit."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List

from bot.channels.messaging import split_message
from bot.knowledge.messages import say
from bot.triage.appointment import Summary

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


def day_of(timestamp: float) -> str:
    """A Unix time as a date a parent reads anywhere ("30 November 2026", UTC)."""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return f"{moment.day} {say(f'appointment.month.{MONTHS[moment.month - 1]}')} {moment.year}"


def _listed(heading: str, lines: List[str]) -> str:
    return "\n".join([heading, *(f"- {line}" for line in lines)])


def sections(summary: Summary) -> List[str]:
    """The summary's parts in order: heading, reasons, facts, what was described, sources, how to use it."""
    parts = [
        "\n".join(
            [
                say("appointment.text.heading", title=summary.title),
                say("appointment.made_on", date=day_of(summary.made_at)),
                say("appointment.not_a_diagnosis"),
            ]
        ),
        _listed(say(f"appointment.reasons_heading.{summary.referral}"), list(summary.reasons)),
    ]
    if summary.facts:
        parts.append(_listed(say("appointment.facts_heading"), [f"{fact.label} {fact.value}" for fact in summary.facts]))
    if summary.described:
        parts.append(_listed(say("appointment.described_heading"), list(summary.described)))
    if summary.sources:
        parts.append(_listed(say("appointment.sources_heading"), [f"{s.title}: {s.url}" for s in summary.sources]))
    parts.append(say("appointment.text.footer"))
    return parts


def summary_messages(summary: Summary, limit: int) -> List[str]:
    """The summary as messages of at most `limit` characters, each section whole when it fits."""
    messages: List[str] = []
    for section in sections(summary):
        pieces = split_message(section, limit) if len(section) > limit else [section]
        for piece in pieces:
            if messages and len(messages[-1]) + 2 + len(piece) <= limit:
                messages[-1] += "\n\n" + piece
            else:
                messages.append(piece)
    return messages
