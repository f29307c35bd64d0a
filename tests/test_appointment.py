"""The appointment summary: composition from the advice's ids and answers, the signed link, the plain text, the reply,
the action, and the page over HTTP (status codes, headers, escaping)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple
from urllib.parse import urlsplit

import httpx
import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.appointment import ActionAppointmentSummary
from bot.channels.messaging import TELEGRAM_LIMIT, WHATSAPP_LIMIT
from bot.knowledge.documents import Rule, Source
from bot.knowledge.messages import say
from bot.knowledge.store import KnowledgeBase
from bot.privacy.summary_links import (
    DAY_SECONDS,
    LinkExpired,
    LinkInvalid,
    link_key,
    make_token,
    open_token,
)
from bot.settings import get_settings
from bot.triage.appointment import Library, Record, compose, offer_button, record_of
from bot.triage.appointment_library import current_library, red_flag_definitions
from bot.triage.appointment_reply import Links, appointment_reply
from bot.triage.appointment_text import day_of, summary_messages
from bot.triage.respond import Outcome, advise
from bot.triage.summary import describe_value
from bot.web.app import TEMPLATES
from bot.web.revalidated import revalidated
from bot.web.summary import SummaryPages
from tests.servers import Chat, Services

KEY = hashlib.sha256(b"test key for summary links").digest()
NOW = 1_800_000_000.0
SECRET = "s" * 64  # WEBCHAT_SECRET for the action tests (so nothing is written to the project's var/)
LATE_WALKER = {
    "age_months": 19.0,
    "weeks_early": 8.0,
    "pulls_to_stand": "no",
    "stands_alone_seconds": 0.0,
    "uses_both_sides": "yes",
    "hips_checked": "no",
    "breech": "no",
    "hip_family_history": "unsure",
}
PRIVATE = ("Ann Smith", "07700 900123", "ann@example.org", "conversation-8c1f")  # never in a record, link or page


@pytest.fixture
def library(settings_env: None) -> Library:
    return current_library()


def advised(
    library: Library, subject: str, answers: Dict[str, Any], observed: Tuple[str, ...] = (), not_yet: bool = False
) -> Outcome:
    outcome = advise(
        subject,
        library.topics,
        library.questions,
        library.milestones,
        library.catalogue,
        answers,
        observed=observed,
        not_yet=not_yet,
        safety_net=library.safety_net,
    )
    assert outcome is not None
    return outcome


def record_for(
    library: Library, subject: str, answers: Dict[str, Any], observed: Tuple[str, ...] = (), not_yet: bool = False
) -> Record:
    outcome = advised(library, subject, answers, observed, not_yet)
    assert outcome.referral is not None
    return record_of(subject, outcome.referral, answers, observed, outcome.rule_ids, not_yet=not_yet, made_at=NOW)


# ------------------------------------------------------------------ composition


def test_a_topic_summary_gives_the_facts_the_provider_reasons_and_their_sources(library: Library) -> None:
    record = record_for(library, "late_walking", LATE_WALKER)
    summary = compose(record, library)
    topic = library.topics["late_walking"]
    assert summary.title == topic.title and summary.referral == "provider" == record.referral
    facts = {fact.label: fact.value for fact in summary.facts}
    assert facts[say("appointment.fact.age")] == "19 months"
    assert facts[say("appointment.fact.corrected_age")].startswith("17 months (born 8 weeks early")
    for slot in ("pulls_to_stand", "stands_alone_seconds", "uses_both_sides", "hips_checked", "breech", "hip_family_history"):
        question = library.questions[slot]
        assert facts[question.ask] == describe_value(question, LATE_WALKER[slot])
    assert library.questions["weeks_early"].ask not in facts  # the corrected age says how early
    assert [f.label for f in summary.facts][2:4] == [library.questions[s].ask for s in topic.questions if s in LATE_WALKER][2:4]
    provider_rules = [r for r in topic.rules if r.id in record.rules and r.referral == "provider"]
    assert provider_rules and all(rule.say in summary.reasons for rule in provider_rules)
    reassurance = [r for r in topic.rules if r.id in record.rules and r.referral == "none"]
    assert reassurance and not any(rule.say in summary.reasons for rule in reassurance)  # only the referral's reasons
    cited = {source.key for rule in provider_rules for source in topic.sources if source.key in rule.sources}
    assert cited <= {s.key for s in summary.sources}
    assert len(summary.sources) < len(topic.sources)  # the sources behind these reasons, not the whole document


def test_a_milestone_summary_gives_the_verdict_and_the_source_of_the_check_age(library: Library) -> None:
    assert library.milestones is not None
    milestone = next(m for m in library.milestones.milestones if m.check_by is not None and m.check_source)
    answers = {"age_months": milestone.check_by + 1, "weeks_early": 0.0}
    record = record_for(library, f"milestone:{milestone.id}", answers, not_yet=True)
    summary = compose(record, library)
    assert record.referral == "provider" and record.not_yet
    assert summary.title == milestone.name
    assert len(summary.reasons) == 1 and milestone.doing in summary.reasons[0]
    assert [s.key for s in summary.sources] == [milestone.check_source]
    facts = {fact.label: fact.value for fact in summary.facts}
    assert facts[library.questions["weeks_early"].ask] == describe_value(library.questions["weeks_early"], 0.0)


def test_what_the_parent_described_is_said_back_and_a_sign_is_a_reason(library: Library) -> None:
    catalogue = library.catalogue
    assert catalogue is not None
    sign = next(o for o in catalogue.observations.values() if o.referral == "provider" and o.say and o.sources)
    record = record_for(library, "tummy_time", {"age_months": 5.0, "weeks_early": 0.0}, observed=(sign.id,))
    summary = compose(record, library)
    assert record.referral == "provider" and f"observation:{sign.id}" in record.rules
    assert sign.say_back in summary.described and sign.say in summary.reasons
    assert {catalogue.source(k).url for k in sign.sources} <= {s.url for s in summary.sources}


def test_an_urgent_summary_names_the_red_flag_and_its_sources(library: Library) -> None:
    flag = red_flag_definitions()["loss_of_skills"]
    provider = record_for(library, "late_walking", LATE_WALKER)
    record = replace(provider, referral="urgent", red_flag="loss_of_skills")
    summary = compose(record, library)
    assert summary.reasons == (say("appointment.reason.red_flag", sign=flag["signpost"].strip()),)
    assert [s.url for s in summary.sources] == [s["url"] for s in flag["sources"]]
    assert say("appointment.reasons_heading.urgent") in summary_messages(summary, TELEGRAM_LIMIT)[0]


def test_an_urgent_referral_from_earlier_says_so_then_gives_the_provider_reasons(library: Library) -> None:
    record = replace(record_for(library, "late_walking", LATE_WALKER), referral="urgent")
    summary = compose(record, library)
    assert summary.reasons[0] == say("appointment.reason.urgent_earlier")
    assert library.topics["late_walking"].rules[1].say in summary.reasons  # not_pulling_to_stand_by_12_months


def test_a_reason_the_knowledge_no_longer_has_falls_back_to_a_general_sentence(library: Library) -> None:
    record = Record("late_walking", "provider", rules=("a_rule_since_removed",), made_at=int(NOW))
    summary = compose(record, library)
    assert summary.reasons == (say("appointment.reason.general.provider"),) and summary.sources == ()


def test_a_record_keeps_ids_and_typed_values_only(library: Library) -> None:
    record = record_of(
        "late_walking",
        "provider",
        {"age_months": 14.0, "pulls_to_stand": "Ann Smith says no", "phone": "07700 900123", "breech": "no"},
        observed=["pulls_to_stand_yes", "ann@example.org"],
        rules=["not_walking_by_18_months", "conversation-8c1f <b>"],
        red_flag="Ann Smith",
        made_at=NOW,
    )
    assert dict(record.answers) == {"age_months": 14.0, "breech": "no"}
    assert record.observed == ("pulls_to_stand_yes",) and record.rules == ("not_walking_by_18_months",)
    assert record.red_flag is None
    written = json.dumps(record.to_dict())
    assert not any(private.lower() in written.lower() for private in PRIVATE)
    assert Record.from_dict(record.to_dict()) == record


def test_the_offer_is_a_quick_reply_the_nlu_examples_start_with() -> None:
    button = offer_button()
    examples = Path(__file__).resolve().parent.parent / "data" / "nlu" / "appointment.yml"
    assert button["title"] and f"- {button['payload']}\n" in examples.read_text(encoding="utf-8")


# ------------------------------------------------------------------ signed links


def record_at(made_at: float) -> Record:
    return Record("late_walking", "provider", (("age_months", 19.0), ("pulls_to_stand", "no")), (), ("x",), made_at=int(made_at))


def test_a_link_opens_to_its_record_until_it_expires() -> None:
    record = record_at(NOW)
    token = make_token(record, KEY, 7)
    assert len(token) < 400 and token.isascii()
    opened, expires = open_token(token, KEY, NOW + 7 * DAY_SECONDS - 1)
    assert opened == record and expires == int(NOW) + 7 * DAY_SECONDS
    with pytest.raises(LinkExpired):
        open_token(token, KEY, NOW + 7 * DAY_SECONDS)


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def test_a_changed_forged_or_foreign_link_is_refused() -> None:
    token = make_token(record_at(NOW), KEY, 7)
    payload, signature = token.split(".")
    refused = [
        flip(token, 5),  # the record changed
        f"{payload}.{flip(signature, 3)}",  # the signature changed
        make_token(record_at(NOW), hashlib.sha256(b"another secret").digest(), 7),  # another key
        payload,
        "",
        "a.b.c",
        f"{payload}é.{signature}",
        "x" * 5000,
    ]
    for bad in refused:
        with pytest.raises(LinkInvalid):
            open_token(bad, KEY, NOW)


def signed(data: Any, key: bytes = KEY) -> str:
    payload = base64.urlsafe_b64encode(zlib.compress(json.dumps(data).encode())).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16]).rstrip(b"=").decode()
    return f"{payload}.{signature}"


@pytest.mark.parametrize(
    "data",
    [
        {"r": "provider", "t": 1, "x": 2_000_000_000, "a": {"age_months": "<script>alert(1)</script>"}},  # free text
        {"r": "provider", "t": 1, "x": 2_000_000_000, "s": "Ann Smith"},
        {"r": "none", "t": 1, "x": 2_000_000_000},  # no summary for "no referral"
        {"r": "provider", "t": 1},  # no expiry
        {"r": "provider", "t": 1, "x": "soon"},
        ["r", "provider"],
    ],
)
def test_a_genuinely_signed_token_must_still_hold_a_record(data: Any) -> None:
    with pytest.raises(LinkInvalid):
        open_token(signed(data), KEY, NOW)


def test_a_deflate_bomb_is_refused_even_when_signed() -> None:
    payload = base64.urlsafe_b64encode(zlib.compress(b"[" * 5_000_000)).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(KEY, payload.encode(), hashlib.sha256).digest()[:16]).rstrip(b"=").decode()
    with pytest.raises(LinkInvalid):
        open_token(f"{payload}.{signature}", KEY, NOW)


# ------------------------------------------------------------------ plain text and the reply


def test_the_text_fits_each_platform_and_keeps_every_part(library: Library) -> None:
    summary = compose(record_for(library, "late_walking", LATE_WALKER), library)
    for limit in (WHATSAPP_LIMIT, TELEGRAM_LIMIT, 400):
        messages = summary_messages(summary, limit)
        assert all(len(m) <= limit for m in messages), limit
        text = "\n".join(messages)
        assert summary.title in messages[0] and say("appointment.not_a_diagnosis") in messages[0]
        assert all(reason in text.replace("\n", " ") or reason[:60] in text for reason in summary.reasons)
        assert all(source.url in text for source in summary.sources)
        assert day_of(NOW) in text
    assert len(summary_messages(summary, TELEGRAM_LIMIT)) == 1


def test_the_reply_asks_for_advice_first_then_sends_a_link_or_the_text(library: Library) -> None:
    record = record_for(library, "late_walking", LATE_WALKER)
    links = Links("https://clinic.example.org/", KEY, 7)
    assert appointment_reply(None, "socketio", lambda: links, lambda: library) == [say("appointment.no_advice")]
    calm = replace(record, referral="none")
    assert appointment_reply(calm, "telegram", lambda: links, lambda: library) == [say("appointment.no_referral")]
    (link,) = appointment_reply(record, "socketio", lambda: links, lambda: library)
    url = link.split("](", 1)[1].split(")", 1)[0]
    assert url.startswith("https://clinic.example.org/summary/") and "7 days" in link
    assert open_token(url.rsplit("/", 1)[1], KEY, NOW)[0] == record
    for channel, limit in (("telegram", TELEGRAM_LIMIT), ("whatsapp", WHATSAPP_LIMIT)):
        messages = appointment_reply(record, channel, lambda: links, lambda: library)
        assert messages[0] == say("appointment.text_intro") and "summary/" not in "".join(messages)
        assert all(len(m) <= limit for m in messages)


# ------------------------------------------------------------------ the action


@pytest.fixture
def action_env(settings_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_SECRET", SECRET)
    monkeypatch.setenv("WEB_PUBLIC_URL", "https://clinic.example.org")
    monkeypatch.setenv("APPOINTMENT_LINK_DAYS", "3")
    get_settings.cache_clear()


async def run_action(tracker: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionAppointmentSummary().run(dispatcher, tracker, {})
    return dispatcher.messages, events


def advice_slots(library: Library) -> Dict[str, Any]:
    outcome = advised(library, "late_walking", LATE_WALKER)
    return {
        **LATE_WALKER,
        "topic": "late_walking",
        "referral": outcome.referral,
        "advice_rules": list(outcome.rule_ids),
        "advised": {"subject": "late_walking", "not_yet": False},
        "observations": [],
    }


def channel_events(channel: str) -> List[Dict[str, Any]]:
    return [{"event": "user", "text": "My name is Ann Smith, call 07700 900123", "input_channel": channel}]


async def test_the_action_sends_a_link_on_the_web_chat_with_no_identifier(
    action_env: None, library: Library, make_tracker: Callable[..., Tracker]
) -> None:
    tracker = make_tracker(
        slots=advice_slots(library),
        intent="ask_appointment_summary",
        text="summary for the doctor please, I'm Ann Smith",
        events=channel_events("socketio"),
        sender_id="conversation-8c1f",
    )
    messages, events = await run_action(tracker)
    assert events == [] and len(messages) == 1
    url = messages[0]["text"].split("](", 1)[1].split(")", 1)[0]
    assert url.startswith("https://clinic.example.org/summary/") and "3 days" in messages[0]["text"]
    token = url.rsplit("/", 1)[1]
    record, expires = open_token(token, link_key(get_settings()), time.time())
    assert record.subject == "late_walking" and record.referral == "provider"
    assert expires - record.made_at == 3 * DAY_SECONDS
    payload = zlib.decompress(base64.urlsafe_b64decode(token.split(".")[0] + "==")).decode()
    assert not any(private.lower() in payload.lower() for private in PRIVATE)


async def test_the_action_sends_the_text_on_telegram_and_whatsapp(
    action_env: None, library: Library, make_tracker: Callable[..., Tracker]
) -> None:
    for channel, limit in (("telegram", TELEGRAM_LIMIT), ("whatsapp", WHATSAPP_LIMIT)):
        tracker = make_tracker(slots=advice_slots(library), intent="ask_appointment_summary", events=channel_events(channel))
        messages, _ = await run_action(tracker)
        text = "\n".join(m["text"] for m in messages)
        assert messages[0]["text"] == say("appointment.text_intro") and library.topics["late_walking"].title in text
        assert all(len(m["text"]) <= limit for m in messages) and "/summary/" not in text
        assert not any(private in text for private in PRIVATE)


async def test_the_action_says_what_it_needs_before_any_advice_and_after_calm_advice(
    action_env: None, library: Library, make_tracker: Callable[..., Tracker]
) -> None:
    messages, _ = await run_action(make_tracker(intent="ask_appointment_summary", events=channel_events("socketio")))
    assert [m["text"] for m in messages] == [say("appointment.no_advice")]
    calm = {**advice_slots(library), "referral": "none"}
    messages, _ = await run_action(make_tracker(slots=calm, intent="ask_appointment_summary", events=channel_events("rest")))
    assert [m["text"] for m in messages] == [say("appointment.no_referral")]


async def test_after_a_red_flag_alone_the_action_summarises_it(
    action_env: None, library: Library, make_tracker: Callable[..., Tracker]
) -> None:
    slots = {"referral": "urgent", "red_flag": "loss_of_skills"}
    tracker = make_tracker(slots=slots, intent="ask_appointment_summary", events=channel_events("whatsapp"))
    messages, _ = await run_action(tracker)
    text = "\n".join(m["text"] for m in messages)
    assert red_flag_definitions()["loss_of_skills"]["signpost"].strip() in text
    assert say("appointment.title.general") in text and say("appointment.reasons_heading.urgent") in text


# ------------------------------------------------------------------ the page, in process (escaping) and over HTTP


def test_the_page_escapes_everything_it_shows(library: Library) -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    topic = library.topics["late_walking"]
    rule = Rule(id="hostile", conditions=(), referral="provider", say=hostile, line=1, sources=("EVIL",))
    evil = Source("EVIL", hostile, "javascript:alert(1)")
    topics = {**library.topics, "late_walking": replace(topic, title=hostile, rules=(rule,), sources=(evil,))}
    templates = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    unused = revalidated(b"", "text/plain")
    pages = SummaryPages(templates, lambda: KEY, lambda: replace(library, topics=topics), unused, unused)
    token = make_token(Record("late_walking", "provider", rules=("hostile",), made_at=int(time.time())), KEY, 7)
    page = pages.page(token, time.time())
    body = bytes(page.body or b"").decode()
    assert page.status == 200 and "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(" in body and "&lt;img src=x" in body and 'href="javascript:' not in body


@pytest.fixture(scope="module")
def page_key(web_server: Services) -> bytes:
    """The web server's link key: derived from the secret in its data directory (created now if it isn't yet)."""
    settings = replace(get_settings(), webchat_secret=None, webchat_secret_file=web_server.logs / "webchat_secret")
    return link_key(settings)


def test_the_page_shows_the_summary_with_its_own_headers(web_server: Services, page_key: bytes, kb: KnowledgeBase) -> None:
    record = replace(record_at(time.time()), rules=("not_pulling_to_stand_by_12_months",))
    page = httpx.get(f"{web_server.web_url}/summary/{make_token(record, page_key, 7)}", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    topic = kb.topics["late_walking"]
    rule = next(r for r in topic.rules if r.id == "not_pulling_to_stand_by_12_months")
    for shown in (topic.title, say("appointment.page.print"), describe_value(kb.questions["pulls_to_stand"], "no")):
        assert str(escape(shown)) in page.text
    assert str(escape(rule.say)) in page.text
    cited = [s for s in topic.sources if s.key in rule.sources]
    assert cited and all(f'<span class="url">{s.url}</span>' in page.text for s in cited)
    headers = page.headers
    assert headers["cache-control"] == "private, no-store" and "noindex" in headers["x-robots-tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "connect-src" not in policy
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    for asset, kind in (("summary.css", "text/css"), ("print.js", "application/javascript")):
        response = httpx.get(f"{web_server.web_url}/static/summary/{asset}", timeout=10)
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        assert response.headers["content-security-policy"] == policy


def test_an_expired_or_broken_link_gets_a_friendly_page(web_server: Services, page_key: bytes) -> None:
    expired = make_token(record_at(time.time() - 8 * DAY_SECONDS), page_key, 7)
    foreign = make_token(record_at(time.time()), KEY, 7)
    cases = [
        (expired, 410, "expired"),
        (flip(make_token(record_at(time.time()), page_key, 7), 4), 404, "invalid"),
        (foreign, 404, "invalid"),
        ("not-a-token", 404, "invalid"),
        ("x" * 3000, 404, "invalid"),
    ]
    for token, status, name in cases:
        page = httpx.get(f"{web_server.web_url}/summary/{token}", timeout=10)
        assert page.status_code == status, name
        assert str(escape(say(f"appointment.page.{name}_title"))) in page.text
        assert page.headers["cache-control"] == "private, no-store" and "noindex" in page.headers["x-robots-tag"]


# ------------------------------------------------------------------ end to end: Rasa, the action server, the web server


def test_a_parent_asks_for_the_summary_and_the_link_opens_it(shared_stack: Services, kb: KnowledgeBase) -> None:
    services = shared_stack.ensure_running()
    parent = Chat(services)
    assert parent.says(say("appointment.offer.payload")) == say("appointment.no_advice")  # no advice yet
    parent.says("my 19 month old isn't walking yet")
    for reply in ("8 weeks early", "no", "no", "yes", "no", "no", "not sure"):
        parent.says(reply)
    assert parent.slots()["referral"] == "provider"
    reply = parent.says(say("appointment.offer.payload"))  # the quick reply on the advice's closing message
    found = re.search(r"\]\((http[^)]+/summary/[^)]+)\)", reply)
    assert found, reply
    url = found.group(1)
    assert parent.sender not in url and len(url) < 600
    page = httpx.get(services.web_url + urlsplit(url).path, timeout=10)  # WEB_PUBLIC_URL is not this stack's address
    assert page.status_code == 200 and "Not walking yet" in page.text and parent.sender not in page.text
    assert str(escape(describe_value(kb.questions["pulls_to_stand"], "no"))) in page.text
