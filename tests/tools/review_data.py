"""Generate realistic tracker-store rows (Rasa's `events` table) for dashboard tests and its benchmark.

Each conversation is a list of event dicts shaped like Rasa 3.6's `as_dict()`, written with the same
columns SQLTrackerStore writes. Kinds: advice with each referral level, a red flag, a fallback, a
request for a person, an unfinished one.
"""

from __future__ import annotations

import json
import random
from typing import Any, Dict, Iterator, List

import sqlalchemy as sa

KINDS = ("none", "provider", "urgent", "fallback", "person", "pending")
TOPICS = ("crawling_backward", "bottom_scooting", "late_walking")
OPENERS = {
    "crawling_backward": "my {age} month old only crawls backwards",
    "bottom_scooting": "she scoots on her bottom, she is {age} months",
    "late_walking": "my {age} month old isn't walking yet",
}


def _user(
    text: str, intent: str, confidence: float, channel: str, at: float, entities: List[Dict[str, Any]] = ()
) -> Dict[str, Any]:
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": channel,
        "message_id": f"m{int(at * 1000)}",
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": list(entities)},
    }


def _bot(text: str, at: float) -> Dict[str, Any]:
    return {"event": "bot", "timestamp": at, "text": text, "data": {}}


def _slot(name: str, value: Any, at: float) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": at, "name": name, "value": value}


def _action(name: str, at: float) -> Dict[str, Any]:
    return {"event": "action", "timestamp": at, "name": name}


def conversation(kind: str, start: float, rng: random.Random, channel: str = "socketio") -> List[Dict[str, Any]]:
    """The events of one conversation of the given kind, starting at `start` (Unix time)."""
    topic = rng.choice(TOPICS)
    age = rng.randint(8, 20)
    t = start
    events: List[Dict[str, Any]] = [
        _action("action_session_start", t),
        {"event": "session_started", "timestamp": t},
        _action("action_listen", t),
    ]

    def step(seconds: float = 20) -> float:
        nonlocal t
        t += rng.uniform(0.5, 1.5) * seconds
        return t

    if kind == "fallback":
        events += [
            _user("what about the purple thing", "nlu_fallback", 0.21, channel, step()),
            _action("action_suggest_topic", t),
            _bot("I'm not sure I understood. Did you mean one of these?", t),
            _action("action_listen", t),
        ]
    opener = OPENERS[topic].format(age=age)
    events += [
        _user(opener, f"ask_{topic}", rng.uniform(0.55, 0.99), channel, step(), [{"entity": "age", "value": float(age)}]),
        _slot("topic", topic, t),
        _slot("age_months", float(age), t),
        _action("triage_form", t),
        _bot("I can help with that. A few quick questions first.", t),
        _bot("Was your child born early?", t),
        _action("action_listen", t),
    ]
    if kind == "pending":
        return events
    events += [
        _user("no, on time", "inform", rng.uniform(0.3, 0.95), channel, step()),
        _slot("weeks_early", 0.0, t),
        _bot("Has a doctor or nurse checked your child's hips recently?", t),
        _action("action_listen", t),
    ]
    if kind == "person":
        events += [
            _user("can I talk to a real person please", "request_human", 0.93, channel, step()),
            _slot("human_requested", True, t),
            _bot("I'll note that you'd like to talk to someone from the team.", t),
        ]
    if kind == "urgent":
        events += [
            _user("she just had a seizure and is not responding", "report_red_flag", 1.0, channel, step()),
            _slot("red_flag", "seizure", t),
            _slot("referral", "urgent", t),
            _bot("Please call your local emergency number now.", t),
        ]
        return events
    referral = kind if kind in ("none", "provider") else rng.choice(("none", "provider"))
    rules = ["no_alternating_crawl_by_12_months"] if referral == "provider" else []
    events += [
        _user("yes", "inform", 0.9, channel, step()),
        _action("action_give_advice", t),
        _slot("referral", referral, t),
        _slot("advice_rules", rules, t),
        _bot("**What you can try**\n- play on the floor every day", t),
        _bot("**Sources**\n- [Example](https://www.cdc.gov/)", t),
        _action("action_listen", t),
    ]
    return events


def generate(count: int, seed: int, days: int, now: float) -> Iterator[tuple]:
    """(sender_id, events) for `count` conversations spread over the last `days` days."""
    rng = random.Random(seed)
    for i in range(count):
        kind = rng.choices(KINDS, weights=(40, 25, 5, 10, 5, 15))[0]
        start = now - rng.uniform(0, days * 86400)
        channel = rng.choice(("socketio", "socketio", "rest", "telegram"))
        yield f"{kind}-{seed}-{i:06d}", conversation(kind, start, rng, channel)


def create_events_table(url: str) -> sa.engine.Engine:
    """The tracker store's database with Rasa's own `events` table (made by Rasa's SQLTrackerStore)."""
    from rasa.core.tracker_store import SQLTrackerStore

    dialect = url.split(":", 1)[0].split("+")[0]
    store = SQLTrackerStore(dialect=dialect, host=url)
    return store.engine


def write(engine: sa.engine.Engine, conversations: Iterator[tuple]) -> int:
    """Insert the events as SQLTrackerStore.save would; return the number of event rows."""
    table = sa.table(
        "events",
        sa.column("sender_id"),
        sa.column("type_name"),
        sa.column("timestamp"),
        sa.column("intent_name"),
        sa.column("action_name"),
        sa.column("data"),
    )
    rows: List[Dict[str, Any]] = []
    written = 0
    type_names = {"user": "user", "bot": "bot", "slot": "slot", "action": "action", "session_started": "session_started"}
    with engine.begin() as connection:
        for sender_id, events in conversations:
            for event in events:
                rows.append(
                    {
                        "sender_id": sender_id,
                        "type_name": type_names[event["event"]],
                        "timestamp": event["timestamp"],
                        "intent_name": (event.get("parse_data") or {}).get("intent", {}).get("name"),
                        "action_name": event.get("name"),
                        "data": json.dumps(event),
                    }
                )
            if len(rows) >= 5000:
                connection.execute(table.insert(), rows)
                written += len(rows)
                rows = []
        if rows:
            connection.execute(table.insert(), rows)
            written += len(rows)
    return written
