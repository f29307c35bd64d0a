"""`make bench`: our config against Rasa's default config, side by side in one run, on the same data.

For each config: training time from scratch (empty graph cache), time from starting both servers to the
first answer, REST reply latency over scripted conversations (one user; includes the action-server call),
and peak RSS (VmHWM) of the Rasa and action-server processes. Reports medians, p95 and ratios. Then the time per
message of the in-process steps every message goes through (entity parsers, red-flag detector, observation
catalogue, `understand`), beside the budgets unit tests used to assert (wall-clock limits of a few ms there only
measured how busy the machine was; the unit tests keep ratio checks against super-linear blow-ups).

Usage: python -m tests.tools.benchmark [--rounds 3] [--baseline configs/baseline_default.yml]
       python -m tests.tools.benchmark --core-only   (the in-process steps alone: seconds, no training or servers)
       python -m tests.tools.benchmark --baseline-root /path/to/other/checkout   (e.g. `git worktree add` of the
       previous main: that tree's own config, data and code, served the same way, side by side with this one)
Writes reports/bench.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import httpx

from bot.serve import action_command, rasa_command, service_env, wait_until_up
from bot.settings import PROJECT_ROOT

CONVERSATIONS: List[List[str]] = [
    ["hi", "my 13 month old only crawls backwards", "no she was on time", "no", "yes", "thanks"],
    ["why is my baby crawling backwards", "ten and a half months", "6 weeks early", "not sure", "yes", "bye"],
    ["she scoots on her bum instead of crawling", "14 months", "no", "yes", "no she lifts her legs", "no", "not that I know of"],
    [
        "my 19 month old isn't walking yet",
        "born at 34 weeks",
        "yes",
        "about 10 secs",
        "yes",
        "the doctor checks them every visit",
    ],
    ["my toddler won't take steps on his own", "why do you ask?", "1yo", "no", "yes", "half a minute", "yes", "yes"],
    ["what's a good recipe for pancakes", "my baby has a fever and won't put weight on his leg", "start over", "hello"],
]

# Longer messages than the scripted replies, as parents write them: every step reads the whole message.
CORE_EXTRA_MESSAGES = [
    "my 14 month old stood for about 10 secs, she was born 6 weeks early, is that ok?",
    "he's 15 months and not walking, his legs go stiff and cross over when I lift him under the arms",
    "she used to crawl but since last week she won't put weight on her left leg and she has a temperature",
    "my cousin's baby drags a leg and mine always reaches with her left hand, is that normal?",
    "he was breech and had his hips scanned at 6 weeks, the creases look even, no limp, not sitting alone yet",
]


@dataclass
class Result:
    """Measurements for one config (of this project, or of another checkout at `root`)."""

    name: str
    root: Path = PROJECT_ROOT
    train_seconds: List[float] = field(default_factory=list)
    start_seconds: List[float] = field(default_factory=list)
    latencies_ms: List[float] = field(default_factory=list)
    rasa_rss_mb: List[float] = field(default_factory=list)
    action_rss_mb: List[float] = field(default_factory=list)


def free_port() -> int:
    """An unused localhost port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train(config: Path, out: Path, root: Path = PROJECT_ROOT) -> float:
    """Train from scratch (fresh graph cache) in the project at `root`; return wall seconds."""
    env = {**service_env({"PYTHONPATH": str(root)}), "RASA_CACHE_DIRECTORY": tempfile.mkdtemp(prefix="rasa-cache-")}
    started = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"),
            "train",
            "--config",
            str(config),
            "--domain",
            "domain",
            "--data",
            "data",
            "--out",
            str(out),
            "--fixed-model-name",
            config.stem,
        ],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def commands_of(root: Path, action_port: int, rasa_port: int, model: Path, token: str) -> Tuple[List[str], List[str]]:
    """The action-server and Rasa command lines as the checkout at `root` builds them (its own bot.serve)."""
    if root == PROJECT_ROOT:
        return action_command(action_port), rasa_command(rasa_port, model, token)
    script = (
        "import json, sys; from pathlib import Path; from bot.serve import action_command, rasa_command; "
        f"print(json.dumps([action_command({action_port}), rasa_command({rasa_port}, Path({str(model)!r}), {token!r})]))"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    output = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, check=True, capture_output=True, text=True).stdout
    action_line, rasa_line = json.loads(output.strip().splitlines()[-1])
    return action_line, rasa_line


def serve_and_measure(model: Path, result: Result, tmp: Path) -> None:
    """Start both servers, time the first answer, run the scripted conversations, read peak RSS."""
    rasa_port, action_port = free_port(), free_port()
    token = uuid.uuid4().hex  # the REST channel requires the Rasa token
    env = service_env(
        {
            "RASA_TOKEN": token,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
            "TRACKER_DB_URL": f"sqlite:///{tmp / f'tracker-{uuid.uuid4().hex[:6]}.db'}",
            "PYTHONPATH": str(result.root),
        }
    )
    log = open(tmp / "servers.log", "ab")
    started = time.perf_counter()
    action_line, rasa_line = commands_of(result.root, action_port, rasa_port, model, token)
    action = subprocess.Popen(action_line, cwd=result.root, env=env, stdout=log, stderr=log)
    rasa = subprocess.Popen(rasa_line, cwd=result.root, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    try:
        wait_until_up(f"http://127.0.0.1:{action_port}/health", 120, action)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", 300, rasa)
        with httpx.Client(timeout=60, params={"token": token}) as client:
            first = client.post(url, json={"sender": "warmup", "message": "hi"})
            first.raise_for_status()
            result.start_seconds.append(time.perf_counter() - started)
            for script in CONVERSATIONS:
                sender = f"bench-{uuid.uuid4().hex[:10]}"
                for text in script:
                    t0 = time.perf_counter()
                    response = client.post(url, json={"sender": sender, "message": text})
                    result.latencies_ms.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                    if not response.json():
                        raise RuntimeError(f"no reply to {text!r}")
        result.rasa_rss_mb.append(peak_rss_mb(rasa.pid))
        result.action_rss_mb.append(peak_rss_mb(action.pid))
    finally:
        for process in (rasa, action):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def percentile(values: List[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def per_message_ms(step: Callable[[str], object], messages: List[str], rounds: int) -> Tuple[float, float]:
    """Median and p95 over the messages of each message's best time of `rounds` runs, in ms (after a warm-up pass)."""
    for text in messages:
        step(text)
    best = []
    for text in messages:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            step(text)
            times.append(time.perf_counter() - started)
        best.append(min(times) * 1000)
    return statistics.median(best), percentile(best, 95)


def core_table(rounds: int = 5) -> str:
    """Markdown table: time per message of the in-process steps, beside the budget the unit tests used to assert."""
    from bot.nlu.observations import default_catalogue
    from bot.nlu.parsers import extract_entities
    from bot.nlu.red_flags import default_detector
    from bot.nlu.understand import understand

    detector, catalogue = default_detector(), default_catalogue()
    steps: List[Tuple[str, Callable[[str], object], str]] = [
        ("entity parsers (`extract_entities`)", extract_entities, "1"),
        ("red-flag detector", detector.detect, "4"),
        ("observation catalogue", catalogue.detect, "5"),
        ("`understand` (the whole reading of a message)", understand, "-"),
    ]
    messages = [text for script in CONVERSATIONS for text in script] + CORE_EXTRA_MESSAGES
    lines = [
        f"{len(messages)} messages, best of {rounds} runs each, one process.\n",
        "| step | per message p50 (ms) | p95 (ms) | former unit-test budget (ms) |",
        "|---|---:|---:|---:|",
    ]
    for label, step, budget in steps:
        p50, p95 = per_message_ms(step, messages, rounds)
        lines.append(f"| {label} | {p50:.2f} | {p95:.2f} | {budget} |")
    return "\n".join(lines)


def table(results: List[Result]) -> str:
    """Markdown table of medians, with the ratio baseline / ours."""
    ours, base = results
    rows = [
        ("training from scratch (s, median)", statistics.median(ours.train_seconds), statistics.median(base.train_seconds)),
        ("start to first answer (s, median)", statistics.median(ours.start_seconds), statistics.median(base.start_seconds)),
        ("REST reply p50 (ms)", percentile(ours.latencies_ms, 50), percentile(base.latencies_ms, 50)),
        ("REST reply p95 (ms)", percentile(ours.latencies_ms, 95), percentile(base.latencies_ms, 95)),
        ("Rasa peak RSS (MB, median)", statistics.median(ours.rasa_rss_mb), statistics.median(base.rasa_rss_mb)),
        ("action server peak RSS (MB, median)", statistics.median(ours.action_rss_mb), statistics.median(base.action_rss_mb)),
    ]
    lines = [f"| measure | {ours.name} | {base.name} | {base.name} / {ours.name} |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {a:.1f} | {b:.1f} | {b / a:.2f}× |" for label, a, b in rows]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the benchmark and write reports/bench.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="train + serve rounds per config")
    parser.add_argument("--baseline", type=Path, default=PROJECT_ROOT / "configs" / "baseline_default.yml")
    parser.add_argument("--baseline-root", type=Path, help="another checkout to compare with (its config.yml)")
    parser.add_argument("--core-only", action="store_true", help="only the in-process steps per message (no servers)")
    args = parser.parse_args(argv)
    if args.core_only:
        print(core_table())
        return 0
    if args.baseline_root:
        root = args.baseline_root.resolve()
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        configs = [PROJECT_ROOT / "config.yml", root / "config.yml"]
        results = [Result(name="this tree"), Result(name=f"baseline {commit or root.name}", root=root)]
    else:
        configs = [PROJECT_ROOT / "config.yml", args.baseline]
        results = [Result(name=c.name) for c in configs]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
        tmp = Path(tmp_name)
        for round_number in range(args.rounds):
            for config, result in zip(configs, results, strict=False):  # interleaved, so drift affects both alike
                print(f"round {round_number + 1}/{args.rounds}: {config.name}", flush=True)
                out = tmp / f"models-{round_number}"
                result.train_seconds.append(train(config, out, result.root))
                serve_and_measure(out / f"{config.stem}.tar.gz", result, tmp)
    messages = sum(len(c) for c in CONVERSATIONS)
    report = (
        f"# Benchmark: {results[0].name} vs {results[1].name}\n\n"
        f"{args.rounds} rounds per config, interleaved; {messages} scripted messages per round "
        f"({len(CONVERSATIONS)} conversations, one user at a time, REST channel, action server included).\n"
        f"Machine: {os.cpu_count()} cores. Peak RSS is VmHWM of each server process.\n\n{table(results)}\n\n"
        f"## In-process steps, per message ({results[0].name})\n\n{core_table()}\n"
    )
    out_file = PROJECT_ROOT / "reports" / "bench.md"
    out_file.parent.mkdir(exist_ok=True)
    out_file.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
