"""Rasa's SQL tracker store, redacting personal identifiers before anything is written, and holding a
conversation's new events in memory while the database is unavailable.

endpoints.yml: tracker_store.type = rasa_components.tracker_store.RedactingSQLTrackerStore. The
conversation in memory keeps the original text for this turn (NLU and actions see it); what reaches
the database, and so the review dashboard and exports, has emails and phone/ID numbers replaced.
(An event broker, if one is ever configured, is fed by Rasa before this redaction: redact there too.)
`save` re-implements SQLTrackerStore.save on Rasa's private methods: listed, with why, in
rasa_components/adaptations.py (RELIANCES), pinned to Rasa 3.6.21 by tests/test_adaptations.py.

When the database is down (a PostgreSQL restart, a network cut), Rasa's own FailSafeTrackerStore would
answer a conversation it cannot read as a new one (an urgent referral forgotten mid-conversation), save
the turn in a throwaway in-memory store and, once the database is back, continue from the stored
conversation as if the turns in between had never happened. Here:
- the last RECENT_LIMIT conversations this replica wrote are remembered, so one that cannot be read carries
  on from where it was;
- a turn that cannot be written is kept (per conversation, at most UNSAVED_LIMIT conversations per replica)
  and written, in order, at the next read or write once the database answers again;
- a conversation this replica never saw starts afresh; its new events are appended after what is stored
  (Rasa reads them as a new session).

Every turn as cheap as the first: the last RECENT_LIMIT conversations this replica wrote are kept in memory cut to their
last `window_turns` user turns (rasa_components/tracker_window.py); reading one fetches only the events stored since
(another replica may have answered the turns in between: a query on the event id) and applies them. A conversation
read for the first time, or after a new session began elsewhere, is read whole once. Nothing stored is ever cut.
endpoints.yml passes `window_turns` (TRACKER_WINDOW_TURNS, bot/settings.py).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, List, Optional, Set, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.privacy.redact import redact
from rasa_components.tracker_window import window

logger = logging.getLogger(__name__)
T = TypeVar("T")
UNSAVED_LIMIT = 10_000
RECENT_LIMIT = 1_000
DEFAULT_WINDOW_TURNS = 8
STORED = "_caregiver_events_stored"  # set on trackers this store read: how many of their events are in the database
LAST_ID = "_caregiver_last_event_id"  # and the id of the last of those events


@dataclass
class Held:
    """A conversation as this replica last wrote or read it, cut to its window; never handed out (copies are)."""

    tracker: DialogueStateTracker
    last_id: int  # the id of its last stored event
    length: int  # len(tracker.events) then: another length means it changed without being saved


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose saved events pass through bot.privacy.redact, which reads each turn at the cost of the
    first, and which survives database outages."""

    def __init__(self, *args: Any, window_turns: Any = DEFAULT_WINDOW_TURNS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connections()
        self.window_turns = int(window_turns or DEFAULT_WINDOW_TURNS)
        self._unsaved: OrderedDict[str, DialogueStateTracker] = OrderedDict()
        self._recent: OrderedDict[str, Held] = OrderedDict()
        self._unreadable: Set[str] = set()  # conversations that started afresh because the database was down

    def _keep_sqlite_connections(self) -> None:
        """SQLite through a pool that keeps its connections (as SQLAlchemy 2 does for files; 1.4 opens and closes one
        per session, and closing the last connection to a write-ahead log checkpoints it: an fsync per turn), in
        write-ahead-log mode."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _sqlite_write_ahead_log)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The conversation's state and last turns, or the one this replica holds unsaved; raises while the
        database is down (unless this replica wrote the conversation recently)."""
        self._write_unsaved()
        if sender_id in self._unsaved:
            return _copy(self._unsaved[sender_id])
        try:
            held = _once_more_if_disconnected(lambda: self._read(sender_id))
        except SQLAlchemyError:
            if sender_id in self._recent:
                return _copy(self._recent[sender_id].tracker)
            self._unreadable.add(sender_id)
            raise
        return None if held is None else _copy(held.tracker)

    async def retrieve_whole_session(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """Every event of the current session, from the database (what the web chat shows a returning parent)."""
        parent = super()
        return await _read_once_more_if_disconnected(lambda: parent.retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        """Every event of every session (Rasa's HTTP API reads the tracker this way), from the database."""
        parent = super()
        return await _read_once_more_if_disconnected(lambda: parent.retrieve_full_tracker(conversation_id))

    def _read(self, sender_id: str) -> Optional[Held]:
        """The conversation from what this replica holds plus the events stored since, else read whole."""
        held = self._recent.get(sender_id)
        with self.session_scope() as session:
            if held is not None and len(held.tracker.events) == held.length:
                columns = (self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.data)
                rows = (
                    session.query(*columns)
                    .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id >= held.last_id)
                    .order_by(self.SQLEvent.id)
                    .all()
                )
                # The held events are still stored (not erased) and no new session began elsewhere: apply what is new.
                if rows and rows[0].id == held.last_id and all(r.type_name != SessionStarted.type_name for r in rows):
                    for row in rows[1:]:
                        held.tracker.update(Event.from_parameters(json.loads(row.data)))
                    return self._hold(held.tracker, rows[-1].id)
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            if not rows or not self.domain:
                self._recent.pop(sender_id, None)
                return None
            tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
            return self._hold(tracker, rows[-1].id)

    def _hold(self, tracker: DialogueStateTracker, last_id: int) -> Held:
        held = Held(window(tracker, self.window_turns), last_id, 0)
        held.length = len(held.tracker.events)
        setattr(held.tracker, STORED, held.length)
        setattr(held.tracker, LAST_ID, last_id)
        _remember(self._recent, tracker.sender_id, held, RECENT_LIMIT)
        return held

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events, redacted; keep them in memory when the database is down."""
        await self.stream_events(tracker)
        self._write_unsaved()
        if self._unsaved:  # still down: keep the order of writes
            self._keep(tracker)
            return
        try:
            _once_more_if_disconnected(lambda: self._write(tracker))
        except SQLAlchemyError as error:
            logger.warning("The tracker store is unavailable (%s); keeping the new events in memory.", type(error).__name__)
            self._keep(tracker)

    def _write(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            rows = [self._row(tracker.sender_id, event) for event in self._new_events(session, tracker)]
            session.add_all(rows)
            session.flush()  # gives the rows their ids
            last_id = max((row.id for row in rows), default=getattr(tracker, LAST_ID, None))
            session.commit()
        self._unreadable.discard(tracker.sender_id)
        setattr(tracker, STORED, len(tracker.events))
        if last_id is None:
            self._recent.pop(tracker.sender_id, None)  # read it whole next time
            return
        self._hold(tracker, last_id)

    def _row(self, sender_id: str, event: Event) -> Any:
        data = redact(event.as_dict())
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _new_events(self, session: Any, tracker: DialogueStateTracker) -> List[Event]:
        stored = getattr(tracker, STORED, None)
        if stored is None and tracker.sender_id in self._unreadable:
            stored = 0  # began afresh while the database was down: everything it holds is new
        if stored is None:
            return list(self._additional_events(session, tracker))
        return list(tracker.events)[stored:]

    def _keep(self, tracker: DialogueStateTracker) -> None:
        if _remember(self._unsaved, tracker.sender_id, tracker, UNSAVED_LIMIT):
            logger.error("Too many conversations waiting for the tracker store: the oldest one's new events are lost.")

    def _write_unsaved(self) -> None:
        """Write the conversations kept during an outage, oldest first; stop at the first failure."""
        while self._unsaved:
            sender_id, tracker = next(iter(self._unsaved.items()))
            try:
                _once_more_if_disconnected(lambda kept=tracker: self._write(kept))
            except SQLAlchemyError:
                return
            del self._unsaved[sender_id]
            logger.info("Wrote a conversation kept during a tracker-store outage (%d still waiting).", len(self._unsaved))


def _once_more_if_disconnected(work: Callable[[], T]) -> T:
    """Run `work`, and once more if it failed on a pooled connection the database had closed (a restart, a network
    cut): SQLAlchemy then discards the pool's connections, and the retry opens a fresh one. Without it, the first read
    after an outage fails and Rasa answers the parent as if the conversation were new."""
    try:
        return work()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        logger.info("The tracker store's connection had been closed; retrying on a new one.")
        return work()


async def _read_once_more_if_disconnected(read: Callable[[], Awaitable[T]]) -> T:
    """_once_more_if_disconnected for Rasa's own (async) reads."""
    try:
        return await read()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        logger.info("The tracker store's connection had been closed; retrying on a new one.")
        return await read()


def _sqlite_write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints: a turn's commit costs 0.06 ms instead of 7.9 ms of fsync
    in the event loop (measured here), readers (the dashboard) never block the writer, and a crash of the process loses
    nothing; only a power cut can lose the last turns written (use PostgreSQL where that matters)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _remember(entries: OrderedDict[str, Any], key: str, value: Any, limit: int) -> bool:
    """Put value last under key in the bounded map; True when the oldest entry had to go."""
    entries.pop(key, None)
    entries[key] = value
    if len(entries) <= limit:
        return False
    entries.popitem(last=False)
    return True


def _copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    copied = tracker.copy()
    for name in (STORED, LAST_ID):
        setattr(copied, name, getattr(tracker, name, 0 if name == STORED else None))
    return copied
