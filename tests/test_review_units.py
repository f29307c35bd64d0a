"""Dashboard logic without a web server: summaries, filters, transcripts, accounts (on SQLite files)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from bot.knowledge.store import KnowledgeBase
from bot.review import accounts, index, queries
from bot.review.db import engine_for
from bot.review.decisions import milestone_of, observation_rules, safety_rules
from bot.review.filters import FilterError, Filters, parse_filters
from bot.review.summary import apply_event, new_summary
from bot.review.transcript import build_turns, decisions
from tests.tools.review_data import conversation, create_events_table, write


def rows(events: list) -> list:
    return [
        {"id": i + 1, "sender_id": "s", "type_name": e["event"], "timestamp": e["timestamp"], "data": json.dumps(e)}
        for i, e in enumerate(events)
    ]


@pytest.mark.parametrize(
    "kind, referral, fallback, person, messages",
    [
        ("none", "none", False, False, 3),
        ("provider", "provider", False, False, 3),
        ("urgent", "urgent", False, False, 3),
        ("fallback", None, True, False, 4),
        ("person", None, False, True, 4),
        ("pending", None, False, False, 1),
    ],
)
def test_summaries_follow_the_events(kind: str, referral: object, fallback: bool, person: bool, messages: int) -> None:
    events = conversation(kind, 1_700_000_000.0, random.Random(3))
    summary = new_summary("s", events[0]["timestamp"])
    for row in rows(events):
        apply_event(summary, row)
    if kind in ("fallback", "person"):  # these end with advice of either level
        assert summary["referral"] in ("none", "provider")
    else:
        assert summary["referral"] == referral
    assert summary["had_fallback"] is fallback and summary["asked_person"] is person
    assert summary["user_messages"] == messages and summary["topic"] and summary["channel"] == "socketio"
    assert summary["last_event_id"] == len(events) and summary["started_at"] <= summary["last_at"]


def test_referral_keeps_the_highest_level() -> None:
    summary = new_summary("s", 0.0)
    for i, value in enumerate(["provider", "urgent", "none"]):
        apply_event(
            summary,
            {
                "id": i + 1,
                "type_name": "slot",
                "timestamp": float(i),
                "data": json.dumps({"event": "slot", "name": "referral", "value": value}),
            },
        )
    assert summary["referral"] == "urgent"


def test_unreadable_event_data_is_skipped_not_fatal() -> None:
    summary = apply_event(new_summary("s", 5.0), {"id": 1, "type_name": "user", "timestamp": 6.0, "data": "{not json"})
    assert summary["user_messages"] == 1 and summary["last_at"] == 6.0


def test_filters_round_trip_through_the_query_string() -> None:
    filters = parse_filters({"referral": "urgent", "date_from": "2026-01-01", "q": " seizure ", "page": "2"})
    assert filters == Filters(date_from=filters.date_from, referral="urgent", q="seizure", page=2)
    assert parse_filters(dict(pair.split("=") for pair in filters.query().split("&"))) == filters
    assert Filters().query() == ""
    with pytest.raises(FilterError):
        parse_filters({"page": "0"})


def test_transcript_groups_turns_and_finds_decisions() -> None:
    events = conversation("provider", 1_700_000_000.0, random.Random(4))
    for i, event in enumerate(events):
        event["event_id"] = i + 1
    turns = build_turns(events)
    assert [t.text for t in turns if t.text][:2] and turns[1].intent.startswith("ask_")
    assert any(("topic", t.slots[0][1]) == t.slots[0] for t in turns if t.slots)
    found = decisions(events)
    assert found == [
        {
            "referral": "provider",
            "topic": found[0]["topic"],
            "rules": ["no_alternating_crawl_by_12_months"],
            "red_flag": None,
            "at": found[0]["at"],
        }
    ]


def test_sync_is_incremental(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    create_events_table(url).dispose()
    engine = engine_for(url)
    write(engine, iter([("a", conversation("none", 1_700_000_000.0, random.Random(1)))]))
    first = index.sync(engine)
    assert first > 10 and index.sync(engine) == 0
    write(
        engine,
        iter(
            [
                (
                    "a",
                    [
                        {
                            "event": "user",
                            "timestamp": 1_700_000_900.0,
                            "text": "one more",
                            "parse_data": {"intent": {"name": "thank", "confidence": 0.9}},
                        }
                    ],
                )
            ]
        ),
    )
    assert index.sync(engine) == 1
    row = queries.conversation(engine, "a")
    assert row["user_messages"] == 4 and row["last_at"] == 1_700_000_900.0


def test_sessions_expire_and_passwords_are_checked(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'a.db'}")
    accounts.add_user(engine, "Carol", "long enough password", "reviewer")
    with pytest.raises(accounts.AccountError):
        accounts.add_user(engine, "carol", "another long password", "reviewer")  # names are case-insensitive
    with pytest.raises(accounts.AccountError):
        accounts.add_user(engine, "dave", "short", "reviewer")
    with pytest.raises(accounts.AccountError):
        accounts.sign_in(engine, "carol", "wrong password", "10.0.0.1")
    with pytest.raises(accounts.AccountError):
        accounts.sign_in(engine, "nobody", "long enough password", "10.0.0.1")
    token = accounts.sign_in(engine, "carol", "long enough password", "10.0.0.1")
    now = time.time()
    assert accounts.session_for(engine, token, now=now).user.username == "carol"
    assert accounts.session_for(engine, token, now=now + accounts.IDLE_SECONDS + 60) is None  # idle too long: gone
    assert accounts.session_for(engine, token, now=now) is None


def test_throttling_window(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'b.db'}")
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.AccountError):
            accounts.sign_in(engine, "eve", "guess guess guess", "10.0.0.2")
    assert accounts.throttled(engine, "eve", "10.0.0.9")
    assert not accounts.throttled(engine, "eve", "10.0.0.9", now=time.time() + accounts.FAILURE_WINDOW + 1)


def test_rows_committed_late_below_the_watermark_are_still_folded_in_once(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'late.db'}"
    create_events_table(url).dispose()
    engine = engine_for(url)
    write(engine, iter([("a", conversation("none", 1_700_000_000.0, random.Random(1)))]))
    index.sync(engine)
    late = conversation("provider", 1_700_000_100.0, random.Random(2))
    write(engine, iter([("b", late)]))
    with engine.begin() as connection:  # as if b's rows had been committed after a later row was seen
        top = connection.execute(sa.text("SELECT max(id) FROM events")).scalar()
        connection.execute(sa.text("UPDATE review_index_state SET last_event_id = :t"), {"t": top})
    assert index.sync(engine) == len(late)
    assert index.sync(engine) == 0  # re-reading the window never counts a row twice
    assert queries.conversation(engine, "b")["user_messages"] == 3 and queries.conversation(engine, "a")["user_messages"] == 3


def test_a_milestone_answer_is_shown_with_its_milestone(kb: KnowledgeBase) -> None:
    walks = milestone_of(kb, ["milestone:walks"])
    assert walks is not None and walks.name == "Walking alone" and walks.sources
    assert milestone_of(kb, ["no_alternating_crawl_by_12_months"]) is None and milestone_of(None, ["milestone:walks"]) is None


def test_transcript_shows_what_each_message_was_understood_to_say() -> None:
    from bot.nlu.understand import understand

    text = "sorry, my 15 month old keeps his right hand in a fist, he had his hips scanned at 6 weeks"
    heard = understand(text)
    parse = {
        "intent": {"name": "inform", "confidence": 1.0},
        "understanding": heard.to_dict(),
        "entities": [{"entity": "age", "value": 15.0}, {"entity": "age", "value": 1.4, "role": "past"}],
    }
    [turn] = build_turns([{"event": "user", "text": text, "parse_data": parse, "timestamp": 1.0}])
    assert "hand_fisted" in turn.observations and "hips_checked" in turn.observations
    assert ("age_months", 15.0) in turn.facts and turn.correction
    assert {"entity": "age", "value": 1.4, "role": "past"} in turn.entities
    # malformed parse data from an old or hostile event never breaks the page
    [bad] = build_turns([{"event": "user", "text": "x", "parse_data": {"understanding": "nonsense", "entities": ["x"]}}])
    assert bad.observations == [] and bad.facts == [] and bad.entities == []


def test_decisions_show_the_signs_that_raised_the_referral() -> None:
    rows_found = observation_rules(["one_sided_movement", "observation:hand_fisted", "observation:unknown"])
    assert list(rows_found) == ["observation:hand_fisted"]
    assert rows_found["observation:hand_fisted"].referral == "provider"


def test_decisions_show_the_safety_net_checks_that_raised_the_referral(kb) -> None:
    rows_found = safety_rules(
        kb, ["symmetric_shuffler_on_track", "safety:not_walking_by_18_months", "safety:one_side_favoured:unsure", "safety:gone"]
    )
    assert list(rows_found) == ["safety:not_walking_by_18_months", "safety:one_side_favoured:unsure"]
    walking, unsure = rows_found.values()
    assert walking.referral == "provider" and walking.say.startswith("Safety net: walks alone no. Walking alone")
    assert unsure.referral == "provider" and "not sure" in unsure.say
    assert safety_rules(None, ["safety:not_walking_by_18_months"]) == {}


@pytest.mark.parametrize(
    "data, kind, problems",
    [
        ('{"event": "slot", "name": "red_flag", "value": {"x": 1}}', "slot", ["slot value"]),
        ('{"event": "slot", "name": "topic", "value": "no_such_topic"}', "slot", ["slot value"]),
        ('{"event": "slot", "name": "age_months", "value": NaN}', "slot", ["slot value"]),
        ('{"event": "slot", "name": "age_months", "value": 14}', "slot", []),
        ('{"event": "user", "input_channel": "' + "c" * 65 + '", "text": "hi"}', "user", ["input_channel"]),
        (
            '{"event": "user", "text": {"a": 1}, "parse_data": {"intent": {"name": "greet", "confidence": "high"}}}',
            "user",
            ["text", "intent confidence"],
        ),
        ('{"event": "bot", "text": "fine", "timestamp": 1e300}', "bot", ["timestamp"]),
        ("{not json", "unreadable", ["data is not JSON"]),
        ("[1]", "unreadable", ["data is not an event object"]),
        ('{"event": ["user"]}', "unreadable", ["event kind"]),
    ],
)
def test_events_are_read_with_every_value_checked(data: str, kind: str, problems: list) -> None:
    from bot.review.reading import read_event

    event = read_event(data, topics={"crawling_backward"})
    assert event["event"] == kind and event["problems"] == problems
    json.dumps(event, allow_nan=False)  # whatever was stored, what the dashboard keeps is plain, finite data


def test_read_values_are_bounded_and_storable() -> None:
    from bot.review.reading import MAX_TEXT, clean_name, clean_number, clean_text

    assert len(clean_text("x" * (MAX_TEXT * 10))) == MAX_TEXT and clean_text("a\x00b\ud800") == "ab?"
    assert clean_text({"a": 1}) is None and clean_text(12) == "12" and clean_text(float("inf")) is None
    assert clean_name("socketio") == "socketio" and clean_name("x" * 65) is None and clean_name("two\nlines") is None
    assert clean_number(10**400) is None and clean_number(True) is None and clean_number(3, 0, 2) is None


@pytest.mark.parametrize(
    "cell, neutralised",
    [
        ("=1+1", True),
        ("+1", True),
        ("-1", True),
        ("@SUM(A1)", True),
        ("\tx", True),
        ("\rx", True),
        (";=cmd", True),
        (",=cmd", True),
        ("  =cmd", True),
        ("; ,+cmd", True),
        ("\n@x", True),
        ("plain text", False),
        ("a;=b", False),
        ("", False),
        ("; just text", False),
    ],
)
def test_csv_cells_never_start_a_formula(cell: str, neutralised: bool) -> None:
    from bot.review.exports import csv_safe

    assert csv_safe(cell) == ("'" + cell if neutralised else cell)


def test_erasing_a_web_chat_conversation_revokes_its_session_without_keeping_its_id(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from bot.channels.replays import recorded
    from bot.channels.webchat import REVOKED, new_session_id, revocation_key
    from bot.review import privacy

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'review.db'}")
    from bot.review.models import metadata as review_metadata

    review_metadata.create_all(engine)
    session_id = new_session_id()
    privacy.erase(engine, [session_id, "telegram-chat-1"], "admin", "asked by the parent")
    assert recorded(engine, REVOKED, revocation_key(session_id))
    with engine.connect() as connection:
        kept = " ".join(str(v) for row in connection.execute(sa.text("SELECT * FROM channel_requests")) for v in row)
    assert session_id not in kept
