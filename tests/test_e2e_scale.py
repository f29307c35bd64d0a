"""At scale: two Rasa replicas sharing a PostgreSQL tracker store and a Redis lock store.

Uses the real servers at 127.0.0.1:5432 (database `test`, user root, trust auth) and 127.0.0.1:6379.
Skipped with a reason only when they are unreachable and CI is not set; with CI=true they must run.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.databases import PG_HOST, REDIS_PORT, postgres_database, require
from tests.servers import MODEL, Chat, Services

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run `make train` (make test does)")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    require("PostgreSQL", "Redis")
    with postgres_database("caregiver_e2e") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    env = {
        "TRACKER_DB_DIALECT": "postgresql",
        "TRACKER_DB_URL": database,
        "LOCK_STORE_TYPE": "redis",
        "LOCK_STORE_HOST": PG_HOST,
        "LOCK_STORE_PORT": str(REDIS_PORT),
    }
    running = Services(tmp_path_factory.mktemp("scale"), env=env, replicas=2)
    try:
        yield running.start()
    finally:
        running.stop()


def test_conversation_alternating_between_replicas(replicas: Services, database: str) -> None:
    parent = Chat(replicas)  # each message goes to the other replica
    parent.says("my 19 month old isn't walking yet")
    parent.says("no, born on time")
    parent.says("yes")
    parent.says("about 10 secs")
    parent.says("yes")
    parent.says("not sure")  # hips examined
    parent.says("no")  # breech
    advice = parent.says("no")  # hip problems in the family
    assert "Sources" in advice
    slots = parent.slots()
    assert slots["topic"] == "late_walking" and slots["referral"] == "provider"

    import psycopg2

    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events WHERE sender_id = %s", (parent.sender,))
        assert cursor.fetchone()[0] > 20  # the whole conversation is in PostgreSQL


def test_red_flag_on_a_replica(replicas: Services) -> None:
    parent = Chat(replicas)
    parent.says("she scoots on her bottom")
    assert "now" in parent.says("she's having a seizure").lower()
    assert parent.slots()["referral"] == "urgent"


def test_identifiers_never_reach_postgresql(replicas: Services, database: str) -> None:
    parent = Chat(replicas)
    parent.says("she scoots on her bottom, reach me on +1 (555) 123-4567 or mum@example.com")
    import psycopg2

    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT string_agg(data, ' ') FROM events WHERE sender_id = %s", (parent.sender,))
        stored = cursor.fetchone()[0]
    assert "[email]" in stored and "[number]" in stored
    assert "mum@example.com" not in stored and "123-4567" not in stored
