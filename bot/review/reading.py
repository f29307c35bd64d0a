"""Read one stored Rasa event defensively (pure; no database, no Rasa).

The `events` table holds whatever reached the tracker store: the HTTP API, an older bot or a hand-edited
database can store a slot value that is an object, a channel name of any length, NaN, text that is not
text, or `data` that is not JSON at all. Everything the dashboard takes from an event goes through
`read_event`, which keeps only values of the expected type and size. What it had to drop is listed,
by field and never by content, in the event's `problems`; an event it cannot read at all comes back as
`{"event": "unreadable"}`, so the transcript can show a placeholder in its place.
"""

from __future__ import annotations

import json
import math
import re
from typing import AbstractSet, Any, Dict, List, Optional, Tuple, Union

from bot.contract import (
    AGE_SLOT,
    FEEDBACK_SLOT,
    MORE_INTENTS,
    RED_FLAG_SLOT,
    REFERRAL_LEVELS,
    REFERRAL_SLOT,
    TOPIC_SLOT,
    WEEKS_EARLY_SLOT,
)

UNREADABLE = "unreadable"
MAX_TEXT = 10_000  # characters of one message kept for the transcript
MAX_NAME = 64  # intent, action, slot, entity, channel, topic and rule names
MAX_VALUE = 200  # characters of a slot or entity value shown
MAX_ITEMS = 50  # entities, list items, observations and facts kept per event
EARLIEST, LATEST = 0.0, 4_102_444_800.0  # timestamps outside 1970..2100 are not real
SLOT_RANGES = {AGE_SLOT: (0.0, 240.0), WEEKS_EARLY_SLOT: (0.0, 30.0)}  # numeric slots with a known sane range
FEEDBACK_KINDS = ("vote", "comment")  # the values of the feedback slot (bot.triage.feedback)
FEEDBACK_PARTS = ("advice", *MORE_INTENTS.values())  # the part of the advice a vote or comment is about
SUBJECT = re.compile(r"[\w.:-]{1,64}")  # a topic id or milestone:<id>
MAX_COMMENT = 2000  # characters of a "what was missing?" comment kept
_MISSING = object()


def clean_text(value: Any, limit: int = MAX_TEXT) -> Optional[str]:
    """Text of a string (or a finite number), cut to limit, storable in any database; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text: str = value[: limit + 64].replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")[:limit]  # lone surrogates become "?"


def clean_name(value: Any, limit: int = MAX_NAME) -> Optional[str]:
    """A short printable name (intent, channel, slot, topic...), or None when value is not one."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not 0 < len(value) <= limit or not value.isprintable():
        return None
    return clean_text(value, limit)


def clean_number(value: Any, low: float = -math.inf, high: float = math.inf) -> Optional[float]:
    """A finite number within [low, high] as a float, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def clean_timestamp(value: Any) -> Optional[float]:
    """A Unix timestamp between 1970 and 2100, or None."""
    return clean_number(value, EARLIEST, LATEST)


def _scalar(value: Any) -> Any:
    """None, a bool, a finite number or short text; _MISSING for anything else."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        number = clean_number(value)
        return _MISSING if number is None else (int(value) if isinstance(value, int) else number)
    text = clean_text(value, MAX_VALUE)
    return _MISSING if text is None else text


def clean_value(value: Any) -> Tuple[Any, bool]:
    """A generic slot or entity value (a scalar or a short list of scalars) and whether it was kept whole."""
    if isinstance(value, list):
        items = [_scalar(item) for item in value[:MAX_ITEMS]]
        kept = [item for item in items if item is not _MISSING]
        return kept, len(kept) == len(value)
    scalar = _scalar(value)
    return (None, False) if scalar is _MISSING else (scalar, True)


def clean_slot(name: str, value: Any, topics: Optional[AbstractSet[str]] = None) -> Tuple[Any, bool]:
    """A slot value checked against what the slot can hold, and whether it was acceptable."""
    if value is None:
        return None, True
    kept: Union[str, float, bool, None]
    if name == TOPIC_SLOT:
        topic = clean_name(value)
        kept = topic if topic is not None and (topics is None or topic in topics) else None
    elif name == REFERRAL_SLOT:
        kept = value if isinstance(value, str) and value in REFERRAL_LEVELS else None
    elif name == RED_FLAG_SLOT:
        kept = clean_name(value)
    elif name in SLOT_RANGES:
        kept = clean_number(value, *SLOT_RANGES[name])
    elif name == "advice_rules":
        if not isinstance(value, list):
            return [], False
        rules = [clean_name(rule, 255) for rule in value[:MAX_ITEMS]]
        kept_rules = [rule for rule in rules if rule is not None]
        return kept_rules, len(kept_rules) == len(value)
    elif name == "human_requested":
        kept = value if isinstance(value, bool) else None
    elif name == FEEDBACK_SLOT:
        feedback = clean_feedback(value)
        return feedback, feedback is not None
    else:
        return clean_value(value)
    return kept, kept is not None


def clean_feedback(value: Any) -> Optional[Dict[str, Any]]:
    """A "Was this helpful?" vote or comment with every field checked, or None when value is neither."""
    if not isinstance(value, dict) or value.get("kind") not in FEEDBACK_KINDS:
        return None
    vote = value["kind"] == "vote"
    helpful, text = value.get("helpful"), (clean_text(value.get("text"), MAX_COMMENT) or "").strip()
    if (vote and not isinstance(helpful, bool)) or (not vote and not text):
        return None
    subject = clean_name(value.get("subject"))
    return {
        "kind": value["kind"],
        "helpful": helpful if vote else None,
        "subject": subject if subject is not None and SUBJECT.fullmatch(subject) else None,
        "referral": value.get("referral") if value.get("referral") in REFERRAL_LEVELS else None,
        "part": value.get("part") if value.get("part") in FEEDBACK_PARTS else None,
        "text": None if vote else text,
    }


def _user(data: Dict[str, Any], problems: List[str], topics: Optional[AbstractSet[str]]) -> Dict[str, Any]:
    text = clean_text(data.get("text"))
    if data.get("text") is not None and text is None:
        problems.append("text")
    channel = clean_name(data.get("input_channel"))
    if data.get("input_channel") is not None and channel is None:
        problems.append("input_channel")
    parse = data.get("parse_data")
    if parse is not None and not isinstance(parse, dict):
        problems.append("parse_data")
    parse = parse if isinstance(parse, dict) else {}
    intent = parse.get("intent")
    if intent is not None and not isinstance(intent, dict):
        problems.append("intent")
    intent = intent if isinstance(intent, dict) else {}
    name = clean_name(intent.get("name"), 255)
    confidence = clean_number(intent.get("confidence"), 0.0, 1.0)
    if intent.get("name") is not None and name is None:
        problems.append("intent name")
    if intent.get("confidence") is not None and confidence is None:
        problems.append("intent confidence")
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "parse_data": {
            "intent": {"name": name, "confidence": confidence},
            "entities": _entities(parse.get("entities"), problems),
            "understanding": _understanding(parse.get("understanding"), problems, topics),
        },
    }


def _entities(value: Any, problems: List[str]) -> List[Dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append("entities")
        return []
    found = []
    for entity in value[:MAX_ITEMS]:
        name = clean_name(entity.get("entity")) if isinstance(entity, dict) else None
        if name is None:
            problems.append("entity")
            continue
        entity_value, whole = clean_value(entity.get("value"))
        role = clean_name(entity.get("role"))
        if not whole or (entity.get("role") is not None and role is None):
            problems.append("entity value")
        found.append({"entity": name, "value": entity_value, "role": role})
    return found


def _understanding(value: Any, problems: List[str], topics: Optional[AbstractSet[str]]) -> Dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append("understanding")
        return {}
    raw_observations, raw_facts = value.get("observations"), value.get("facts")
    observations: List[Any] = raw_observations if isinstance(raw_observations, list) else []
    facts: List[Any] = raw_facts if isinstance(raw_facts, list) else []
    kept_observations = [
        {"id": name} for o in observations[:MAX_ITEMS] if isinstance(o, dict) and (name := clean_name(o.get("id"))) is not None
    ]
    kept_facts = []
    for fact in facts[:MAX_ITEMS]:
        slot = clean_name(fact.get("slot")) if isinstance(fact, dict) else None
        if slot is not None:
            kept_facts.append({"slot": slot, "value": clean_slot(slot, fact.get("value"), topics)[0]})
    if len(kept_observations) != len(observations) or len(kept_facts) != len(facts):
        problems.append("understanding")
    return {"observations": kept_observations, "facts": kept_facts, "correction": value.get("correction") is True}


def _slot(data: Dict[str, Any], problems: List[str], topics: Optional[AbstractSet[str]]) -> Dict[str, Any]:
    name = clean_name(data.get("name"))
    if name is None:
        problems.append("slot name")
        return {"event": "slot", "name": None, "value": None}
    value, fine = clean_slot(name, data.get("value"), topics)
    if not fine:
        problems.append("slot value")
    return {"event": "slot", "name": name, "value": value}


def read_event(raw: Any, topics: Optional[AbstractSet[str]] = None) -> Dict[str, Any]:
    """The event stored as raw (the `data` column's JSON text), coerced; `problems` lists what was dropped.

    topics: the known topic ids (a `topic` slot holding anything else is dropped); None accepts any name.
    """
    try:
        data = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except (ValueError, RecursionError):
        return {"event": UNREADABLE, "timestamp": None, "problems": ["data is not JSON"]}
    if not isinstance(data, dict):
        return {"event": UNREADABLE, "timestamp": None, "problems": ["data is not an event object"]}
    kind = clean_name(data.get("event"))
    if kind is None:
        return {"event": UNREADABLE, "timestamp": clean_timestamp(data.get("timestamp")), "problems": ["event kind"]}
    problems: List[str] = []
    if kind == "user":
        event = _user(data, problems, topics)
    elif kind == "bot":
        text = clean_text(data.get("text"))
        if data.get("text") is not None and text is None:
            problems.append("text")
        event = {"event": "bot", "text": text}
    elif kind == "action":
        name = clean_name(data.get("name"), 255)
        if data.get("name") is not None and name is None:
            problems.append("action name")
        event = {"event": "action", "name": name}
    elif kind == "slot":
        event = _slot(data, problems, topics)
    else:
        event = {"event": kind}
    event["timestamp"] = clean_timestamp(data.get("timestamp"))
    if data.get("timestamp") is not None and event["timestamp"] is None:
        problems.append("timestamp")
    event["problems"] = problems
    return event
