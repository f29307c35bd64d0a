"""The gaps and feedback views' logic without a web server: grouping, the NLU export, feedback sums (SQLite files)."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
import yaml

from bot.review import gaps, index
from bot.review.db import engine_for
from bot.review.feedback import read_feedback, stored_feedback, subject_titles, summarise
from bot.review.filters import FilterError
from bot.review.gaps import GapMessage, chosen_texts, find_gaps, flagged_messages, gaps_yaml, group_messages
from bot.review.grouping import MAX_TEXTS, group_texts, normalise
from bot.review.insight_filters import InsightFilters, parse_insight_filters
from tests.tools.insight_data import COMMENTS, DAY, THEMES, UNRELATED, comment, feedback_conversations, gap_conversations, vote
from tests.tools.review_data import conversation, create_events_table, generate, write

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc).timestamp()  # a Friday


def engine_with(tmp_path: Path, *batches: Any) -> sa.engine.Engine:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    create_events_table(url).dispose()
    engine = engine_for(url)
    for batch in batches:
        write(engine, batch)
    index.sync(engine)
    return engine


def messages_of(texts: List[str]) -> List[GapMessage]:
    return [GapMessage(i + 1, f"c{i}", text, NOW - i, "not_understood") for i, text in enumerate(texts)]


# --- grouping ---------------------------------------------------------------------------------------------------


def test_similar_messages_group_and_different_ones_do_not() -> None:
    texts = [text for phrasings in THEMES.values() for text in phrasings] + list(UNRELATED)
    groups = [{texts[i] for i in members} for members in group_texts([normalise(t) for t in texts])]
    for phrasings in THEMES.values():
        assert set(phrasings) in groups, groups
    for text in UNRELATED:
        assert {text} in groups
    assert len(groups) == len(THEMES) + len(UNRELATED)


def test_messages_sharing_only_common_words_stay_apart() -> None:
    texts = ["my baby has a rash on her face", "my baby has a fever", "my baby is teething", "is my baby too small"]
    assert group_texts([normalise(t) for t in texts]) == [[0], [1], [2], [3]]


def test_grouping_is_deterministic_whatever_the_order_messages_arrive_in() -> None:
    texts = [t for phrasings in THEMES.values() for t in phrasings * 2] + list(UNRELATED) + ["How do I change a NAPPY"]
    first = group_messages(messages_of(texts))
    shuffled = messages_of(texts)
    random.Random(4).shuffle(shuffled)
    again = group_messages(shuffled)
    assert [(g.key, g.count, {m.event_id for m in g.messages}) for g in first] == [
        (g.key, g.count, {m.event_id for m in g.messages}) for g in again
    ]
    assert [g.count for g in first] == [7, 6, 6, 1, 1]  # the largest first; the nappy group has the upper-case copy
    nappy = first[0]
    assert nappy.examples[0].text == "how do I change a nappy" and len(nappy.examples) == 3  # its most frequent text
    assert nappy.first_seen is not None and nappy.last_seen is not None and nappy.first_seen <= nappy.last_seen
    assert nappy.reasons == [("not understood (fallback reply)", 7)] and nappy.conversations == 7


@pytest.mark.parametrize("texts", [[], ["?!"], ["?!", "…", "😀😀"], ["a", "b"], ["x" * 5000, "x" * 4999]])
def test_texts_without_words_or_very_long_ones_still_group(texts: List[str]) -> None:
    groups = group_texts(texts)
    assert sorted(i for members in groups for i in members) == list(range(len(texts)))


def test_grouping_refuses_more_than_its_bound() -> None:
    with pytest.raises(ValueError):
        group_texts([str(i) for i in range(MAX_TEXTS + 1)])


# --- which messages are gaps --------------------------------------------------------------------------------------


def stored(events: List[Dict[str, Any]]) -> List[Any]:
    return [(100 + i, json.loads(json.dumps(e))) for i, e in enumerate(events)]


def test_a_fallback_message_is_a_gap_and_understood_form_replies_are_not() -> None:
    fallback = conversation("fallback", NOW, random.Random(2))
    found = flagged_messages("c", stored(fallback), NOW - DAY)
    user_rows = [100 + i for i, e in enumerate(fallback) if e["event"] == "user"]
    assert [(m.text, m.reason, m.event_id) for m in found] == [("what about the purple thing", "not_understood", user_rows[0])]
    for kind in ("none", "provider", "person", "urgent"):  # "no, on time" at confidence 0.3 fills weeks_early
        assert flagged_messages("c", stored(conversation(kind, NOW, random.Random(2))), NOW - DAY) == []


def test_messages_before_the_period_and_unreadable_conversations_are_left_out() -> None:
    events = gap_conversations(NOW)
    _, first = next(events)
    assert flagged_messages("c", stored(first), NOW) == []  # sent days before the period starts
    unreadable = [(1, {"event": "user", "text": {"x": 1}}), (2, {"event": "action", "name": "action_suggest_topic"})]
    assert flagged_messages("c", unreadable, 0.0) == []  # flagged, but there is no text to show or export


def test_gaps_of_the_period_grouped_from_the_database(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, generate(40, seed=3, days=20, now=NOW), gap_conversations(NOW))
    found = find_gaps(engine, InsightFilters(days=7), now=NOW)
    themes = {normalise(phrasings[0]) for phrasings in THEMES.values()}
    big = [g for g in found.groups if normalise(g.examples[0].text) in themes]
    assert sorted(g.count for g in big) == [4, 4, 4] and all(g.conversations == 4 for g in big)
    assert found.conversations_read == found.conversations_in_period and not found.messages_capped
    assert found.messages == sum(g.count for g in found.groups)
    telegram = find_gaps(engine, InsightFilters(days=7, channel="telegram"), now=NOW)  # the themes were sent over REST
    assert telegram.messages and {g.examples[0].text for g in telegram.groups} == {"what about the purple thing"}
    assert find_gaps(engine, InsightFilters(days=7, channel="nowhere"), now=NOW).messages == 0


def test_the_work_is_bounded_and_says_how_much_was_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = engine_with(tmp_path, gap_conversations(NOW))
    monkeypatch.setattr(gaps, "MAX_CONVERSATIONS", 4)
    found = find_gaps(engine, InsightFilters(days=30), now=NOW)
    assert found.conversations_read == 4 and found.conversations_in_period == 14 and found.messages == 4
    monkeypatch.setattr(gaps, "MAX_CONVERSATIONS", 100)
    monkeypatch.setattr(gaps, "MAX_MESSAGES", 3)
    monkeypatch.setattr(gaps, "BATCH", 2)
    found = find_gaps(engine, InsightFilters(days=30), now=NOW)
    assert found.messages == 3 and found.messages_capped and found.conversations_read == 4


# --- the NLU export -----------------------------------------------------------------------------------------------


def test_the_export_is_rasa_nlu_data_with_only_the_chosen_messages() -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    texts = [t for phrasings in THEMES.values() for t in phrasings] + list(UNRELATED) + ["how do I change a nappy"]
    groups = group_messages(messages_of(texts))
    nappy = next(g for g in groups if "nappy" in g.examples[0].text)
    pizza = next(g for g in groups if "pizza" in g.examples[0].text)
    chosen = chosen_texts(groups, {nappy.key}, {pizza.messages[0].event_id})
    assert len(chosen) == 4 and chosen[0] == THEMES["nappy"][0]  # each text once, the most frequent first
    assert sorted(chosen[:3]) == sorted(THEMES["nappy"]) and chosen[3] == UNRELATED[1]
    document = gaps_yaml("ask_everyday_care", chosen)
    assert document.startswith("# ") and yaml.safe_load(document)["version"] == "3.1"
    RasaYAMLReader().validate(document)  # the schema Rasa checks training data against
    data = RasaYAMLReader().reads(document)
    assert {e.get("intent") for e in data.intent_examples} == {"ask_everyday_care"}
    assert [e.get("text") for e in data.intent_examples] == chosen
    assert chosen_texts(groups, set(), set()) == [] and chosen_texts(groups, {"nosuchkey"}, {999_999}) == []


@pytest.mark.parametrize("intent", ["", "Ask", "ask me", "ask-x", "x" * 65, "1ask", "ask\n- injected"])
def test_the_export_needs_an_intent_name(intent: str) -> None:
    with pytest.raises(ValueError):
        gaps_yaml(intent, ["hello"])


def test_odd_texts_stay_one_example_each() -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    texts = ['she said "no" - then: #1', "- intent: greet", "émoji 😀 and ünïcode", "[not](an_entity) {x}"]
    data = RasaYAMLReader().reads(gaps_yaml("ask_other", texts))
    assert [e.get("text") for e in data.intent_examples] == texts[:3] + ["(not)(an_entity) {x}"]
    assert not data.entity_examples  # brackets would have been read as an entity annotation


# --- feedback -----------------------------------------------------------------------------------------------------


def test_feedback_rates_by_topic_week_and_part(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, feedback_conversations(NOW), generate(10, seed=5, days=20, now=NOW))
    items, capped = stored_feedback(engine, InsightFilters(days=30), now=NOW)
    assert not capped and len(items) == 12  # 9 votes, 3 comments
    summary = summarise(items, InsightFilters(days=30), now=NOW)
    assert (summary.total.votes, summary.total.helpful, summary.total.unhelpful) == (9, 5, 4)
    rates = {subject: (t.votes, t.helpful) for subject, t in summary.by_subject}
    assert rates == {"late_walking": (4, 3), "bottom_scooting": (3, 1), "milestone:walks": (1, 1), None: (1, 0)}
    assert summary.by_subject[0][0] == "late_walking"  # the most votes first
    weeks = {week: (t.votes, t.helpful) for week, t in summary.by_week if t.votes}
    assert weeks == {date(2026, 11, 16): (5, 3), date(2026, 11, 9): (4, 2)}  # 2 and 9 days before a Friday
    assert summary.by_week[0][0] == date(2026, 10, 19) and summary.by_week[-1][0] == date(2026, 11, 16)
    assert [(part, t.votes) for part, t in summary.by_part] == [("advice", 5), ("try", 4)]
    assert [c.text for c in summary.comments] == [COMMENTS[1], COMMENTS[0], COMMENTS[2]]  # the most recent first
    assert {c.subject for c in summary.comments} == {"late_walking", "bottom_scooting"}


def test_feedback_filters(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, feedback_conversations(NOW))
    items, _ = stored_feedback(engine, InsightFilters(days=7), now=NOW)
    unhelpful = summarise(items, InsightFilters(days=7, answer="unhelpful"), now=NOW)
    assert (unhelpful.total.votes, unhelpful.total.helpful) == (2, 0) and unhelpful.comment_count == 1
    helpful = summarise(items, InsightFilters(days=7, answer="helpful"), now=NOW)
    assert helpful.total.votes == helpful.total.helpful == 3 and helpful.comments == []
    topic = summarise(items, InsightFilters(days=7, topic="bottom_scooting"), now=NOW)
    assert topic.total.votes == 1 and [s for s, _ in topic.by_subject] == ["bottom_scooting"]
    assert stored_feedback(engine, InsightFilters(days=7, channel="telegram"), now=NOW)[0] == []
    assert len(stored_feedback(engine, InsightFilters(days=7, channel="rest"), now=NOW)[0]) == len(items)


def test_feedback_reading_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.review import feedback

    engine = engine_with(tmp_path, feedback_conversations(NOW))
    monkeypatch.setattr(feedback, "MAX_ROWS", 5)
    items, capped = stored_feedback(engine, InsightFilters(days=30), now=NOW)
    assert capped and len(items) == 5 and max(i.at for i in items) == pytest.approx(NOW - 2 * DAY + 1, abs=700)


def data(value: Any, **fields: Any) -> str:
    return json.dumps({"event": "slot", "name": "feedback", "value": value, "timestamp": NOW, **fields})


@pytest.mark.parametrize(
    "raw",
    [
        data("helpful"),
        data(None),
        data([1, 2]),
        data({"kind": "vote"}),
        data({"kind": "vote", "helpful": "yes"}),
        data({"kind": "vote", "helpful": 1}),
        data({"kind": "comment", "text": {"x": 1}}),
        data({"kind": "comment", "text": "   "}),
        data({"kind": "rating", "helpful": True}),
        data({"kind": "vote", "helpful": True}, name="topic"),
        data({"kind": "vote", "helpful": True}, event="user"),
        data({"kind": "vote", "helpful": True}, timestamp=float("nan")),
        "{not json",
        "[" * 100_000,
        None,
    ],
)
def test_unusable_feedback_is_skipped(raw: Any) -> None:
    assert read_feedback(1, "s", None, raw) is None


def test_feedback_values_are_checked() -> None:
    raw = data({"kind": "vote", "helpful": False, "subject": "<img src=x>", "referral": "maybe", "part": "<b>", "text": "x"})
    item = read_feedback(7, "s", NOW, raw)
    assert item is not None and item.helpful is False and item.subject is None and item.referral is None
    assert item.part is None and item.text is None and item.at == NOW
    long = read_feedback(8, "s", float("nan"), json.dumps(comment("y" * 50_000 + "\x00", "late_walking", NOW)))
    assert long is not None and long.text is not None and len(long.text) == 2000 and long.at == NOW
    assert read_feedback(9, "s", NOW, json.dumps(vote(True, "late_walking", NOW))) is not None


def test_topic_titles_come_from_the_knowledge_base(kb: Any) -> None:
    titles = subject_titles(kb, ["late_walking", "milestone:walks", "no_such_topic", None, "milestone:nothing"])
    assert titles == {"late_walking": kb.topics["late_walking"].title, "milestone:walks": kb.milestones.get("walks").name}


# --- filters ------------------------------------------------------------------------------------------------------


def test_filters_parse_and_round_trip() -> None:
    filters = parse_insight_filters({"days": "7", "channel": "rest", "answer": "unhelpful", "topic": "milestone:walks"})
    assert filters == InsightFilters(7, "rest", "milestone:walks", "unhelpful")
    assert parse_insight_filters(dict(parse_qsl(filters.query()))) == filters
    assert filters.first_day(NOW) == date(2026, 11, 14) and InsightFilters().query() == ""


@pytest.mark.parametrize(
    "args", [{"days": "6"}, {"days": "366"}, {"days": "x"}, {"channel": "<script>"}, {"answer": "maybe"}, {"topic": "a" * 65}]
)
def test_bad_filters_are_refused(args: Dict[str, str]) -> None:
    with pytest.raises(FilterError):
        parse_insight_filters(args)


def test_stored_feedback_reads_whole_everywhere_in_the_dashboard() -> None:
    from bot.review.reading import read_event

    event = read_event(json.dumps(vote(False, "late_walking", NOW, part="why")))
    assert event["problems"] == [] and event["value"] == {
        "kind": "vote",
        "helpful": False,
        "subject": "late_walking",
        "referral": "none",
        "part": "why",
        "text": None,
    }
    assert read_event(data({"kind": "vote", "helpful": "yes"}))["problems"] == ["slot value"]


def test_the_feedback_export_has_ids_and_no_formula(tmp_path: Path) -> None:
    import csv
    import io

    from bot.review.feedback import csv_document, selected

    engine = engine_with(tmp_path, feedback_conversations(NOW))
    items, _ = stored_feedback(engine, InsightFilters(days=30), now=NOW)
    items.append(read_feedback(99, "s", NOW, data({"kind": "comment", "text": "=HYPERLINK(1)", "subject": "late_walking"})))
    text, count = csv_document(selected(items, InsightFilters(days=30, answer="unhelpful")))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == len(rows) == 4 + 4  # the unhelpful votes and every comment
    assert {row["kind"] for row in rows} == {"vote", "comment"} and {row["helpful"] for row in rows} == {"no", ""}
    assert {row["subject"] for row in rows} <= {"late_walking", "bottom_scooting", ""}  # ids, not titles
    assert "'=HYPERLINK(1)" in {row["text"] for row in rows}
