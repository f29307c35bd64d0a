"""Rasa lock store: Rasa 3.6's Redis ticket lock, with every read-modify-write made atomic.

Rasa's RedisLockStore keeps a conversation's ticket queue as one JSON value and changes it by GET, change in
Python, SET (RasaHQ/rasa#9213). Two replicas taking a ticket for the same conversation at the same moment can both
read the same queue and write back the same ticket number, so both process a message at once; a replica finishing
can also write back a queue without a ticket another replica has just added, or delete the key while someone waits.
Here each change runs in a Redis transaction that watches the key (WATCH/MULTI/EXEC, retried when another replica
changed the key in between): same keys, same format, same ticket algorithm, so replicas running Rasa's own class
and this one read each other's locks. Chosen with LOCK_STORE_TYPE=redis (bot/settings.py maps it to this class).
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, List, Optional, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import RedisLockStore, _get_lock_lifetime
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
# A ticket lives this long past its holder's (or waiter's) last heartbeat: a replica that dies holding a
# conversation's ticket blocks its next message for at most this long. Heartbeats every third of it.
HEARTBEAT_LIFETIME = 10.0


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket changes are atomic across processes."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from endpoints.yml (`endpoint_config`: url = host, plus port, db, password, key_prefix...)
        or directly with RedisLockStore's keyword arguments."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T], create: bool = False) -> Optional[T]:
        """Apply `change` to the conversation's lock in one transaction; None when there is no lock (unless
        `create`). An emptied lock is deleted in the same transaction."""
        key = self.key_prefix + conversation_id
        outcome: List[Optional[T]] = []

        def attempt(pipe: Any) -> None:
            outcome.clear()
            stored = pipe.get(key)
            if stored is None and not create:
                return
            lock = TicketLock.from_dict(json.loads(stored)) if stored is not None else TicketLock(conversation_id)
            value = change(lock)
            pipe.multi()
            if lock.tickets or create:
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)
            outcome.append(value)

        self.red.transaction(attempt, key)
        return outcome[0] if outcome else None

    def issue_ticket(self, conversation_id: str, lock_lifetime: Optional[float] = None) -> int:
        """The next ticket, expired tickets removed first, in one transaction."""
        lifetime = _get_lock_lifetime() if lock_lifetime is None else lock_lifetime

        def take(lock: TicketLock) -> int:
            lock.remove_expired_tickets()
            return lock.issue_ticket(lifetime)

        ticket = self._change(conversation_id, take, create=True)
        assert ticket is not None  # create=True always applies the change
        return ticket

    def update_lock(self, conversation_id: str) -> None:
        """Remove expired tickets (Rasa calls it while waiting), atomically."""
        self._change(conversation_id, TicketLock.remove_expired_tickets)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove this ticket, atomically."""
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove this ticket, and the lock with it when no ticket is left, in the same transaction (Rasa checks
        "someone waiting?" and deletes in two steps, which can drop a ticket issued in between)."""
        self.finish_serving(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = HEARTBEAT_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock, with each ticket kept alive by a heartbeat while its message waits and is processed.

        Rasa gives a ticket a fixed lifetime (60 s): a replica killed while holding one blocks the conversation that
        long, and the next message's waiting ticket, issued a moment later, expires in the same second-long poll,
        which deletes the lock and fails that message with LockError. Here tickets live HEARTBEAT_LIFETIME past the
        last heartbeat: a dead replica's ticket is gone within it, and a live one's never expires."""
        lifetime = min(float(lock_lifetime), HEARTBEAT_LIFETIME)
        ticket = self.issue_ticket(conversation_id, lifetime)
        heartbeat = asyncio.ensure_future(self._heartbeat(conversation_id, ticket, lifetime))
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            heartbeat.cancel()
            self.cleanup(conversation_id, ticket)

    async def _heartbeat(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        """Push the ticket's expiry lifetime ahead, every third of it, until cancelled."""

        def extend(lock: TicketLock) -> None:
            for held in lock.tickets:
                if held.number == ticket:
                    held.expires = time.time() + lifetime

        while True:
            await asyncio.sleep(lifetime / 3)
            self._change(conversation_id, extend)
