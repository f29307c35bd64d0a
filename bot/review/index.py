"""Keep `review_conversations` in step with Rasa's `events`, incrementally.

Each sync reads the event rows after a watermark, plus a short window before it: on PostgreSQL, two
Rasa replicas can commit their rows out of id order, so a row may appear below the watermark a moment
later. A row is folded into its conversation only if its id is above the conversation's own
`last_event_id` (one conversation's rows are written in one transaction, under Rasa's lock), so
re-reading the window never counts a row twice.

Whether the assistant failed the parent depends on the whole conversation (a re-asked question, a topic switch
undone two messages later), so each conversation a sync changes has its flags recomputed from all its events
(bot.review.signals). Summaries written by an older SUMMARY_VERSION are recomputed from the first event, keeping
the reviewers' marks.

A row whose `data` is malformed is folded in as far as it can be read (bot.review.reading) and logged
by row id and reason, never by content; the watermark always moves past it.
"""

from __future__ import annotations

import logging
import threading
from typing import AbstractSet, Any, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.review.models import conversations, events, events_table_exists, index_state, summary_version
from bot.review.signals import misunderstood_turns
from bot.review.summary import fold_event, new_summary, read_row, storable, with_flags

logger = logging.getLogger(__name__)

BATCH = 5000
RESCAN = 200  # ids re-read below the watermark, for rows committed late
SENDERS_PER_QUERY = 500
# 2: `misunderstood` means the assistant failed the parent (bot.review.signals), not a fallback or unsure intent.
SUMMARY_VERSION = 2
_lock = threading.Lock()  # one sync at a time per process


def _load(connection: Connection, sender_ids: AbstractSet[str]) -> Dict[str, Dict[str, Any]]:
    rows = connection.execute(sa.select(conversations).where(conversations.c.sender_id.in_(sender_ids)))
    return {row.sender_id: dict(row._mapping) for row in rows}


def _watermark(connection: Connection) -> int:
    state = connection.execute(sa.select(index_state.c.last_event_id).where(index_state.c.id == 1)).scalar()
    if state is None:
        connection.execute(index_state.insert().values(id=1, last_event_id=0))
        return 0
    return int(state)


def _check_version(connection: Connection) -> None:
    """Summaries of an older version start again from the first event (kept rows: reviewers' marks stay)."""
    stored = connection.execute(sa.select(summary_version.c.version).where(summary_version.c.id == 1)).scalar()
    if stored is not None and stored >= SUMMARY_VERSION:
        return
    connection.execute(conversations.update().values(last_event_id=0))  # 0: rebuild from new_summary
    connection.execute(index_state.update().where(index_state.c.id == 1).values(last_event_id=0))
    if stored is None:
        connection.execute(summary_version.insert().values(id=1, version=SUMMARY_VERSION))
    else:
        connection.execute(summary_version.update().where(summary_version.c.id == 1).values(version=SUMMARY_VERSION))
    logger.info("review index: summaries of version %s are recomputed as version %s", stored, SUMMARY_VERSION)


def _known(row: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """A stored summary to fold into; None when there is none or it waits to be rebuilt (last_event_id 0)."""
    return row if row and row.get("last_event_id") else None


def _flag(connection: Connection, changed: Dict[str, Dict[str, Any]], topics: Optional[AbstractSet[str]]) -> None:
    """Recompute whether and why each changed conversation was misunderstood, from all its events."""
    senders = list(changed)
    for start in range(0, len(senders), SENDERS_PER_QUERY):
        chunk = senders[start : start + SENDERS_PER_QUERY]
        query = (
            sa.select(events.c.sender_id, events.c.type_name, events.c.data)
            .where(events.c.sender_id.in_(chunk))
            .order_by(events.c.id)
        )
        by_sender: Dict[str, List[Dict[str, Any]]] = {sender: [] for sender in chunk}
        for sender_id, type_name, data in connection.execute(query):
            by_sender[sender_id].append({"type_name": type_name, "data": data})
        for sender_id, rows in by_sender.items():
            _set_flags(changed[sender_id], rows, topics)


def _set_flags(summary: Dict[str, Any], rows: Iterable[Dict[str, Any]], topics: Optional[AbstractSet[str]]) -> None:
    try:
        with_flags(summary, misunderstood_turns([read_row(row, topics) for row in rows]))
    except Exception as error:  # noqa: BLE001 - one odd conversation must never stop the dashboard
        logger.error("review index: no misunderstood signals for a conversation (%s)", type(error).__name__)


def _fold_row(
    changed: Dict[str, Dict[str, Any]], known: Dict[str, Dict[str, Any]], row: Dict[str, Any], topics: Optional[AbstractSet[str]]
) -> None:
    """Fold one `events` row into its conversation's summary in changed; a row that cannot be read is logged."""
    sender_id = row["sender_id"]
    if not isinstance(sender_id, str) or not sender_id:
        logger.warning("review index: skipped event row %s: its conversation id is not text", row["id"])
        return
    try:
        event = read_row(row, topics)
        if event["problems"]:
            logger.warning("review index: event row %s read in part; dropped: %s", row["id"], ", ".join(event["problems"]))
        summary = changed.get(sender_id) or _known(known.get(sender_id)) or new_summary(sender_id, None)
        changed[sender_id] = fold_event(summary, row["id"], event, row["timestamp"])
    except Exception as error:  # noqa: BLE001 - one bad row must never stop the dashboard
        logger.error("review index: skipped event row %s (%s)", row["id"], type(error).__name__)


def sync(engine: Engine, topics: Optional[AbstractSet[str]] = None) -> int:
    """Fold events not yet in the summaries into them; return how many events were folded in.

    topics: the known topic ids (from the knowledge base), or None to accept any well-formed one.
    """
    if not events_table_exists(engine):
        return 0
    folded = 0
    with _lock:
        with engine.begin() as connection:
            _check_version(connection)
        while True:
            with engine.begin() as connection:
                state = _watermark(connection)
                ids = connection.execute(
                    sa.select(events.c.id, events.c.sender_id)
                    .where(events.c.id > max(0, state - RESCAN))
                    .order_by(events.c.id)
                    .limit(BATCH)
                ).fetchall()
                known = _load(connection, {sender for _, sender in ids})
                needed = [i for i, sender in ids if i > (known.get(sender) or {}).get("last_event_id", 0)]
                rows = (
                    [
                        dict(r._mapping)
                        for r in connection.execute(sa.select(events).where(events.c.id.in_(needed)).order_by(events.c.id))
                    ]
                    if needed
                    else []
                )
                changed: Dict[str, Dict[str, Any]] = {}
                for row in rows:
                    _fold_row(changed, known, row, topics)
                _flag(connection, changed, topics)
                for sender_id, summary in changed.items():
                    summary = storable(summary)
                    if sender_id in known:
                        values = {k: v for k, v in summary.items() if k not in ("sender_id", "reviewed_by", "reviewed_at")}
                        connection.execute(conversations.update().where(conversations.c.sender_id == sender_id).values(**values))
                    else:
                        connection.execute(conversations.insert().values(**summary))
                if ids and ids[-1][0] > state:
                    connection.execute(index_state.update().where(index_state.c.id == 1).values(last_event_id=ids[-1][0]))
                folded += len(rows)
            if len(ids) < BATCH:
                return folded
