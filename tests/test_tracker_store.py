"""The tracker store holds each conversation cut to its last turns and reads only what is new: a turn costs the same at
message 200 as at message 5, nothing stored is cut, and what Rasa decides from the tracker is unchanged.

rasa_components/tracker_window.py and rasa_components/tracker_store.py, on real SQLite and PostgreSQL databases.
(That the assistant answers the same with a window of one turn as with none, turn by turn over long conversations, is
`make load`'s length check and tests/tools/window_check.py; here, the mechanics.)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_components.tracker_store import RedactingSQLTrackerStore
from rasa_components.tracker_window import window
from tests.databases import postgres_database

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, inform, affirm, deny, ask_late_walking]
slots:
  topic: {type: text, influence_conversation: true, mappings: [{type: custom}]}
  referral: {type: categorical, values: [none, provider, urgent], influence_conversation: true, mappings: [{type: custom}]}
  age_months: {type: float, influence_conversation: false, mappings: [{type: custom}]}
  advice_rules: {type: list, influence_conversation: false, mappings: [{type: custom}]}
  hips_checked: {type: any, influence_conversation: false, mappings: [{type: custom}]}
responses:
  utter_greet: [{text: "Hello"}]
  utter_ask_more: [{text: "Anything else?"}]
actions: [action_give_advice]
forms:
  triage_form: {required_slots: []}
"""
)


RUN = 6  # turns per form run


def user(text: str, intent: str = "inform") -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 1.0})


def turn(n: int) -> List[Event]:
    """One user turn as Rasa writes it: the message, the form asking, back to listening; every RUN-th turn the parent
    asks about something else and the form starts again."""
    if n % RUN == 0:
        return [
            user(f"question {n}", "ask_late_walking"),
            ActionExecuted("action_deactivate_loop"),
            ActiveLoop(None),
            ActionExecuted("triage_form"),
            ActiveLoop("triage_form"),
            SlotSet("requested_slot", "question_0"),
            BotUttered(f"question {n}"),
            ActionExecuted("action_listen"),
        ]
    return [
        user(f"answer {n}", "affirm" if n % 2 else "deny"),
        ActionExecuted("triage_form"),
        SlotSet("age_months", float(n)),
        SlotSet("requested_slot", f"question_{n % 3}"),
        BotUttered(f"question {n}"),
        ActionExecuted("action_listen"),
    ]


def conversation(turns: int) -> List[Event]:
    start: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    opening: List[Event] = [
        user("my 13 month old is not walking", "ask_late_walking"),
        SlotSet("topic", "late_walking"),
        ActionExecuted("triage_form"),
        ActiveLoop("triage_form"),
        SlotSet("hips_checked", None),  # set to nothing: has_been_set, which rules can see
        SlotSet("requested_slot", "question_0"),
        ActionExecuted("action_listen"),
    ]
    return start + opening + [event for n in range(1, turns) for event in turn(n)]


def tracker_of(events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("parent", events, slots=DOMAIN.slots)


def users(tracker: DialogueStateTracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def loop_state(tracker: DialogueStateTracker) -> Tuple[Any, ...]:
    """The active form as Rasa and rasa-sdk 3.6 read it (its trigger_message is kept but read by neither)."""
    loop = tracker.active_loop
    return (loop.name, loop.is_interrupted, loop.rejected) if loop else (None,)


def window_part(tracker: DialogueStateTracker) -> List[Event]:
    """The events after the state a cut tracker starts with (its first action after session_started)."""
    events = list(tracker.events)
    start = next(i for i, e in enumerate(events) if isinstance(e, SessionStarted))
    return events[next(i for i in range(start, len(events)) if isinstance(events[i], ActionExecuted)) :]


def test_a_short_conversation_is_not_cut() -> None:
    tracker = tracker_of(conversation(5))
    assert window(tracker, 8) is tracker


@pytest.mark.parametrize("turns", [1, 2, 3, 8])
def test_the_window_keeps_the_state_and_exactly_the_last_turns(turns: int) -> None:
    full = tracker_of(conversation(40 + turns))
    cut = window(full, turns)
    assert users(cut)[-turns:] == users(full)[-turns:]
    assert cut.current_slot_values() == full.current_slot_values()
    assert {n for n, s in cut.slots.items() if s.has_been_set} == {n for n, s in full.slots.items() if s.has_been_set}
    assert loop_state(cut) == loop_state(full) == ("triage_form", False, False)
    assert cut.latest_message == full.latest_message and cut.latest_action == full.latest_action
    turns_kept = window_part(cut)
    assert len(turns_kept) > 3 and turns_kept == list(full.events)[-len(turns_kept) :]  # the turns, as they were
    # What the policies see (at most 4 states back) is the same, although Rasa folds a form's uninterrupted turns into
    # the message that started the form: the window reaches back to it.
    states, cut_states = full.past_states(DOMAIN), cut.past_states(DOMAIN)
    assert cut_states[-4:] == states[-4:]
    assert len(users(cut)) <= max(turns, RUN + 1)


def test_a_rejected_form_and_a_restart_before_the_cut_are_carried() -> None:
    aside: List[Event] = [user("thanks", "greet"), ActionExecuted("utter_ask_more"), ActionExecuted("action_listen")]
    full = tracker_of(conversation(10) + [ActionExecutionRejected("triage_form")] + aside * 4)
    cut = window(full, 2)
    assert loop_state(cut) == loop_state(full) == ("triage_form", False, True)
    restarted = tracker_of(conversation(10) + [Restarted(), ActionExecuted("action_listen")] + aside * 3)
    cut = window(restarted, 1)
    assert cut.current_slot_values() == restarted.current_slot_values()
    assert cut.active_loop_name is None and cut.get_slot("topic") is None


# ---- the store, on real databases ----


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tuple[str, str]]:
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    with postgres_database("caregiver_window") as url:
        yield "postgresql", url


def store_on(database: Tuple[str, str], turns: int = 3) -> RedactingSQLTrackerStore:
    dialect, url = database
    return RedactingSQLTrackerStore(domain=DOMAIN, dialect=dialect, host=url, window_turns=str(turns))


def stored(database: Tuple[str, str], sender: str = "parent") -> List[dict]:
    engine = sa.create_engine(database[1])
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})
        events = [json.loads(row[0]) for row in rows]
    engine.dispose()
    return events


def talk(store: RedactingSQLTrackerStore, sender: str, n: int) -> DialogueStateTracker:
    """What Rasa does for one message: read the conversation, add the turn, save it."""
    tracker = asyncio.run(store.retrieve(sender))
    if tracker is None:
        tracker = DialogueStateTracker.from_events(sender, conversation(1), slots=DOMAIN.slots)
    for event in turn(n):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    return tracker


def test_every_event_is_stored_once_and_in_order_while_rasa_sees_a_bounded_tracker(database: Tuple[str, str]) -> None:
    store = store_on(database, turns=3)
    sizes = [len(talk(store, "parent", n).events) for n in range(1, 61)]
    expected = [e.as_dict() for e in conversation(61)]
    got = stored(database)
    assert [(e["event"], e.get("text"), e.get("name"), e.get("value")) for e in got] == [
        (e["event"], e.get("text"), e.get("name"), e.get("value")) for e in expected
    ]
    assert max(sizes[24:]) <= max(sizes[:24])  # turns 25-60 work on no more events than turns 1-24
    tracker = asyncio.run(store.retrieve("parent"))
    assert tracker is not None and tracker.get_slot("age_months") == 59.0 and tracker.active_loop_name == "triage_form"
    assert users(tracker) == ["answer 58", "answer 59", "question 60"]


def test_two_replicas_taking_turns_each_see_the_others_turns(database: Tuple[str, str]) -> None:
    first, second = store_on(database), store_on(database)
    for n in range(1, 21):
        talk(first if n % 2 else second, "parent", n)
    assert len(stored(database)) == len(conversation(21))
    for replica in (first, second):
        tracker = asyncio.run(replica.retrieve("parent"))
        assert tracker is not None and tracker.get_slot("age_months") == 20.0
        assert users(tracker) == ["question 18", "answer 19", "answer 20"]


def test_an_erased_conversation_is_not_brought_back_from_memory(database: Tuple[str, str]) -> None:
    store = store_on(database)
    for n in range(1, 6):
        talk(store, "parent", n)
    engine = sa.create_engine(database[1])
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'parent'"))
    engine.dispose()
    assert asyncio.run(store.retrieve("parent")) is None
    talk(store, "parent", 1)
    assert len(stored(database)) == len(conversation(2))


def test_a_new_session_written_by_another_replica_is_read_whole(database: Tuple[str, str]) -> None:
    first, second = store_on(database), store_on(database)
    for n in range(1, 6):
        talk(first, "parent", n)
    tracker = asyncio.run(second.retrieve("parent"))
    assert tracker is not None
    for event in [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("topic", "bottom_shuffling")]:
        tracker.update(event)
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(second.save(tracker))
    again = asyncio.run(first.retrieve("parent"))
    assert again is not None and again.get_slot("topic") == "bottom_shuffling" and again.get_slot("age_months") is None


def test_a_turn_that_was_never_saved_is_not_served_from_memory(database: Tuple[str, str]) -> None:
    store = store_on(database)
    tracker: Any = None
    for n in range(1, 4):
        tracker = talk(store, "parent", n)
    tracker.update(user("never saved"))  # the object Rasa saved, changed afterwards without a save
    again = asyncio.run(store.retrieve("parent"))
    assert again is not None and "never saved" not in users(again)


def test_sqlite_is_written_ahead_so_a_turn_does_not_wait_for_the_disk(tmp_path: Path) -> None:
    database = ("sqlite", f"sqlite:///{tmp_path / 'tracker.db'}")
    store = store_on(database)
    talk(store, "parent", 1)
    with store.engine.connect() as connection:
        modes = [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous")]
    assert modes == ["wal", 1]  # 1 = NORMAL: synced at checkpoints, not at every commit
    assert store.engine.pool.checkedin() >= 1  # the connection stays open for the next turn
    assert len(stored(database)) == len(conversation(2))


def test_after_a_database_outage_a_replica_reads_the_conversation_not_a_new_one() -> None:
    """The other replica's pooled connection was closed by the outage: its first read must not fail (Rasa would
    answer the parent as a new conversation and append a new session to the stored one)."""
    from tests.databases import PG_HOST, PG_PORT
    from tests.proxy import CuttableProxy

    with postgres_database("caregiver_outage") as url:
        proxy = CuttableProxy(PG_HOST, PG_PORT)
        try:
            through = url.replace(f":{PG_PORT}/", f":{proxy.port}/")
            serving, other, api = (store_on(("postgresql", through)) for _ in range(3))
            for n in range(1, 5):
                talk(serving, "parent", n)
            proxy.cut()
            proxy.restore()
            tracker = asyncio.run(other.retrieve("parent"))
            assert tracker is not None and tracker.get_slot("age_months") == 4.0
            whole = asyncio.run(api.retrieve_full_tracker("parent"))  # how Rasa's HTTP API reads it
            assert whole is not None and whole.get_slot("age_months") == 4.0
            assert len(stored(("postgresql", url))) == len(conversation(5))
        finally:
            proxy.close()
