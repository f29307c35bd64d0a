"""Keep `review_conversations` in step with Rasa's `events`, incrementally (only new event rows)."""

from __future__ import annotations

import threading
from typing import Any, Dict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.review.models import conversations, events, events_table_exists, index_state
from bot.review.summary import apply_event, new_summary

BATCH = 5000
_lock = threading.Lock()  # one sync at a time per process


def _load(connection: Connection, sender_ids: set) -> Dict[str, Dict[str, Any]]:
    rows = connection.execute(sa.select(conversations).where(conversations.c.sender_id.in_(sender_ids)))
    return {row.sender_id: dict(row._mapping) for row in rows}


def sync(engine: Engine) -> int:
    """Fold events newer than the last sync into the summaries; return how many events were read."""
    if not events_table_exists(engine):
        return 0
    read = 0
    with _lock:
        while True:
            with engine.begin() as connection:
                state = connection.execute(sa.select(index_state.c.last_event_id).where(index_state.c.id == 1)).scalar()
                if state is None:
                    connection.execute(index_state.insert().values(id=1, last_event_id=0))
                    state = 0
                rows = [dict(r._mapping) for r in connection.execute(
                    sa.select(events).where(events.c.id > state).order_by(events.c.id).limit(BATCH)
                )]  # fmt: skip
                if not rows:
                    return read
                known = _load(connection, {r["sender_id"] for r in rows})
                changed: Dict[str, Dict[str, Any]] = {}
                for row in rows:
                    summary = changed.get(row["sender_id"]) or known.get(row["sender_id"])
                    summary = summary or new_summary(row["sender_id"], row["timestamp"] or 0.0)
                    changed[row["sender_id"]] = apply_event(summary, row)
                for sender_id, summary in changed.items():
                    if sender_id in known:
                        values = {k: v for k, v in summary.items() if k not in ("sender_id", "reviewed_by", "reviewed_at")}
                        connection.execute(conversations.update().where(conversations.c.sender_id == sender_id).values(**values))
                    else:
                        connection.execute(conversations.insert().values(**summary))
                connection.execute(index_state.update().where(index_state.c.id == 1).values(last_event_id=rows[-1]["id"]))
                read += len(rows)
