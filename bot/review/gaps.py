"""Gaps: the parent messages the assistant could not handle in a period, grouped by similarity, and their export.

Which messages count is bot.review.signals' decision, and the conversation summaries (bot.review.index) already
mark the conversations that hold one (`misunderstood`); how the messages group is bot.review.grouping's. The work
is bounded whatever the database holds: the events of at most the MAX_CONVERSATIONS most recent marked
conversations of the period (bot.review.insight_filters) are read, in batches, until MAX_MESSAGES flagged messages
are found.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Collection, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.review.grouping import MAX_TEXTS, group_texts, normalise
from bot.review.insight_filters import InsightFilters
from bot.review.models import conversations, events, events_table_exists
from bot.review.reading import clean_text, clean_timestamp
from bot.review.signals import REASON_LABELS, misunderstood_turns
from bot.review.work import nlu_yaml

logger = logging.getLogger(__name__)

MAX_CONVERSATIONS = 1000  # the most recent misunderstood conversations of the period that are read
MAX_MESSAGES = 2000  # flagged messages grouped (at most MAX_TEXTS distinct ones)
MAX_SHOWN = 300  # characters of a message kept, compared and exported
EXAMPLES = 3  # distinct example texts shown per group
SHOWN_GROUPS = 100  # the largest groups listed on the page
BATCH = 250  # conversations read per query
NO_ANNOTATION = str.maketrans("[]", "()")  # what Rasa reads as an entity annotation in an example
INTENT = re.compile(r"[a-z][a-z0-9_]{0,63}")  # an intent name as this assistant writes them (verb_object)


@dataclass(frozen=True)
class GapMessage:
    """One message the assistant could not handle: its `events` row, conversation, text, time and first reason."""

    event_id: int
    sender_id: str
    text: str
    at: Optional[float]
    reason: str


@dataclass(frozen=True)
class GapGroup:
    """Similar messages; `key` names the group by its most frequent text (stable while that text leads it)."""

    key: str
    messages: Tuple[GapMessage, ...]  # by text, the most frequent text first; each text's most recent first

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def conversations(self) -> int:
        return len({m.sender_id for m in self.messages})

    @property
    def examples(self) -> List[GapMessage]:
        """Up to EXAMPLES messages with different texts (the most recent of each), the most frequent text first."""
        seen: Dict[str, GapMessage] = {}
        for message in self.messages:
            seen.setdefault(normalise(message.text), message)
        return list(seen.values())[:EXAMPLES]

    @property
    def first_seen(self) -> Optional[float]:
        return min((m.at for m in self.messages if m.at is not None), default=None)

    @property
    def last_seen(self) -> Optional[float]:
        return max((m.at for m in self.messages if m.at is not None), default=None)

    @property
    def reasons(self) -> List[Tuple[str, int]]:
        """Each reason's label and how many of the messages it flagged, the most frequent first."""
        counts = Counter(m.reason for m in self.messages)
        return [
            (REASON_LABELS.get(reason, reason), count) for reason, count in sorted(counts.items(), key=lambda r: (-r[1], r[0]))
        ]


@dataclass(frozen=True)
class Gaps:
    """The groups of a period, largest first, and how much was read to find them."""

    groups: List[GapGroup]
    messages: int
    conversations_read: int
    conversations_in_period: int  # those in which the assistant failed the parent
    messages_capped: bool  # MAX_MESSAGES was reached before every conversation read was searched


def _period(filters: InsightFilters, now: Optional[float]) -> List[Any]:
    """The period's conversations in which the assistant failed the parent (the summary's `misunderstood`)."""
    c = conversations.c
    where = [c.last_at >= filters.start(now), c.misunderstood.is_(True)]
    return where + ([c.channel == filters.channel] if filters.channel else [])


def _recent_conversations(connection: Connection, filters: InsightFilters, now: Optional[float]) -> Tuple[List[str], int]:
    """The ids of the period's most recent misunderstood conversations (at most MAX_CONVERSATIONS), and how many
    it has."""
    where = _period(filters, now)
    total = connection.execute(sa.select(sa.func.count()).select_from(conversations).where(*where)).scalar() or 0
    query = (
        sa.select(conversations.c.sender_id)
        .where(*where)
        .order_by(conversations.c.last_at.desc(), conversations.c.sender_id)
        .limit(MAX_CONVERSATIONS)
    )
    return [sender_id for (sender_id,) in connection.execute(query)], total


def _event(data: Any) -> Optional[Dict[str, Any]]:
    """A stored event's dict as Rasa wrote it, or None when `data` is not an event object."""
    try:
        event = json.loads(data) if isinstance(data, (str, bytes)) else None
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def _conversation_events(connection: Connection, sender_ids: Sequence[str]) -> Dict[str, List[Tuple[int, Dict[str, Any]]]]:
    """Each conversation's readable events, oldest first, with their row ids (one query, ordered by id only)."""
    query = sa.select(events.c.sender_id, events.c.id, events.c.data).where(events.c.sender_id.in_(sender_ids))
    found: Dict[str, List[Tuple[int, Dict[str, Any]]]] = {}
    for sender_id, event_id, data in connection.execute(query.order_by(events.c.id)):
        event = _event(data)
        if event is not None:
            found.setdefault(sender_id, []).append((event_id, event))
    return found


def flagged_messages(sender_id: str, stored: Sequence[Tuple[int, Dict[str, Any]]], start: float) -> List[GapMessage]:
    """The conversation's messages since start that bot.review.signals flags (each once, with its first reason)."""
    try:
        flags = misunderstood_turns([event for _, event in stored])
    except Exception as error:  # noqa: BLE001 - one conversation must never stop the page
        logger.error("gaps: skipped a conversation whose events could not be read (%s)", type(error).__name__)
        return []
    user_rows = [event_id for event_id, event in stored if event.get("event") == "user"]
    found: Dict[int, GapMessage] = {}
    for flag in flags:
        text = clean_text(" ".join((flag.text or "").split()), MAX_SHOWN)
        at = clean_timestamp(flag.timestamp)
        if not text or not 0 <= flag.turn < len(user_rows) or (at is not None and at < start):
            continue
        event_id = user_rows[flag.turn]
        found.setdefault(event_id, GapMessage(event_id, sender_id, text, at, flag.reason))
    return list(found.values())


def read_gap_messages(engine: Engine, filters: InsightFilters, now: Optional[float] = None) -> Tuple[List[GapMessage], int, int]:
    """The flagged messages of the period's most recent conversations (at most MAX_MESSAGES), how many
    conversations were read and how many the period holds."""
    if not events_table_exists(engine):
        return [], 0, 0
    start = filters.start(now)
    messages: List[GapMessage] = []
    with engine.connect() as connection:
        sender_ids, total = _recent_conversations(connection, filters, now)
        read = 0
        for first in range(0, len(sender_ids), BATCH):
            batch = sender_ids[first : first + BATCH]
            stored = _conversation_events(connection, batch)
            for sender_id in batch:  # the most recent conversation first
                messages += flagged_messages(sender_id, stored.get(sender_id, []), start)
            read += len(batch)
            if len(messages) >= MAX_MESSAGES:
                break
    return messages[:MAX_MESSAGES], read, total


def group_messages(messages: Sequence[GapMessage]) -> List[GapGroup]:
    """The messages in groups of similar texts: the largest group first, then the most recent, then by key."""
    by_text: Dict[str, List[GapMessage]] = {}
    for message in messages:
        by_text.setdefault(normalise(message.text), []).append(message)
    texts = sorted(by_text, key=lambda text: (-len(by_text[text]), text))[:MAX_TEXTS]
    groups = []
    for members in group_texts(texts):
        ordered = [
            message for index in members for message in sorted(by_text[texts[index]], key=lambda m: (-(m.at or 0.0), m.event_id))
        ]
        key = hashlib.sha256(texts[members[0]].encode("utf-8")).hexdigest()[:12]
        groups.append(GapGroup(key, tuple(ordered)))
    return sorted(groups, key=lambda g: (-g.count, -(g.last_seen or 0.0), g.key))


def find_gaps(engine: Engine, filters: InsightFilters, now: Optional[float] = None) -> Gaps:
    """The period's gaps, grouped (see the module's docstring for the bounds)."""
    messages, read, total = read_gap_messages(engine, filters, now)
    return Gaps(group_messages(messages), len(messages), read, total, len(messages) >= MAX_MESSAGES)


def chosen_texts(groups: Sequence[GapGroup], keys: Collection[str], event_ids: Collection[int]) -> List[str]:
    """The distinct texts of the chosen groups (all their messages) and chosen messages, in the page's order."""
    texts: List[str] = []
    for group in groups:
        for message in group.messages:
            if (group.key in keys or message.event_id in event_ids) and message.text not in texts:
                texts.append(message.text)
    return texts


def gaps_yaml(intent: str, texts: Sequence[str]) -> str:
    """The texts as examples of intent, as Rasa NLU training data (YAML, format 3.1), like the corrections export.

    Square brackets become round ones: Rasa would read `[words](name)` in an example as an entity annotation.
    """
    if not INTENT.fullmatch(intent):
        raise ValueError(f"not an intent name: {intent[:64]!r}")
    examples = list(dict.fromkeys(text.translate(NO_ANNOTATION) for text in texts))
    return nlu_yaml({intent: examples}, f"Messages the assistant could not handle, as examples of {intent}")
