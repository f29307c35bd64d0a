"""The real PostgreSQL and Redis at 127.0.0.1 for tests: reachability, and throwaway databases.

Tests that need them skip with a reason only when they are unreachable and CI is not set; under
CI=true they fail instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest

PG_HOST, PG_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379


def reachable(port: int) -> bool:
    try:
        with socket.create_connection((PG_HOST, port), timeout=2):
            return True
    except OSError:
        return False


def require(*services: str) -> None:
    """Skip (outside CI) or fail (in CI) unless the named services answer: "PostgreSQL", "Redis"."""
    ports = {"PostgreSQL": PG_PORT, "Redis": REDIS_PORT}
    missing = [name for name in services if not reachable(ports[name])]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"{' and '.join(missing)} not reachable on {PG_HOST}; CI runs this test")
    assert not missing, f"{missing} must be running for CI"


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database (URL), dropped afterwards (skips, or fails under CI, when PostgreSQL is down)."""
    require("PostgreSQL")
    with fresh_postgres_database(prefix) as url:
        yield url


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A fresh database in the local PostgreSQL (user root, trust), dropped afterwards; yields its URL."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="root", dbname="test")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://root@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
