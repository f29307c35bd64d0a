"""The parents' "Was this helpful?" feedback: read from the stored slot events, and summed up by topic and week.

Feedback is stored with the conversation as SlotSet events of the slot `feedback` (the issue 16 contract): a vote
{"kind": "vote", "helpful": true|false, "subject", "referral", "part"} or a comment {"kind": "comment", "text",
...}. The page reads at most MAX_ROWS of them, the most recent of the period first, with one query on Rasa's
`events` table; every value is checked before use, so no stored event can break the page.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.contract import FEEDBACK_SLOT, MILESTONE_PREFIX
from bot.knowledge.store import KnowledgeBase
from bot.review.exports import csv_safe
from bot.review.insight_filters import InsightFilters
from bot.review.models import conversations, events, events_table_exists
from bot.review.reading import FEEDBACK_KINDS, FEEDBACK_PARTS, clean_feedback, clean_timestamp

VOTE, COMMENT = FEEDBACK_KINDS
MAX_ROWS = 20_000  # feedback events read per page, the most recent of the period first
CSV_COLUMNS = ("at_utc", "sender_id", "kind", "helpful", "subject", "referral", "part", "text")
MAX_COMMENTS = 200  # "what was missing" comments listed


@dataclass(frozen=True)
class Feedback:
    """One stored vote or comment."""

    event_id: int
    sender_id: str
    at: float
    kind: str  # VOTE or COMMENT
    helpful: Optional[bool]  # votes only
    subject: Optional[str]  # a topic id, MILESTONE_PREFIX + a milestone id, or None
    referral: Optional[str]
    part: Optional[str]
    text: Optional[str]  # comments only


@dataclass
class Tally:
    """Votes counted under one heading (a topic, a week, a part of the advice)."""

    votes: int = 0
    helpful: int = 0

    @property
    def unhelpful(self) -> int:
        return self.votes - self.helpful

    @property
    def rate(self) -> Optional[float]:
        """The share of helpful votes, None without votes."""
        return self.helpful / self.votes if self.votes else None

    def add(self, helpful: bool) -> None:
        self.votes += 1
        self.helpful += helpful


@dataclass
class FeedbackSummary:
    """What the feedback page shows."""

    total: Tally = field(default_factory=Tally)
    by_subject: List[Tuple[Optional[str], Tally]] = field(default_factory=list)  # most votes first
    by_week: List[Tuple[date, Tally]] = field(default_factory=list)  # each week of the period (from its Monday)
    by_part: List[Tuple[str, Tally]] = field(default_factory=list)
    comments: List[Feedback] = field(default_factory=list)  # the most recent first
    comment_count: int = 0
    read: int = 0  # feedback events read
    capped: bool = False  # MAX_ROWS were read: older feedback of the period is not counted


def read_feedback(event_id: int, sender_id: str, timestamp: Any, data: Any) -> Optional[Feedback]:
    """The vote or comment stored in one `events` row, or None when the row holds no usable one."""
    try:
        event = json.loads(data) if isinstance(data, (str, bytes)) else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or event.get("event") != "slot" or event.get("name") != FEEDBACK_SLOT:
        return None
    value = clean_feedback(event.get("value"))
    at = clean_timestamp(timestamp)
    at = clean_timestamp(event.get("timestamp")) if at is None else at
    if value is None or at is None:
        return None
    return Feedback(event_id=event_id, sender_id=sender_id, at=at, **value)


def stored_feedback(engine: Engine, filters: InsightFilters, now: Optional[float] = None) -> Tuple[List[Feedback], bool]:
    """The period's feedback (of the filters' channel), the most recent first, and whether MAX_ROWS cut it short."""
    if not events_table_exists(engine):
        return [], False
    e = events.c
    query = sa.select(e.id, e.sender_id, e.timestamp, e.data).where(
        e.type_name == "slot", e.action_name == FEEDBACK_SLOT, e.timestamp >= filters.start(now)
    )
    if filters.channel:
        query = query.join(conversations, conversations.c.sender_id == e.sender_id).where(
            conversations.c.channel == filters.channel
        )
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(e.id.desc()).limit(MAX_ROWS + 1)).fetchall()
    found = [read_feedback(*row) for row in rows[:MAX_ROWS]]
    return [item for item in found if item is not None], len(rows) > MAX_ROWS


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, timezone.utc).date()


def selected(items: Iterable[Feedback], filters: InsightFilters) -> List[Feedback]:
    """The votes and comments the filters' topic and answers choose (comments follow "not helpful" votes only)."""
    wanted = {"helpful": True, "unhelpful": False}.get(filters.answer)

    def chosen(item: Feedback) -> bool:
        if filters.topic and item.subject != filters.topic:
            return False
        return (wanted is None or item.helpful is wanted) if item.kind == VOTE else wanted is not True

    return [item for item in items if chosen(item)]


def summarise(items: List[Feedback], filters: InsightFilters, now: Optional[float] = None) -> FeedbackSummary:
    """Helpful rates by topic, week and part of the advice, and the comments, for the filters' topic and answers."""
    chosen = selected(items, filters)
    votes = [item for item in chosen if item.kind == VOTE]
    summary = FeedbackSummary(read=len(items))
    subjects: Dict[Optional[str], Tally] = {}
    first_week = _monday(filters.first_day(now))
    weeks = {first_week + timedelta(weeks=i): Tally() for i in range(filters.days // 7 + 2)}
    parts: Dict[str, Tally] = {}
    for vote in votes:
        helpful = bool(vote.helpful)
        summary.total.add(helpful)
        subjects.setdefault(vote.subject, Tally()).add(helpful)
        weeks.setdefault(_monday(_day(vote.at)), Tally()).add(helpful)
        if vote.part:
            parts.setdefault(vote.part, Tally()).add(helpful)
    last_week = _monday(_day(now if now is not None else datetime.now(timezone.utc).timestamp()))
    summary.by_subject = sorted(subjects.items(), key=lambda s: (-s[1].votes, s[0] or ""))
    summary.by_week = sorted((week, tally) for week, tally in weeks.items() if first_week <= week <= last_week)
    summary.by_part = sorted(parts.items(), key=lambda p: FEEDBACK_PARTS.index(p[0]))
    comments = [item for item in chosen if item.kind == COMMENT]
    summary.comment_count = len(comments)
    summary.comments = sorted(comments, key=lambda c: (-c.at, -c.event_id))[:MAX_COMMENTS]
    return summary


def csv_document(items: Iterable[Feedback]) -> Tuple[str, int]:
    """Votes and comments as CSV text with a header (ids, not titles; no cell a spreadsheet would run), and how many."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for item in items:
        at = datetime.fromtimestamp(item.at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        helpful = "" if item.helpful is None else ("yes" if item.helpful else "no")
        cells = (at, item.sender_id, item.kind, helpful, item.subject, item.referral, item.part, item.text)
        writer.writerow([csv_safe(cell) for cell in cells])
        count += 1
    return out.getvalue(), count


def subject_titles(kb: Optional[KnowledgeBase], subjects: Iterable[Optional[str]]) -> Dict[str, str]:
    """The knowledge base's title of each subject it knows: a topic's title, a milestone's name."""
    titles: Dict[str, str] = {}
    for subject in subjects:
        if kb is None or not subject:
            continue
        if subject.startswith(MILESTONE_PREFIX):
            milestone = kb.milestones.get(subject[len(MILESTONE_PREFIX) :]) if kb.milestones else None
            if milestone:
                titles[subject] = milestone.name
        elif subject in kb.topics:
            titles[subject] = kb.topics[subject].title
    return titles
