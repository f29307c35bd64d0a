"""The review dashboard over HTTP, against SQLite and the real PostgreSQL at 127.0.0.1:5432.

Access control (every route refuses signed-out access, roles, CSRF), sign-in throttling, the pages,
review work, exports, erasure and retention checked in the database itself, and escaping.
"""

from __future__ import annotations

import csv
import io
import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
import yaml

from tests.review_server import Client, ReviewServer, signed_in, tracker_url

ROUTES_GET = [
    "/review/",
    "/review/conversations",
    "/review/conversations/none-7-000000",
    "/review/export.csv",
    "/review/export.jsonl",
    "/review/corrections.yml",
    "/review/users",
    "/review/audit",
]
ROUTES_POST = ["/review/logout", "/review/users"] + [
    f"/review/conversations/none-7-000000/{action}" for action in ("tags", "untag", "notes", "review", "correct", "erase")
]
ADMIN_ONLY = ["/review/export.csv", "/review/export.jsonl", "/review/corrections.yml", "/review/users", "/review/audit"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, kb_path: Path) -> Iterator[ReviewServer]:
    tmp = tmp_path_factory.mktemp(f"review-{request.param}")
    with ExitStack() as stack:
        url = tracker_url(stack, request.param, tmp, "caregiver_review")
        running = ReviewServer(url, tmp, kb_path).start()
        stack.callback(running.stop)
        yield running


@pytest.fixture
def admin(server: ReviewServer) -> Client:
    return signed_in(server, "admin")


@pytest.fixture
def reviewer(server: ReviewServer) -> Client:
    return signed_in(server, "reviewer")


def first_id(client: Client, query: str) -> str:
    page = client.get(f"/review/conversations?{query}").text
    return page.split('href="/review/conversations/', 1)[1].split("?", 1)[0]


def tbody(page: str) -> str:
    """The table rows of a page (not its styles)."""
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def engine(server: ReviewServer) -> sa.engine.Engine:
    return sa.create_engine(server.db_url)


@pytest.mark.parametrize("path", ROUTES_GET)
def test_every_page_refuses_signed_out_access(server: ReviewServer, path: str) -> None:
    response = Client(server).get(path)
    assert response.status_code == 302 and response.headers["location"].startswith("/review/login?reason=required")


@pytest.mark.parametrize("path", ROUTES_POST)
def test_every_form_refuses_signed_out_access(server: ReviewServer, path: str) -> None:
    response = Client(server).post(path, {"csrf": "x", "tag": "t"})
    assert response.status_code == 302 and "/review/login" in response.headers["location"]


@pytest.mark.parametrize("path", ROUTES_POST)
def test_every_form_needs_the_csrf_token(admin: Client, path: str) -> None:
    for data in ({"tag": "x"}, {"csrf": "forged", "tag": "x"}):
        response = admin.post(path, data)
        assert response.status_code == 403 and "form has expired" in response.text


def test_sign_in_form_needs_its_csrf_cookie(server: ReviewServer) -> None:
    client = Client(server)
    token = client.csrf("/review/login")
    client.cookies.clear()
    assert client.post("/review/login", {"csrf": token, "username": "admin", "password": "admin-password-123"}).status_code == 403


def test_session_cookie_is_secure_httponly_samesite(server: ReviewServer) -> None:
    client = Client(server)
    client.sign_in("admin")
    cookie = client.last_set_cookie.lower()
    assert "review_session" in str(client.cookies) and "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


@pytest.mark.parametrize("path", ADMIN_ONLY)
def test_reviewers_cannot_use_admin_pages(reviewer: Client, path: str) -> None:
    response = reviewer.get(path)
    assert response.status_code == 403 and "administrator" in response.text


def test_reviewers_cannot_erase(reviewer: Client) -> None:
    sender = first_id(reviewer, "referral=none")
    csrf = reviewer.csrf(f"/review/conversations/{sender}")
    assert reviewer.post(f"/review/conversations/{sender}/erase", {"csrf": csrf, "confirm": sender}).status_code == 403
    assert reviewer.get(f"/review/conversations/{sender}").status_code == 200


def test_repeated_failed_sign_ins_are_throttled(server: ReviewServer) -> None:
    client = Client(server)
    server.cli("users", "add", "victim", "--role", "reviewer", "--password-stdin", stdin="victim-password-123\n")
    for _ in range(5):
        assert client.sign_in("victim", "wrong password!").status_code == 401
    blocked = client.sign_in("victim", "victim-password-123")  # even the right password now waits
    assert blocked.status_code == 429 and "Too many" in blocked.text


def test_sign_out_ends_the_session(server: ReviewServer) -> None:
    client = Client(server)
    client.sign_in("reviewer")
    session = client.cookies["review_session"]
    assert client.post("/review/logout", {"csrf": client.csrf()}).status_code == 302
    client.cookies["review_session"] = session  # replaying the old cookie does not work
    response = client.get("/review/")
    assert response.status_code == 302 and "reason=expired" in response.headers["location"]


def test_overview_shows_counts_and_a_chart(admin: Client) -> None:
    page = admin.get("/review/?days=30").text
    assert "60</b>conversations" in page and "<svg" in page and "referred to a provider" in page
    assert admin.get("/review/?days=12").status_code == 200  # any whole number of days from 7 to 365
    assert admin.get("/review/?days=6").status_code == 400 and admin.get("/review/?days=366").status_code == 400


def test_list_filters_sort_and_paginate(admin: Client) -> None:
    everything = admin.get("/review/conversations").text
    assert "60 conversations, page 1 of 3" in everything
    urgent = tbody(admin.get("/review/conversations?referral=urgent").text)
    assert 'class="urgent' in urgent and "b-urgent" in urgent and "b-none" not in urgent
    person = tbody(admin.get("/review/conversations?person=yes").text)
    assert "asked for a person" in person and 'person"' in person
    assert "b-fallback" in tbody(admin.get("/review/conversations?fallback=yes").text)
    assert "0 conversations" in admin.get("/review/conversations?q=zebra+stripes").text
    assert "purple thing" in admin.get("/review/conversations?q=PURPLE").text
    assert "page 3 of 3" in admin.get("/review/conversations?page=3").text
    assert "0 conversations" in admin.get("/review/conversations?channel=nowhere").text


@pytest.mark.parametrize(
    "query, message",
    [
        ("date_from=yesterday", "must be a date"),
        ("referral=maybe", "Referral must be one of"),
        ("page=-1", "Page must be"),
        ("date_from=2026-02-01&date_to=2026-01-01", "swap the dates"),
        ("sort=random", "Sort must be"),
        ("tag=%3Cscript%3E", "not a valid name"),
    ],
)
def test_malformed_filters_get_a_clear_page(admin: Client, query: str, message: str) -> None:
    response = admin.get(f"/review/conversations?{query}")
    assert response.status_code == 400 and message in response.text and "Traceback" not in response.text


def test_unknown_conversation_and_page_get_clear_pages(admin: Client) -> None:
    missing = admin.get("/review/conversations/no-such-id")
    assert missing.status_code == 404 and "No such conversation" in missing.text
    assert admin.get("/review/nothing-here").status_code == 404


def test_transcript_shows_turns_decisions_and_sources(admin: Client) -> None:
    sender = first_id(admin, "referral=provider")
    page = admin.get(f"/review/conversations/{sender}").text
    assert "<strong>Parent:</strong>" in page and "intent <code>ask_" in page and "entities <code>age=" in page
    assert "slots <code>topic=" in page and '<strong class="who">Assistant:</strong>' in page
    assert "no_alternating_crawl_by_12_months" in page and "Sources (" in page
    urgent = admin.get(f"/review/conversations/{first_id(admin, 'referral=urgent')}").text
    assert "Red flag: <strong>seizure</strong>" in urgent


def test_review_work_is_saved_with_who_and_when(server: ReviewServer, reviewer: Client) -> None:
    sender = first_id(reviewer, "referral=none")
    path = f"/review/conversations/{sender}"
    csrf = reviewer.csrf(path)
    assert reviewer.post(f"{path}/tags", {"csrf": csrf, "tag": "Follow-up"}).status_code == 302
    reviewer.post(f"{path}/notes", {"csrf": csrf, "text": "Called the family back."})
    reviewer.post(f"{path}/review", {"csrf": csrf, "reviewed": "yes"})
    page = reviewer.get(path).text
    assert "follow-up" in page and "Called the family back." in page and "reviewed by reviewer" in page
    assert sender in reviewer.get("/review/conversations?tag=follow-up&reviewed=yes").text
    assert "0 conversations" in reviewer.get(f"/review/conversations?reviewed=no&q={sender}").text
    with engine(server).connect() as connection:
        row = connection.execute(
            sa.text("SELECT reviewed_by, reviewed_at FROM review_conversations WHERE sender_id = :s"), {"s": sender}
        ).first()
    assert row[0] == "reviewer" and abs(row[1] - time.time()) < 120


def test_corrections_export_as_rasa_training_data(admin: Client) -> None:
    sender = first_id(admin, "fallback=yes&q=purple")
    page = admin.get(f"/review/conversations/{sender}").text
    event_id = page.split('name="event_id" value="', 1)[1].split('"', 1)[0]
    csrf = admin.csrf(f"/review/conversations/{sender}")
    assert (
        admin.post(
            f"/review/conversations/{sender}/correct", {"csrf": csrf, "event_id": event_id, "intent": "out_of_scope"}
        ).status_code
        == 302
    )
    assert (
        admin.post(
            f"/review/conversations/{sender}/correct", {"csrf": csrf, "event_id": event_id, "intent": "made_up"}
        ).status_code
        == 400
    )
    data = yaml.safe_load(admin.get("/review/corrections.yml").text)
    assert data["version"] == "3.1"
    examples = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert "- what about the purple thing" in examples["out_of_scope"]


def test_exports_follow_the_filters_and_are_audited(server: ReviewServer, admin: Client) -> None:
    exported = admin.get("/review/export.csv?referral=urgent")
    assert exported.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and all(r["referral"] == "urgent" for r in rows)
    lines = [json.loads(line) for line in admin.get("/review/export.jsonl?referral=urgent").text.splitlines()]
    assert len(lines) == len(rows) and all(any(m["sender"] == "user" for m in line["messages"]) for line in lines)
    with engine(server).connect() as connection:
        actions = [a for (a,) in connection.execute(sa.text("SELECT action FROM review_audit WHERE username = 'admin'"))]
    assert "export_csv" in actions and "export_jsonl" in actions and "view" in actions


def test_stored_script_payloads_render_escaped(server: ReviewServer, admin: Client) -> None:
    from tests.tools.review_data import _user, write

    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    write(engine(server), iter([("xss-conversation", [_user(payload, "inform", 0.9, "socketio", time.time())])]))
    path = "/review/conversations/xss-conversation"
    csrf = admin.csrf(path)
    admin.post(f"{path}/notes", {"csrf": csrf, "text": payload})
    for page in (admin.get(path).text, admin.get("/review/conversations?q=alert").text):
        assert payload not in page and "&lt;script&gt;" in page


def test_admin_erases_a_conversation_completely(server: ReviewServer, admin: Client) -> None:
    sender = first_id(admin, "referral=provider&sort=oldest")
    path = f"/review/conversations/{sender}"
    csrf = admin.csrf(path)
    admin.post(f"{path}/tags", {"csrf": csrf, "tag": "to-erase"})
    assert admin.post(f"{path}/erase", {"csrf": csrf, "confirm": "wrong"}).status_code == 400
    admin.get(f"/review/export.csv?q={sender}")  # an export that searched for it names it in the audit log
    assert (
        admin.post(f"{path}/erase", {"csrf": csrf, "confirm": sender, "reason": f"parent of {sender} asked"}).status_code == 200
    )
    with engine(server).connect() as connection:
        for table in ("events", "review_conversations", "review_tags", "review_notes", "review_corrections"):
            assert (
                connection.execute(sa.text(f"SELECT count(*) FROM {table} WHERE sender_id = :s"), {"s": sender}).scalar() == 0
            ), table
        entries = connection.execute(
            sa.text("SELECT action, target, detail FROM review_audit WHERE username = 'admin'")
        ).fetchall()
    assert not [e for e in entries if sender in f"{e.target} {e.detail}"]  # the id is gone from the audit log too
    erased = [e for e in entries if e.action == "erase"][-1]
    assert erased.target.startswith("erased-") and erased.detail == f"parent of {erased.target} asked"
    kept = [e.action for e in entries if e.target == erased.target]  # who did what to it is still there, under the alias
    assert {"view", "tag", "erase"} <= set(kept)
    assert any(e.action == "export_csv" and f"q={erased.target}" in e.detail for e in entries)
    assert admin.get(path).status_code == 404


def test_erase_command_removes_the_conversation_and_its_id_from_the_audit_log(server: ReviewServer, admin: Client) -> None:
    sender = first_id(admin, "referral=none&sort=oldest")
    admin.get(f"/review/conversations/{sender}")
    admin.get(f"/review/export.jsonl?q={sender}")
    done = server.cli("erase", sender)
    assert done.returncode == 0 and "Erased 1 conversations" in done.stdout
    with engine(server).connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar() == 0
        entries = connection.execute(sa.text("SELECT action, username, target, detail FROM review_audit")).fetchall()
    assert not [e for e in entries if sender in f"{e.target} {e.detail}"]
    erased = [e for e in entries if e.action == "erase" and e.username == "cli"][-1]
    assert erased.target.startswith("erased-") and any(e.action == "view" and e.target == erased.target for e in entries)


def test_retention_command_deletes_old_conversations(server: ReviewServer) -> None:
    import random

    from tests.tools.review_data import conversation, write

    old = conversation("none", time.time() - 400 * 86400, random.Random(1))
    write(engine(server), iter([("old-conversation", old)]))
    assert "1 conversations are older" in server.cli("retention", "--days", "365", "--dry-run").stdout
    done = server.cli("retention", "--days", "365")
    assert done.returncode == 0 and "Deleted 1 conversations" in done.stdout
    with engine(server).connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = 'old-conversation'")).scalar() == 0
        assert connection.execute(sa.text("SELECT count(*) FROM events")).scalar() > 500  # the recent ones stay


def test_users_are_managed_by_admins(server: ReviewServer, admin: Client) -> None:
    csrf = admin.csrf("/review/users")
    assert (
        admin.post("/review/users", {"csrf": csrf, "action": "add", "username": "short", "password": "too short"}).status_code
        == 400
    )
    assert (
        admin.post(
            "/review/users",
            {"csrf": csrf, "action": "add", "username": "newbie", "password": "a-long-enough-pass", "role": "reviewer"},
        ).status_code
        == 302
    )
    newbie = Client(server)
    assert newbie.sign_in("newbie", "a-long-enough-pass").status_code == 302
    admin.post("/review/users", {"csrf": csrf, "action": "disable", "username": "newbie"})
    assert newbie.get("/review/").status_code == 302  # the disabled account's session is gone
    assert admin.post("/review/users", {"csrf": csrf, "action": "disable", "username": "admin"}).status_code == 400
    with engine(server).connect() as connection:
        stored = connection.execute(sa.text("SELECT password_hash FROM review_users WHERE username = 'newbie'")).scalar()
    assert stored.startswith("$argon2id$") and "a-long-enough-pass" not in stored


DASHBOARD_PAGES = [
    "/review/",
    "/review/conversations",
    "/review/conversations/no-such-id",
    "/review/nothing-here",
    "/review/audit",
    "/review/users",
]


@pytest.mark.parametrize(
    "path",
    DASHBOARD_PAGES + ["/review/export.csv", "/review/export.jsonl", "/review/corrections.yml", "/review/static/review.css"],
)
def test_dashboard_responses_carry_security_headers(admin: Client, path: str) -> None:
    response = admin.get(path)
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy and "script-src" not in policy  # no script runs at all
    assert "frame-ancestors 'none'" in policy and response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer" and response.headers["x-content-type-options"] == "nosniff"


def test_signed_out_pages_and_redirects_carry_security_headers(server: ReviewServer) -> None:
    client = Client(server)
    for response in (client.get("/review/login"), client.get("/review/"), client.post("/review/login", {"csrf": "forged"})):
        assert (
            "frame-ancestors 'none'" in response.headers["content-security-policy"]
            and response.headers["referrer-policy"] == "no-referrer"
        )


@pytest.mark.parametrize("path", DASHBOARD_PAGES + ["/review/login"])
def test_dashboard_pages_need_nothing_the_policy_blocks(server: ReviewServer, admin: Client, path: str) -> None:
    page = (admin if path != "/review/login" else Client(server)).get(path).text
    assert "<script" not in page and "<style" not in page and " style=" not in page and " on" + "click=" not in page
    assert '<link rel="stylesheet" href="/review/static/review.css">' in page


def test_the_dashboard_stylesheet_is_served_to_anyone_with_revalidation(server: ReviewServer) -> None:
    import httpx

    stylesheet = httpx.get(f"{server.base}/review/static/review.css", timeout=10)
    assert (
        stylesheet.status_code == 200
        and stylesheet.headers["content-type"].startswith("text/css")
        and ".badge" in stylesheet.text
    )
    again = httpx.get(
        f"{server.base}/review/static/review.css", headers={"If-None-Match": stylesheet.headers["etag"]}, timeout=10
    )
    assert again.status_code == 304 and again.content == b""


def test_csv_export_neutralises_formulas_even_after_a_separator(server: ReviewServer, admin: Client) -> None:
    from tests.tools.review_data import _user, write

    texts = {
        "formula-semicolon": ";=HYPERLINK(1) formulatest",
        "formula-comma": ",=1+1 formulatest",
        "formula-space": "  @SUM(1) formulatest",
        "formula-tab": "\t=1 formulatest",
        "formula-plain": "=1+1 formulatest",
        "formula-minus": "-2+3 formulatest",
        "formula-safe": "plain; =not at the start formulatest",
    }
    write(engine(server), iter([(sender, [_user(text, "inform", 0.9, "rest", time.time())]) for sender, text in texts.items()]))
    rows = {
        r["sender_id"]: r["first_message"]
        for r in csv.DictReader(io.StringIO(admin.get("/review/export.csv?q=formulatest").text))
    }
    assert set(rows) == set(texts)
    for sender, text in texts.items():
        assert rows[sender] == (text if sender == "formula-safe" else "'" + text), sender
