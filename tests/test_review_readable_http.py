"""Readable dashboard pages over HTTP (SQLite and the real PostgreSQL): the transcript renders the assistant's
Markdown safely and shows why a turn counts as misunderstood and what the assistant recorded; topics appear by
title on every page (ids only in exports); the overview counts only real failures, for any period of 7..365 days."""

from __future__ import annotations

import csv
import io
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from bot.knowledge.messages import say
from tests.review_server import Client, ReviewServer, signed_in, tracker_url
from tests.tools.review_data import create_events_table, write

SENDER = "readable-1"
HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> [bad](javascript:alert(1))'


def readable_conversation(start: float) -> List[Dict[str, Any]]:
    """A conversation with Markdown replies, a fallback, a form reply the classifier was unsure of, an observation."""
    t = start

    def at() -> float:
        nonlocal t
        t += 5
        return t

    def user(text: str, intent: str, confidence: float) -> Dict[str, Any]:
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": []}
        return {"event": "user", "timestamp": at(), "text": text, "input_channel": "rest", "parse_data": parse}

    def bot(text: str) -> Dict[str, Any]:
        return {"event": "bot", "timestamp": t, "text": text, "data": {}}

    def slot(name: str, value: Any) -> Dict[str, Any]:
        return {"event": "slot", "timestamp": t, "name": name, "value": value}

    def action(name: str) -> Dict[str, Any]:
        return {"event": "action", "timestamp": t, "name": name}

    return [
        user("zxqv blorp", "nlu_fallback", 0.12),
        action("action_suggest_topic"),
        bot(say("topics.suggest")),
        action("action_listen"),
        user("my 10 month old crawls backwards and drags one leg", "ask_crawling_backward", 0.91),
        slot("topic", "crawling_backward"),
        action("triage_form"),
        bot("I can help with **crawling backwards**. A few quick questions first."),
        bot("Was your child born early?"),
        slot("observations", ["leg_drags"]),
        slot("requested_slot", "weeks_early"),
        action("action_listen"),
        user("no, on time", "nlu_fallback", 0.25),
        action("triage_form"),
        slot("weeks_early", 0.0),
        slot("requested_slot", None),
        action("action_give_advice"),
        bot("**What you can try**\n- play on the floor every day\n- " + HOSTILE),
        bot("**Sources**\n- [CDC milestones](https://www.cdc.gov/milestones?a=1&b=2)"),
        slot("referral", "provider"),
        action("action_listen"),
    ]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, kb_path: Path) -> Iterator[ReviewServer]:
    tmp = tmp_path_factory.mktemp(f"readable-{request.param}")
    with ExitStack() as stack:
        url = tracker_url(stack, request.param, tmp, "caregiver_readable")
        running = ReviewServer(url, tmp, kb_path, conversations=40).start()
        stack.callback(running.stop)
        engine = create_events_table(url)
        write(engine, iter([(SENDER, readable_conversation(time.time() - 600))]))
        engine.dispose()
        yield running


@pytest.fixture
def admin(server: ReviewServer) -> Client:
    return signed_in(server, "admin")


def sections(page: str) -> List[str]:
    return page.split('<section class="turn')[1:]


def test_the_transcript_renders_markdown_safely(admin: Client) -> None:
    page = admin.get(f"/review/conversations/{SENDER}").text
    assert "I can help with <strong>crawling backwards</strong>." in page
    assert "<ul><li>play on the floor every day</li>" in page
    assert (
        '<a href="https://www.cdc.gov/milestones?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">CDC milestones</a>'
        in page
    )
    assert "**" not in page.split("<h2>Transcript</h2>", 1)[1].split('<div class="side">', 1)[0]
    assert "<script>" not in page and "<img" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page and "[bad](javascript:alert(1))" in page


def test_flag_reasons_and_recorded_observations_sit_on_their_turns(admin: Client) -> None:
    turns = sections(admin.get(f"/review/conversations/{SENDER}").text)
    fallback, opening, form_reply = turns[0], turns[1], turns[2]
    assert "zxqv blorp" in fallback and fallback.startswith(' flagged"') and "not understood (fallback reply)" in fallback
    assert "drags one leg" in opening and "Recorded:" in opening and "Drags one leg" in opening and "flagged" not in opening[:20]
    assert "no, on time" in form_reply and "Misunderstood:" not in form_reply  # used by the form: understood
    assert "nlu_fallback" in form_reply  # the classifier's own reading stays visible


def test_topics_by_title_everywhere_ids_in_exports(admin: Client) -> None:
    transcript = admin.get(f"/review/conversations/{SENDER}").text
    assert "Topic: <strong>Crawling backwards</strong>" in transcript and "on Crawling backwards," in transcript
    listing = admin.get("/review/conversations").text
    assert '<option value="crawling_backward" >Crawling backwards</option>' in listing
    rows = listing.split("<tbody>", 1)[1]
    assert "crawling_backward" not in rows.replace("topic=crawling_backward", "")
    overview = admin.get("/review/?days=30").text
    assert ">Crawling backwards</a>" in overview and ">crawling_backward<" not in overview
    exported = list(csv.DictReader(io.StringIO(admin.get("/review/export.csv").text)))
    assert {row["topic"] for row in exported} >= {"crawling_backward"}
    mine = next(row for row in exported if row["sender_id"] == SENDER)
    assert mine["misunderstood_reasons"] == "not_understood"


def test_only_real_failures_count_as_misunderstood(admin: Client, server: ReviewServer) -> None:
    flagged = admin.get("/review/conversations?fallback=yes").text.split("<tbody>", 1)[1]
    ids = {part.split("?", 1)[0] for part in flagged.split('href="/review/conversations/')[1:]}
    assert SENDER in ids and all(i == SENDER or i.startswith("fallback-") for i in ids)  # generated: only "fallback" kinds
    assert "not understood (fallback reply)" in flagged
    by_reason = admin.get("/review/conversations?reason=not_understood").text
    assert f"/review/conversations/{SENDER}?" in by_reason
    assert "0 conversations" in admin.get("/review/conversations?reason=topic_undone").text
    assert admin.get("/review/conversations?reason=nonsense").status_code == 400
    overview = admin.get("/review/?days=30").text
    assert "misunderstood (the assistant failed the parent)" in overview and "not understood (fallback reply)" in overview
    assert "that alone is not counted" in overview


@pytest.mark.parametrize("days", [7, 14, 30, 90, 365])
def test_every_period_draws_a_chart_for_wide_screens_and_phones(admin: Client, days: int) -> None:
    page = admin.get(f"/review/?days={days}").text
    assert page.count('<svg class="chart chart-') == 2 and "chart-wide" in page and "chart-narrow" in page
    wide = page.split("chart-wide", 1)[1].split("</svg>", 1)[0]
    assert wide.count("<rect") == days and 2 <= wide.count("<text") - 1 <= 16
