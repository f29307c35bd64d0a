"""Time the gaps and feedback views over many conversations (100,000 by default, a year of them).

Generates conversations (tests.tools.review_data, a tenth of them with a misunderstood message, in thousands of
distinct phrasings), with
"Was this helpful?" votes after two in five pieces of advice and a comment after one in three unhelpful votes,
into Rasa's `events` table (SQLite, or the PostgreSQL URL given), builds the conversation summaries, then times
what each page does (bot.review.gaps.find_gaps; bot.review.feedback.stored_feedback + summarise) for each period.

Usage: python -m tests.tools.insight_bench [--conversations 100000] [--url sqlite:///...] [--repeat 3] [--existing]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

from bot.review import index
from bot.review.db import engine_for
from bot.review.feedback import stored_feedback, summarise
from bot.review.gaps import find_gaps
from bot.review.insight_filters import InsightFilters
from tests.tools.insight_data import COMMENTS, THEMES, UNRELATED, comment, vote
from tests.tools.review_data import TOPICS, create_events_table, generate, write

PHRASES = [text for phrasings in THEMES.values() for text in phrasings] + list(UNRELATED)
ENDINGS = ("", "please", "?", "thanks", "my baby is 9 months", "asking for my wife", "help", "urgent?", "again")


def varied(events: List[Dict[str, Any]], rng: random.Random) -> List[Dict[str, Any]]:
    """The generated misunderstood message replaced by one of many distinct texts (so grouping has work to do)."""
    text = f"{rng.choice(PHRASES)} {rng.choice(ENDINGS)} {rng.randint(1, 60)}"
    return [{**e, "text": text} if e.get("text") == "what about the purple thing" else e for e in events]


def with_feedback(
    conversations: Iterator[Tuple[str, List[Dict[str, Any]]]], seed: int
) -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
    """The conversations, their misunderstood messages varied, with a vote after two in five of those that got
    advice (and a comment after one in three unhelpful votes)."""
    rng = random.Random(seed)
    for sender_id, events in conversations:
        events = varied(events, rng)
        if any(e.get("name") == "action_give_advice" for e in events) and rng.random() < 0.4:
            end = max(e["timestamp"] for e in events) + 5
            helpful = rng.random() < 0.7
            events = events + [vote(helpful, rng.choice(TOPICS), end)]
            if not helpful and rng.random() < 0.33:
                events.append(comment(rng.choice(COMMENTS), rng.choice(TOPICS), end + 1))
        yield sender_id, events


def timed(run: Any, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--url", default="")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--existing", action="store_true", help="time the conversations already in --url")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'tracker.db'}"
    create_events_table(url).dispose()
    engine = engine_for(url)
    if not args.existing:
        start = time.perf_counter()
        rows = write(engine, with_feedback(generate(args.conversations, seed=9, days=365, now=time.time()), seed=9))
        print(f"{args.conversations} conversations, {rows} events written in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    index.sync(engine)
    print(f"summaries built in {time.perf_counter() - start:.0f} s")
    print("| period | gaps: conversations read / in period | messages | groups | gaps ms | feedback events | feedback ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for days in (7, 30, 90, 365):
        filters = InsightFilters(days=days)
        gaps = find_gaps(engine, filters)
        gaps_ms = timed(lambda f=filters: find_gaps(engine, f), args.repeat)
        items, _ = stored_feedback(engine, filters)
        feedback_ms = timed(lambda f=filters: summarise(stored_feedback(engine, f)[0], f), args.repeat)
        print(
            f"| {days} days | {gaps.conversations_read} / {gaps.conversations_in_period} | {gaps.messages} | "
            f"{len(gaps.groups)} | {gaps_ms:.0f} | {len(items)} | {feedback_ms:.0f} |"
        )


if __name__ == "__main__":
    main()
