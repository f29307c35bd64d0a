"""A conversation's tracker cut to its last few turns, so that a turn costs the same at message 200 as at message 5.

Rasa's per-message work walks the whole tracker several times: rebuilding it from the store, copying it before each
action (`tracker.copy()` replays every event), the policies' state history, the action server's payload. Every decision
the assistant takes depends only on the current state (slots, the active form) and the last few turns (the policies
look back at most `max_history` actions; "say that again" and `/back` at most two turns). So the tracker Rasa works on
is the conversation's state where the window starts, written as a session start that carries it (the events Rasa
itself writes when a session starts with slots carried over), followed by the last `turns` user turns as they happened
(more when the policies' view reaches further back, see _cut):

    action_session_start, session_started, slot=value ..., active_loop, [loop rejected] | action_listen, user, ... (last turns)

The stored conversation is never cut: the tracker store appends the new events after the window, and the dashboard,
exports and `retrieve_full_tracker` read every event. Used by rasa_components/tracker_store.py.
"""

from __future__ import annotations

from typing import List

from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

SEEN_TURNS = 1  # the message behind the latest states the policies see (MemoizationPolicy max_history 4)


def window(tracker: DialogueStateTracker, turns: int) -> DialogueStateTracker:
    """The tracker itself when it holds at most `turns` user turns, else its state plus its last `turns` user turns."""
    events = list(tracker.events)
    cut = _cut(tracker, events, turns)
    if cut <= 0:
        return tracker
    slots = list(tracker.slots.values())
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], slots=slots)
    windowed = DialogueStateTracker.from_events(tracker.sender_id, state_events(before) + events[cut:], slots=slots)
    windowed.model_id = tracker.model_id
    return windowed


def _cut(tracker: DialogueStateTracker, events: List[Event], turns: int) -> int:
    """Where the window starts: at the action before the `turns`-th last user message, or before the last
    SEEN_TURNS messages the policies see if that is earlier (0: no cut needed)."""
    users = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    if turns < 1 or len(users) <= turns:
        return 0
    first = users[-turns]
    # Rasa folds a form's uninterrupted turns into the message that started the form (applied_events): the policies'
    # latest states may show that message instead of the latest ones, so the window must hold it too.
    seen = [e for e in tracker.applied_events() if isinstance(e, UserUttered)][-SEEN_TURNS:]
    if seen:
        first = min(first, next(i for i in users if events[i] is seen[0]))
    for i in range(first - 1, -1, -1):
        if isinstance(events[i], ActionExecuted):
            return i  # the action_listen that waited for that message starts the window
        if isinstance(events[i], UserUttered):
            break
    return first


def state_events(tracker: DialogueStateTracker) -> List[Event]:
    """Events that recreate the tracker's state: a session start carrying its slots and its active form."""
    when = tracker.events[-1].timestamp if tracker.events else None
    events: List[Event] = [ActionExecuted(ACTION_SESSION_START_NAME, timestamp=when), SessionStarted(timestamp=when)]
    events += [SlotSet(name, slot.value, timestamp=when) for name, slot in tracker.slots.items() if slot.has_been_set]
    loop = tracker.active_loop
    if loop is not None and loop.name:
        events.append(ActiveLoop(loop.name, timestamp=when))
        if loop.rejected:
            events.append(ActionExecutionRejected(loop.name, timestamp=when))
    return events
