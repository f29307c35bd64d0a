"""The Redis ticket lock across replicas (rasa_components/lock_store.py), against the real Redis server: a
conversation's messages are processed one at a time and in the order their tickets were taken."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import List, Tuple

import pytest

from rasa_components.lock_store import AtomicRedisLockStore
from tests.databases import PG_HOST, REDIS_PORT, require

REPLICAS = 2
MESSAGES_PER_REPLICA = 15


@pytest.fixture
def stores() -> List[AtomicRedisLockStore]:
    """One lock store per simulated replica, each with its own Redis connection (db 3, a prefix per test)."""
    require("Redis")
    prefix = "locktest" + uuid.uuid4().hex[:8]
    return [AtomicRedisLockStore(host=PG_HOST, port=REDIS_PORT, db=3, key_prefix=prefix) for _ in range(REPLICAS)]


def _serve(store: AtomicRedisLockStore, conversation: str, name: str, log: List[Tuple[str, str]], guard: threading.Lock) -> None:
    """What a replica does per message: hold the conversation's lock while 'processing' it."""

    async def one() -> None:
        async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.001):
            with guard:
                log.append(("enter", name))
            time.sleep(0.002)  # processing, while the other replica's threads queue up
            with guard:
                log.append(("exit", name))

    asyncio.run(one())


def test_two_replicas_never_process_one_conversation_at_the_same_time(stores: List[AtomicRedisLockStore]) -> None:
    conversation, log, guard = "parent-" + uuid.uuid4().hex, [], threading.Lock()
    threads = [
        threading.Thread(target=_serve, args=(store, conversation, f"r{r}-m{m}", log, guard))
        for m in range(MESSAGES_PER_REPLICA)
        for r, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(log) == 2 * REPLICAS * MESSAGES_PER_REPLICA, "every message was processed"
    for position in range(0, len(log), 2):  # strictly enter, exit of the same message, one after the other
        assert log[position][0] == "enter" and log[position + 1] == ("exit", log[position][1]), log[position : position + 2]
    assert stores[0].get_lock(conversation) is None, "the last holder removed the lock"


def test_tickets_taken_at_the_same_moment_are_all_different(stores: List[AtomicRedisLockStore]) -> None:
    conversation, tickets, guard = "parent-" + uuid.uuid4().hex, [], threading.Lock()
    start = threading.Barrier(REPLICAS * MESSAGES_PER_REPLICA)

    def take(store: AtomicRedisLockStore) -> None:
        start.wait()
        ticket = store.issue_ticket(conversation, 30)
        with guard:
            tickets.append(ticket)

    threads = [threading.Thread(target=take, args=(store,)) for _ in range(MESSAGES_PER_REPLICA) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(tickets) == list(range(len(threads))), "one ticket each, none issued twice, none lost"
    lock = stores[1].get_lock(conversation)
    assert lock is not None and [t.number for t in lock.tickets] == list(range(len(threads)))
    for ticket in tickets:  # finishing in any order leaves the others' tickets alone, then removes the lock
        stores[ticket % REPLICAS].cleanup(conversation, ticket)
    assert stores[0].get_lock(conversation) is None


def test_an_expired_ticket_does_not_block_the_next_message(stores: List[AtomicRedisLockStore]) -> None:
    conversation = "parent-" + uuid.uuid4().hex
    stores[0].issue_ticket(conversation, 0.05)  # a replica that died while holding the lock
    time.sleep(0.1)
    ticket = stores[1].issue_ticket(conversation, 30)
    lock = stores[1].get_lock(conversation)
    assert lock is not None and [t.number for t in lock.tickets] == [ticket] and not lock.is_locked(ticket)
    stores[1].cleanup(conversation, ticket)
    assert stores[1].get_lock(conversation) is None


@pytest.mark.parametrize("resent_after", [0.1, 0.5, 0.9])
async def test_a_replica_killed_holding_a_conversation_blocks_its_next_message_only_briefly(
    stores: List[AtomicRedisLockStore], resent_after: float
) -> None:
    conversation = "parent-" + uuid.uuid4().hex
    stores[0].issue_ticket(conversation, 2)  # the killed replica's ticket: never served, never removed, no heartbeat
    await asyncio.sleep(resent_after)  # the balancer resends the message to the other replica
    started = time.monotonic()
    async with stores[1].lock(conversation, lock_lifetime=2, wait_time_in_seconds=0.2) as lock:
        waited = time.monotonic() - started
        assert len(lock.tickets) == 1  # the dead ticket expired; this message's own ticket did not
    assert waited < 3, "Rasa's lock lost the waiting ticket in the same poll (LockError) or waited 60 s"
    assert stores[1].get_lock(conversation) is None


async def test_a_message_processed_longer_than_the_ticket_lifetime_keeps_its_ticket(stores: List[AtomicRedisLockStore]) -> None:
    conversation = "parent-" + uuid.uuid4().hex
    async with stores[0].lock(conversation, lock_lifetime=0.6, wait_time_in_seconds=0.05):
        await asyncio.sleep(1.5)  # a slow turn: the heartbeat keeps the ticket alive
        lock = stores[1].get_lock(conversation)
        assert lock is not None and len(lock.tickets) == 1
        waiting = asyncio.ensure_future(_hold_briefly(stores[1], conversation))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the next message waits for this one"
    await asyncio.wait_for(waiting, 5)


async def _hold_briefly(store: AtomicRedisLockStore, conversation: str) -> None:
    async with store.lock(conversation, lock_lifetime=0.6, wait_time_in_seconds=0.05):
        pass


def test_rasa_builds_it_from_endpoints_yml() -> None:
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    from bot.serve import service_env

    require("Redis")
    assert service_env({"LOCK_STORE_TYPE": "redis"})["LOCK_STORE_TYPE"] == "rasa_components.lock_store.AtomicRedisLockStore"
    config = EndpointConfig(url=PG_HOST, type="rasa_components.lock_store.AtomicRedisLockStore", port=REDIS_PORT, db=3)
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore) and store.red.ping()
