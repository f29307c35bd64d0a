"""Fuzz and fault tests (issue 13, item 7) on one real stack: Rasa, the action server and the web server.

More than 10,000 seeded hostile inputs (tests/tools/hostile.py) go to the REST webhook, the widget's socket.io
channel and both platform webhooks (signed and unsigned): huge and binary bodies, malformed JSON, wrong JSON
types, slash commands with every intent and injected entities, unicode edge cases, markup, odd ids. Invariants:
no 5xx and no dropped connection anywhere, the three processes are the same and alive, the dashboard still
answers a signed-in reviewer, and red flags still get urgent replies. Then the action server is killed
mid-conversation: replies still come, emergencies included, and the conversation goes on once it is back.

Reproduce a failure with the seed printed in its message: FUZZ_SEED=<seed> pytest tests/test_fuzz.py.
FUZZ_SCALE (default 1) scales the number of inputs.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
import socketio
from twilio.request_validator import RequestValidator

from bot.serve import BIN
from bot.settings import PROJECT_ROOT
from tests.fake_platforms import AUTH, NUMBER, PUBLIC_URL, SID, TG_SECRET, FakePlatforms
from tests.servers import CONVERSATION_LIMIT, TOKEN, Services
from tests.tools.hostile import Hostile, domain_names, shorten

pytestmark = pytest.mark.stack_last  # on the shared stack (conftest), after the tests that need it unflooded

SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
IN_FLIGHT = 8
TIMEOUT = 60.0
RED_FLAGS = ["my baby is having a seizure", "he's not breathing properly", "she fell down the stairs and isn't moving her leg"]
ADMIN_PASSWORD = "fuzz-admin-password-123"
_ids = itertools.count(10_000)


@dataclass
class Case:
    """One request: where it goes, what it carries, and a description for the failure message."""

    channel: str
    label: str
    path: str
    content: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    params: Dict[str, str] = field(default_factory=dict)
    data: Optional[Dict[str, str]] = None
    shown: Any = None


@dataclass
class Results:
    """Counts per channel and label, and the failures (5xx, transport errors, missing acks) in order."""

    counts: collections.Counter = field(default_factory=collections.Counter)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    failures: List[Tuple[str, str, Any]] = field(default_factory=list)

    def record(self, channel: str, label: str, outcome: Any, shown: Any) -> None:
        self.counts[channel] += 1
        self.statuses[(channel, outcome if isinstance(outcome, int) else "error")] += 1
        if not isinstance(outcome, int) or outcome >= 500:
            self.failures.append((f"{channel}/{label}", str(outcome)[:200], shown))


@pytest.fixture(scope="module")
def fake(platforms: FakePlatforms) -> FakePlatforms:
    """The fake platforms the shared stack sends to (conftest)."""
    return platforms


@pytest.fixture(scope="module")
def stack(shared_stack: Services) -> Services:
    """The session's shared stack (conftest): CONVERSATION_LIMIT per conversation, for every address, no other limit."""
    return shared_stack.ensure_running()


@pytest.fixture(scope="module")
def pids(stack: Services) -> Dict[str, int]:
    """The processes as they were before any hostile input."""
    return {"rasa": stack.rasa[0].pid, "actions": stack.action.pid, "web": stack.web.pid}


def alive(stack: Services, pids: Dict[str, int]) -> List[str]:
    """What is wrong with the processes: exited, or not the ones started."""
    now = {"rasa": stack.rasa[0], "actions": stack.action, "web": stack.web}
    return [
        f"{name} exited ({p.returncode})" if p.poll() is not None else f"{name} is a new process"
        for name, p in now.items()
        if p.poll() is not None or p.pid != pids[name]
    ]


def say(stack: Services, sender: str, text: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        params={"token": TOKEN},
        json={"sender": sender, "message": text},
        timeout=timeout,
    )


def slots(stack: Services, sender: str) -> Dict[str, Any]:
    response = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30)
    response.raise_for_status()
    return response.json()["slots"]


def assert_urgent(stack: Services, when: str) -> None:
    for text in RED_FLAGS:
        sender = f"flag-{uuid.uuid4().hex[:12]}"
        response = say(stack, sender, text)
        assert response.status_code == 200, f"{when}: {text!r} got HTTP {response.status_code}: {response.text[:300]}"
        assert response.json(), f"{when}: no reply to {text!r}"
        assert slots(stack, sender)["referral"] == "urgent", f"{when}: {text!r} was not urgent: {response.json()}"


# ---- generating the cases ----


def rest_cases(gen: Hostile, count: int) -> Iterator[Case]:
    """REST: hostile JSON payloads (most), raw bodies, and requests without the token."""
    path = "/webhooks/rest/webhook"
    for i in range(count):
        roll = gen.rng.random()
        params = {"token": TOKEN}
        if roll < 0.08 or 0.8 <= roll < 0.83:  # no token, or a wrong one: refused before anything is read
            params = gen.choice([{}, {"token": "wrong"}, {"token": TOKEN + "x"}, {"token": ""}])
        if roll < 0.8:  # most requests exercise parsing and validation; a fifth reach NLU
            body, kind = gen.raw_body()
            yield Case("rest", "raw", path, body, {"content-type": kind} if kind else {}, params, shown=body)
        else:
            payload = gen.rest_payload(str(i % 300))
            yield Case("rest", "json", path, gen.json_bytes(payload), {"content-type": "application/json"}, params, shown=payload)


def telegram_update(gen: Hostile, chat: Any) -> Any:
    rng = gen.rng
    roll = rng.random()
    text = gen.text() if rng.random() < 0.85 else gen.value()
    if roll < 0.6:
        message: Dict[str, Any] = {"message_id": next(_ids), "chat": {"id": chat, "type": "private"}, "text": text}
        if rng.random() < 0.15:
            message["from"] = {"id": gen.value(), "first_name": gen.text()[:100], "is_bot": gen.value()}
        return {"update_id": next(_ids), gen.choice(["message", "message", "edited_message", "channel_post"]): message}
    if roll < 0.75:
        return {
            "update_id": next(_ids),
            "callback_query": {
                "id": gen.value() if rng.random() < 0.3 else str(next(_ids)),
                "data": text,
                "message": {"chat": {"id": chat}},
            },
        }
    if roll < 0.85:  # no text: a photo, a sticker, a location
        return {
            "update_id": next(_ids),
            "message": {
                "message_id": next(_ids),
                "chat": {"id": chat},
                gen.choice(["photo", "sticker", "location", "voice"]): gen.value(),
            },
        }
    return gen.choice([{"update_id": gen.value()}, [], None, "update", {"update_id": next(_ids), "message": gen.value()}])


def telegram_cases(gen: Hostile, count: int) -> Iterator[Case]:
    """Telegram: two thirds without the right secret (refused), a third signed with hostile content."""
    path = "/webhooks/telegram/webhook"
    for _ in range(count):
        signed = gen.rng.random() < 0.12
        chat = 700_000 + gen.rng.randrange(300) if gen.rng.random() < 0.9 else gen.value()
        headers = {"content-type": "application/json"}
        if signed:
            headers["X-Telegram-Bot-Api-Secret-Token"] = TG_SECRET
        elif gen.rng.random() < 0.7:
            headers["X-Telegram-Bot-Api-Secret-Token"] = gen.choice(["", "wrong", TG_SECRET + "x", TG_SECRET[:-1], "a" * 5000])
        if gen.rng.random() < 0.25:
            body, kind = gen.raw_body()
            headers["content-type"] = kind or "application/json"
            yield Case("telegram", "signed-raw" if signed else "unsigned-raw", path, body, headers, shown=body)
        else:
            update = telegram_update(gen, chat)
            yield Case("telegram", "signed" if signed else "unsigned", path, gen.json_bytes(update), headers, shown=update)


def form_text(text: Any) -> str:
    """A hostile value as a form field (UTF-8 cannot carry lone surrogates)."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text if isinstance(text, str) else repr(text))[:300_000]


def whatsapp_cases(gen: Hostile, count: int) -> Iterator[Case]:
    """WhatsApp (Twilio): unsigned, mis-signed and signed forms with hostile fields, and raw bodies."""
    path = "/webhooks/whatsapp/webhook"
    for _ in range(count):
        rng = gen.rng
        roll = rng.random()
        # +447700800000-299: numbers no other test on the shared stack uses (test_messaging_channels has +4477009...)
        phone = f"whatsapp:+4477008{rng.randrange(300):05d}" if rng.random() < 0.85 else form_text(gen.sender(""))
        form = {
            "MessageSid": f"SM{next(_ids):032d}",
            "AccountSid": SID,
            "From": phone,
            "To": NUMBER,
            "Body": form_text(gen.text()),
            "NumMedia": "0",
        }
        if rng.random() < 0.2:
            field_name = gen.choice(list(form))
            form[field_name] = form_text(gen.value()) if rng.random() < 0.5 else ""
        if rng.random() < 0.1:
            form.pop(gen.choice(list(form)))
        if roll < 0.12:
            signature = RequestValidator(AUTH).compute_signature(PUBLIC_URL, form)
            yield Case("whatsapp", "signed", path, headers={"X-Twilio-Signature": signature}, data=form, shown=form)
        elif roll < 0.85:
            headers: Dict[str, str] = {}
            if rng.random() < 0.7:
                headers["X-Twilio-Signature"] = gen.choice(
                    ["", "bogus", "a" * 4000, RequestValidator("other").compute_signature(PUBLIC_URL, form)]
                )
            yield Case("whatsapp", "unsigned", path, headers=headers, data=form, shown=form)
        else:
            body, kind = gen.raw_body()
            signature = RequestValidator(AUTH).compute_signature(PUBLIC_URL, {})
            headers = {"content-type": kind or "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
            yield Case("whatsapp", "raw", path, body, headers, shown=body)


async def send_http(stack: Services, cases: List[Case], results: Results) -> None:
    """Send every case, IN_FLIGHT at a time; record each status (or the transport error)."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=stack.rasa_url, timeout=TIMEOUT, limits=limits) as client:

        async def one(case: Case) -> None:
            async with gate:
                try:
                    if case.data is not None:
                        response = await client.post(case.path, data=case.data, headers=case.headers, params=case.params)
                    else:
                        response = await client.post(case.path, content=case.content, headers=case.headers, params=case.params)
                    outcome: Any = response.status_code
                except httpx.HTTPError as error:
                    outcome = f"{type(error).__name__}: {error}"
                results.record(case.channel, case.label, outcome, case.shown)

        await asyncio.gather(*(one(case) for case in cases))


async def send_socket(stack: Services, gen: Hostile, sockets: int, per_socket: int, results: Results) -> None:
    """socket.io: hostile session requests, then hostile user_uttered payloads; each must be acknowledged."""

    async def tab(index: int) -> None:
        client = socketio.AsyncClient(reconnection=False)
        states: asyncio.Queue = asyncio.Queue()
        client.on("session_state", states.put_nowait)
        request: Any = (
            {}
            if index % 3 == 0
            else gen.choice(
                [
                    {"session_id": gen.sender(""), "session_token": gen.value()},
                    gen.value(),
                    gen.text(),
                    {"session_id": "../" * 50},
                ]
            )
        )
        try:
            await client.connect(stack.rasa_url, headers={"Origin": stack.web_url}, transports=["polling"], wait_timeout=20)
            await client.emit("session_request", request)
            await asyncio.wait_for(states.get(), 20)
            results.record("socket.io", "session_request", 200, request)
        except Exception as error:  # noqa: BLE001 - any failure is a finding, reported with its input
            results.record("socket.io", "session_request", f"{type(error).__name__}: {error}", request)
            await client.disconnect()
            return
        missed = 0
        for _ in range(per_socket):
            roll = gen.rng.random()
            if roll < 0.7:
                payload: Any = {"message": gen.text(), "client_id": uuid.uuid4().hex}
            elif roll < 0.9:
                payload = {"message": gen.value(), "client_id": gen.value(), "shown_as": gen.value(), "session_id": gen.value()}
            else:
                payload = gen.value()
            try:
                await client.call("user_uttered", payload, timeout=10)
                results.record("socket.io", "user_uttered", 200, payload)
            except Exception as error:  # noqa: BLE001
                results.record("socket.io", "user_uttered", f"no ack: {type(error).__name__}: {error}", payload)
                missed += 1
                if missed >= 3 or not client.connected:
                    break
        await client.disconnect()

    await asyncio.gather(*(tab(i) for i in range(sockets)))


def report(results: Results, seconds: float) -> str:
    lines = [f"fuzz seed {SEED}: {sum(results.counts.values())} inputs in {seconds:.0f} s"]
    for channel, count in sorted(results.counts.items()):
        statuses = ", ".join(f"{status}: {n}" for (c, status), n in sorted(results.statuses.items(), key=str) if c == channel)
        lines.append(f"  {channel}: {count} ({statuses})")
    return "\n".join(lines)


# ---- the tests, in order: baseline, fuzz, what must still hold, limits, the action server dying ----


def test_red_flags_are_urgent_before_the_fuzz(stack: Services, pids: Dict[str, int]) -> None:
    assert_urgent(stack, "before the fuzz")


def test_ten_thousand_hostile_inputs_get_no_5xx(stack: Services, pids: Dict[str, int]) -> None:
    intents, slot_names = domain_names(PROJECT_ROOT)
    gen = Hostile(SEED, intents, slot_names)
    n = lambda count: max(1, int(count * SCALE))  # noqa: E731
    cases = [*rest_cases(gen, n(4300)), *telegram_cases(gen, n(3000)), *whatsapp_cases(gen, n(2800))]
    gen.rng.shuffle(cases)
    results = Results()
    started = time.monotonic()

    async def run() -> None:
        await asyncio.gather(send_http(stack, cases, results), send_socket(stack, gen, n(12), 20, results))

    asyncio.run(run())
    summary = report(results, time.monotonic() - started)
    print("\n" + summary)
    total = sum(results.counts.values())
    assert total >= 10_000 * SCALE, summary
    first = results.failures[0] if results.failures else None
    assert not results.failures, (
        f"{summary}\n{len(results.failures)} inputs failed (5xx, dropped connection or no ack); seed {SEED}; "
        f"first: {first[0]} -> {first[1]} for {shorten(first[2])}; "
        f"kinds: {collections.Counter(f[0] + ' ' + f[1][:40] for f in results.failures).most_common(6)}"
    )


def test_the_processes_survived(stack: Services, pids: Dict[str, int]) -> None:
    assert not alive(stack, pids), f"seed {SEED}: {alive(stack, pids)}"
    assert httpx.get(f"{stack.rasa_url}/", timeout=10).status_code == 200
    assert httpx.get(f"{stack.web_url}/health", timeout=10).status_code == 200


def test_the_dashboard_still_answers_a_signed_in_reviewer(stack: Services) -> None:
    command = [str(BIN / "python"), "-m", "bot.review", "users", "add", "fuzzadmin", "--role", "admin", "--password-stdin"]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=stack.env, input=ADMIN_PASSWORD + "\n", capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with httpx.Client(base_url=stack.web_url, timeout=60, follow_redirects=False) as web:
        cookies: Dict[str, str] = {}

        def get(path: str, **kwargs: Any) -> httpx.Response:
            response = web.request(
                "GET" if "data" not in kwargs else "POST",
                path,
                headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
                **kwargs,
            )
            for header in response.headers.get_list("set-cookie"):
                name, _, rest = header.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
            return response

        csrf = re.search(r'name="csrf" value="([^"]+)"', get("/review/login").text)
        assert csrf, "no sign-in form"
        signed = get("/review/login", data={"csrf": csrf.group(1), "username": "fuzzadmin", "password": ADMIN_PASSWORD})
        assert signed.status_code == 302, signed.text[:300]
        for path in ("/review/", "/review/conversations", "/review/conversations?q=%00", "/review/export.jsonl"):
            response = get(path)
            assert response.status_code == 200, f"{path}: HTTP {response.status_code}: {response.text[:300]}"
        listing = get("/review/conversations").text
        for conversation in re.findall(r'href="/review/conversations/([^"?]+)', listing)[:20]:
            response = get(f"/review/conversations/{conversation}")
            assert response.status_code < 500, f"transcript {conversation}: HTTP {response.status_code}"


def test_red_flags_are_still_urgent_after_the_fuzz(stack: Services) -> None:
    assert_urgent(stack, "after the fuzz")


def test_a_burst_gets_the_friendly_limit_reply_not_an_error(stack: Services) -> None:
    limit, _ = CONVERSATION_LIMIT
    sender = f"burst-{uuid.uuid4().hex[:12]}"

    async def burst() -> List[httpx.Response]:
        async with httpx.AsyncClient(base_url=stack.rasa_url, timeout=TIMEOUT) as client:
            body = {"sender": sender, "message": "/greet"}
            return await asyncio.gather(
                *(client.post("/webhooks/rest/webhook", params={"token": TOKEN}, json=body) for _ in range(limit + 15))
            )

    responses = asyncio.run(burst())
    statuses = collections.Counter(r.status_code for r in responses)
    assert all(r.status_code < 500 for r in responses), statuses
    limited = [r for r in responses if r.status_code == 429]
    assert limited, f"no 429 in a burst of {limit + 15} to one conversation (limit {limit}): {statuses}"
    assert "faster than I can read" in limited[0].text and limited[0].headers.get("retry-after"), limited[0].text[:300]


def test_the_action_server_dying_mid_conversation(stack: Services) -> None:
    sender = f"fault-{uuid.uuid4().hex[:12]}"
    assert say(stack, sender, "my 9 month old crawls backwards").json()
    stack.stop_action()
    try:
        started = time.monotonic()
        response = say(stack, sender, "no, on time", timeout=30)
        took = time.monotonic() - started
        assert response.status_code == 200 and response.json(), f"HTTP {response.status_code}: {response.text[:300]}"
        assert took < 5, f"the reply without the action server took {took:.1f} s"
        flagged = f"fault-flag-{uuid.uuid4().hex[:12]}"
        started = time.monotonic()
        urgent = say(stack, flagged, RED_FLAGS[0], timeout=30)
        assert urgent.status_code == 200 and urgent.json() and time.monotonic() - started < 5, urgent.text[:300]
        assert slots(stack, flagged)["referral"] == "urgent"
    finally:
        stack.start_action()
    after = say(stack, sender, "yes")
    assert after.status_code == 200 and after.json(), after.text[:300]
    assert say(stack, f"fault-new-{uuid.uuid4().hex[:12]}", "my 9 month old crawls backwards").json()
