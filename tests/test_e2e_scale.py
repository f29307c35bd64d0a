"""At scale: `RASA_REPLICAS=2` as `make run` runs it (the launcher, conftest `replica_stack`): two Rasa replicas, each
with its own action server, behind HAProxy with configs/haproxy.cfg, sharing a PostgreSQL tracker store and a Redis
lock store.

Uses the real servers at 127.0.0.1:5432 (database `test`, user root, trust auth) and 127.0.0.1:6379, reached
through forwarders the tests can cut (tests/proxy.py), so "PostgreSQL is down" and "Redis is down" are real
outages for the replicas without stopping servers other tests share. Messages go through the balancer, except in
the outage tests, which address one replica (its own port on 127.0.0.1).
Skipped with a reason only when they are unreachable and CI is not set; with CI=true they must run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest
import websockets

from bot.channels.inbound import technical_trouble_notice
from bot.serve import BIN
from bot.settings import PROJECT_ROOT
from tests.databases import require
from tests.proxy import CuttableProxy
from tests.review_server import Client
from tests.servers import TOKEN, BalancedStack, Chat
from tests.test_webchat_channel import SocketChat


@pytest.fixture(scope="module")
def database(scale_database: Optional[str]) -> str:
    """The replicas' fresh PostgreSQL database (conftest), dropped after the session."""
    require("PostgreSQL", "Redis")
    assert scale_database
    return scale_database


@pytest.fixture(scope="module")
def replicas(database: str, replica_stack: BalancedStack) -> BalancedStack:
    """The session's two replicas behind the balancer (conftest) on that database, through the `outages` forwarders."""
    return replica_stack.ensure_running()


def more_served(replicas: BalancedStack, before: Dict[str, int]) -> Dict[str, int]:
    """Requests the balancer sent to each replica since `before`."""
    return {name: count - before.get(name, 0) for name, count in replicas.served().items()}


def test_conversation_alternating_between_replicas(replicas: BalancedStack, database: str) -> None:
    before = replicas.served()
    parent = Chat(replicas)  # through the balancer: round robin sends each message to the other replica
    parent.says("my 19 month old isn't walking yet")
    parent.says("no, born on time")
    parent.says("yes")
    parent.says("about 10 secs")
    parent.says("yes")
    parent.says("not sure")  # hips examined
    parent.says("no")  # breech
    advice = parent.says("no")  # hip problems in the family
    assert "Sources" in advice
    slots = parent.slots()
    assert slots["topic"] == "late_walking" and slots["referral"] == "provider"
    served = more_served(replicas, before)  # 9 requests, nothing else running on this stack
    assert served["replica1"] >= 4 and served["replica2"] >= 4, served

    import psycopg2

    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events WHERE sender_id = %s", (parent.sender,))
        assert cursor.fetchone()[0] > 20  # the whole conversation is in PostgreSQL


def test_red_flag_on_a_replica(replicas: BalancedStack) -> None:
    parent = Chat(replicas)
    parent.says("she scoots on her bottom")
    assert "call your local emergency number now" in parent.says("she's having a seizure")
    assert parent.slots()["referral"] == "urgent"


def test_identifiers_never_reach_postgresql(replicas: BalancedStack, database: str) -> None:
    parent = Chat(replicas)
    parent.says("she scoots on her bottom, reach me on +1 (555) 123-4567 or mum@example.com")
    import psycopg2

    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT string_agg(data, ' ') FROM events WHERE sender_id = %s", (parent.sender,))
        stored = cursor.fetchone()[0]
    assert "[email]" in stored and "[number]" in stored
    assert "mum@example.com" not in stored and "123-4567" not in stored


def say_to(replicas: BalancedStack, replica: int, sender: str, text: str) -> str:
    """One message to one replica (an outage keeps a conversation on the replica that holds it)."""
    url = f"http://127.0.0.1:{replicas.rasa_ports[replica]}/webhooks/rest/webhook"
    response = httpx.post(url, params={"token": TOKEN}, json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.status_code
    replies = response.json()
    assert replies, f"no reply to {text!r}"
    return "\n".join(r.get("text", "") for r in replies)


def stored_texts(database: str, sender: str) -> List[str]:
    import psycopg2

    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id", (sender,))
        return [json.loads(row[0])["text"] for row in cursor.fetchall()]


def test_redis_down_gets_a_clear_reply_and_loses_nothing(
    replicas: BalancedStack, database: str, outages: Dict[str, CuttableProxy]
) -> None:
    sender = "parent-redis-outage"
    say_to(replicas, 0, sender, "my 19 month old isn't walking yet")
    outages["redis"].cut()
    try:
        for text in ("no, born on time", "my baby is having a seizure"):
            reply = say_to(replicas, 1, sender, text)
            assert "emergency number" in reply and "try again" in reply.lower()
    finally:
        outages["redis"].restore()
    assert "stand" in say_to(replicas, 1, sender, "no, born on time").lower()  # carries on where it was
    assert stored_texts(database, sender) == ["my 19 month old isn't walking yet", "no, born on time"]


def test_postgres_down_keeps_the_conversation_and_writes_it_once_back(
    replicas: BalancedStack, database: str, outages: Dict[str, CuttableProxy]
) -> None:
    sender = "parent-postgres-outage"
    said = ["my 19 month old isn't walking yet"]
    say_to(replicas, 0, sender, said[0])
    outages["postgres"].cut()
    try:
        for text in ("no, born on time", "yes", "about 10 secs"):
            reply = say_to(replicas, 0, sender, text)  # the replica that holds the conversation carries on
            said.append(text)
            assert "technical" not in reply.lower()
        assert "call your local emergency number now" in say_to(replicas, 0, sender, "she's having a seizure")
        said.append("she's having a seizure")
    finally:
        outages["postgres"].restore()
    said.append("thanks")
    say_to(replicas, 0, sender, "thanks")  # the first write after the outage writes the kept turns first
    assert stored_texts(database, sender) == said
    slots = httpx.get(f"{replicas.rasa_url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30).json()["slots"]
    assert slots["referral"] == "urgent" and slots["topic"] == "late_walking"


def more_served_on(replicas: BalancedStack, before: Dict[str, int], backend: str) -> Dict[str, int]:
    return {name: count - before.get(name, 0) for name, count in replicas.served(backend).items()}


# ------------------------------------------------------------------ the channels through the balancer


async def test_socketio_polling_through_the_balancer_keeps_each_session_on_its_replica(replicas: BalancedStack) -> None:
    # engine.io long polling is many requests per session: without stickiness they would reach the other replica,
    # which does not know the session. Two sessions in a row start on different replicas (round robin), and the
    # second resumes the first's conversation: both replicas sign and check widget sessions with the same secret.
    before = replicas.served("socketio")
    first = SocketChat(replicas)  # python-socketio, transports=["polling"], the demo page's origin
    state = await first.start()
    assert state["resumed"] is False
    ack, replies = await first.say("my 10 month old crawls backwards")
    assert ack == {"ok": True} and any("born early" in r for r in replies)
    await first.stop()
    again = SocketChat(replicas)
    resumed = await again.start({"session_id": state["session_id"], "session_token": state["session_token"]})
    assert resumed["resumed"] is True and resumed["history"]
    ack, replies = await again.say("no, she was born on time")
    assert ack == {"ok": True} and replies
    await again.stop()
    served = more_served_on(replicas, before, "socketio")
    assert served["replica1"] >= 1 and served["replica2"] >= 1, served


async def websocket_turn(replicas: BalancedStack, text: str) -> Tuple[Dict[str, Any], Any, List[str]]:
    """One widget session over a WebSocket opened directly (engine.io 4 / socket.io 5 packets, as a browser sends
    them): session_request, then one message with an ack. Returns the session state, the ack and the replies."""
    url = replicas.rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, origin=replicas.web_url) as socket:

        async def packet() -> str:
            while True:
                received = str(await asyncio.wait_for(socket.recv(), 60))
                if received != "2":  # engine.io ping
                    return received
                await socket.send("3")

        assert (await packet()).startswith("0{")  # engine.io open
        await socket.send("40")  # socket.io connect, default namespace
        assert (await packet()).startswith("40")
        await socket.send('42["session_request",{}]')
        name, state = "", None
        while name != "session_state":  # (session_confirm comes first)
            name, state = json.loads((await packet())[2:])
        await socket.send("420" + json.dumps(["user_uttered", {"message": text, "client_id": uuid.uuid4().hex}]))
        replies: List[str] = []
        while True:
            received = await packet()
            if received.startswith("430"):  # the ack of message 0
                return state, json.loads(received[3:])[0], replies
            if received.startswith("42"):
                name, data = json.loads(received[2:])
                if name == "bot_uttered":
                    replies.append(data.get("text", ""))


async def test_socketio_over_websocket_through_the_balancer(replicas: BalancedStack) -> None:
    state, ack, replies = await websocket_turn(replicas, "my 10 month old crawls backwards")
    assert len(state["session_id"]) == 32 and state["history"] == []
    assert ack == {"ok": True} and any("born early" in r for r in replies)


def test_rest_and_the_http_api_through_the_balancer(replicas: BalancedStack) -> None:
    url, sender = replicas.rasa_url, f"parent-{uuid.uuid4().hex[:12]}"
    message = {"sender": sender, "message": "she scoots on her bottom"}
    assert httpx.post(f"{url}/webhooks/rest/webhook", json=message, timeout=60).status_code in (401, 403)
    assert httpx.get(f"{url}/status", timeout=30).status_code in (401, 403)
    before = replicas.served()
    replies = httpx.post(f"{url}/webhooks/rest/webhook", params={"token": TOKEN}, json=message, timeout=60)
    assert replies.status_code == 200 and replies.json()
    for _ in range(2):  # the HTTP API on both replicas: the same model, the same shared conversation
        status = httpx.get(f"{url}/status", params={"token": TOKEN}, timeout=30)
        assert status.status_code == 200 and status.json()["model_file"]
        tracker = httpx.get(f"{url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30).json()
        assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["she scoots on her bottom"]
    served = more_served(replicas, before)
    assert served["replica1"] >= 2 and served["replica2"] >= 2, served


def test_the_dashboard_shows_a_conversation_whose_turns_went_to_both_replicas(replicas: BalancedStack) -> None:
    before = replicas.served()
    parent = Chat(replicas)
    said = ["my 19 month old is not walking yet", "no, born on time", "yes", "about 10 secs"]
    for text in said:
        parent.says(text)
    served = more_served(replicas, before)
    assert served["replica1"] >= 2 and served["replica2"] >= 2, served
    password = "scale-admin-password-123"
    command = [str(BIN / "python"), "-m", "bot.review", "users", "add", "scale-admin", "--role", "admin", "--password-stdin"]
    added = subprocess.run(command, cwd=PROJECT_ROOT, env=replicas.env, input=password + "\n", capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    reviewer = Client(SimpleNamespace(base=replicas.web_url))  # type: ignore[arg-type] - it only reads .base
    assert reviewer.sign_in("scale-admin", password).status_code == 302
    page = reviewer.get(f"/review/conversations/{parent.sender}").text
    assert all(text in page for text in said) and page.count("<strong>Parent:</strong>") == len(said)


# ------------------------------------------------------------------ a replica killed under load (runs last)

PARENTS = 6
SCRIPT = [
    "my 19 month old isn't walking yet",
    "no, born on time",
    "yes",
    "about 10 secs",
    "yes",
    "not sure",
    "no",
    "no",
    "thanks",
    "what about tummy time?",
    "she's 19 months",
    "ok",
    "thanks",
    "why does my baby crawl backwards",
    "thank you",
]
KILL_AFTER = 20  # answered messages, of PARENTS x len(SCRIPT)


def parent_talks(url: str, sender: str, answers: List[Tuple[str, int, List[str], float]], lock: threading.Lock) -> None:
    """One parent's whole conversation over REST, each message after the previous reply (keep-alive, like a client)."""
    with httpx.Client(timeout=180) as client:
        for text in SCRIPT:
            started = time.monotonic()
            try:
                response = client.post(
                    f"{url}/webhooks/rest/webhook", params={"token": TOKEN}, json={"sender": sender, "message": text}
                )
                status, replies = (
                    response.status_code,
                    [r.get("text", "") for r in response.json()] if response.status_code == 200 else [],
                )
            except httpx.HTTPError as error:
                status, replies = 0, [type(error).__name__]
            with lock:
                answers.append((sender, status, replies, time.monotonic() - started))


def stored_turns(database: str, sender: str) -> List[Tuple[str, str]]:
    """The conversation's user and bot events in the tracker store, in order: (type, text)."""
    import psycopg2

    with psycopg2.connect(database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT type_name, data FROM events WHERE sender_id = %s AND type_name IN ('user', 'bot') ORDER BY id", (sender,)
        )
        return [(kind, json.loads(data).get("text") or "") for kind, data in cursor.fetchall()]


@pytest.mark.stack_last
def test_a_replica_killed_under_load_loses_no_message_and_comes_back(replicas: BalancedStack, database: str) -> None:
    answers: List[Tuple[str, int, List[str], float]] = []
    lock = threading.Lock()
    senders = [f"parent-kill-{uuid.uuid4().hex[:8]}" for _ in range(PARENTS)]
    threads = [threading.Thread(target=parent_talks, args=(replicas.rasa_url, s, answers, lock)) for s in senders]
    for thread in threads:
        thread.start()
    while len(answers) < KILL_AFTER and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    killed = replicas.pid("replica2")
    assert killed and len(answers) < PARENTS * len(SCRIPT) // 2, "the parents finished before the kill"
    os.kill(killed, signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=300)
    retries = replicas.stats()["BACKEND"]
    print(
        f"\nreplica2 killed after {KILL_AFTER} answers; slowest replies {sorted(round(a[3], 1) for a in answers)[-4:]} s;"
        f" HAProxy retries {retries['wretr']}, redispatches {retries['wredis']}"
    )

    # Every parent got a real reply to every message (HAProxy resent what the killed replica dropped).
    failed = [(s, status, replies) for s, status, replies, _ in answers if status != 200 or not replies]
    assert not failed and len(answers) == PARENTS * len(SCRIPT), failed
    trouble = [s for s, _, replies, _ in answers if technical_trouble_notice() in replies]
    assert not trouble, f"messages answered with the technical-trouble notice (not processed): {trouble}"
    # The shared tracker store holds each message exactly once, in order, each followed by the assistant's reply.
    for sender in senders:
        turns = stored_turns(database, sender)
        assert [text for kind, text in turns if kind == "user"] == SCRIPT, sender
        kinds = [kind for kind, _ in turns]
        assert all(kinds[i + 1] == "bot" for i, kind in enumerate(kinds) if kind == "user" and i + 1 < len(kinds)), sender
        assert kinds[-1] == "bot", sender

    # The launcher restarts the replica; HAProxy's health checks take it back; it serves again.
    deadline = time.monotonic() + 240
    while replicas.pid("replica2") in (None, killed):
        assert time.monotonic() < deadline, "replica2 not restarted"
        time.sleep(0.5)
    replicas.wait_ready(timeout=240)
    assert "restarted the Rasa replica 2" in replicas.output()
    before = replicas.served()
    parent = Chat(replicas)
    for text in SCRIPT[:4]:
        parent.says(text)
    assert more_served(replicas, before)["replica2"] >= 2
