"""Read conversations for the dashboard: the filtered list, the overview, one transcript, exports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import AbstractSet, Any, Dict, Iterator, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.contract import PENDING, PROVIDER, URGENT
from bot.review.filters import PER_PAGE, SORTS, Filters
from bot.review.models import conversations, corrections, events, events_table_exists, notes, tags
from bot.review.reading import clean_text, clean_timestamp
from bot.review.signals import REASONS
from bot.review.summary import read_row

MAX_ID = 255  # characters of a conversation id (Rasa's `events.sender_id`)


def _like(text: str) -> str:
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(filters: Filters) -> List[Any]:
    c = conversations.c
    bounds = filters.bounds()
    clauses: List[Any] = []
    if bounds["start"] is not None:
        clauses.append(c.last_at >= bounds["start"])
    if bounds["end"] is not None:
        clauses.append(c.started_at < bounds["end"])
    if filters.topic:
        clauses.append(c.topic == filters.topic)
    if filters.referral == PENDING:
        clauses.append(c.referral.is_(None))
    elif filters.referral:
        clauses.append(c.referral == filters.referral)
    if filters.channel:
        clauses.append(c.channel == filters.channel)
    if filters.fallback:
        clauses.append(c.misunderstood.is_(filters.fallback == "yes"))
    if filters.reason:  # reasons are whole words joined by commas, none part of another
        clauses.append(c.misunderstood_reasons.like(_like(filters.reason), escape="\\"))
    if filters.person:
        clauses.append(c.asked_person.is_(filters.person == "yes"))
    if filters.reviewed:
        clauses.append(c.reviewed_at.isnot(None) if filters.reviewed == "yes" else c.reviewed_at.is_(None))
    if filters.tag:
        clauses.append(c.sender_id.in_(sa.select(tags.c.sender_id).where(tags.c.tag == filters.tag)))
    if filters.q:
        clauses.append(sa.or_(c.search_text.like(_like(filters.q), escape="\\"), c.sender_id == filters.q))
    return clauses


@dataclass
class Page:
    """One page of the conversation list."""

    rows: List[Dict[str, Any]]
    total: int
    page: int
    pages: int


def list_conversations(engine: Engine, filters: Filters, per_page: int = PER_PAGE) -> Page:
    """The conversations matching filters, sorted and paginated, each with its tags."""
    where = _where(filters)
    column, direction = SORTS[filters.sort].split()
    order = getattr(conversations.c, column)
    order = order.desc() if direction == "desc" else order.asc()
    columns = [c for c in conversations.c if c.name != "search_text"]
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(conversations).where(*where)).scalar() or 0
        pages = max(1, -(-total // per_page))
        query = sa.select(*columns).where(*where).order_by(order, conversations.c.sender_id)
        rows = [dict(r._mapping) for r in connection.execute(query.limit(per_page).offset((filters.page - 1) * per_page))]
        ids = [r["sender_id"] for r in rows]
        by_id: Dict[str, List[str]] = {}
        for sender_id, tag in connection.execute(sa.select(tags.c.sender_id, tags.c.tag).where(tags.c.sender_id.in_(ids))):
            by_id.setdefault(sender_id, []).append(tag)
    for row in rows:
        row["tags"] = sorted(by_id.get(row["sender_id"], []))
    return Page(rows=rows, total=total, page=filters.page, pages=pages)


def choices(engine: Engine) -> Dict[str, List[str]]:
    """Values seen so far, for the filter menus: topics, channels, tags."""
    with engine.connect() as connection:

        def distinct(column: Any) -> List[str]:
            query = sa.select(column).where(column.isnot(None)).distinct().order_by(column)
            return [value for (value,) in connection.execute(query)]

        return {
            "topics": distinct(conversations.c.topic),
            "channels": distinct(conversations.c.channel),
            "tags": distinct(tags.c.tag),
        }


def overview(engine: Engine, days: int, now: Optional[float] = None) -> Dict[str, Any]:
    """Counts over the last `days` days: per day, referral shares, the share misunderstood (and why), top topics.

    low_confidence_share is the intent classifier's signal alone (a turn it was unsure of), not a failure."""
    now = now or datetime.now(timezone.utc).timestamp()
    today = datetime.fromtimestamp(now, timezone.utc).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp()
    c = conversations.c
    query = sa.select(
        c.started_at, c.referral, c.misunderstood, c.misunderstood_reasons, c.low_confidence, c.topic, c.asked_person
    ).where(c.started_at >= start)
    per_day: Counter[date] = Counter()
    referrals: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    misunderstood = low_confidence = person = total = 0
    with engine.connect() as connection:
        for started_at, referral, failed, why, low, topic, asked in connection.execute(query):
            started_at = clean_timestamp(started_at)
            if started_at is None:  # NaN or infinity written before values were checked
                continue
            total += 1
            per_day[datetime.fromtimestamp(started_at, timezone.utc).date()] += 1
            referrals[referral or PENDING] += 1
            misunderstood += bool(failed)
            reasons.update(r for r in (why or "").split(",") if r in REASONS)
            low_confidence += bool(low)
            person += bool(asked)
            if topic:
                topics[topic] += 1

    def share(count: int) -> float:
        return (count / total) if total else 0.0

    return {
        "days": [(first + timedelta(days=i), per_day[first + timedelta(days=i)]) for i in range(days)],
        "total": total,
        "provider_share": share(referrals[PROVIDER]),
        "urgent_share": share(referrals[URGENT]),
        "misunderstood_share": share(misunderstood),
        "misunderstood_reasons": [(reason, reasons[reason], share(reasons[reason])) for reason in REASONS if reasons[reason]],
        "low_confidence_share": share(low_confidence),
        "person_share": share(person),
        "referrals": dict(referrals),
        "top_topics": topics.most_common(8),
    }


def possible_id(sender_id: Any) -> bool:
    """Whether sender_id could be a stored conversation id (any database can hold it and compare it)."""
    return isinstance(sender_id, str) and 0 < len(sender_id) <= MAX_ID and clean_text(sender_id, MAX_ID) == sender_id


def conversation(engine: Engine, sender_id: str) -> Optional[Dict[str, Any]]:
    """A conversation's summary, tags, notes and corrections; None when it does not exist."""
    if not possible_id(sender_id):
        return None
    with engine.connect() as connection:
        row = connection.execute(sa.select(conversations).where(conversations.c.sender_id == sender_id)).first()
        if row is None:
            return None
        result = dict(row._mapping)
        result["tags"] = [
            t for (t,) in connection.execute(sa.select(tags.c.tag).where(tags.c.sender_id == sender_id).order_by(tags.c.tag))
        ]
        result["notes"] = [
            dict(n._mapping)
            for n in connection.execute(sa.select(notes).where(notes.c.sender_id == sender_id).order_by(notes.c.id))
        ]
        result["corrections"] = {
            r.event_id: r.intent for r in connection.execute(sa.select(corrections).where(corrections.c.sender_id == sender_id))
        }
    return result


def event_rows(engine: Engine, sender_id: str, topics: Optional[AbstractSet[str]] = None) -> List[Dict[str, Any]]:
    """A conversation's events, oldest first, read defensively (bot.review.reading), with the row id as `event_id`."""
    if not possible_id(sender_id) or not events_table_exists(engine):
        return []
    with engine.connect() as connection:
        query = sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data).where(
            events.c.sender_id == sender_id
        )
        result = []
        for event_id, type_name, timestamp, data in connection.execute(query.order_by(events.c.id)):
            event = read_row({"type_name": type_name, "data": data}, topics)
            event["event_id"] = event_id
            if event["timestamp"] is None:
                event["timestamp"] = clean_timestamp(timestamp)
            result.append(event)
    return result


def export_rows(engine: Engine, filters: Filters, with_messages: bool) -> Iterator[Dict[str, Any]]:
    """Every conversation matching filters (all pages), optionally with its messages."""
    page = 1
    while True:
        batch = list_conversations(engine, Filters(**{**filters.__dict__, "page": page}), per_page=500)
        for row in batch.rows:
            if with_messages:
                row["messages"] = [
                    {"sender": e["event"], "text": e.get("text"), "at": e.get("timestamp")}
                    for e in event_rows(engine, row["sender_id"])
                    if e.get("event") in ("user", "bot")
                ]
            yield row
        if page >= batch.pages:
            return
        page += 1
