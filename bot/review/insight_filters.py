"""The filters of the gaps and feedback pages: a period in days ending today, a channel, a topic, an answer."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping, Optional
from urllib.parse import urlencode

from bot.review.filters import FilterError, parse_period

ANSWERS = ("", "helpful", "unhelpful")  # the feedback page: every vote, or only one kind
NAME = re.compile(r"[\w .:-]{1,64}")  # a channel, topic id or milestone:<id>


@dataclass(frozen=True)
class InsightFilters:
    """What the gaps and feedback pages show: the last `days` days (UTC, today included), optionally one channel;
    the feedback page also one topic (its id, or milestone:<id>) and one kind of answer."""

    days: int = 30
    channel: str = ""
    topic: str = ""
    answer: str = ""

    def query(self, **changes: Any) -> str:
        """The query string for these filters (with changes), without defaults."""
        values, defaults = asdict(replace(self, **changes)), asdict(InsightFilters())
        return urlencode({key: value for key, value in values.items() if value != defaults[key]})

    def first_day(self, now: Optional[float] = None) -> date:
        """The first day of the period (UTC)."""
        today = datetime.fromtimestamp(now if now is not None else datetime.now(timezone.utc).timestamp(), timezone.utc).date()
        return today - timedelta(days=self.days - 1)

    def start(self, now: Optional[float] = None) -> float:
        """The period's start as a Unix timestamp (midnight UTC of its first day)."""
        first = self.first_day(now)
        return datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp()


def _name(args: Mapping[str, str], key: str, label: str) -> str:
    value = (args.get(key) or "").strip()
    if value and not NAME.fullmatch(value):
        raise FilterError(f"{label} “{value[:40]}” is not a valid name.")
    return value


def parse_insight_filters(args: Mapping[str, str]) -> InsightFilters:
    """Filters from query arguments; FilterError names the first bad one."""
    answer = (args.get("answer") or "").strip()
    if answer not in ANSWERS:
        raise FilterError(f"Answers must be one of {', '.join(a for a in ANSWERS if a)}, not “{answer[:40]}”.")
    return InsightFilters(
        days=parse_period(args.get("days")),
        channel=_name(args, "channel", "Channel"),
        topic=_name(args, "topic", "Topic"),
        answer=answer,
    )
