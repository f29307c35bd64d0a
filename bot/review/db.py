"""The dashboard's database: the tracker store's, from settings, with the dashboard's tables created."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.review.models import create_tables
from bot.settings import get_settings


def engine_for(url: str) -> Engine:
    """An engine for url with the dashboard's tables in place."""
    engine = sa.create_engine(url, pool_pre_ping=True, future=True)
    create_tables(engine)
    return engine


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The engine for the configured tracker store (created on first use)."""
    return engine_for(get_settings().service_env["TRACKER_DB_URL"])
