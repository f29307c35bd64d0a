"""`make load`: the measured phases (load points, the long conversation, a replica killed under load)."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

from tests.tools.benchmark import CONVERSATIONS
from tests.tools.eval_conversations import load_dialogues
from tests.tools.load_clients import MessageError, Recorder, RestParent, Sample, Target, cpu_seconds, run_for, run_load
from tests.tools.load_report import Point, machine_cpu, tree_cpu
from tests.tools.load_stacks import Stack
from tests.tools.load_store import Sent, StoreCheck, check_store

# Rasa's `rasa init` bot only knows greetings, moods, yes/no and "are you a bot?": its own example messages.
BASELINE_SCRIPTS = [
    ["hello", "I am sad", "yes", "I am feeling very good", "are you a bot?", "bye"],
    ["good morning", "my day was horrible", "no", "great", "goodbye"],
    ["hey there", "I am great", "are you a bot?", "very sad", "yes", "see you later"],
    ["hi", "unhappy", "not really", "I am amazing", "bye bye"],
]
RESTART = {"start over"}  # a new session afterwards: kept out of the long conversation, which must keep growing


def our_scripts() -> List[List[str]]:
    """The benchmark's scripted conversations, then every scripted dialogue as opening, replies, later messages."""
    dialogues = [[d["opening"], *(d.get("replies") or {}).values(), *(d.get("after") or [])] for d in load_dialogues()]
    return [list(c) for c in CONVERSATIONS] + [[str(t) for t in d] for d in dialogues]


def target_of(stack: Stack, scripts: Sequence[Sequence[str]]) -> Target:
    """What the load generator needs to know about a stack."""
    return Target(stack.rasa_url, stack.token, stack.origin, scripts)


def checked(stack: Stack, conversations: Dict[str, Sent]) -> Optional[StoreCheck]:
    """The tracker-store check, or None for an in-memory store."""
    return check_store(stack.tracker_url, conversations) if stack.tracker_url else None


async def _warm_up(stack: Stack, target: Target) -> None:
    replicas = [r for r in stack.replicas() if r.get("port")]
    direct = [Target(f"http://127.0.0.1:{r['port']}", stack.token, None, target.scripts) for r in replicas]
    for each in direct:  # every replica, straight: the balancer may send the first messages all to one
        await run_for(each, 1, 2.0)
    await run_for(target, 4, 4.0)


def warm_up(stack: Stack, scripts: Sequence[Sequence[str]]) -> None:
    """Unmeasured messages first: a Rasa process takes seconds over its first messages (TensorFlow, caches)."""
    asyncio.run(_warm_up(stack, target_of(stack, scripts)))


def measure(stack: Stack, target: Target, parents: int, seconds: float, label: str) -> Point:
    """One load point: `parents` parents for `seconds`, with CPU use and the tracker-store check."""
    generator, server, (busy, total) = cpu_seconds(), tree_cpu(stack.process.pid), machine_cpu()
    started = time.monotonic()
    recorder = asyncio.run(run_for(target, parents, seconds))
    elapsed = time.monotonic() - started
    busy_after, total_after = machine_cpu()
    point = Point(label, parents, seconds, recorder.samples, started=started)
    point.generator_cpu = cpu_seconds() - generator
    point.server_cpu = tree_cpu(stack.process.pid) - server
    point.machine_busy = (busy_after - busy) / (total_after - total) if total_after > total else None
    point.elapsed = elapsed
    point.store = checked(stack, recorder.conversations)
    return point


@dataclass
class LengthResult:
    """One long conversation: reply time per turn (ms), errors and the store check."""

    label: str
    turns_ms: List[float]
    errors: int
    store: Optional[StoreCheck] = None

    def average(self, first: int, last: int) -> float:
        """Mean reply time of turns first..last (1-based, inclusive)."""
        chosen = self.turns_ms[first - 1 : last]
        return statistics.mean(chosen) if chosen else float("nan")


async def long_conversation(target: Target, turns: int) -> tuple[List[float], int, Dict[str, Sent]]:
    """One parent, one conversation id, `turns` messages cycling through the scripts (no restart)."""
    messages = [text for script in target.scripts for text in script if text.lower() not in RESTART]
    times: List[float] = []
    errors, sent = 0, Sent()
    async with aiohttp.ClientSession() as session:
        parent = RestParent(target, session)
        sender = await parent.new_conversation()
        for turn in range(turns):
            text = messages[turn % len(messages)]
            started = time.monotonic()
            try:
                finished = await parent.say(text)
            except MessageError:
                errors, finished = errors + 1, time.monotonic()
            times.append((finished - started) * 1000)
            sent.add(text, True)
    return times, errors, {sender: sent}


def length_test(stack: Stack, scripts: Sequence[Sequence[str]], turns: int, label: str) -> LengthResult:
    """The long conversation against a stack, with the tracker-store check."""
    times, errors, conversations = asyncio.run(long_conversation(target_of(stack, scripts), turns))
    return LengthResult(label, times, errors, checked(stack, conversations))


@dataclass
class FaultResult:
    """A Rasa replica SIGKILLed under load: the load in three windows, and how long until the replica answered."""

    victim: Dict[str, Any] = field(default_factory=dict)
    windows: List[Point] = field(default_factory=list)  # before the kill, until the replica is back, after
    back_seconds: Optional[float] = None  # from the kill to the first reply straight from the restarted replica
    errors_in_flight: int = 0  # errors after the kill in conversations that had a message in flight at the kill
    errors_other: int = 0  # errors after the kill in the other conversations
    new_pid: Optional[int] = None
    store: Optional[StoreCheck] = None
    note: str = ""


async def replica_back(port: int, token: str, give_up: float) -> Optional[float]:
    """Poll one replica with a REST message until it replies; the time (monotonic) it did, None at give_up."""
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    body = {"sender": f"load-probe-{uuid.uuid4().hex[:8]}", "message": "hi"}
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < give_up:
            try:
                async with session.post(url, params={"token": token}, json=body, timeout=5) as response:
                    if response.status == 200 and await response.json():
                        return time.monotonic()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.25)
    return None


def windows(samples: Sequence[Sample], bounds: Sequence[float], labels: Sequence[str], parents: int) -> List[Point]:
    """Split a run's messages by when they were answered (or failed) into consecutive windows [bounds[i], bounds[i+1])."""
    result = []
    for label, start, end in zip(labels, bounds, bounds[1:], strict=False):
        inside = [s for s in samples if start <= s.finished < end or (end == bounds[-1] and s.finished == end)]
        result.append(Point(label, parents, end - start, inside, started=start))
    return result


async def kill_under_load(
    stack: Stack, target: Target, parents: int, kill_after: float, settle: float, cap: float
) -> FaultResult:
    """Load the stack, SIGKILL its last listed Rasa replica after kill_after s, wait for it back, then settle s more."""
    result = FaultResult()
    victim = [r for r in stack.replicas() if r.get("pid")][-1]
    result.victim = victim
    stop_at = [float("inf")]
    started = time.monotonic()
    load = asyncio.create_task(run_load(target, parents, lambda: time.monotonic() < stop_at[0]))
    await asyncio.sleep(kill_after)
    os.kill(int(victim["pid"]), signal.SIGKILL)
    killed = time.monotonic()
    back = await replica_back(int(victim["port"]), stack.token, killed + cap)
    result.back_seconds = back - killed if back else None
    if back is None:
        result.note = f"the replica did not answer within {cap:.0f} s of the kill"
    stop_at[0] = time.monotonic() + settle
    recorder: Recorder = await load
    ended = max([stop_at[0], *(s.finished for s in recorder.samples)])
    bounds = [started, killed, back or stop_at[0], ended]
    result.windows = windows(recorder.samples, bounds, ["before the kill", "until it is back", "after"], parents)
    in_flight = {s.sender for s in recorder.samples if s.started < killed <= s.finished and s.sender}
    failed = [s for s in recorder.samples if s.error and s.finished >= killed]
    result.errors_in_flight = sum(1 for s in failed if s.sender in in_flight)
    result.errors_other = len(failed) - result.errors_in_flight
    result.new_pid = next((int(r["pid"]) for r in stack.replicas() if r.get("key") == victim.get("key") and r.get("pid")), None)
    result.store = checked(stack, recorder.conversations)
    return result


def fault_phase(stack: Stack, scripts: Sequence[Sequence[str]], parents: int, kill_after: float = 10.0) -> FaultResult:
    """kill_under_load, or a note saying why it could not run."""
    if len([r for r in stack.replicas() if r.get("pid")]) < 2:
        return FaultResult(note="not run: the launcher lists fewer than two Rasa replicas in DATA_DIR/replicas.json")
    return asyncio.run(kill_under_load(stack, target_of(stack, scripts), parents, kill_after, settle=10.0, cap=120.0))
