"""Rasa's SQL tracker store, redacting personal identifiers before anything is written.

endpoints.yml: tracker_store.type = rasa_components.tracker_store.RedactingSQLTrackerStore. The
conversation in memory keeps the original text for this turn (NLU and actions see it); what reaches
the database, and so the review dashboard and exports, has emails and phone/ID numbers replaced.
(An event broker, if one is ever configured, is fed by Rasa before this redaction: redact there too.)
"""

from __future__ import annotations

import json
import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy.redact import redact

logger = logging.getLogger(__name__)


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose saved events pass through bot.privacy.redact."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events, redacted (same rows as SQLTrackerStore.save writes)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
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
