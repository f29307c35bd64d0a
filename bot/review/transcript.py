"""Turn a conversation's events into the transcript reviewers read (pure; no database, no Rasa)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

HIDDEN_SLOTS = {"requested_slot", "triage_state"}  # bookkeeping, not decisions
HIDDEN_ACTIONS = {"action_listen", "action_session_start"}


@dataclass
class Turn:
    """One user message (or the opening, when the bot spoke first) and what followed it."""

    event_id: Optional[int] = None
    at: Optional[float] = None
    text: Optional[str] = None
    channel: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    entities: List[Dict[str, Any]] = field(default_factory=list)
    observations: List[str] = field(default_factory=list)  # what the parent described (observation ids)
    facts: List[tuple] = field(default_factory=list)  # (slot, value) the message stated
    correction: bool = False
    replies: List[str] = field(default_factory=list)
    actions: List[str] = field(default_factory=list)
    slots: List[tuple] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # restarts, new sessions


def build_turns(events: List[Dict[str, Any]]) -> List[Turn]:
    """Group events by user message, in order."""
    turns: List[Turn] = [Turn()]
    for event in events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
            intent = parse.get("intent") or {}
            heard = parse.get("understanding") if isinstance(parse.get("understanding"), dict) else {}
            turns.append(Turn(
                event_id=event.get("event_id"), at=event.get("timestamp"), text=event.get("text") or "",
                channel=event.get("input_channel"), intent=intent.get("name"), confidence=intent.get("confidence"),
                entities=[
                    {"entity": e.get("entity"), "value": e.get("value"), "role": e.get("role")}
                    for e in parse.get("entities") or [] if isinstance(e, dict)
                ],
                observations=[str(o.get("id")) for o in heard.get("observations") or [] if isinstance(o, dict)],
                facts=[(str(f.get("slot")), f.get("value")) for f in heard.get("facts") or [] if isinstance(f, dict)],
                correction=bool(heard.get("correction")),
            ))  # fmt: skip
        elif kind == "bot":
            turns[-1].replies.append(event.get("text") or "")
        elif kind == "action" and event.get("name") not in HIDDEN_ACTIONS:
            turns[-1].actions.append(event.get("name") or "")
        elif kind == "slot" and event.get("name") not in HIDDEN_SLOTS:
            turns[-1].slots.append((event.get("name"), event.get("value")))
        elif kind == "restart":
            turns[-1].notes.append("The conversation was started over.")
        elif kind == "session_started":
            turns[-1].notes.append("A new session started.")
    if not (turns[0].replies or turns[0].actions or turns[0].slots or turns[0].notes):
        turns.pop(0)
    return turns


def decisions(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each referral decision: the level, the topic, the rules that fired, the red flag if any."""
    found: List[Dict[str, Any]] = []
    slots: Dict[str, Any] = {}
    for event in events:
        if event.get("event") != "slot":
            continue
        slots[event.get("name")] = event.get("value")
        if event.get("name") == "referral" and event.get("value"):
            found.append({
                "referral": event["value"], "topic": slots.get("topic"), "rules": list(slots.get("advice_rules") or []),
                "red_flag": slots.get("red_flag"), "at": event.get("timestamp"),
            })  # fmt: skip
        elif event.get("name") == "advice_rules" and found and not found[-1]["rules"]:
            found[-1]["rules"] = list(event.get("value") or [])
    return found
