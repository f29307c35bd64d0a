"""`make load`: measurements of one load point (rates, latency percentiles, errors, CPU) and the report's tables."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from tests.tools.benchmark import percentile
from tests.tools.load_clients import Sample
from tests.tools.load_store import StoreCheck

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> Tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return (total - fields[3] - fields[4]) / CLOCK_TICKS, total / CLOCK_TICKS


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by process `root` and its living descendants."""
    parents: Dict[int, int] = {}
    times: Dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()  # fields after the command name: state is rest[0]
        parents[int(entry.name)] = int(rest[1])
        times[int(entry.name)] = (int(rest[11]) + int(rest[12])) / CLOCK_TICKS
    wanted, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid and child not in wanted]
        wanted.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in wanted)


@dataclass
class Point:
    """One measured load point."""

    label: str
    parents: int
    seconds: float  # the measured window
    samples: List[Sample]
    started: float = 0.0  # time.monotonic() at the start of the window
    elapsed: Optional[float] = None  # the window plus the wait for the messages still in flight at its end
    generator_cpu: float = 0.0  # CPU seconds of the load generator during the window
    server_cpu: Optional[float] = None  # CPU seconds of the server's process tree
    machine_busy: Optional[float] = None  # share of all cores busy (0-1)
    store: Optional[StoreCheck] = None
    notes: List[str] = field(default_factory=list)

    def ok(self, channel: Optional[str] = None) -> List[Sample]:
        """Answered messages (on one channel, or all)."""
        return [s for s in self.samples if s.error is None and (channel is None or s.channel == channel)]

    def rate(self) -> float:
        """Messages answered within the window, per second (those in flight at its end are left out)."""
        end = self.started + self.seconds
        return sum(1 for s in self.ok() if s.finished <= end) / self.seconds if self.seconds else 0.0

    def latency_ms(self, q: float, channel: Optional[str] = None) -> float:
        """The q-th percentile of answered messages' latency, in ms."""
        values = [(s.finished - s.started) * 1000 for s in self.ok(channel)]
        return percentile(values, q) if values else float("nan")

    def errors(self) -> Counter[str]:
        """Errors by kind."""
        return Counter(s.error for s in self.samples if s.error is not None)


def fmt(value: Optional[float], digits: int = 0) -> str:
    """A number for a table: thousands separated; '–' for missing."""
    if value is None or value != value:
        return "–"
    return f"{value:,.{digits}f}"


def error_text(point: Point) -> str:
    """Error count, with the kinds when there are any."""
    errors = point.errors()
    total = sum(errors.values())
    return f"{total} ({', '.join(f'{kind}: {n}' for kind, n in errors.most_common())})" if total else "0"


def store_text(check: Optional[StoreCheck]) -> Tuple[str, str]:
    """(lost, duplicated/reordered) cells; '–' when the store was not checked."""
    if check is None:
        return "–", "–"
    return str(check.lost), f"{check.duplicated} / {check.reordered}"


POINT_HEADER = (
    "| configuration | parents | messages/s | p50 ms | p95 ms | p99 ms | REST p95 | socket.io p95 | errors | lost | dup. / reord. "
    "| server CPU ms/msg | machine busy | generator CPU |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
)


def point_row(point: Point) -> str:
    """One table row."""
    answered = len(point.ok())
    per_message = point.server_cpu * 1000 / answered if point.server_cpu is not None and answered else None
    lost, dup = store_text(point.store)
    busy = f"{point.machine_busy:.0%}" if point.machine_busy is not None else "–"
    wall = point.elapsed or point.seconds
    share = point.generator_cpu / wall if wall else 0.0
    cells = [
        point.label,
        str(point.parents),
        fmt(point.rate(), 1),
        fmt(point.latency_ms(50)),
        fmt(point.latency_ms(95)),
        fmt(point.latency_ms(99)),
        fmt(point.latency_ms(95, "REST")),
        fmt(point.latency_ms(95, "socket.io")),
        error_text(point),
        lost,
        dup,
        fmt(per_message, 1),
        busy,
        f"{point.generator_cpu:.1f} s ({share:.0%} of a core)",
    ]
    return "| " + " | ".join(cells) + " |"


def points_table(points: Sequence[Point]) -> str:
    """The main table."""
    return "\n".join([POINT_HEADER, *(point_row(p) for p in points)])


def target_line(label: str, target: str, measured: str, met: Optional[bool]) -> str:
    """One row of the targets table."""
    verdict = "–" if met is None else ("met" if met else "not met")
    return f"| {label} | {target} | {measured} | {verdict} |"
