"""`make load`: what the tracker store itself holds after a load run, against what the simulated parents sent.

Read with SQL from the `events` table of Rasa's SQLTrackerStore (SQLite file or PostgreSQL), never through Rasa's
HTTP API: a replica may answer from a cache. Per conversation, every message a parent sent with success must be
stored exactly once and in the order sent. A message that failed (HTTP error, timeout, no reply) may or may not
have been stored; it is neither lost nor duplicated either way.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Sequence, Tuple

import sqlalchemy as sa

CHUNK = 500  # sender ids per query


@dataclass
class Sent:
    """The messages a parent sent in one conversation, in order, and whether each one got its reply."""

    texts: List[str] = field(default_factory=list)
    ok: List[bool] = field(default_factory=list)

    def add(self, text: str, ok: bool) -> None:
        """Record one sent message."""
        self.texts.append(text)
        self.ok.append(ok)


@dataclass(frozen=True)
class StoreCheck:
    """Totals over the conversations checked."""

    conversations: int = 0
    sent: int = 0
    stored: int = 0
    lost: int = 0  # sent with success, not stored
    duplicated: int = 0  # stored more often than sent
    reordered: int = 0  # conversations stored complete but in another order than sent
    flagged: Tuple[str, ...] = ()  # what went wrong, one line per conversation with a problem

    def __add__(self, other: StoreCheck) -> StoreCheck:
        counts = (a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True))
        return StoreCheck(*counts, flagged=self.flagged + other.flagged)

    def as_tuple(self) -> tuple[int, ...]:
        """The counts, in field order."""
        return (self.conversations, self.sent, self.stored, self.lost, self.duplicated, self.reordered)


def is_subsequence(part: Sequence[str], whole: Sequence[str]) -> bool:
    """Whether `part` is `whole` with some items left out (order kept)."""
    items = iter(whole)
    return all(any(text == candidate for candidate in items) for text in part)


def check_conversation(sent: Sent, stored: Sequence[str]) -> StoreCheck:
    """Compare one conversation's stored user messages with what was sent."""
    stored_count, ok_count, sent_count = Counter(stored), Counter(), Counter(sent.texts)
    ok_count.update(text for text, ok in zip(sent.texts, sent.ok, strict=True) if ok)
    lost = sum(max(0, n - stored_count[text]) for text, n in ok_count.items())
    duplicated = sum(max(0, n - sent_count[text]) for text, n in stored_count.items())
    reordered = int(not lost and not duplicated and not is_subsequence(stored, sent.texts))
    flagged: Tuple[str, ...] = ()
    if lost or duplicated or reordered:
        failed = sum(1 for ok in sent.ok if not ok)
        flagged = (f"sent {sent.texts} ({failed} without their reply), stored {list(stored)}",)
    return StoreCheck(1, len(sent.texts), len(stored), lost, duplicated, reordered, flagged)


def stored_user_texts(url: str, senders: Iterable[str]) -> Dict[str, List[str]]:
    """Each sender's user messages as the tracker store holds them, in insertion order."""
    wanted = sorted(set(senders))
    found: Dict[str, List[str]] = {sender: [] for sender in wanted}
    query = sa.text(
        "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id IN :senders ORDER BY id"
    ).bindparams(sa.bindparam("senders", expanding=True))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            for start in range(0, len(wanted), CHUNK):
                for sender, data in connection.execute(query, {"senders": wanted[start : start + CHUNK]}):
                    found[sender].append(json.loads(data).get("text") or "")
    finally:
        engine.dispose()
    return found


def check_store(url: str, conversations: Dict[str, Sent]) -> StoreCheck:
    """Check every conversation against the tracker store at `url` (an SQLAlchemy URL)."""
    stored = stored_user_texts(url, conversations)
    total = StoreCheck()
    for sender, sent in conversations.items():
        check = check_conversation(sent, stored.get(sender, []))
        total = total + replace(check, flagged=tuple(f"conversation {sender}: {line}" for line in check.flagged))
    return total
