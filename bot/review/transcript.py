"""Turn a conversation's events into the transcript reviewers read (pure; no database, no Rasa).

Events are read through bot.review.reading first (queries.event_rows does; raw dicts are read here), so
every value has the expected type and size, and an event that could not be read shows as a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot.contract import RED_FLAG_SLOT, REFERRAL_SLOT, TOPIC_SLOT
from bot.review.reading import UNREADABLE, read_event
from bot.review.signals import Flag

HIDDEN_SLOTS = {"requested_slot", "triage_state", "observations"}  # bookkeeping (observations: see `recorded`)
OBSERVATIONS_SLOT = "observations"
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
    facts: List[Tuple[str, Any]] = field(default_factory=list)  # (slot, value) the message stated
    correction: bool = False
    replies: List[str] = field(default_factory=list)
    actions: List[str] = field(default_factory=list)
    slots: List[Tuple[str, Any]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # restarts, new sessions
    recorded: List[str] = field(default_factory=list)  # observation ids the assistant recorded in this turn
    flags: List[str] = field(default_factory=list)  # why this message counts as misunderstood (signals.REASONS)


def _read(event: Dict[str, Any]) -> Dict[str, Any]:
    """The event as bot.review.reading.read_event gives it (already read events pass through)."""
    return event if "problems" in event else {**read_event(event), "event_id": event.get("event_id")}


def unreadable_note(event: Dict[str, Any]) -> Optional[str]:
    """What the transcript says in place of what could not be read from event, if anything."""
    if event["event"] == UNREADABLE or event.get("unreadable"):
        return f"This event could not be read ({', '.join(event['problems'])})."
    if event["problems"]:
        return f"Part of this event could not be read: {', '.join(event['problems'])}."
    return None


def build_turns(events: List[Dict[str, Any]]) -> List[Turn]:
    """Group events by user message, in order."""
    turns: List[Turn] = [Turn()]
    observed: List[str] = []
    for event in map(_read, events):
        kind = event["event"]
        if kind == "user":
            parse = event["parse_data"]
            heard = parse["understanding"]
            turns.append(
                Turn(
                    event_id=event.get("event_id"),
                    at=event["timestamp"],
                    text=event["text"] or "",
                    channel=event["input_channel"],
                    intent=parse["intent"]["name"],
                    confidence=parse["intent"]["confidence"],
                    entities=[{"entity": e["entity"], "value": e["value"], "role": e["role"]} for e in parse["entities"]],
                    observations=[o["id"] for o in heard.get("observations", [])],
                    facts=[(f["slot"], f["value"]) for f in heard.get("facts", [])],
                    correction=bool(heard.get("correction")),
                )
            )
        note = unreadable_note(event)
        if note:
            turns[-1].notes.append(note)
        if kind == "user":
            continue
        if kind == "bot":
            turns[-1].replies.append(event.get("text") or "")
        elif kind == "action" and event.get("name") not in HIDDEN_ACTIONS:
            turns[-1].actions.append(event.get("name") or "")
        elif kind == "slot" and event["name"] == OBSERVATIONS_SLOT:
            now = [str(v) for v in event.get("value") or [] if v is not None]
            turns[-1].recorded += [o for o in now if o not in observed and o not in turns[-1].recorded]
            observed = now
        elif kind == "slot" and event["name"] and event["name"] not in HIDDEN_SLOTS:
            turns[-1].slots.append((event["name"], event.get("value")))
        elif kind == "restart":
            observed = []
            turns[-1].notes.append("The conversation was started over.")
        elif kind == "session_started":
            turns[-1].notes.append("A new session started.")
    if not (turns[0].replies or turns[0].actions or turns[0].slots or turns[0].notes or turns[0].recorded):
        turns.pop(0)
    return turns


def attach_flags(turns: List[Turn], flags: List[Flag]) -> List[Turn]:
    """Put each flag's reason on the turn of its user message (the n-th turn that holds one); returns turns."""
    messages = [turn for turn in turns if turn.text is not None]
    for flag in flags:
        if 0 <= flag.turn < len(messages) and flag.reason not in messages[flag.turn].flags:
            messages[flag.turn].flags.append(flag.reason)
    return turns


def decisions(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each referral decision: the level, the topic, the rules that fired, the red flag if any."""
    found: List[Dict[str, Any]] = []
    slots: Dict[str, Any] = {}
    for event in map(_read, events):
        if event["event"] != "slot" or event["name"] is None:
            continue
        slots[event["name"]] = event.get("value")
        if event.get("name") == REFERRAL_SLOT and event.get("value"):
            found.append(
                {
                    "referral": event["value"],
                    "topic": slots.get(TOPIC_SLOT),
                    "rules": list(slots.get("advice_rules") or []),
                    "red_flag": slots.get(RED_FLAG_SLOT),
                    "at": event.get("timestamp"),
                }
            )
        elif event.get("name") == "advice_rules" and found and not found[-1]["rules"]:
            found[-1]["rules"] = list(event.get("value") or [])
    return found
