"""The audit log: who viewed, exported, erased or changed what, and when.

Entries about a conversation name it in `target`; an export names its filters in `detail`, which can
include a search for a conversation id (`q=`). When a conversation is erased, `forget` replaces its id
in both by an alias, so the log still shows who did what, but no longer which conversation it was.
"""

from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Optional
from urllib.parse import quote_plus

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.review.models import audit_log


def record(db: Any, username: Optional[str], action: str, target: Optional[str] = None, detail: str = "") -> None:
    """Append one entry (db: an Engine, or a Connection inside a caller's transaction)."""
    statement = audit_log.insert().values(at=time.time(), username=username, action=action, target=target, detail=detail[:2000])
    if isinstance(db, Connection):
        db.execute(statement)
    else:
        with db.begin() as connection:
            connection.execute(statement)


CONVERSATION_ACTIONS = ("view", "tag", "untag", "note", "reviewed", "unreviewed", "correct", "erase")  # target: a conversation id


def forget(connection: Connection, sender_id: str, alias: str) -> int:
    """Replace the conversation id by alias in every entry that holds it; return how many entries changed."""
    searched = "q=" + quote_plus(sender_id)
    search = re.compile(r"(?<![\w%])" + re.escape(searched) + r"(?=&|$)")
    c = audit_log.c
    escaped = searched.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = sa.select(c.id, c.target, c.detail).where(
        sa.or_(
            sa.and_(c.target == sender_id, c.action.in_(CONVERSATION_ACTIONS)),
            sa.and_(c.action.like("export%"), c.detail.like(f"%{escaped}%", escape="\\")),
        )
    )
    changed = 0
    for entry_id, target, detail in connection.execute(query).fetchall():
        values = {"target": alias} if target == sender_id else {}
        if detail and search.search(detail):
            values["detail"] = search.sub("q=" + alias, detail)
        if values:
            connection.execute(audit_log.update().where(c.id == entry_id).values(**values))
            changed += 1
    return changed


def recent(engine: Engine, limit: int = 200) -> List[Dict[str, Any]]:
    """The newest entries first."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]
