"""`make load`: the report (reports/load.md), from everything one run measured."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from tests.tools.load_phases import FaultResult, LengthResult
from tests.tools.load_report import Point, error_text, fmt, points_table, store_text, target_line

if TYPE_CHECKING:
    from tests.tools.load import Run

ONE, TWO = "ours, 1 replica", "ours, 2 replicas"
LISTED = 5  # conversations with a storage problem listed per phase


def find(points: List[Point], label: str, parents: int) -> Optional[Point]:
    """The point of one configuration at one parent count."""
    return next((p for p in points if p.label == label and p.parents == parents), None)


def clean(point: Point) -> bool:
    """No errors, nothing lost, duplicated or reordered."""
    store = point.store
    return not point.errors() and store is not None and not (store.lost or store.duplicated or store.reordered)


def targets(run: Run) -> str:
    """The issue's targets beside what this run measured."""
    rows = ["| target | goal | measured | |", "|---|---|---|---|"]
    two = find(run.points, TWO, 50)
    if two:
        met = two.rate() >= 120 and two.latency_ms(95) <= 200 and clean(two)
        measured = f"{two.rate():.1f} msg/s, p95 {fmt(two.latency_ms(95))} ms, errors {error_text(two)}, lost {store_text(two.store)[0]}, dup./reord. {store_text(two.store)[1]}"
        rows.append(target_line("2 replicas, 50 parents", "≥ 120 msg/s, p95 ≤ 200 ms, 0 errors, 0 lost/dup.", measured, met))
    ones = [p for p in run.points if p.label == ONE]
    if ones:
        best = max(ones, key=lambda p: p.rate())
        rows.append(
            target_line(
                "1 replica, throughput", "≥ 90 msg/s", f"{best.rate():.1f} msg/s ({best.parents} parents)", best.rate() >= 90
            )
        )
    single = find(run.points, ONE, 1)
    if single:
        p95 = single.latency_ms(95)
        rows.append(target_line("1 replica, single parent", "p95 ≤ 20 ms", f"p95 {fmt(p95, 1)} ms", p95 <= 20))
    ours = next((r for r in run.lengths if r.label == ONE), None)
    if ours and len(ours.turns_ms) >= 200:
        ratio = ours.average(191, 200) / ours.average(1, 10)
        rows.append(target_line("turns 191–200 vs 1–10", "≤ 1.5×", f"{ratio:.2f}×", ratio <= 1.5))
    for name, seconds, _ in run.starts:
        goal = {ONE: 15, TWO: 25}.get(name)
        if goal:
            rows.append(target_line(f"start to first answer, {name[6:]}", f"≤ {goal} s", f"{seconds:.1f} s", seconds <= goal))
    return "\n".join(rows)


def lengths_table(results: List[LengthResult]) -> str:
    """First 10 turns against the last 10 of one long conversation."""
    rows = [
        "| configuration | turns | turns 1–10 avg ms | last 10 turns avg ms | ratio | errors | lost | dup. / reord. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        n = len(r.turns_ms)
        first, last = r.average(1, 10), r.average(n - 9, n)
        lost, dup = store_text(r.store)
        rows.append(f"| {r.label} | {n} | {first:.1f} | {last:.1f} | {last / first:.2f}× | {r.errors} | {lost} | {dup} |")
    return "\n".join(rows)


def fault_section(fault: FaultResult) -> str:
    """The replica-kill phase."""
    if not fault.windows:
        return fault.note
    back = f"{fault.back_seconds:.1f} s" if fault.back_seconds is not None else "not back"
    lost, dup = store_text(fault.store)
    pid = (
        f"new pid {fault.new_pid}"
        if fault.new_pid and fault.new_pid != fault.victim.get("pid")
        else "pid not updated in replicas.json"
    )
    flagged = fault.store.flagged if fault.store else ()
    lines = [
        f"Killed `{fault.victim.get('service') or fault.victim.get('key')}` (port {fault.victim.get('port')}) with SIGKILL; "
        f"it answered a message sent straight to its port again after **{back}** ({pid}). "
        f"Whole phase: lost {lost}, duplicated / reordered {dup}. Errors from the kill on: {fault.errors_in_flight} in the "
        f"conversations that had a message in flight at the kill, {fault.errors_other} in the others."
        f"{(' ' + fault.note) if fault.note else ''}\n",
        windows_table(fault.windows),
    ]
    if flagged:
        lines += ["", "Conversations with lost, duplicated or reordered messages:", *(f"- {line}" for line in flagged[:LISTED])]
        lines += [f"- ... and {len(flagged) - LISTED} more"] if len(flagged) > LISTED else []
    return "\n".join(lines)


def windows_table(windows: List[Point]) -> str:
    """The load before, during and after a fault."""
    rows = ["| window | seconds | messages/s | p50 ms | p95 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|---|"]
    for w in windows:
        cells = [
            w.label,
            f"{w.seconds:.1f}",
            fmt(w.rate(), 1),
            fmt(w.latency_ms(50)),
            fmt(w.latency_ms(95)),
            fmt(w.latency_ms(99)),
        ]
        rows.append("| " + " | ".join([*cells, error_text(w)]) + " |")
    return "\n".join(rows)


def report(run: Run) -> str:
    """The whole report, Markdown."""
    args = run.args
    parts = [
        "# Load: closed-loop simulated parents\n",
        "Written by `make load` (`python -m tests.tools.load`); rerun it to refresh. Machine: " + "; ".join(run.facts) + ".\n",
        f"Each point: N parents, each running scripted conversations back to back with no think time, a fresh "
        f"conversation id per conversation, for {args.seconds:g} s; even-numbered parents on REST, odd-numbered on the "
        "widget's socket.io channel (WebSocket), Rasa's bot on REST only (its own example messages: it does not know "
        "our topics). Latency: sending a message to its last bot message. messages/s: messages answered within the "
        "window. Errors: HTTP errors, timeouts, lost connections, messages without any reply, the channels' "
        "technical-trouble reply (Rasa failed on the message), socket.io acknowledgements that are not ok. Lost / duplicated / "
        "reordered: every answered user message counted in the tracker store itself (SQL on `events`), once and in "
        "order; '–' for Rasa's in-memory store. Server CPU: the launcher's process tree (Rasa, actions, web, "
        "balancer; not PostgreSQL or Redis) per answered message. Rate limits are switched off for the load.\n",
        "## Targets (issue 15)\n",
        targets(run) + "\n",
        "## Throughput and latency\n",
        points_table(run.points) + "\n",
        "## Start to first answer\n",
        "\n".join(
            ["| configuration | seconds | Rasa replicas listed |", "|---|---:|---|"]
            + [f"| {n} | {s:.1f} | {r} |" for n, s, r in run.starts]
        )
        + "\n",
    ]
    if run.lengths:
        parts += [
            "## One long conversation\n",
            f"One parent over REST, one conversation id, {args.turns} messages "
            'cycling through the scripts (without "start over", which opens a new session).\n',
            lengths_table(run.lengths) + "\n",
        ]
    if run.fault is not None:
        parts += [f"## A replica killed under load ({args.fault_parents} parents)\n", fault_section(run.fault) + "\n"]
    notes = list(run.notes)
    for point in run.points:
        for line in (point.store.flagged if point.store else ())[:LISTED]:
            notes.append(f"{point.label} × {point.parents}: {line}")
    heavy = [p for p in run.points if p.elapsed and p.generator_cpu / p.elapsed > 0.3]
    if heavy:
        notes.append(
            "The load generator used more than 30 % of a core at: "
            + ", ".join(f"{p.label} × {p.parents}" for p in heavy)
            + " (it shares the 2 cores with the servers)."
        )
    if notes:
        parts += ["## Notes\n", "\n".join(f"- {n}" for n in notes) + "\n"]
    return "\n".join(parts)
