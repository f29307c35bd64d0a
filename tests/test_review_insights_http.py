"""The gaps and feedback views over HTTP, against SQLite and the real PostgreSQL: who may see and export what, the
filters, the export's content and audit entry, and hostile stored events (rendered escaped, never logged)."""

from __future__ import annotations

import csv
import io
import re
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
import yaml
from markupsafe import escape as markup_escape

from tests.review_server import Client, ReviewServer, signed_in, tracker_url
from tests.test_review_hostile import HOSTILE, SECRET, insert
from tests.tools.insight_data import COMMENTS, THEMES, comment, feedback_conversations, gap_conversations, not_handled, vote
from tests.tools.review_data import write

SCRIPT = "<script>alert('gap')</script>"
PAGES = ["/review/gaps", "/review/feedback"]


def hostile_insights(now: float) -> Iterator[Any]:
    """A gap whose text is markup, a huge one, and feedback of every wrong shape (one valid comment with markup)."""
    yield "insight-markup", not_handled(SCRIPT, "rest", now - 3600)
    yield "insight-huge", not_handled(SECRET * 50_000, "rest", now - 3600)
    events = [
        vote(True, "<img src=x onerror=alert(1)>", now),
        comment(f"<b>{SECRET[:6]}</b> {SCRIPT}", "late_walking", now + 1),
        {"event": "slot", "timestamp": now, "name": "feedback", "value": [SECRET]},
        {"event": "slot", "timestamp": now, "name": "feedback", "value": {"kind": "vote", "helpful": SECRET}},
        {"event": "slot", "timestamp": now, "name": "feedback", "value": {"kind": "comment", "text": {"x": SECRET}}},
        {"event": "slot", "timestamp": float("nan"), "name": "feedback", "value": {"kind": "vote", "helpful": False}},
    ]
    yield "insight-feedback", events


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, kb_path: Path) -> Iterator[ReviewServer]:
    tmp = tmp_path_factory.mktemp(f"insights-{request.param}")
    with ExitStack() as stack:
        url = tracker_url(stack, request.param, tmp, "caregiver_insights")
        running = ReviewServer(url, tmp, kb_path, conversations=30).start()
        stack.callback(running.stop)
        engine = sa.create_engine(url)
        now = time.time()
        write(engine, gap_conversations(now))
        write(engine, feedback_conversations(now))
        write(engine, hostile_insights(now - 7200))
        for sender_id, rows in HOSTILE.items():
            insert(engine, sender_id, rows)
        engine.dispose()
        yield running


@pytest.fixture(scope="module")
def admin(server: ReviewServer) -> Client:
    return signed_in(server, "admin")


@pytest.fixture(scope="module")
def reviewer(server: ReviewServer) -> Client:
    return signed_in(server, "reviewer")


def ok(response: Any) -> str:
    assert response.status_code == 200, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text
    return str(response.text)


def escape(text: str) -> str:
    """text as the page shows it (HTML-escaped)."""
    return str(markup_escape(text))


def group_key(page: str, text: str) -> str:
    """The export checkbox value of the group whose examples hold text."""
    for section in page.split('<section class="card gap"')[1:]:
        if text in section:
            match = re.search(r'name="group" value="([0-9a-f]+)"', section)
            assert match, section[:300]
            return match.group(1)
    raise AssertionError(f"no group shows {text!r}")


def message_id(page: str, text: str) -> str:
    match = re.search(r'name="message" value="(\d+)"> <q>' + re.escape(text) + "</q>", page)
    assert match, text
    return match.group(1)


@pytest.mark.parametrize("path", PAGES + ["/review/gaps.yml?intent=ask_x&group=abc", "/review/feedback.csv"])
def test_signed_out_people_are_sent_to_sign_in(server: ReviewServer, path: str) -> None:
    response = Client(server).get(path)
    assert response.status_code == 302 and response.headers["location"].startswith("/review/login?reason=required")


def test_reviewers_see_the_views_but_cannot_export(reviewer: Client) -> None:
    page = ok(reviewer.get("/review/gaps"))
    assert THEMES["nappy"][0] in page and 'action="/review/gaps.yml"' not in page and 'name="group"' not in page
    refused = reviewer.get("/review/gaps.yml?intent=ask_nappy&group=abc")
    assert refused.status_code == 403 and "administrator" in refused.text
    feedback = ok(reviewer.get("/review/feedback"))
    assert "was the advice helpful" in feedback and "feedback.csv" not in feedback
    assert reviewer.get("/review/feedback.csv").status_code == 403


def test_the_navigation_links_both_views(reviewer: Client) -> None:
    for path in ("/review/", "/review/conversations", *PAGES):
        nav = ok(reviewer.get(path)).split('<nav aria-label="Dashboard">', 1)[1].split("</nav>", 1)[0]
        assert 'href="/review/gaps"' in nav and 'href="/review/feedback"' in nav


def test_the_gaps_page_groups_similar_messages(admin: Client) -> None:
    page = ok(admin.get("/review/gaps?days=7"))
    for phrasings in THEMES.values():
        section = next(s for s in page.split('<section class="card gap"')[1:] if escape(phrasings[0]) in s)
        assert all(escape(text) in section for text in phrasings) and ">4 messages" in section and "in 4 conversations" in section
        assert "First seen" in section and "not understood (fallback reply)" in section
    assert "out of scope reply" in page and "what about the purple thing" in page
    link = re.search(r'href="(/review/conversations/gap-nappy-[^"]+)"', page)
    assert link and "how do" in ok(admin.get(link.group(1)))


def test_the_gaps_filters(admin: Client) -> None:
    assert "<strong>0</strong> messages" in ok(admin.get("/review/gaps?channel=nowhere"))
    assert THEMES["sleep"][0] not in ok(admin.get("/review/gaps?channel=telegram"))
    assert THEMES["sleep"][0] in ok(admin.get("/review/gaps?days=90&channel=rest"))
    for query, message in (("days=3", "days"), ("channel=%3Cb%3E", "not a valid name"), ("days=x", "days")):
        response = admin.get(f"/review/gaps?{query}")
        assert response.status_code == 400 and message in response.text and "Traceback" not in response.text


def test_the_export_holds_only_the_chosen_messages_and_is_audited(server: ReviewServer, admin: Client) -> None:
    page = ok(admin.get("/review/gaps?days=90&channel=rest"))
    nappy, pizza = group_key(page, escape(THEMES["nappy"][0])), message_id(page, "recommend a good pizza place near me")
    response = admin.get(f"/review/gaps.yml?days=90&channel=rest&intent=ask_nappy&group={nappy}&message={pizza}")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    assert response.headers["content-type"].startswith("text/yaml")
    data = yaml.safe_load(response.text)
    assert data["version"] == "3.1" and [item["intent"] for item in data["nlu"]] == ["ask_nappy"]
    examples = [line[2:] for line in data["nlu"][0]["examples"].splitlines()]
    assert sorted(examples) == sorted([*THEMES["nappy"], "recommend a good pizza place near me"])
    with sa.create_engine(server.db_url).connect() as connection:
        detail = connection.execute(
            sa.text("SELECT detail FROM review_audit WHERE action = 'export_gaps' ORDER BY id DESC")
        ).scalar()
    assert detail == "4 examples of ask_nappy; days=90&channel=rest"


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("intent=ask_nappy", 400, "Nothing chosen"),
        ("intent=Ask+Nappy&group=abc", 400, "Choose an intent"),
        ("group=abc", 400, "Choose an intent"),
        ("intent=ask_nappy&group=000000000000&message=1", 404, "no longer among"),
        ("intent=ask_nappy&group=%3Cscript%3E&message=-1&message=99999999999999999999999", 400, "Nothing chosen"),
        ("intent=ask_nappy&group=abc&days=5", 400, "days"),
    ],
)
def test_a_bad_export_request_gets_a_clear_page(admin: Client, query: str, status: int, message: str) -> None:
    response = admin.get(f"/review/gaps.yml?{query}")
    assert response.status_code == status and message in response.text and "Traceback" not in response.text


def test_the_feedback_page_counts_votes_by_topic_and_week(admin: Client) -> None:
    page = ok(admin.get("/review/feedback?days=30&channel=rest"))
    assert "9</b>votes" in page  # the hostile feedback conversation (one valid vote) has no channel
    by_topic = page.split('id="by-topic"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"Not walking yet</a></td>\s*<td>4</td><td>1</td>", by_topic)
    assert re.search(r"Bottom scooting \(shuffling\)</a></td>\s*<td>3</td><td>2</td>", by_topic)
    assert "Milestone: Walking alone" in by_topic and ">late_walking<" not in by_topic  # titles, not ids
    by_week = page.split('id="by-week"', 1)[1].split("</table>", 1)[0]
    assert by_week.count("<tr>") >= 5 and "<meter" in by_week
    missing = page.split('id="missing"', 1)[1]
    for text in COMMENTS:
        assert escape(text) in missing
    assert re.search(r'href="/review/conversations/feedback-\d+"', missing)


def test_the_feedback_filters(admin: Client) -> None:
    unhelpful = ok(admin.get("/review/feedback?days=30&answer=unhelpful"))
    assert "4</b>votes" in unhelpful and "0%</b>found it helpful" in unhelpful and COMMENTS[0] in unhelpful
    helpful = ok(admin.get("/review/feedback?days=30&answer=helpful"))
    assert "6</b>votes" in helpful and COMMENTS[0] not in helpful
    topic = ok(admin.get("/review/feedback?days=30&topic=bottom_scooting"))
    assert "3</b>votes" in topic and COMMENTS[1] in topic and COMMENTS[0] not in topic
    assert "0</b>votes" in ok(admin.get("/review/feedback?channel=telegram"))
    for query in ("answer=maybe", "topic=%3Cimg%3E", "days=1000"):
        response = admin.get(f"/review/feedback?{query}")
        assert response.status_code == 400 and "Traceback" not in response.text


def test_hostile_stored_text_is_escaped_and_never_logged(server: ReviewServer, admin: Client) -> None:
    gaps = ok(admin.get("/review/gaps?days=7"))
    assert SCRIPT not in gaps and "&lt;script&gt;alert(&#39;gap&#39;)&lt;/script&gt;" in gaps
    huge = next(s for s in gaps.split('<section class="card gap"')[1:] if SECRET in s)
    assert len(huge) < 5000  # a message is shown cut to a few hundred characters
    feedback = ok(admin.get("/review/feedback?days=7"))
    assert SCRIPT not in feedback and "<b>" + SECRET[:6] not in feedback and "&lt;b&gt;" in feedback
    assert "<img" not in feedback and "onerror" not in feedback  # an odd subject is dropped, not shown
    for path in (
        "/review/gaps?days=365",
        "/review/feedback?days=365",
        "/review/gaps?channel=rest",
        "/review/feedback.csv?days=365",
    ):
        ok(admin.get(path))
    log = (server.tmp / "web.log").read_text(encoding="utf-8", errors="replace")
    assert SECRET not in log and "alert(" not in log


def test_the_pages_say_what_they_read(admin: Client) -> None:
    page = ok(admin.get("/review/gaps?days=30"))
    status = page.split('role="status"', 1)[1].split("</p>", 1)[0]
    found = re.search(r"in <strong>(\d+)</strong>\s+groups?, found in (\d+)\s+conversations", status)
    assert found, status
    assert int(found.group(2)) >= len(THEMES) * 4 + 2 and "in which the assistant failed the parent" in status


def test_the_feedback_export_is_filtered_and_audited(server: ReviewServer, admin: Client) -> None:
    page = ok(admin.get("/review/feedback?days=30&answer=unhelpful&channel=rest"))
    assert 'href="/review/feedback.csv?channel=rest&amp;answer=unhelpful"' in page
    response = admin.get("/review/feedback.csv?answer=unhelpful&channel=rest")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4 + len(COMMENTS) and {row["helpful"] for row in rows} == {"no", ""}
    assert {row["subject"] for row in rows} <= {"late_walking", "bottom_scooting", ""}
    with sa.create_engine(server.db_url).connect() as connection:
        detail = connection.execute(
            sa.text("SELECT detail FROM review_audit WHERE action = 'export_feedback' ORDER BY id DESC")
        ).scalar()
    assert detail == "7 votes and comments; channel=rest&answer=unhelpful"
