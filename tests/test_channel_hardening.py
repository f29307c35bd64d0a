"""The chat channels' shared defences (issue 13): the REST token, client fields ignored, slash commands read
as text, length caps and rate limits on REST, socket.io, Telegram and WhatsApp; the pure checks and the
limiter's backends (in memory, and Redis for real)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest
import socketio

from bot.channels.inbound import Inbound, as_text, clean_text, read_message, too_long_notice
from bot.channels.ratelimit import MemoryBackend, RateLimiter, RedisBackend, Rule, client_address, networks
from bot.serve import wait_until_up
from bot.settings import PROJECT_ROOT
from tests.fake_platforms import FakePlatforms
from tests.servers import PER_ADDRESS, PER_CONVERSATION, TOKEN, Services, free_port
from tests.test_messaging_channels import (
    stored,
    telegram,
    tg_replies,
    tg_text,
    wa_replies,
    whatsapp,
)
from tests.test_webchat_channel import SocketChat

TEXT_ONLY = "Sorry, I can only read text messages. Please type your question."
RATE_LIMITED = "You're sending messages faster than I can read them — please wait a few seconds."
URGENT_WORDS = ("get medical help now", "emergency")

# ---- the pure checks every channel applies ----


@pytest.mark.parametrize(
    "raw, text",
    [
        ("/ask_hip_health@1 my baby is having a seizure", "ask_hip_health@1 my baby is having a seizure"),
        ('/greet{"red_flag":{"x":1}}', 'greet{"red_flag":{"x":1}}'),
        ("  / /back", "back"),
        ("/ please call me on 07700 900123", "please call me on 07700 900123"),
        ("she crawls backwards / scoots", "she crawls backwards / scoots"),  # a slash inside is just text
        ("hi\x00 there\u202e\x1b[2J", "hi there[2J"),  # control characters and bidi overrides go
        ("line one\r\nline two\tend", "line one\nline two\tend"),
        ("lone \ud800surrogate", "lone surrogate"),
    ],
)
def test_messages_are_read_as_text(raw: str, text: str) -> None:
    assert read_message(raw, 1000) == Inbound(text=text)


@pytest.mark.parametrize("raw", [None, 42, {"text": "hi"}, "", "   ", "/", " // ", "\x00\x07"])
def test_no_text_gets_the_text_only_reply(raw: Any) -> None:
    assert read_message(raw, 1000) == Inbound(reply=TEXT_ONLY, refused="not_text")


def test_too_long_messages_get_the_friendly_reply() -> None:
    assert read_message("x" * 1000, 1000).text == "x" * 1000
    refused = read_message("http://" * 10_000, 1000)
    assert refused.text is None and refused.refused == "too_long" and "70,000 characters" in refused.reply
    assert refused.reply == too_long_notice("http://" * 10_000, 1000) and "1,000" in refused.reply


def test_an_offered_slash_payload_can_be_let_through() -> None:
    assert as_text("/restart", {"/restart"}) == "/restart"
    assert as_text("/restart{}", {"/restart"}) == "restart{}"
    assert clean_text("plain words") == "plain words"


# ---- rate limiter: rules, windows, addresses ----


@pytest.mark.parametrize(
    "value, rule",
    [("20/60", Rule(20, 60.0)), ("5", Rule(5, 60.0)), ("3/0.5", Rule(3, 0.5)), ("0", None), ("0/60", None), ("", None)],
)
def test_rules_parse(value: str, rule: Optional[Rule]) -> None:
    assert Rule.parse(value) == rule


@pytest.mark.parametrize("value", ["lots", "5/x", "-1/60", "5/0"])
def test_bad_rules_are_refused_with_the_variable_name(value: str) -> None:
    with pytest.raises(ValueError, match="RATE_LIMIT_PER_ADDRESS"):
        Rule.parse(value, "RATE_LIMIT_PER_ADDRESS")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_windows_slide_and_count_only_allowed_hits() -> None:
    clock = Clock()
    backend = MemoryBackend(clock=clock)
    rule = Rule(3, 10)
    assert [(await backend.hit([("k", rule)])).allowed for _ in range(4)] == [True, True, True, False]
    clock.now += 4
    refused = await backend.hit([("k", rule)])
    assert not refused.allowed and refused.retry_after == pytest.approx(6)
    clock.now += 6  # the first three hits leave the window; the refused ones never counted
    assert [(await backend.hit([("k", rule)])).allowed for _ in range(4)] == [True, True, True, False]
    assert (await backend.hit([("other", rule)])).allowed


async def test_memory_backend_forgets_the_least_recent_keys() -> None:
    backend = MemoryBackend(max_keys=2)
    rule = Rule(1, 60)
    for key in ("a", "b", "c"):
        await backend.hit([(key, rule)])
    assert (await backend.hit([("a", rule)])).allowed  # pushed out by "c"
    assert not (await backend.hit([("c", rule)])).allowed


async def test_limiter_per_conversation_address_platform_and_notice_once() -> None:
    limiter = RateLimiter(MemoryBackend(), Rule(2, 60), Rule(3, 60), Rule(4, 60), exempt=networks(["127.0.0.1", "::1"]))
    assert [(await limiter.check(conversation="a", address="203.0.113.1")).allowed for _ in range(3)] == [True, True, False]
    assert (await limiter.check(conversation="b", address="203.0.113.1")).allowed  # 3rd for the address
    assert not (await limiter.check(conversation="c", address="203.0.113.1")).allowed  # address full
    assert (await limiter.check(conversation="c", address="203.0.113.2")).allowed
    assert all([(await limiter.check(conversation=f"x{i}", address="127.0.0.1")).allowed for i in range(10)])  # exempt
    assert [(await limiter.check(conversation=f"p{i}", platform="telegram")).allowed for i in range(5)] == [True] * 4 + [False]
    assert [await limiter.first_notice("a") for _ in range(3)] == [True, False, False]
    off = RateLimiter(MemoryBackend(), None, None)
    assert all([(await off.check(conversation="a", address="203.0.113.1")).allowed for _ in range(100)])


@pytest.mark.parametrize(
    "peer, forwarded, client",
    [
        ("198.51.100.7", "203.0.113.5", "198.51.100.7"),  # an untrusted peer cannot name another client
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "203.0.113.5, 10.0.0.2", "203.0.113.5"),  # the nearest hop that is not our proxy
        ("127.0.0.1", "1.2.3.4, 203.0.113.5", "203.0.113.5"),  # a client-written first hop is not believed
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
    ],
)
def test_client_address_honours_forwarded_for_only_from_trusted_proxies(peer: str, forwarded: Optional[str], client: str) -> None:
    assert client_address(peer, forwarded, networks(["127.0.0.1", "10.0.0.0/8"])) == client


# ---- the Redis backend, for real ----

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not redis_reachable():
        if os.environ.get("CI"):
            pytest.fail("Redis is required under CI (127.0.0.1:6379)")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return REDIS_URL


async def test_redis_backends_share_counts_and_are_atomic(redis_url: str) -> None:
    prefix = f"test:ratelimit:{uuid.uuid4().hex}:"
    # A generous timeout: this test is about atomicity, and a busy CI machine can take Redis past the 0.5 s
    # production timeout (after which the backend deliberately lets messages through).
    first, second = (RedisBackend(redis_url, prefix=prefix, timeout=5.0) for _ in range(2))
    try:
        rule = Rule(5, 60)
        assert [(await b.hit([("shared", rule)])).allowed for b in (first, second, first, second, first, second)] == [
            True
        ] * 5 + [False]
        refused = await first.hit([("shared", rule)])
        assert not refused.allowed and 59 <= refused.retry_after <= 60
        results = await asyncio.gather(*((first if i % 2 else second).hit([("burst", Rule(10, 60))]) for i in range(60)))
        assert sum(r.allowed for r in results) == 10  # never over-admits under concurrency
        both = [("one", Rule(1, 60)), ("many", Rule(5, 60))]
        assert [(await first.hit(both)).allowed for _ in range(4)] == [True, False, False, False]
        assert [(await second.hit([("many", Rule(2, 60))])).allowed for _ in range(2)] == [
            True,
            False,
        ]  # refused hits never counted
        short = Rule(2, 0.3)
        assert [(await first.hit([("short", short)])).allowed for _ in range(3)] == [True, True, False]
        await asyncio.sleep(0.35)
        assert (await second.hit([("short", short)])).allowed  # the window slid
    finally:
        await first.close()
        await second.close()


async def test_redis_down_fails_open_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    with caplog.at_level(logging.WARNING, logger="bot.channels.ratelimit"):
        started = time.monotonic()
        assert all([(await backend.hit([("k", Rule(1, 60))])).allowed for _ in range(3)])
        assert time.monotonic() - started < 3
    warnings = [r for r in caplog.records if "not enforced" in r.getMessage()]
    assert len(warnings) == 1  # once per minute, not per message
    await backend.close()


# ---- REST with no token configured: refused, not open (a small Sanic app with the real channel) ----

MINI_SERVER = textwrap.dedent(
    """
    import sys
    from rasa.core.channels.channel import register
    from sanic import Sanic
    from rasa_components.rest import TokenRestInput

    class Agent:  # stands in for Rasa's agent: echoes, or fails on "fail"
        async def handle_message(self, message):
            if message.text == "fail":
                raise RuntimeError("boom")
            await message.output_channel.send_text_message(message.sender_id, "echo " + message.text)

    app = Sanic("mini")
    app.ctx.agent = Agent()
    register([TokenRestInput()], app, "/webhooks/")
    app.add_route(lambda request: __import__("sanic").response.text("ok"), "/")
    app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
    """
)


@contextlib.contextmanager
def mini_server(tmp_path: Path, token: Optional[str]) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DATA_DIR": str(tmp_path), "RASA_TOKEN": token or ""}
    log = open(tmp_path / "mini.log", "ab")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(
        [sys.executable, "-c", MINI_SERVER, str(port)], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", 60, process)
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.servers
def test_without_a_configured_token_the_rest_channel_refuses_everything(tmp_path: Path) -> None:
    with mini_server(tmp_path, None) as url:
        for params in ({}, {"token": ""}, {"token": "anything"}):
            response = httpx.post(url, params=params, json={"sender": "a", "message": "hi"}, timeout=10)
            assert response.status_code == 403 and "no Rasa token is configured" in response.json()["error"]


@pytest.mark.servers
def test_a_failing_message_ends_the_stream_with_an_apology(tmp_path: Path) -> None:
    with mini_server(tmp_path, "mini-token") as url:
        ok = httpx.post(url, params={"token": "mini-token", "stream": "true"}, json={"sender": "a", "message": "hi"}, timeout=10)
        assert ok.status_code == 200 and '"echo hi"' in ok.text
        failed = httpx.post(
            url, params={"token": "mini-token", "stream": "true"}, json={"sender": "a", "message": "fail"}, timeout=10
        )
        assert failed.status_code == 200 and "went wrong on my side" in failed.text  # Rasa's own stream never ends
        plain = httpx.post(url, params={"token": "mini-token"}, json={"sender": "a", "message": "fail"}, timeout=10)
        assert "went wrong on my side" in plain.json()[0]["text"]


# ---- the real Rasa server: REST, socket.io, Telegram, WhatsApp ----


@pytest.fixture(scope="module")
def fake(platforms: FakePlatforms) -> FakePlatforms:
    """The fake platforms the limits stack sends to (conftest)."""
    return platforms


@pytest.fixture(scope="module")
def stack(limits_stack: Services) -> Services:
    """The session's limits stack (conftest): PER_CONVERSATION and PER_ADDRESS a minute, 127.0.0.1 a trusted proxy."""
    return limits_stack.ensure_running()


def rest(stack: Services, body: Any, token: Optional[str] = TOKEN, headers: Optional[Dict[str, str]] = None) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    return httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", params=params, json=body, headers=headers or {}, timeout=60)


def say(stack: Services, sender: str, text: str, **kwargs: Any) -> httpx.Response:
    return rest(stack, {"sender": sender, "message": text}, **kwargs)


def tracker(stack: Services, sender: str) -> Dict[str, Any]:
    response = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30)
    response.raise_for_status()
    return response.json()


def new_sender() -> str:
    return f"parent-{uuid.uuid4().hex[:12]}"


def texts(response: httpx.Response) -> str:
    return "\n".join(m.get("text") or "" for m in response.json())


def test_rest_requires_the_token(stack: Services) -> None:
    sender = new_sender()
    assert say(stack, sender, "hello", token=None).status_code == 401
    assert say(stack, sender, "hello", token="wrong").status_code == 401
    assert say(stack, sender, "hello", token="").status_code == 401
    refused = say(stack, sender, "hello", token=TOKEN[:-1])
    assert refused.status_code == 401 and "token" in refused.json()["error"]
    assert tracker(stack, sender)["events"] in ([], None) or not [
        e for e in tracker(stack, sender)["events"] if e["event"] == "user"
    ]
    assert say(stack, sender, "hello").status_code == 200 and say(stack, sender, "hello").json()
    bearer = say(stack, new_sender(), "hello", token=None, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 200 and bearer.json()
    assert httpx.get(f"{stack.rasa_url}/webhooks/rest/", timeout=10).json() == {"status": "ok"}


def test_rest_ignores_client_input_channel_and_metadata(stack: Services) -> None:
    sender = new_sender()
    body = {"sender": sender, "message": "hello", "input_channel": "socketio", "metadata": {"shown_as": "I give up on my child"}}
    assert rest(stack, body).status_code == 200
    state = tracker(stack, sender)
    assert state["latest_input_channel"] == "rest"
    user = [e for e in state["events"] if e["event"] == "user"][-1]
    assert user["input_channel"] == "rest" and "shown_as" not in (user.get("metadata") or {})
    assert "I give up" not in str(state["events"])


@pytest.mark.parametrize("sender", [None, 42, "", "   ", "x" * 129, "a\x00b", "line\nbreak", {"id": "x"}])
def test_rest_refuses_bad_sender_ids(stack: Services, sender: Any) -> None:
    body = {"message": "hello"} if sender is None else {"sender": sender, "message": "hello"}
    response = rest(stack, body)
    assert response.status_code == 400 and "sender" in response.json()["error"]


def test_rest_accepts_a_long_printable_sender_and_refuses_non_objects(stack: Services) -> None:
    assert say(stack, "p" * 128, "hello").status_code == 200
    assert rest(stack, ["sender", "message"]).status_code == 400


def test_a_slash_command_cannot_skip_the_red_flag_rules(stack: Services) -> None:
    sender = new_sender()
    reply = say(stack, sender, "/ask_hip_health@1 my baby is having a seizure")
    assert reply.status_code == 200 and any(w in texts(reply).lower() for w in URGENT_WORDS)
    state = tracker(stack, sender)
    assert state["slots"]["referral"] == "urgent" and state["latest_message"]["intent"]["name"] != "ask_hip_health"
    again = say(stack, sender, "/back")  # going back a turn does not undo the urgent referral
    assert again.status_code == 200 and tracker(stack, sender)["slots"]["referral"] == "urgent"


def test_a_slash_command_cannot_inject_entities_or_slot_objects(stack: Services) -> None:
    sender = new_sender()
    assert say(stack, sender, '/greet{"red_flag":{"x":1}}').status_code == 200
    state = tracker(stack, sender)
    assert all(not isinstance(e.get("value"), (dict, list)) for e in state["latest_message"]["entities"])
    assert all(not isinstance(value, dict) for value in state["slots"].values())
    assert state["slots"].get("red_flag") is None


def test_a_slash_message_is_not_logged(stack: Services) -> None:
    say(stack, new_sender(), "/ please call me on 07700 900123")
    logs = [p.read_text(errors="replace") for p in stack.logs.glob("rasa-*.log")]
    assert logs and "07700 900123" not in "".join(logs)


async def test_rest_long_messages_get_the_friendly_reply_quickly(stack: Services) -> None:
    async with httpx.AsyncClient(timeout=60, params={"token": TOKEN}) as client:
        url = f"{stack.rasa_url}/webhooks/rest/webhook"

        async def timed(text: str, sender: str) -> tuple:
            started = time.monotonic()
            response = await client.post(url, json={"sender": sender, "message": text})
            return response, time.monotonic() - started

        (k70, t1), (mb, t2), (huge, t3), (hello, t4) = await asyncio.gather(
            timed("http://" * 10_000, new_sender()),
            timed("x" * 1_000_000, new_sender()),
            timed("x" * 3_000_000, new_sender()),
            timed("hello", new_sender()),
        )
    assert k70.status_code == 200 and "70,000 characters" in texts(k70) and "too long for me" in texts(k70)
    assert mb.status_code == 200 and "1,000,000 characters" in texts(mb)
    assert huge.status_code == 413 and "too long for me" in texts(huge)  # over MAX_REQUEST_BYTES: refused unread
    assert max(t1, t2, t3) < 1 and hello.status_code == 200 and hello.json() and t4 < 2


def test_rest_rate_limit_per_conversation(stack: Services) -> None:
    sender, other = new_sender(), new_sender()
    assert [say(stack, sender, "hello").status_code for _ in range(PER_CONVERSATION)] == [200] * PER_CONVERSATION
    refused = say(stack, sender, "hello")
    assert refused.status_code == 429 and texts(refused) == RATE_LIMITED and 1 <= int(refused.headers["retry-after"]) <= 60
    assert say(stack, other, "hello").status_code == 200  # another conversation is unaffected
    assert len([e for e in tracker(stack, sender)["events"] if e["event"] == "user"]) == PER_CONVERSATION


def test_rest_rate_limit_per_client_address(stack: Services) -> None:
    client = {"X-Forwarded-For": "203.0.113.10"}
    codes = [say(stack, new_sender(), "hello", headers=client).status_code for _ in range(PER_ADDRESS + 1)]
    assert codes == [200] * PER_ADDRESS + [429]
    assert say(stack, new_sender(), "hello", headers={"X-Forwarded-For": "198.51.100.77"}).status_code == 200
    assert say(stack, new_sender(), "hello").status_code == 200  # the proxy itself (loopback) is exempt


# ---- socket.io ----


async def socket(stack: Services, address: Optional[str] = None) -> SocketChat:
    chat = SocketChat(stack, origin=None)
    if address:
        await chat.client.connect(stack.rasa_url, headers={"X-Forwarded-For": address}, transports=["polling"])
    return chat


async def test_socketio_long_messages_and_slash_commands(stack: Services) -> None:
    chat, other = await socket(stack), await socket(stack)
    state = await chat.start()
    await other.start()
    started = time.monotonic()
    for text, count in (("http://" * 10_000, "70,000"), ("x" * 1_000_000, "1,000,000")):
        ack, replies = await chat.say(text)
        assert ack == {"ok": False, "error": "too_long"} and f"{count} characters" in replies[0]
    assert time.monotonic() - started < 2
    ack, replies = await chat.say("/ask_hip_health@1 my baby is having a seizure")
    assert ack == {"ok": True} and any(w in " ".join(replies).lower() for w in URGENT_WORDS)
    assert tracker(stack, state["session_id"])["slots"]["referral"] == "urgent"
    ack, replies = await chat.say("\x00 \x07")
    assert ack == {"ok": True, "refused": "not_text"} and replies == [TEXT_ONLY]
    ack = await chat.client.call("user_uttered", {"message": 10**400, "client_id": uuid.uuid4().hex}, timeout=10)
    assert ack == {"ok": True, "refused": "not_text"}  # engineio alone drops such a packet: no ack at all
    assert await chat.client.call("user_uttered", timeout=10) == {"ok": True, "refused": "not_text"}  # no data at all
    started = time.monotonic()
    ack, replies = await other.say("hello")
    assert ack == {"ok": True} and replies and time.monotonic() - started < 2
    await chat.stop()
    await other.stop()


async def test_socketio_oversized_payloads_are_refused_by_the_engine(stack: Services) -> None:
    chat, other = await socket(stack), await socket(stack)
    await chat.start()
    await other.start()
    started = time.monotonic()
    with pytest.raises(
        (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError, socketio.exceptions.DisconnectedError)
    ):
        await chat.client.call("user_uttered", {"message": "x" * 3_000_000}, timeout=3)
    assert time.monotonic() - started < 4
    started = time.monotonic()
    ack, replies = await other.say("hello")
    assert ack == {"ok": True} and replies and time.monotonic() - started < 2
    await other.stop()
    try:
        await chat.stop()
    except Exception:  # already cut off by the server
        pass


async def test_socketio_rate_limit_per_conversation(stack: Services) -> None:
    chat, other = await socket(stack), await socket(stack)
    state = await chat.start()
    await other.start()
    acks = [(await chat.say("hello"))[0] for _ in range(PER_CONVERSATION)]
    assert acks == [{"ok": True}] * PER_CONVERSATION
    ack, replies = await chat.say("hello")
    assert ack["ok"] is False and ack["error"] == "rate_limited" and 0 < ack["retry_after"] <= 60
    assert replies == [RATE_LIMITED]
    ack, replies = await chat.say("hello")
    assert ack["error"] == "rate_limited" and replies == []  # told once per window, not per message
    assert (await other.say("hello"))[0] == {"ok": True}
    users = [e for e in tracker(stack, state["session_id"])["events"] if e["event"] == "user"]
    assert len(users) == PER_CONVERSATION
    await chat.stop()
    await other.stop()


async def test_socketio_rate_limit_per_address_covers_session_requests(stack: Services) -> None:
    address = "203.0.113.20"  # distinct from every other test's address: the window is 60 s
    chat = await socket(stack, address)
    for _ in range(PER_ADDRESS):
        await chat.client.emit("session_request", {})
        assert (await asyncio.wait_for(chat.states.get(), 20))["session_id"]
    await chat.client.emit("session_request", {})
    assert (await asyncio.wait_for(chat.bot.get(), 20))["text"] == RATE_LIMITED
    assert chat.states.empty()
    ack = await chat.client.call("user_uttered", {"message": "hello", "client_id": uuid.uuid4().hex}, timeout=20)
    assert ack["error"] == "rate_limited"
    elsewhere = await socket(stack, "198.51.100.78")
    await elsewhere.client.emit("session_request", {})
    assert (await asyncio.wait_for(elsewhere.states.get(), 20))["session_id"]
    await chat.stop()
    await elsewhere.stop()


# ---- Telegram and WhatsApp webhooks ----


def test_telegram_long_messages_slash_commands_and_request_cap(stack: Services, fake: FakePlatforms) -> None:
    chat = 777001
    started = time.monotonic()
    for text, count in (("http://" * 10_000, "70,000"), ("x" * 1_000_000, "1,000,000")):
        started = time.monotonic()
        assert telegram(stack, tg_text(chat, text)).status_code == 200 and time.monotonic() - started < 1
        assert f"{count} characters" in tg_replies(fake, chat, 0)[-1]["text"]
    assert "http://http://" not in stored(stack) and "xxxxxxxxxx" not in stored(stack)
    assert telegram(stack, tg_text(chat, "x" * 3_000_000)).status_code == 413
    for update in ({"update_id": 10**30, "message": {}}, {"update_id": ["a"] * 100}, {"update_id": 5, "message": ["x"]}):
        assert telegram(stack, update).status_code in (200, 400)  # hostile shapes: never a server error
    telegram(stack, tg_text(chat, "/ask_hip_health@1 my baby is having a seizure"))
    assert any(w in tg_replies(fake, chat, 0)[-1]["text"].lower() for w in URGENT_WORDS)
    telegram(stack, tg_text(777002, "hello"))
    assert tg_replies(fake, 777002, 0)


def test_telegram_rate_limit_replies_once_per_window(stack: Services, fake: FakePlatforms) -> None:
    chat = 777003
    for _ in range(PER_CONVERSATION + 3):
        assert telegram(stack, tg_text(chat, "hello")).status_code == 200  # never an error: Telegram would redeliver
    replies = [r["text"] for r in tg_replies(fake, chat, 0)]
    assert replies.count(RATE_LIMITED) == 1 and replies[-1] == RATE_LIMITED
    assert stored(stack).count('"text": "hello"') >= PER_CONVERSATION
    telegram(stack, tg_text(777004, "hello"))
    assert tg_replies(fake, 777004, 0)[-1]["text"] != RATE_LIMITED


def test_whatsapp_long_messages_rate_limit_and_request_cap(stack: Services, fake: FakePlatforms) -> None:
    phone = "whatsapp:+447700900321"
    started = time.monotonic()
    assert whatsapp(stack, phone, "http://" * 10_000).status_code == 200
    assert time.monotonic() - started < 1 and "70,000 characters" in wa_replies(fake, phone)[-1]
    started = time.monotonic()
    assert whatsapp(stack, phone, "x" * 1_000_000).status_code == 200 and time.monotonic() - started < 1
    assert "1,000,000 characters" in wa_replies(fake, phone)[-1]
    assert whatsapp(stack, phone, "x" * 3_000_000).status_code == 413
    assert whatsapp(stack, phone, "hello", sid="SM" + "x" * 200).status_code == 400  # not a Twilio message id
    for _ in range(PER_CONVERSATION):
        whatsapp(stack, phone, "hello")
    replies: List[str] = wa_replies(fake, phone)
    assert replies.count(RATE_LIMITED) == 1
    other = "whatsapp:+447700900322"
    whatsapp(stack, other, "hello")
    assert wa_replies(fake, other) and RATE_LIMITED not in wa_replies(fake, other)
