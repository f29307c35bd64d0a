"""Conversation filters from a query string, validated with messages a reviewer can act on."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timezone
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlencode

from bot.contract import PENDING, REFERRAL_LEVELS
from bot.review.reading import clean_text
from bot.review.signals import REASONS

REFERRALS = (*REFERRAL_LEVELS, PENDING)
SORTS = {"recent": "last_at desc", "oldest": "last_at asc", "started": "started_at desc", "messages": "user_messages desc"}
YES_NO = ("", "yes", "no")
PER_PAGE = 25
PERIODS = (7, 30, 90, 365)  # the overview's links; any whole number of days in PERIOD_RANGE works
PERIOD_RANGE = (7, 365)


class FilterError(ValueError):
    """A filter value that makes no sense; the message says which and why."""


@dataclass(frozen=True)
class Filters:
    """What the conversation list shows."""

    date_from: Optional[date] = None
    date_to: Optional[date] = None
    topic: str = ""
    referral: str = ""
    channel: str = ""
    fallback: str = ""  # yes: the assistant failed the parent on some turn (bot.review.signals); no: never
    reason: str = ""  # one of bot.review.signals.REASONS: misunderstood for that reason
    person: str = ""  # yes: asked for a person
    tag: str = ""
    reviewed: str = ""  # yes | no
    q: str = ""
    sort: str = "recent"
    page: int = 1

    def query(self, **changes: Any) -> str:
        """The query string for these filters (with changes), without defaults."""
        values = asdict(replace(self, **changes))
        defaults = asdict(Filters())
        return urlencode({k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v != defaults[k]})

    def bounds(self) -> Dict[str, Optional[float]]:
        """date_from / date_to as UTC timestamps (date_to inclusive)."""
        start = (
            datetime(self.date_from.year, self.date_from.month, self.date_from.day, tzinfo=timezone.utc).timestamp()
            if self.date_from
            else None
        )
        end = (
            datetime(self.date_to.year, self.date_to.month, self.date_to.day, tzinfo=timezone.utc).timestamp() + 86400
            if self.date_to
            else None
        )
        return {"start": start, "end": end}


def _date(args: Mapping[str, str], name: str, label: str) -> Optional[date]:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{label} must be a date like 2026-11-21, not “{value[:40]}”.") from None


def _choice(args: Mapping[str, str], name: str, allowed: Tuple[str, ...], label: str) -> str:
    value = (args.get(name) or "").strip()
    if value not in allowed:
        raise FilterError(f"{label} must be one of {', '.join(a for a in allowed if a)}, not “{value[:40]}”.")
    return value


def _word(args: Mapping[str, str], name: str, label: str) -> str:
    value = (args.get(name) or "").strip()
    if value and not re.fullmatch(r"[\w .:-]{1,64}", value):
        raise FilterError(f"{label} “{value[:40]}” is not a valid name.")
    return value


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from query arguments; FilterError names the first bad one."""
    page_text = (args.get("page") or "1").strip()
    if not page_text.isdigit() or not 1 <= int(page_text) <= 100_000:
        raise FilterError(f"Page must be a whole number from 1, not “{page_text[:20]}”.")
    filters = Filters(
        date_from=_date(args, "date_from", "From"),
        date_to=_date(args, "date_to", "To"),
        topic=_word(args, "topic", "Topic"),
        referral=_choice(args, "referral", ("",) + REFERRALS, "Referral"),
        channel=_word(args, "channel", "Channel"),
        fallback=_choice(args, "fallback", YES_NO, "Misunderstood"),
        reason=_choice(args, "reason", ("",) + REASONS, "Why misunderstood"),
        person=_choice(args, "person", YES_NO, "Asked for a person"),
        tag=_word(args, "tag", "Tag"),
        reviewed=_choice(args, "reviewed", YES_NO, "Reviewed"),
        q=clean_text((args.get("q") or "").strip(), 200) or "",  # no NUL or lone surrogate reaches the database
        sort=_choice({"sort": args.get("sort") or "recent"}, "sort", tuple(SORTS), "Sort"),
        page=int(page_text),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise FilterError("“From” is after “To”: swap the dates.")
    return filters


def parse_period(text: Optional[str]) -> int:
    """The overview's period in days (30 when not given); FilterError when it is not a whole number in PERIOD_RANGE."""
    text = "30" if text is None else text
    low, high = PERIOD_RANGE
    if not (text.isascii() and text.isdigit()) or len(text) > 3 or not low <= int(text) <= high:
        raise FilterError(f"Choose a whole number of days from {low} to {high}, like {', '.join(map(str, PERIODS))}.")
    return int(text)
