"""At scale: two Rasa replicas sharing a PostgreSQL tracker store and a Redis lock store.

Uses the real servers at 127.0.0.1:5432 (database `test`, user root, trust auth) and 127.0.0.1:6379, reached
through forwarders the tests can cut (tests/proxy.py), so "PostgreSQL is down" and "Redis is down" are real
outages for the replicas without stopping servers other tests share.
Skipped with a reason only when they are unreachable and CI is not set; with CI=true they must run.
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional

import httpx
import pytest

from tests.databases import require
from tests.proxy import CuttableProxy
from tests.servers import TOKEN, Chat, Services


@pytest.fixture(scope="module")
def database(scale_database: Optional[str]) -> str:
    """The replicas' fresh PostgreSQL database (conftest), dropped after the session."""
    require("PostgreSQL", "Redis")
    assert scale_database
    return scale_database


@pytest.fixture(scope="module")
def replicas(database: str, replica_stack: Services) -> Services:
    """The session's two replicas (conftest) on that database, reached through the `outages` forwarders."""
    return replica_stack.ensure_running()


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
    assert "call your local emergency number now" in parent.says("she's having a seizure")
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


def say_to(replicas: Services, replica: int, sender: str, text: str) -> str:
    """One message to one replica (an outage keeps a conversation on the replica that holds it)."""
    url = f"http://127.0.0.1:{replicas.rasa_ports[replica]}/webhooks/rest/webhook"
    response = httpx.post(url, params={"token": TOKEN}, json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.status_code
    replies = response.json()
    assert replies, f"no reply to {text!r}"
    return "\n".join(r.get("text", "") for r in replies)


def stored_texts(database: str, sender: str) -> List[str]:
    import psycopg2

    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id", (sender,))
        return [json.loads(row[0])["text"] for row in cursor.fetchall()]


def test_redis_down_gets_a_clear_reply_and_loses_nothing(
    replicas: Services, database: str, outages: Dict[str, CuttableProxy]
) -> None:
    sender = "parent-redis-outage"
    say_to(replicas, 0, sender, "my 19 month old isn't walking yet")
    outages["redis"].cut()
    try:
        for text in ("no, born on time", "my baby is having a seizure"):
            reply = say_to(replicas, 1, sender, text)
            assert "emergency number" in reply and "try again" in reply.lower()
    finally:
        outages["redis"].restore()
    assert "stand" in say_to(replicas, 1, sender, "no, born on time").lower()  # carries on where it was
    assert stored_texts(database, sender) == ["my 19 month old isn't walking yet", "no, born on time"]


def test_postgres_down_keeps_the_conversation_and_writes_it_once_back(
    replicas: Services, database: str, outages: Dict[str, CuttableProxy]
) -> None:
    sender = "parent-postgres-outage"
    said = ["my 19 month old isn't walking yet"]
    say_to(replicas, 0, sender, said[0])
    outages["postgres"].cut()
    try:
        for text in ("no, born on time", "yes", "about 10 secs"):
            reply = say_to(replicas, 0, sender, text)  # the replica that holds the conversation carries on
            said.append(text)
            assert "technical" not in reply.lower()
        assert "call your local emergency number now" in say_to(replicas, 0, sender, "she's having a seizure")
        said.append("she's having a seizure")
    finally:
        outages["postgres"].restore()
    said.append("thanks")
    say_to(replicas, 0, sender, "thanks")  # the first write after the outage writes the kept turns first
    assert stored_texts(database, sender) == said
    slots = httpx.get(f"{replicas.rasa_url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30).json()["slots"]
    assert slots["referral"] == "urgent" and slots["topic"] == "late_walking"
