"""Which user messages the assistant failed to handle ("misunderstood" turns), from a conversation's events (pure).

A turn is flagged only on evidence that the parent was let down, never on the intent classifier's confidence:

- not_understood: the assistant said it did not understand (Rasa's fallback, `utter_default`, or
  `action_suggest_topic`'s "Sorry, I'm not sure I understood. Is your question about one of these?").
- out_of_scope: the out-of-scope reply (`action_handle_out_of_scope`, or the aside during the questions).
- re_asked: the follow-up question was asked again because the reply could not be used ("Sorry, I'm not sure I
  understood." / "Sorry, I couldn't use that answer." before the question or its narrower follow-up).
- dropped_question: the form gave up on the question after unusable replies ("I'll leave that one out"), or the
  assistant did nothing at all with the message.
- topic_undone: the message switched the topic and the parent undid it soon after (topic A -> B -> A within
  TOPIC_UNDO_TURNS messages, B not advised on), or answered the switch with "no, I meant ...".

A reply the triage form used (it set the pending question's slot) is understood, whatever the confidence. The
technical-trouble reply (the action server failing) is a fault, not a misunderstanding, and flags nothing.

Events are the dicts of one conversation in order, as Rasa stores them (or as bot.review.reading.read_event gives
them); anything else in the list is skipped, so a hostile stored event never stops the dashboard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from bot.contract import ACTION_FAILED_SLOT, REFERRAL_SLOT, TOPIC_SLOT
from bot.knowledge.messages import get_catalogue
from bot.review.reading import clean_name, clean_text, clean_timestamp

NOT_UNDERSTOOD, OUT_OF_SCOPE, RE_ASKED, DROPPED_QUESTION, TOPIC_UNDONE = REASONS = (
    "not_understood",
    "out_of_scope",
    "re_asked",
    "dropped_question",
    "topic_undone",
)
REASON_LABELS: Dict[str, str] = {
    NOT_UNDERSTOOD: "not understood (fallback reply)",
    OUT_OF_SCOPE: "out of scope reply",
    RE_ASKED: "question asked again (reply not usable)",
    DROPPED_QUESTION: "question dropped",
    TOPIC_UNDONE: "topic switch undone by the parent",
}
TOPIC_UNDO_TURNS = 3  # a topic switch reverted within this many later messages was a misreading

NOT_UNDERSTOOD_ACTIONS = frozenset({"action_suggest_topic", "action_default_fallback", "utter_default"})
OUT_OF_SCOPE_ACTIONS = frozenset({"action_handle_out_of_scope", "utter_out_of_scope", "utter_out_of_scope_health"})
TROUBLE_ACTIONS = frozenset({"utter_technical_trouble"})
ADVICE_ACTIONS = frozenset({"action_give_advice"})
SILENT_ACTIONS = frozenset({"action_listen", "action_session_start"})
FORM_ACTION = "triage_form"
REQUESTED_SLOT = "requested_slot"
# The catalogue keys whose text opens a reply of each kind (matched in every language of the catalogue).
REPLY_KEYS: Dict[str, Tuple[str, ...]] = {
    NOT_UNDERSTOOD: ("conversation.default", "topics.suggest"),
    OUT_OF_SCOPE: ("out_of_scope.plain", "out_of_scope.health", "out_of_scope.during_questions"),
    RE_ASKED: ("triage.not_understood", "triage.unusable"),
    DROPPED_QUESTION: ("triage.gave_up",),
    "trouble": ("trouble.technical", "trouble.unread"),
}
# "no, I meant ...", "not that", "wrong topic", "go back": the parent undoing what the assistant took them to mean.
_UNDO = re.compile(
    r"^\W*(?:no+|nope|nah|not (?:that|this|what i)|wrong|i meant|i mean|i said|go back|back to|actually)\b"
    r"|\b(?:i meant|not what i (?:meant|asked|said)|wrong topic|go back to|back to (?:the|my))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Flag:
    """One misunderstood user message: why, which (0-based among the conversation's user messages), what, when."""

    reason: str
    turn: int
    text: str
    timestamp: Optional[float]


@dataclass
class _Turn:
    """One user message and what followed it, up to the next user message."""

    index: int
    text: str
    timestamp: Optional[float]
    requested: Optional[str]  # the form's pending question when the message came
    topic_before: Optional[str]
    topic_after: Optional[str] = None
    actions: List[str] = field(default_factory=list)
    replies: List[str] = field(default_factory=list)
    responses: List[str] = field(default_factory=list)  # utter_* names recorded with the replies
    slots: Dict[str, Any] = field(default_factory=dict)
    restarted: bool = False


@lru_cache(maxsize=1)
def _openings() -> Dict[str, FrozenSet[str]]:
    """The catalogue texts that open each kind of reply, in every language (loaded on first use)."""
    catalogue = get_catalogue()
    found: Dict[str, FrozenSet[str]] = {}
    for kind, keys in REPLY_KEYS.items():
        texts = {catalogue.text(key, language) for key in keys for language in catalogue.texts}
        found[kind] = frozenset(_normal(text) for text in texts if text.strip())
    return found


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def _reply_kinds(text: str) -> List[str]:
    """The kinds (REPLY_KEYS) whose catalogue text opens this bot message."""
    said = _normal(text)
    return [kind for kind, openings in _openings().items() if any(said.startswith(o) for o in openings)]


def _response_name(event: Mapping[str, Any]) -> Optional[str]:
    metadata = event.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    return clean_name(metadata.get("utter_action")) or clean_name(metadata.get("template_name"))


def _topic(value: Any) -> Optional[str]:
    return clean_name(value)


def _read_turns(events: Sequence[Any]) -> List[_Turn]:
    """Group the events by user message; events before the first message (the greeting, slots) set the scene."""
    turns: List[_Turn] = []
    topic: Optional[str] = None
    requested: Optional[str] = None
    for event in events if isinstance(events, (list, tuple)) else ():
        if not isinstance(event, Mapping):
            continue
        kind = event.get("event")
        if kind == "user":
            text = clean_text(event.get("text")) or ""
            turns.append(_Turn(len(turns), text, clean_timestamp(event.get("timestamp")), requested, topic, topic))
            continue
        if kind in ("restart", "session_started") or kind == "action" and event.get("name") == "action_restart":
            topic = requested = None
            if turns:
                turns[-1].restarted = turns[-1].restarted or kind != "session_started"
        elif kind == "slot":
            name = clean_name(event.get("name"))
            if name == TOPIC_SLOT:
                topic = _topic(event.get("value"))
            elif name == REQUESTED_SLOT:
                requested = clean_name(event.get("value"))
            if turns and name is not None:
                turns[-1].slots[name] = event.get("value")
        elif kind == "active_loop" and event.get("name") is None:
            requested = None
        if not turns:
            continue
        turns[-1].topic_after = topic
        if kind == "action":
            name = clean_name(event.get("name"), 255)
            if name:
                turns[-1].actions.append(name)
        elif kind == "bot":
            turns[-1].replies.append(clean_text(event.get("text")) or "")
            response = _response_name(event)
            if response:
                turns[-1].responses.append(response)
    return turns


def _used_by_form(turn: _Turn) -> bool:
    """Whether the triage form took the message as the answer to its pending question."""
    return turn.requested is not None and turn.slots.get(turn.requested) is not None


def _troubled(turn: _Turn, kinds: Sequence[str]) -> bool:
    return (
        "trouble" in kinds
        or bool(TROUBLE_ACTIONS & set(turn.actions + turn.responses))
        or turn.slots.get(ACTION_FAILED_SLOT) is not None
    )


def _turn_reasons(turn: _Turn) -> List[str]:
    """The reasons (other than topic_undone) to flag one turn, in REASONS order."""
    kinds = [kind for reply in turn.replies for kind in _reply_kinds(reply)]
    if _troubled(turn, kinds):
        return []
    done = set(turn.actions) | set(turn.responses)
    reasons = set()
    if OUT_OF_SCOPE in kinds or done & OUT_OF_SCOPE_ACTIONS:
        reasons.add(OUT_OF_SCOPE)
    if not _used_by_form(turn):
        if done & NOT_UNDERSTOOD_ACTIONS or (NOT_UNDERSTOOD in kinds and FORM_ACTION not in done):
            reasons.add(NOT_UNDERSTOOD)
        if RE_ASKED in kinds and NOT_UNDERSTOOD not in kinds and not done & NOT_UNDERSTOOD_ACTIONS:
            reasons.add(RE_ASKED)
    if DROPPED_QUESTION in kinds:
        reasons.add(DROPPED_QUESTION)
    if not turn.replies and turn.actions and not set(turn.actions) - SILENT_ACTIONS:
        reasons.add(DROPPED_QUESTION)  # the assistant listened again without doing anything with the message
    return [reason for reason in REASONS if reason in reasons]


def _advised(turns: Sequence[_Turn]) -> bool:
    return any(set(t.actions) & ADVICE_ACTIONS or t.slots.get(REFERRAL_SLOT) for t in turns)


def _undone(turns: Sequence[_Turn], i: int) -> bool:
    """Whether turn i's topic switch was undone by the parent soon after, before any advice on the new topic."""
    turn = turns[i]
    switched_to = turn.topic_after
    if switched_to is None or switched_to == turn.topic_before or turn.restarted or _advised([turn]):
        return False
    later = turns[i + 1 : i + 1 + TOPIC_UNDO_TURNS]
    if later and _UNDO.search(later[0].text) and later[0].topic_after != switched_to and not later[0].restarted:
        return True  # "no, I meant ..." right after the switch, and the topic changed again
    for j, after in enumerate(later):
        if after.restarted or (j and _advised(later[j - 1 : j])):
            return False
        if after.topic_after != switched_to:
            return turn.topic_before is not None and after.topic_after == turn.topic_before
    return False


def misunderstood_turns(events: Sequence[Mapping[str, Any]]) -> List[Flag]:
    """The user messages the assistant failed to handle, one Flag per message and reason, in conversation order."""
    turns = _read_turns(events)
    flags: List[Flag] = []
    for i, turn in enumerate(turns):
        reasons = _turn_reasons(turn)
        if _undone(turns, i):
            reasons.append(TOPIC_UNDONE)
        flags += [Flag(reason, turn.index, turn.text, turn.timestamp) for reason in reasons]
    return flags
