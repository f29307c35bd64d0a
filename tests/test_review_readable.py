"""Readable dashboard pages without a server: Markdown rendered safely, chart labels that never overlap, flag reasons
and recorded observations on their turns, and summaries of an older dashboard recomputed with the new meaning."""

from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List

import pytest
import sqlalchemy as sa

from bot.review import index, queries
from bot.review.chart import GAP, day_chart, labels_overlap, text_width
from bot.review.db import engine_for
from bot.review.filters import Filters
from bot.review.markdown import render
from bot.review.models import conversations
from bot.review.signals import misunderstood_turns
from bot.review.transcript import attach_flags, build_turns
from tests.tools.review_data import conversation, create_events_table, write

# --- Markdown --------------------------------------------------------------------------------------------------------


def test_bold_lists_and_links_become_markup() -> None:
    html = str(
        render("I can help with **bottom scooting (shuffling)**.\n\n**Sources**\n- [CDC](https://www.cdc.gov/a?b=1&c=2)\n- two")
    )
    assert html == (
        "<p>I can help with <strong>bottom scooting (shuffling)</strong>.</p><p><strong>Sources</strong></p>"
        '<ul><li><a href="https://www.cdc.gov/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">CDC</a>'
        "</li><li>two</li></ul>"
    )
    assert str(render("1. first\n2) second\nthen *this*")) == "<ol><li>first</li><li>second</li></ol><p>then <em>this</em></p>"
    assert str(render("line one\nline two")) == "<p>line one<br>line two</p>"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "**<b>bold</b>**",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        '[x](https://a.org/"onmouseover="alert(1))',
        "[x](//evil.example/path)",
        "[<i>x</i>](https://a.org/)",
        "- [a](https://a.org/*b*) *c*",
        "&lt;script&gt; &amp; \x00 \ud800",
    ],
)
def test_nothing_else_becomes_markup(text: str) -> None:
    html = str(render(text))
    tags = [tag.split()[0] for tag in html.replace(">", " ").split("<")[1:]]
    assert set(tags) <= {"p", "/p", "ul", "/ul", "ol", "/ol", "li", "/li", "strong", "/strong", "em", "/em", "a", "/a", "br"}
    for anchor in html.split("<a ")[1:]:
        href = anchor.split('"')[1]
        assert href.startswith(("http://", "https://")) and 'rel="noopener noreferrer nofollow"' in anchor
    assert "<script" not in html and "<img" not in html and "<i>" not in html and "javascript:" not in html.split("(")[0]
    assert 'onmouseover="' not in html


# --- Chart -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [7, 8, 14, 30, 31, 45, 60, 90, 120, 121, 180, 200, 365])
@pytest.mark.parametrize("width, font", [(900, 11.0), (330, 13.0)])
def test_chart_labels_never_overlap_and_cover_the_period(days: int, width: int, font: float) -> None:
    end = date(2026, 11, 30)
    counts = [(end - timedelta(days=days - 1 - i), (i * 7) % 11) for i in range(days)]
    chart = day_chart(counts, width, font=font)
    assert len(chart.bars) == days and chart.peak == max(c for _, c in counts)
    assert len(chart.labels) >= 2 and not labels_overlap(chart.labels, font)
    for label in chart.labels:  # inside the drawing
        assert label.x - text_width(label.text, font) / 2 >= 0 and label.x + text_width(label.text, font) / 2 <= width
    spread = chart.labels[-1].x - chart.labels[0].x
    assert spread >= (width - 2 * 24) * 0.45  # the labels span the period, not a corner of it
    assert all(b.x + b.width <= width and b.height >= 0 for b in chart.bars)
    if days > 120:
        assert all(len(label.text.split()) <= 2 and not label.text[0].isdigit() for label in chart.labels)  # months
    assert GAP > 0


def test_an_empty_period_has_bars_of_zero() -> None:
    chart = day_chart([(date(2026, 1, 1) + timedelta(days=i), 0) for i in range(30)], 900)
    assert chart.peak == 1 and all(bar.height == 0 for bar in chart.bars)


# --- Transcript --------------------------------------------------------------------------------------------------------


def test_flags_and_recorded_observations_sit_on_their_turns() -> None:
    t = 1_700_000_000.0
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "utter_greet", "timestamp": t},
        {"event": "bot", "text": "Hi!", "timestamp": t},
        {
            "event": "user",
            "text": "blorp",
            "timestamp": t + 1,
            "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.1}},
        },
        {"event": "action", "name": "action_suggest_topic", "timestamp": t + 1},
        {"event": "bot", "text": "Sorry, I'm not sure I understood. Is your question about one of these?", "timestamp": t + 1},
        {
            "event": "user",
            "text": "he drags one leg",
            "timestamp": t + 2,
            "parse_data": {"intent": {"name": "inform", "confidence": 0.9}},
        },
        {"event": "slot", "name": "observations", "value": ["drags_leg"], "timestamp": t + 2},
        {"event": "bot", "text": "Thanks", "timestamp": t + 2},
        {
            "event": "user",
            "text": "and uses one hand",
            "timestamp": t + 3,
            "parse_data": {"intent": {"name": "inform", "confidence": 0.9}},
        },
        {"event": "slot", "name": "observations", "value": ["drags_leg", "one_hand"], "timestamp": t + 3},
        {"event": "bot", "text": "Noted", "timestamp": t + 3},
    ]
    turns = attach_flags(build_turns(events), misunderstood_turns(events))
    assert [turn.text for turn in turns] == [None, "blorp", "he drags one leg", "and uses one hand"]
    assert [turn.flags for turn in turns] == [[], ["not_understood"], [], []]
    assert [turn.recorded for turn in turns] == [[], [], ["drags_leg"], ["one_hand"]]
    assert all(name != "observations" for turn in turns for name, _ in turn.slots)


# --- An existing database gets the new meaning -------------------------------------------------------------------------

OLD_SCHEMA = """CREATE TABLE review_conversations (
    sender_id VARCHAR(255) NOT NULL PRIMARY KEY, started_at FLOAT NOT NULL, last_at FLOAT NOT NULL, channel VARCHAR(64),
    topic VARCHAR(64), referral VARCHAR(16), red_flag VARCHAR(64), had_fallback BOOLEAN NOT NULL,
    low_confidence BOOLEAN NOT NULL, asked_person BOOLEAN NOT NULL, user_messages INTEGER NOT NULL, first_message TEXT,
    search_text TEXT, last_event_id INTEGER NOT NULL, reviewed_by VARCHAR(64), reviewed_at FLOAT)"""


def test_an_older_dashboards_summaries_are_recomputed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    events_engine = create_events_table(url)
    now = time.time() - 3600
    rng = random.Random(16)
    plain = [(f"plain-{i}", conversation("none", now + i, rng)) for i in range(6)]
    for _, events in plain:  # every reply plain and used by the form, the classifier unsure of one
        next(e for e in events if e.get("text") == "no, on time")["parse_data"]["intent"] = {
            "name": "nlu_fallback",
            "confidence": 0.25,
        }
    failed = [("failed", conversation("fallback", now + 10, rng))]
    rows = write(events_engine, iter(plain + failed))
    with events_engine.begin() as connection:  # what the previous dashboard had written
        connection.execute(sa.text(OLD_SCHEMA))
        connection.execute(sa.text("CREATE TABLE review_index_state (id INTEGER PRIMARY KEY, last_event_id INTEGER NOT NULL)"))
        connection.execute(sa.text("INSERT INTO review_index_state VALUES (1, :n)"), {"n": rows})
        for sender_id, _ in plain + failed:
            connection.execute(
                sa.text(
                    "INSERT INTO review_conversations VALUES (:s, :t, :t, 'rest', NULL, NULL, NULL, 1, 1, 0, 99, NULL, '', :n,"
                    " :by, :at)"
                ),
                {
                    "s": sender_id,
                    "t": now,
                    "n": rows,
                    "by": "ann" if sender_id == "plain-0" else None,
                    "at": now if sender_id == "plain-0" else None,
                },
            )
    events_engine.dispose()
    engine = engine_for(url)  # adds the new columns
    assert index.sync(engine) == rows  # every event read again
    summaries = {row["sender_id"]: row for row in queries.list_conversations(engine, Filters(), per_page=100).rows}
    assert {s for s, row in summaries.items() if row["misunderstood"]} == {"failed"}
    assert summaries["failed"]["misunderstood_reasons"] == "not_understood"
    assert all(row["had_fallback"] for row in summaries.values())  # the classifier's own signal, kept apart
    assert all(row["user_messages"] in (3, 4) and row["topic"] for row in summaries.values())  # recomputed, not 99
    assert summaries["plain-0"]["reviewed_by"] == "ann"  # reviewers' marks survive
    stats = queries.overview(engine, 30)
    assert stats["total"] == 7 and stats["misunderstood_share"] == pytest.approx(1 / 7)
    assert stats["misunderstood_reasons"] == [("not_understood", 1, pytest.approx(1 / 7))]
    assert queries.list_conversations(engine, Filters(fallback="yes")).total == 1
    assert queries.list_conversations(engine, Filters(reason="not_understood")).total == 1
    assert queries.list_conversations(engine, Filters(reason="re_asked")).total == 0
    assert index.sync(engine) == 0  # once
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(conversations)).scalar() == 7


def test_a_conversation_growing_across_syncs_is_flagged_on_its_later_turns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    create_events_table(url).dispose()
    engine = engine_for(url)
    write(engine, iter([("a", conversation("none", 1_700_000_000.0, random.Random(1)))]))
    index.sync(engine)
    assert queries.conversation(engine, "a")["misunderstood"] is False
    later = [
        {
            "event": "user",
            "timestamp": 1_700_000_900.0,
            "text": "what's the weather",
            "parse_data": {"intent": {"name": "out_of_scope", "confidence": 0.9}},
        },
        {"event": "action", "timestamp": 1_700_000_900.0, "name": "action_handle_out_of_scope"},
        {
            "event": "bot",
            "timestamp": 1_700_000_900.0,
            "text": "Sorry, I can't help with that.",
            "metadata": {"utter_action": "utter_out_of_scope"},
        },
    ]
    write(engine, iter([("a", later)]))
    index.sync(engine)
    row = queries.conversation(engine, "a")
    assert row["misunderstood"] is True and row["misunderstood_reasons"] == "out_of_scope" and row["user_messages"] == 4
    assert json.loads(json.dumps(row["misunderstood_reasons"]))


def test_the_measurement_tool_compares_the_old_rule_with_the_new(tmp_path: Path) -> None:
    from tests.tools.misunderstood_share import conversations_of, measure

    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_events_table(url)
    rng = random.Random(5)
    plain = [(f"plain-{i}", conversation("none", 1_700_000_000.0 + i, rng)) for i in range(8)]
    for _, events in plain:  # the form used "no, on time" though the classifier fell back on it
        next(e for e in events if e.get("text") == "no, on time")["parse_data"]["intent"] = {
            "name": "nlu_fallback",
            "confidence": 0.25,
        }
    write(engine, iter(plain + [("failed", conversation("fallback", 1_700_000_100.0, rng))]))
    engine.dispose()
    numbers = measure(conversations_of(url), examples=3)
    assert numbers["conversations"] == 9 and numbers["before"] == 9 and numbers["after"] == 1
    assert numbers["reasons"]["not_understood"] == (1, 1) and numbers["examples"] == [
        "not_understood: 'what about the purple thing'"
    ]
