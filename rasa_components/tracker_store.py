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
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any, List, Optional, Set

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import SQLAlchemyError

from bot.privacy.redact import redact

logger = logging.getLogger(__name__)
UNSAVED_LIMIT = 10_000
RECENT_LIMIT = 1_000
STORED = "_caregiver_events_stored"  # set on trackers this store read: how many of their events are in the database


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose saved events pass through bot.privacy.redact, and which survives database outages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unsaved: OrderedDict[str, DialogueStateTracker] = OrderedDict()
        self._recent: OrderedDict[str, DialogueStateTracker] = OrderedDict()  # read only while the database is down
        self._unreadable: Set[str] = set()  # conversations that started afresh because the database was down

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The stored conversation, or the one this replica holds unsaved; raises while the database is down."""
        self._write_unsaved()
        if sender_id in self._unsaved:
            return _copy(self._unsaved[sender_id])
        try:
            tracker = await super().retrieve(sender_id)
        except SQLAlchemyError:
            if sender_id in self._recent:
                return _copy(self._recent[sender_id])
            self._unreadable.add(sender_id)
            raise
        if tracker is not None:
            setattr(tracker, STORED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events, redacted; keep them in memory when the database is down."""
        await self.stream_events(tracker)
        self._write_unsaved()
        if self._unsaved:  # still down: keep the order of writes
            self._keep(tracker)
            return
        try:
            self._write(tracker)
        except SQLAlchemyError as error:
            logger.warning("The tracker store is unavailable (%s); keeping the new events in memory.", type(error).__name__)
            self._keep(tracker)

    def _write(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            for event in self._new_events(session, tracker):
                data = redact(event.as_dict())
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        self._unreadable.discard(tracker.sender_id)
        setattr(tracker, STORED, len(tracker.events))
        _remember(self._recent, tracker, RECENT_LIMIT)

    def _new_events(self, session: Any, tracker: DialogueStateTracker) -> List[Event]:
        stored = getattr(tracker, STORED, None)
        if stored is None and tracker.sender_id in self._unreadable:
            stored = 0  # began afresh while the database was down: everything it holds is new
        if stored is None:
            return list(self._additional_events(session, tracker))
        return list(tracker.events)[stored:]

    def _keep(self, tracker: DialogueStateTracker) -> None:
        if _remember(self._unsaved, tracker, UNSAVED_LIMIT):
            logger.error("Too many conversations waiting for the tracker store: the oldest one's new events are lost.")

    def _write_unsaved(self) -> None:
        """Write the conversations kept during an outage, oldest first; stop at the first failure."""
        while self._unsaved:
            sender_id, tracker = next(iter(self._unsaved.items()))
            try:
                self._write(tracker)
            except SQLAlchemyError:
                return
            del self._unsaved[sender_id]
            logger.info("Wrote a conversation kept during a tracker-store outage (%d still waiting).", len(self._unsaved))


def _remember(trackers: OrderedDict[str, DialogueStateTracker], tracker: DialogueStateTracker, limit: int) -> bool:
    """Put tracker last in the bounded map; True when the oldest entry had to go."""
    trackers.pop(tracker.sender_id, None)
    trackers[tracker.sender_id] = tracker
    if len(trackers) <= limit:
        return False
    trackers.popitem(last=False)
    return True


def _copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    copied = tracker.copy()
    setattr(copied, STORED, getattr(tracker, STORED, 0))
    return copied
