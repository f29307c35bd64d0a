"""`make bench-review`: the review dashboard's pages over 10,000 conversations (~200,000 events).

For SQLite and for the real PostgreSQL at 127.0.0.1:5432 (skipped with a note if unreachable): generate
the conversations into Rasa's `events` table, start the real web server, sign in, time the first request
(which builds the conversation summaries), then time each page over several requests. The baseline in the
same run is the same database with the summary table's secondary indexes dropped. Reports medians, p95
and ratios in reports/review_bench.md.

Usage: python -m tests.tools.review_bench [--conversations 10000] [--requests 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Dict, List

import sqlalchemy as sa

from bot.settings import PROJECT_ROOT, get_settings
from tests.databases import PG_PORT, reachable
from tests.review_server import Client, ReviewServer

PAGES = {
    "overview, 30 days": "/review/?days=30",
    "overview, 365 days": "/review/?days=365",
    "list, newest first": "/review/conversations",
    "list, urgent": "/review/conversations?referral=urgent",
    "list, topic + misunderstood + not reviewed": "/review/conversations?topic=late_walking&fallback=yes&reviewed=no",
    "list, text search": "/review/conversations?q=purple",
    "list, page 100": "/review/conversations?page=100",
    "list, date range": "/review/conversations?date_from=2026-06-01&date_to=2026-06-30",
}


def time_pages(client: Client, requests: int) -> Dict[str, List[float]]:
    """Milliseconds per request for each page (after one warm-up request)."""
    timings: Dict[str, List[float]] = {}
    for name, path in PAGES.items():
        assert client.get(path).status_code == 200, path
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        timings[name] = samples
    return timings


def summary_vs_events(url: str, requests: int) -> List[str]:
    """The newest-first list straight from SQL: from our summary table, and aggregated from `events`
    on every request (what a dashboard without the summary would have to do)."""
    from bot.review.filters import Filters
    from bot.review.queries import list_conversations

    engine = sa.create_engine(url)
    naive = sa.text(
        "SELECT sender_id, min(timestamp) AS started, max(timestamp) AS last, "
        "sum(CASE WHEN type_name = 'user' THEN 1 ELSE 0 END) AS messages, "
        'max(CASE WHEN data LIKE \'%"name": "referral", "value": "urgent"%\' THEN 1 ELSE 0 END) AS urgent '
        "FROM events GROUP BY sender_id ORDER BY last DESC LIMIT 25"
    )

    def timed(run: object) -> float:
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            run()  # type: ignore[operator]
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    def from_events() -> None:
        with engine.connect() as connection:
            connection.execute(naive).fetchall()

    ours = timed(lambda: list_conversations(engine, Filters()))
    theirs = timed(from_events)
    engine.dispose()
    return [
        f"| list, newest first, SQL only | {ours:.1f} | | {theirs:.1f} (aggregating `events` per request) | {theirs / ours:.1f}× |"
    ]


def drop_indexes(url: str) -> None:
    """The baseline: the summary table without its secondary indexes (primary key kept)."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for index in sa.inspect(engine).get_indexes("review_conversations"):
            connection.execute(sa.text(f'DROP INDEX "{index["name"]}"'))
    engine.dispose()


def p95(samples: List[float]) -> float:
    return sorted(samples)[max(0, int(round(0.95 * len(samples))) - 1)]


def run_backend(name: str, url: str, tmp: Path, conversations: int, requests: int) -> List[str]:
    kb = get_settings().knowledge_db
    server = ReviewServer(url, tmp, kb, conversations=conversations)
    start = time.perf_counter()
    server.start()
    seeded = time.perf_counter() - start
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            events = connection.execute(sa.text("SELECT count(*) FROM events")).scalar()
        engine.dispose()
        client = Client(server)
        client.sign_in("admin")
        start = time.perf_counter()
        client.get("/review/conversations")
        first = time.perf_counter() - start
        indexed = time_pages(client, requests)
        direct = summary_vs_events(url, requests)
        drop_indexes(url)
        baseline = time_pages(client, requests)
    finally:
        server.stop()
    lines = [
        f"### {name}: {conversations:,} conversations, {events:,} events",
        "",
        f"Seeding the database and starting the server: {seeded:.1f} s. First request (builds every conversation summary): {first:.1f} s.",
        "",
        "| page | median ms | p95 ms | baseline median ms (no secondary indexes) | baseline / ours |",
        "|---|---:|---:|---:|---:|",
    ]
    for page in PAGES:
        ours, base = statistics.median(indexed[page]), statistics.median(baseline[page])
        lines.append(f"| {page} | {ours:.1f} | {p95(indexed[page]):.1f} | {base:.1f} | {base / ours:.2f}× |")
    return lines + direct + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    report = [
        "# Review dashboard benchmark",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC, {args.requests} timed requests per page, HTTP to the real server.",
        "",
    ]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (tmp / "sqlite").mkdir()
        report += run_backend(
            "SQLite", f"sqlite:///{tmp / 'sqlite' / 'tracker.db'}", tmp / "sqlite", args.conversations, args.requests
        )
        if reachable(PG_PORT):
            from tests.databases import postgres_database

            url = stack.enter_context(postgres_database("caregiver_review_bench"))
            (tmp / "pg").mkdir()
            report += run_backend("PostgreSQL", url, tmp / "pg", args.conversations, args.requests)
        else:
            report += ["PostgreSQL was not reachable on 127.0.0.1:5432: not measured.", ""]
    out = PROJECT_ROOT / "reports" / "review_bench.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(report), encoding="utf-8")
    print("\n".join(report))


if __name__ == "__main__":
    main()
