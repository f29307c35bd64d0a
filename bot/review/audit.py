"""The audit log: who viewed, exported, erased or changed what, and when."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

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


def recent(engine: Engine, limit: int = 200) -> List[Dict[str, Any]]:
    """The newest entries first."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]
