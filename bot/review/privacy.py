"""Erasure on request and the retention period: conversations deleted completely, with an audit entry.

The audit log keeps who erased when and why, under an alias (`erased-` and random hex): the erased
conversation's id is replaced by that alias in every earlier entry too (bot.review.audit.forget).
An erased web-chat conversation's session token is revoked (by a hash of its id), so the browser that held
it starts a new conversation instead of reopening an empty one under the old id.
"""

from __future__ import annotations

import secrets
import time
from typing import List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.channels.replays import record_all
from bot.channels.webchat import REVOKED, is_session_id, revocation_key
from bot.review import audit
from bot.review.models import conversations, corrections, events, events_table_exists, notes, tags

OWN_TABLES = (tags, notes, corrections, conversations)


def erase(engine: Engine, sender_ids: List[str], username: Optional[str], reason: str) -> int:
    """Delete these conversations everywhere (Rasa's events and every review table); return the count."""
    if not sender_ids:
        return 0
    record_all(engine, REVOKED, [revocation_key(s) for s in sender_ids if is_session_id(s)])
    has_events = events_table_exists(engine)
    erased = 0
    for start in range(0, len(sender_ids), 500):
        batch = sender_ids[start : start + 500]
        with engine.begin() as connection:
            if has_events:
                erased += (
                    connection.execute(
                        sa.select(sa.func.count(sa.distinct(events.c.sender_id))).where(events.c.sender_id.in_(batch))
                    ).scalar()
                    or 0
                )
                connection.execute(events.delete().where(events.c.sender_id.in_(batch)))
            for table in OWN_TABLES:
                connection.execute(table.delete().where(table.c.sender_id.in_(batch)))
            for sender_id in batch:
                alias = f"erased-{secrets.token_hex(6)}"
                audit.forget(connection, sender_id, alias)
                audit.record(
                    connection, username, "erase", alias, reason.replace(sender_id, alias) if len(sender_id) >= 6 else reason
                )
    return erased


def expired(engine: Engine, days: int, now: Optional[float] = None) -> List[str]:
    """Conversations whose last event is older than `days` days."""
    if not events_table_exists(engine):
        return []
    cutoff = (now or time.time()) - days * 86400
    query = sa.select(events.c.sender_id).group_by(events.c.sender_id).having(sa.func.max(events.c.timestamp) < cutoff)
    with engine.connect() as connection:
        return [sender_id for (sender_id,) in connection.execute(query)]


def apply_retention(engine: Engine, days: int, username: Optional[str] = None) -> int:
    """Erase every conversation past the retention period; return how many."""
    return erase(engine, expired(engine, days), username or "retention", f"older than {days} days")
