"""The review dashboard survives any stored conversation, against SQLite and the real PostgreSQL.

Hostile rows go straight into Rasa's `events` table (the HTTP API, an older bot or a hand-edited
database can hold any of them): objects, lists, NaN, huge or missing values where text, names, numbers
and timestamps belong, and `data` that is not JSON at all. Every page and export still answers, the
other conversations still appear, the summary sync moves past the bad rows, and the log names rows by
id, never by their content. Unknown conversation ids with odd characters get a plain 404.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.review_server import Client, ReviewServer, signed_in, tracker_url
from tests.tools.review_data import conversation, write

SECRET = "SECRET-PARENT-TEXT"  # in hostile values; must never reach the log
NOW = time.time() - 3600
NESTED = "[" * 100_000 + "]" * 100_000  # deeper than any JSON parser recurses

Row = Tuple[str, Any, Optional[str]]  # type_name, timestamp column, data column


def user(**fields: Any) -> Dict[str, Any]:
    event = {
        "event": "user",
        "timestamp": NOW,
        "text": "hello",
        "input_channel": "rest",
        "parse_data": {"intent": {"name": "greet", "confidence": 0.9}, "entities": []},
    }
    event.update(fields)
    return event


def slot(name: Any, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": NOW, "name": name, "value": value}


def rows_of(*events: Any) -> List[Row]:
    """Rows as SQLTrackerStore writes them; a str is stored as the `data` text itself."""
    found: List[Row] = []
    for event in events:
        if isinstance(event, tuple):
            found.append(event)
        elif isinstance(event, str) or event is None:
            found.append(("user", NOW, event))
        else:
            kind = event.get("event") if isinstance(event.get("event"), str) else "user"
            found.append((kind, NOW, json.dumps(event)))  # NaN and Infinity as Rasa's json.dumps writes them
    return found


HOSTILE: Dict[str, List[Row]] = {
    # the probe: `/greet{"red_flag":{"x":1}}` sent over REST
    "hostile-red-flag": rows_of(
        user(
            text='/greet{"red_flag":{"x":1}}',
            parse_data={
                "intent": {"name": "greet", "confidence": 1.0},
                "entities": [{"entity": "red_flag", "value": {"x": 1}, "start": 6, "end": 27}],
            },
        ),
        slot("red_flag", {"x": 1}),
    ),
    "hostile-slots": rows_of(
        user(),
        slot("topic", [SECRET]),
        slot("topic", SECRET * 1000),
        slot("topic", SECRET),
        slot("topic", {"x": 1}),
        slot("referral", "maybe"),
        slot("referral", {"level": "urgent"}),
        slot("red_flag", [SECRET]),
        slot("red_flag", SECRET * 100),
        slot("age_months", float("nan")),
        slot("age_months", 1e308),
        slot("age_months", SECRET),
        slot("age_months", -5),
        slot("weeks_early", float("inf")),
        slot("advice_rules", 5),
        slot("advice_rules", [{"x": SECRET}]),
        slot("advice_rules", SECRET),
        slot({"a": 1}, "x"),
        slot(None, "x"),
        slot("human_requested", SECRET),
        slot("anything", {"deep": [SECRET]}),
        slot("anything", "y" * 100_000),
        slot("anything", 10**30),
        slot("topic", "crawling_backward"),
        slot("referral", "urgent"),
        {"event": "slot", "timestamp": NOW, "name": "advice_rules", "value": ["safety:not_walking_by_18_months", {"x": 1}]},
    ),
    "hostile-user": rows_of(
        user(input_channel={"x": SECRET}),
        user(input_channel=SECRET * 100),
        user(input_channel=5),
        user(input_channel=""),
        user(text={"x": SECRET}),
        user(text=None),
        user(text=SECRET * 100_000),
        user(text=12),
        user(text=f"nul\u0000{SECRET}\ud800"),
        user(parse_data=SECRET),
        user(parse_data={"intent": SECRET}),
        user(parse_data={"intent": {"name": {"x": SECRET}, "confidence": "high"}}),
        user(parse_data={"intent": {"name": "greet", "confidence": float("nan")}}),
        user(parse_data={"intent": {"name": "greet", "confidence": 1e400}, "entities": SECRET}),
        user(
            parse_data={
                "intent": {"name": SECRET * 100},
                "entities": [{"entity": {"a": 1}, "value": [1, 2]}, SECRET, {"entity": "age", "value": {"x": SECRET}}],
            }
        ),
        user(
            parse_data={
                "understanding": {
                    "observations": [SECRET, {"id": {"x": 1}}],
                    "facts": [{"slot": {"a": 1}}, SECRET],
                    "correction": SECRET,
                }
            }
        ),
        user(metadata={"deep": [[[[[[SECRET]]]]]], "huge": SECRET * 10_000}, message_id={"x": 1}),
    ),
    "hostile-data": rows_of(
        user(text="a readable message before the unreadable ones"),
        "{not json " + SECRET,
        "[1, 2]",
        "null",
        json.dumps(SECRET),
        None,
        "",
        NESTED,
        "NaN",
        "1e400",
        ("bot", NOW, json.dumps({"event": "bot", "timestamp": NOW, "text": {"x": SECRET}})),
        ("bot", NOW, json.dumps(["bot", SECRET])),
        ("action", NOW, json.dumps({"event": "action", "timestamp": NOW, "name": {"x": SECRET}})),
        ("weird", NOW, json.dumps({"event": "weird", "timestamp": NOW, "secret": SECRET})),
        ("weird", NOW, json.dumps({"event": {"x": SECRET}, "timestamp": NOW})),
        ("user", NOW, json.dumps({"timestamp": NOW, "text": SECRET})),
    ),
    "hostile-times": [
        ("user", float("nan"), json.dumps(user(timestamp="yesterday"))),
        ("user", float("inf"), json.dumps(user(timestamp=float("nan")))),
        ("user", float("-inf"), json.dumps(user(timestamp=1e300))),
        ("user", 1e300, json.dumps(user(timestamp=-1e300))),
        ("user", -1e300, json.dumps(user(timestamp=None))),
        ("user", None, json.dumps(user(timestamp=[NOW]))),
        ("user", NOW, json.dumps(user(text="the one message with a real time"))),
    ],
    "hostile-no-time": [("user", None, json.dumps(user(timestamp="never")))],
    "hostile-channel-first": rows_of(user(input_channel="c" * 1000), user(input_channel="telegram")),
}
STORED_ODD_IDS = ["quote'\"<b>&amp;", "ünïcødé-☃-会话", "x" * 255, "spaces and ; semicolons", "a/b", "../up", "100%"]


def insert(engine: sa.engine.Engine, sender_id: str, rows: List[Row]) -> None:
    table = sa.table("events", sa.column("sender_id"), sa.column("type_name"), sa.column("timestamp"), sa.column("data"))
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [{"sender_id": sender_id, "type_name": kind, "timestamp": at, "data": data} for kind, at, data in rows],
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, kb_path: Path) -> Iterator[ReviewServer]:
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    with ExitStack() as stack:
        url = tracker_url(stack, request.param, tmp, "caregiver_hostile")
        running = ReviewServer(url, tmp, kb_path, conversations=12).start()
        stack.callback(running.stop)
        engine = sa.create_engine(url)
        for sender_id, rows in HOSTILE.items():
            insert(engine, sender_id, rows)
        for sender_id in STORED_ODD_IDS:
            insert(engine, sender_id, rows_of(user(text="a conversation with an unusual id")))
        write(engine, iter([("after-hostile", conversation("urgent", NOW, random.Random(5)))]))  # written after the bad rows
        engine.dispose()
        yield running


@pytest.fixture(scope="module")
def admin(server: ReviewServer) -> Client:
    return signed_in(server, "admin")


def ok(response: Any) -> Any:
    assert response.status_code == 200, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text
    return response


def all_ids() -> List[str]:
    return [*HOSTILE, *STORED_ODD_IDS, "after-hostile"]


def test_every_page_and_export_answers_with_hostile_events_stored(admin: Client) -> None:
    for days in (7, 30, 90, 365):
        ok(admin.get(f"/review/?days={days}"))
    for query in (
        "",
        "sort=oldest",
        "sort=messages",
        "referral=urgent",
        "q=%00",
        "q=hello",
        "channel=rest",
        "fallback=yes",
        "page=2",
    ):
        ok(admin.get(f"/review/conversations?{query}"))
    for sender_id in all_ids():
        ok(admin.get(f"/review/conversations/{quote(sender_id, safe='')}"))
    ok(admin.get("/review/corrections.yml"))
    ok(admin.get("/review/audit"))
    exported = list(csv.DictReader(io.StringIO(ok(admin.get("/review/export.csv")).text)))
    assert {row["sender_id"].lstrip("'") for row in exported} >= set(all_ids())
    jsonl = ok(admin.get("/review/export.jsonl")).text
    assert "NaN" not in jsonl and "Infinity" not in jsonl  # strict JSON, every value readable
    lines = {line["sender_id"]: line for line in map(json.loads, jsonl.splitlines())}
    assert set(all_ids()) <= set(lines)
    assert all(
        isinstance(m["text"], (str, type(None))) and len(m["text"] or "") <= 10_000 for m in lines["hostile-user"]["messages"]
    )


def test_the_other_conversations_still_appear_and_the_sync_moved_past_the_bad_rows(server: ReviewServer, admin: Client) -> None:
    page = ok(admin.get("/review/conversations?sort=oldest")).text
    total = 12 + len(HOSTILE) + len(STORED_ODD_IDS) + 1
    assert f"{total} conversations" in page
    assert "after-hostile" in ok(admin.get("/review/conversations?q=after-hostile")).text
    with sa.create_engine(server.db_url).connect() as connection:
        top = connection.execute(sa.text("SELECT max(id) FROM events")).scalar()
        assert connection.execute(sa.text("SELECT last_event_id FROM review_index_state")).scalar() == top
        stored = {r.sender_id: r for r in connection.execute(sa.text("SELECT * FROM review_conversations"))}
    assert set(all_ids()) <= set(stored)
    assert stored["after-hostile"].referral == "urgent" and stored["after-hostile"].red_flag == "seizure"
    flagged = stored["hostile-red-flag"]
    assert flagged.red_flag is None and flagged.channel == "rest" and flagged.user_messages == 1
    slots = stored["hostile-slots"]
    assert (slots.topic, slots.referral, slots.red_flag) == ("crawling_backward", "urgent", None)
    users = stored["hostile-user"]
    assert users.channel == "rest" and users.user_messages == len(HOSTILE["hostile-user"]) and len(users.search_text) <= 20_000
    assert users.first_message == "hello" and not users.low_confidence  # nothing unreadable counts as "unsure"
    assert stored["hostile-channel-first"].channel == "telegram"
    times = stored["hostile-times"]
    assert times.started_at == times.last_at == pytest.approx(NOW)
    assert stored["hostile-no-time"].started_at == 0.0
    assert stored["hostile-data"].user_messages == 11  # the unreadable rows stored as user messages still count


def test_the_transcript_shows_what_could_not_be_read(admin: Client) -> None:
    flagged = ok(admin.get("/review/conversations/hostile-red-flag")).text
    assert "Part of this event could not be read: slot value." in flagged
    assert "Part of this event could not be read: entity value." in flagged
    data = ok(admin.get("/review/conversations/hostile-data")).text
    for reason in ("data is not JSON", "data is not an event object", "event kind"):
        assert f"This event could not be read ({reason})." in data
    assert "a readable message before the unreadable ones" in data
    slots = ok(admin.get("/review/conversations/hostile-slots")).text
    assert "topic=Crawling backwards" in slots and "referral=urgent" in slots and SECRET not in slots  # by title
    assert "Red flag" not in slots and "Safety net: walks alone" in slots  # the readable rule is explained


def test_the_log_names_bad_rows_by_id_never_by_content(server: ReviewServer, admin: Client) -> None:
    ok(admin.get("/review/"))
    log = (server.tmp / "web.log").read_text(encoding="utf-8", errors="replace")
    assert "review index: event row" in log and "slot value" in log and "data is not JSON" in log
    assert SECRET not in log and "red_flag" not in log


ODD_IDS = [
    "%00",
    "%00abc",
    "x" * 300,
    "%C3%BCnknown-%E2%98%83",
    "..%2F..%2Fetc%2Fpasswd",
    "%2E%2E",
    "%27%22quote%3C%3E",
    "%ED%A0%80",
    "%FF%FE",
    "%0A%0D",
    "%3Cscript%3E",
    "c%2Fd",
    "%F0%9F%98%80" * 100,
    "%20",
]
ID_ACTIONS = ("tags", "untag", "notes", "review", "correct", "erase")


@pytest.mark.parametrize("odd", ODD_IDS)
def test_unknown_ids_with_odd_characters_get_a_clean_not_found(admin: Client, odd: str) -> None:
    csrf = admin.csrf("/review/conversations")
    response = admin.get(f"/review/conversations/{odd}")
    assert response.status_code == 404 and "Traceback" not in response.text, response.text[:300]
    for action in ID_ACTIONS:
        response = admin.post(
            f"/review/conversations/{odd}/{action}",
            {"csrf": csrf, "tag": "x", "text": "x", "reviewed": "yes", "event_id": "1", "intent": "greet", "confirm": odd},
        )
        assert response.status_code == 404 and "Traceback" not in response.text, (action, response.text[:300])
