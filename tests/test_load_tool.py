"""`make load`'s machinery: counting stored messages against sent ones (SQLite and PostgreSQL), the report's numbers,
and a 3-second, 2-parent run (one REST, one socket.io) against the shared test stack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import pytest
import sqlalchemy as sa

from tests.databases import postgres_database
from tests.tools.benchmark import CONVERSATIONS
from tests.tools.load_clients import REST, SOCKETIO, Sample, Target, run_for
from tests.tools.load_report import Point, point_row
from tests.tools.load_store import Sent, StoreCheck, check_conversation, check_store

# Columns of Rasa 3.6's SQLTrackerStore.SQLEvent (table `events`).
EVENTS = """CREATE TABLE events (
    id {id} PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT,
    intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def sent(*messages: Tuple[str, bool]) -> Sent:
    conversation = Sent()
    for text, ok in messages:
        conversation.add(text, ok)
    return conversation


@pytest.mark.parametrize(
    ("messages", "stored", "expected"),
    [
        ([("hi", True), ("14 months", True)], ["hi", "14 months"], (0, 0, 0)),
        ([("hi", True), ("14 months", True)], ["hi"], (1, 0, 0)),
        ([("hi", True), ("14 months", True)], ["hi", "14 months", "14 months"], (0, 1, 0)),
        ([("hi", True), ("14 months", True)], ["14 months", "hi"], (0, 0, 1)),
        ([("yes", True), ("no", True), ("yes", True)], ["yes", "no", "yes"], (0, 0, 0)),
        ([("yes", True), ("no", True), ("yes", True)], ["yes", "yes", "no"], (0, 0, 1)),
        # a message that failed may or may not be stored: neither lost nor duplicated
        ([("hi", True), ("14 months", False)], ["hi"], (0, 0, 0)),
        ([("hi", True), ("14 months", False)], ["hi", "14 months"], (0, 0, 0)),
        ([("hi", True), ("14 months", False)], ["hi", "14 months", "14 months"], (0, 1, 0)),
    ],
)
def test_a_conversation_is_checked_for_lost_duplicated_and_reordered_messages(
    messages: List[Tuple[str, bool]], stored: List[str], expected: Tuple[int, int, int]
) -> None:
    check = check_conversation(sent(*messages), stored)
    assert (check.lost, check.duplicated, check.reordered) == expected
    assert (check.sent, check.stored) == (len(messages), len(stored))


def fill(url: str, id_type: str, rows: Sequence[Tuple[str, str, str]]) -> None:
    """An events table as Rasa's SQL tracker store writes it, with (sender, type, text) rows in order."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(EVENTS.format(id=id_type)))
        for n, (sender, kind, text) in enumerate(rows):
            data = json.dumps({"event": kind, "timestamp": n, "text": text})
            connection.execute(
                sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :k, :t, :d)"),
                {"s": sender, "k": kind, "t": float(n), "d": data},
            )
    engine.dispose()


ROWS = [
    ("a", "action", ""),
    ("a", "user", "hi"),
    ("b", "user", "my baby crawls backwards"),
    ("a", "bot", "Hello"),
    ("a", "user", "14 months"),
    ("b", "user", "my baby crawls backwards"),  # stored twice
    ("c", "user", "no"),  # before "yes": reordered
    ("c", "user", "yes"),
    ("other", "user", "not one of ours"),
]
SENT = {
    "a": sent(("hi", True), ("14 months", True)),
    "b": sent(("my baby crawls backwards", True), ("10 months", True)),  # the second one is missing
    "c": sent(("yes", True), ("no", True)),
}


def test_the_store_check_reads_a_real_sqlite_events_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    fill(url, "INTEGER", ROWS)
    check = check_store(url, SENT)
    assert check.as_tuple() == StoreCheck(conversations=3, sent=6, stored=6, lost=1, duplicated=1, reordered=1).as_tuple()
    assert [line.split(":")[0] for line in check.flagged] == ["conversation b", "conversation c"]
    assert "stored ['my baby crawls backwards', 'my baby crawls backwards']" in check.flagged[0]


def test_the_store_check_reads_a_real_postgresql_events_table() -> None:
    with postgres_database("load_tool") as url:
        fill(url, "SERIAL", ROWS)
        check = check_store(url, SENT)
        assert check.as_tuple() == (3, 6, 6, 1, 1, 1) and len(check.flagged) == 2


def test_a_point_counts_only_messages_answered_within_its_window_and_takes_percentiles() -> None:
    samples = [Sample(0.0, (n + 1) / 1000, REST) for n in range(99)]  # 1..99 ms
    samples += [Sample(1.0, 1.1, SOCKETIO, "timeout"), Sample(9.5, 10.5, SOCKETIO)]  # an error; one answered late
    point = Point("ours, 1 replica", 2, 10.0, samples, started=0.0, elapsed=10.5, generator_cpu=2.1, server_cpu=5.0)
    assert point.rate() == pytest.approx(9.9)  # 99 answered in 10 s; the late one is left out of the rate
    assert point.latency_ms(50, REST) == pytest.approx(50)
    assert point.latency_ms(95) == pytest.approx(95)
    assert point.latency_ms(100) == pytest.approx(1000)  # the late one still counts for latency
    row = point_row(point)
    assert "| 9.9 |" in row and "1 (timeout: 1)" in row and "50.0" in row  # 5 s of server CPU over 100 answered
    assert "2.1 s (20% of a core)" in row


def test_two_parents_load_the_shared_stack_for_three_seconds(shared_stack: Any) -> None:
    from tests.servers import TOKEN, Chat

    stack = shared_stack
    Chat(stack).says("hi")  # a freshly started Rasa takes seconds over its first message
    target = Target(stack.rasa_url, TOKEN, stack.web_url, [list(c) for c in CONVERSATIONS])
    recorder = asyncio.run(run_for(target, 2, 3.0))
    by_channel: Dict[str, int] = {}
    for sample in recorder.samples:
        by_channel[sample.channel] = by_channel.get(sample.channel, 0) + 1
    assert [s.error for s in recorder.samples if s.error] == []
    assert by_channel.get(REST, 0) >= 2 and by_channel.get(SOCKETIO, 0) >= 2
    check = check_store(stack.env["TRACKER_DB_URL"], recorder.conversations)
    assert check.stored == check.sent == len(recorder.samples)
    assert (check.lost, check.duplicated, check.reordered) == (0, 0, 0)
