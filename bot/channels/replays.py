"""Refuse replayed webhooks across restarts and replicas: handled request ids live in the database.

Telegram's `update_id` and Twilio's `MessageSid` are unique per request; storing them in the tracker
store's database (table `channel_requests`) means a captured request sent again later is refused even
after a restart, or when it reaches another Rasa replica. The same table keeps revoked web-chat sessions
(platform `webchat_revoked`), so a revocation holds on every replica.
"""

from __future__ import annotations

import time
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

KEEP_DAYS = 365  # ids older than this are pruned; Twilio signatures never expire, so keep them long
metadata = sa.MetaData()
requests = sa.Table(
    "channel_requests",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("received_at", sa.Float, nullable=False, index=True),
)


class ReplayGuard:
    """Records each request id once; a second time means a replay."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = sa.create_engine(url, pool_pre_ping=True, future=True)
        metadata.create_all(self.engine, checkfirst=True)
        self._inserts = 0

    def first_time(self, platform: str, request_id: str) -> bool:
        """Record (platform, request_id); False when it was recorded before."""
        now = time.time()
        try:
            with self.engine.begin() as connection:
                connection.execute(requests.insert().values(platform=platform, request_id=request_id[:64], received_at=now))
        except IntegrityError:
            return False
        self._inserts += 1
        if self._inserts % 1000 == 0:
            with self.engine.begin() as connection:
                connection.execute(requests.delete().where(requests.c.received_at < now - KEEP_DAYS * 86400))
        return True

    def recorded(self, platform: str, request_id: str) -> bool:
        """Whether (platform, request_id) was recorded."""
        return recorded(self.engine, platform, request_id)

    def forget(self, platform: str, request_id: str) -> None:
        """Drop a recorded id (its processing failed, so a redelivery must be accepted)."""
        with self.engine.begin() as connection:
            connection.execute(requests.delete().where(requests.c.platform == platform, requests.c.request_id == request_id[:64]))


def recorded(engine: Engine, platform: str, request_id: str) -> bool:
    """Whether (platform, request_id) is in the table."""
    query = sa.select(requests.c.request_id).where(requests.c.platform == platform, requests.c.request_id == request_id[:64])
    with engine.connect() as connection:
        return connection.execute(query).first() is not None


def record_all(engine: Engine, platform: str, request_ids: Iterable[str]) -> None:
    """Record each id (creating the table when missing); ids recorded before are left as they are."""
    metadata.create_all(engine, checkfirst=True)
    now = time.time()
    for request_id in request_ids:
        try:
            with engine.begin() as connection:
                connection.execute(requests.insert().values(platform=platform, request_id=request_id[:64], received_at=now))
        except IntegrityError:
            pass
