"""`make load`: closed-loop load benchmark, loopback only, bounded by wall clock; writes reports/load.md.

Side by side in one run: our stack with 1 Rasa replica (SQLite, in-memory locks), with 2 replicas (PostgreSQL,
Redis, the launcher's balancer), and Rasa's own `rasa init` bot (REST only). At each parent count, N simulated
parents run scripted conversations with no think time for --seconds (half on REST, half on socket.io); then the
tracker store itself is read with SQL to count lost, duplicated and reordered user messages. Also: one
conversation of --turns messages (reply time of the first 10 turns against the last 10), the time from launch to
the first answer, and a Rasa replica SIGKILLed under load (errors and rates before, during and after, and how long
until the restarted replica answers). The load generator is one asyncio process; its CPU time is reported.

Usage: python -m tests.tools.load [--parents 1,20,50,100] [--seconds 20] [--turns 200]
       [--only ours1,ours2,baseline,length,fault] [--fault-parents 20] [--out reports/load.md]
A run with --only writes reports/load-partial.md unless --out is given.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from bot.settings import PROJECT_ROOT
from tests.databases import PG_PORT, REDIS_PORT, fresh_postgres_database, reachable
from tests.tools.load_markdown import report
from tests.tools.load_phases import (
    BASELINE_SCRIPTS,
    FaultResult,
    LengthResult,
    fault_phase,
    length_test,
    measure,
    our_scripts,
    target_of,
    warm_up,
)
from tests.tools.load_report import Point
from tests.tools.load_stacks import Stack, start_baseline, start_ours

PHASES = ("ours1", "ours2", "baseline", "length", "fault")
RUN_DIR = PROJECT_ROOT / "build" / "load"  # servers' logs and data of the last run


@dataclass
class Run:
    """Everything measured in one run."""

    args: argparse.Namespace
    facts: List[str] = field(default_factory=list)
    points: List[Point] = field(default_factory=list)
    lengths: List[LengthResult] = field(default_factory=list)
    starts: List[tuple[str, float, str]] = field(default_factory=list)  # (stack, seconds, replicas running)
    fault: Optional[FaultResult] = None
    notes: List[str] = field(default_factory=list)


def machine_facts() -> List[str]:
    """Date, commit, cores and load average at the start."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()

    dirty = " with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"date {now}",
        f"commit {git('rev-parse', '--short', 'HEAD')}{dirty}",
        f"{os.cpu_count()} cores (nproc {nproc})",
        f"load average at start {load} (1, 5, 15 min)",
    ]


def say(text: str) -> None:
    print(f"[load] {text}", flush=True)


def still_running(run: Run, stack: Stack) -> bool:
    """Whether the stack's top process still runs; if not, a note for the report (its measurements are void)."""
    code = stack.process.poll()
    if code is None:
        return True
    run.notes.append(
        f"{stack.name}: its process exited (code {code}) during the run; the measurements after that are left out "
        f"(its log: {stack.log.relative_to(PROJECT_ROOT) if stack.log.is_relative_to(PROJECT_ROOT) else stack.log})."
    )
    say(run.notes[-1])
    return False


def load_points(run: Run, stack: Stack, scripts: List[List[str]], label: str) -> bool:
    """Every parent count against one stack; False when the stack stopped under it."""
    for parents in run.args.parents:
        say(f"{label}: {parents} parents for {run.args.seconds:g} s")
        point = measure(stack, target_of(stack, scripts), parents, run.args.seconds, label)
        if not still_running(run, stack):
            return False
        say(f"  {point.rate():.1f} messages/s, p95 {point.latency_ms(95):.0f} ms, {sum(point.errors().values())} errors")
        run.points.append(point)
    return True


def replicas_running(stack: Stack) -> str:
    """How many Rasa replicas the launcher lists (DATA_DIR/replicas.json), or that it lists none."""
    listed = stack.replicas()
    return str(len(listed)) if listed else "not listed (no replicas.json)"


def run_ours(run: Run, tmp: Path, replicas: int) -> None:
    """Our stack with 1 replica (SQLite) or 2 (PostgreSQL + Redis): load points, long conversation, fault."""
    only = run.args.only
    with ExitStack() as cleanup:
        url = cleanup.enter_context(fresh_postgres_database("caregiver_load")) if replicas > 1 else None
        say(f"starting ours with {replicas} replica(s)")
        stack = start_ours(tmp / f"ours{replicas}", replicas, url)
        cleanup.callback(stack.stop)
        running = replicas_running(stack)
        run.starts.append((stack.name, stack.start_seconds, running))
        if replicas > 1 and running != str(replicas):
            run.notes.append(f"RASA_REPLICAS={replicas}: the launcher lists {running} Rasa replica(s).")
        scripts = our_scripts()
        warm_up(stack, scripts)
        if f"ours{replicas}" in only and not load_points(run, stack, scripts, stack.name):
            return
        if replicas == 1 and "length" in only:
            say(f"{stack.name}: one conversation of {run.args.turns} messages")
            result = length_test(stack, scripts, run.args.turns, stack.name)
            if still_running(run, stack):
                run.lengths.append(result)
        if replicas > 1 and "fault" in only:
            say(f"{stack.name}: killing a replica under {run.args.fault_parents} parents")
            fault = fault_phase(stack, scripts, run.args.fault_parents)
            if still_running(run, stack):
                run.fault = fault


def run_baseline(run: Run, tmp: Path) -> None:
    """Rasa's `rasa init` bot: load points over REST and the long conversation."""
    say("starting Rasa's `rasa init` bot")
    stack = start_baseline(tmp)
    try:
        run.starts.append((stack.name, stack.start_seconds, "1"))
        warm_up(stack, BASELINE_SCRIPTS)
        if "baseline" in run.args.only and not load_points(run, stack, BASELINE_SCRIPTS, stack.name):
            return
        if "length" in run.args.only:
            say(f"{stack.name}: one conversation of {run.args.turns} messages")
            run.lengths.append(length_test(stack, BASELINE_SCRIPTS, run.args.turns, stack.name))
    finally:
        stack.stop()


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parents", default="1,20,50,100", help="parent counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load point")
    parser.add_argument("--turns", type=int, default=200, help="messages in the long conversation")
    parser.add_argument("--only", default=",".join(PHASES), help=f"any of {','.join(PHASES)}")
    parser.add_argument("--fault-parents", type=int, default=20, help="parents while a replica is killed")
    parser.add_argument("--out", type=Path, default=None, help="report file")
    args = parser.parse_args(argv)
    args.parents = [int(p) for p in args.parents.split(",") if p.strip()]
    args.only = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = args.only - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    default_out = "load.md" if args.only == set(PHASES) else "load-partial.md"
    args.out = args.out or PROJECT_ROOT / "reports" / default_out
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the selected phases and write the report."""
    args = parse_args(argv)
    run = Run(args, machine_facts())
    say("; ".join(run.facts))
    shutil.rmtree(RUN_DIR, ignore_errors=True)  # the last run's logs and data are kept there until the next run
    tmp = RUN_DIR
    tmp.mkdir(parents=True)
    if args.only & {"ours1", "length"}:
        run_ours(run, tmp, 1)
    if args.only & {"ours2", "fault"}:
        if reachable(PG_PORT) and reachable(REDIS_PORT):
            run_ours(run, tmp, 2)
        else:
            run.notes.append("2 replicas and the fault phase not run: PostgreSQL or Redis is not reachable on 127.0.0.1.")
    if args.only & {"baseline", "length"}:
        run_baseline(run, tmp)
    text = report(run)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(text)
    print(text)
    say(f"written to {args.out.relative_to(PROJECT_ROOT) if args.out.is_relative_to(PROJECT_ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
