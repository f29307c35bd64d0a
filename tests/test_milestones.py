"""The milestone table: parsing and checks, finding the milestone a question names, and the tailored answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from bot.knowledge.documents import KnowledgeError
from bot.knowledge.milestones import MilestoneTable, find_milestone, parse_milestones, says_not_yet
from bot.knowledge.store import KnowledgeBase
from bot.knowledge.validate import load_knowledge
from bot.settings import PROJECT_ROOT
from bot.triage import dialogue, subjects
from bot.triage.dialogue import TriageState
from bot.triage.milestones import compose_milestone_answer, stage, subject_for, verdict

KNOWLEDGE = PROJECT_ROOT / "knowledge"


@pytest.fixture(scope="module")
def table() -> MilestoneTable:
    milestones = load_knowledge(KNOWLEDGE).milestones
    assert milestones is not None
    return milestones


def empty(kb: KnowledgeBase, **given: Any) -> Dict[str, Any]:
    answers: Dict[str, Any] = {slot: None for slot in kb.questions}
    answers.update(given)
    return answers


# ------------------------------------------------------------------ the table as data


def test_table_covers_the_gross_motor_milestones_with_sources(table: MilestoneTable) -> None:
    assert [m.id for m in table.milestones] == [
        "lifts_head",
        "props_on_forearms",
        "rolls",
        "pulls_to_stand",
        "cruises",
        "stands_alone",
        "stands_holding_on",
        "sits",
        "crawls",
        "walks",
    ]
    topics = load_knowledge(KNOWLEDGE).topics
    for m in table.milestones:
        assert m.topic in topics and m.sources
        assert m.check_by is None or (m.check_by > 0 and m.check_source in {s.key for s in m.sources})
        assert m.window is None or m.check_by is None or m.window.start < m.check_by


# Ages by which to talk to a provider, with the source whose "talk to a provider if not by" age it is (fact sheet §1
# and §12); a milestone no source gives such an age for has none.
CHECK_BY = {
    "lifts_head": (4, "OXF"),
    "props_on_forearms": None,
    "rolls": (6, "WHIT"),
    "pulls_to_stand": (12, "CDC-12m"),
    "cruises": None,
    "stands_alone": (17, "WHO-MGRS"),
    "stands_holding_on": (12, "CDC-OLD"),
    "sits": (9, "CDC-9m"),
    "crawls": (12, "SEED-BACK"),
    "walks": (18, "PATIENT"),
}


def test_every_check_by_has_its_source(table: MilestoneTable) -> None:
    found = {m.id: (m.check_by, m.check_source) if m.check_by is not None else None for m in table.milestones}
    assert found == CHECK_BY


@pytest.mark.parametrize(
    "milestone_id, who, cdc, check_by",
    [
        ("sits", (3.8, 9.2, 6.0), 9, 9),
        ("crawls", (5.2, 13.5, 8.5), None, 12),
        ("stands_alone", (6.9, 16.9, 11.0), None, 17),
        ("walks", (8.2, 17.6, 12.1), 15, 18),
        ("cruises", (5.9, 13.7, 9.2), 12, None),
        ("stands_holding_on", (4.8, 11.4, 7.6), None, 12),
    ],
)
def test_figures_match_the_fact_sheet(
    table: MilestoneTable, milestone_id: str, who: tuple, cdc: Optional[float], check_by: float
) -> None:
    m = table.get(milestone_id)
    assert m is not None and m.who is not None
    assert (m.who.start, m.who.end, m.who.mean) == who
    assert m.cdc_months == cdc and m.check_by == check_by


def test_disagreements_are_stated(table: MilestoneTable) -> None:
    crawls, walks = table.get("crawls"), table.get("walks")
    assert crawls and crawls.differ and "dropped crawling" in crawls.differ
    assert walks and walks.differ and "18 and 24" in walks.differ


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "milestones.yml"
    path.write_text(
        "intent: ask_milestone\noverview_sources: [W]\nsources:\n  W: {title: WHO, url: 'https://example.org/who'}\nmilestones:\n"
        + body,
        encoding="utf-8",
    )
    return path


GOOD = """  - id: sits
    name: Sitting
    doing: sit
    example: my baby can't sit
    topic: not_crawling
    words: ["sit"]
    who: {from: 3.8, to: 9.2, mean: 6.0}
    check_by: {months: 9, source: W}
    sources: [W]
"""


@pytest.mark.parametrize(
    "change, message, line",
    [
        (("topic: not_crawling", "topic: sitting"), "unknown topic 'sitting'", 10),
        (("sources: [W]", "sources: [W, CDC]"), "unknown source key(s) CDC", 14),
        (("from: 3.8, to: 9.2", "from: 9.5, to: 9.2"), "expected from < mean < to", 12),
        (('words: ["sit"]', 'words: ["(sit"]'), "not a valid regular expression", 11),
        (
            ("check_by: {months: 9, source: W}", "check_by: {months: 9, source: X}"),
            "check_by needs months and a known source",
            13,
        ),
        (("    example: my baby can't sit\n", ""), "missing 'example'", 6),
    ],
)
def test_invalid_tables_fail_with_file_and_line(tmp_path: Path, change: tuple, message: str, line: int) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(KnowledgeError) as error:
        parse_milestones(path, ["not_crawling"])
    assert message in error.value.message and error.value.line == line


def test_a_valid_small_table_parses(tmp_path: Path) -> None:
    table = parse_milestones(_write(tmp_path, GOOD), ["not_crawling"])
    assert table.intent == "ask_milestone" and table.get("sits") and table.sources[0].url == "https://example.org/who"


def test_check_by_is_optional(tmp_path: Path) -> None:
    table = parse_milestones(_write(tmp_path, GOOD.replace("    check_by: {months: 9, source: W}\n", "")), ["not_crawling"])
    sits = table.get("sits")
    assert sits is not None and sits.check_by is None and sits.check_source is None


def test_built_knowledge_base_round_trips_the_table(kb: KnowledgeBase, table: MilestoneTable) -> None:
    assert kb.milestones == table


# ------------------------------------------------------------------ which milestone a question names


@pytest.mark.parametrize(
    "text, milestone_id, not_yet",
    [
        ("when do babies usually sit?", "sits", False),
        ("is it normal that my 10 month old doesn't pull up yet?", "pulls_to_stand", True),
        ("when do babies walk", "walks", False),
        ("she sits but can't crawl yet", "crawls", True),
        ("my baby can pull up but doesn't stand alone", "stands_alone", True),
        ("when do babies stand on their own", "stands_alone", False),
        ("what age do babies roll over", "rolls", False),
        ("when will he hold his head up", "lifts_head", False),
        ("is it late if she isn't cruising at 11 months", "cruises", True),
        ("when do babies start to walk holding furniture", "cruises", False),
        ("my 7 month old can’t sit yet, is that ok", "sits", True),
        ("when should a baby bear weight on his legs", "stands_holding_on", False),
        ("what should a 9 month old be doing", None, False),
    ],
)
def test_find_milestone(table: MilestoneTable, text: str, milestone_id: Optional[str], not_yet: bool) -> None:
    found = find_milestone(table, text)
    assert (found.id if found else None) == milestone_id
    assert says_not_yet(text) is not_yet


# ------------------------------------------------------------------ answers


@pytest.mark.parametrize(
    "milestone_id, months, not_yet, referral, phrase",
    [
        ("sits", 5.0, True, "none", "within the usual range"),
        ("sits", 3.0, True, "none", "early for this"),
        ("sits", 9.5, True, "provider", "please ask a provider"),
        ("sits", 9.5, False, "none", "If yours doesn't yet"),
        ("walks", 16.0, True, "none", "past the age by which 3 in 4"),
        ("walks", 18.0, True, "provider", "most children walk on their own"),
        ("pulls_to_stand", 10.0, True, "none", "within the usual range"),
        ("pulls_to_stand", 12.5, True, "provider", "please ask a provider"),
        ("stands_alone", 16.0, True, "none", "within the usual range"),
        ("stands_alone", 17.0, True, "provider", "please ask a provider"),
        ("rolls", 6.0, True, "provider", "please ask a provider"),
        ("cruises", 4.0, True, "none", "early for this"),
        ("cruises", 10.0, True, "none", "no fixed age"),
        ("cruises", 12.0, True, "none", "past the age by which 3 in 4"),
        ("cruises", 16.0, True, "none", "mention it at the next check-up"),
        ("props_on_forearms", 3.0, True, "none", "3 in 4 children to manage it by 4 months"),
        ("props_on_forearms", 5.0, True, "none", "no fixed age"),
    ],
)
def test_verdict_by_age(
    table: MilestoneTable, milestone_id: str, months: float, not_yet: bool, referral: str, phrase: str
) -> None:
    m = table.get(milestone_id)
    assert m is not None
    sentence, level = verdict(m, months, not_yet, corrected=False)
    assert level == referral and phrase in sentence


def test_answer_uses_corrected_age_and_says_so(table: MilestoneTable) -> None:
    sits = table.get("sits")
    on_time = compose_milestone_answer(table, sits, {"age_months": 10.0, "weeks_early": 0.0}, not_yet=True)
    early = compose_milestone_answer(table, sits, {"age_months": 10.0, "weeks_early": 8.0}, not_yet=True)
    assert on_time.referral == "provider" and early.referral == "none"
    assert early.age.corrected and early.age.months == pytest.approx(8.2)  # 10 - 8 / 4.3482 = 8.16, to a tenth
    assert "corrected age of **8 months**" in early.messages[0].text
    assert "8 months corrected age" in "\n".join(m.text for m in early.messages)


def test_answer_without_age_is_general_and_sets_no_referral(table: MilestoneTable) -> None:
    walks = table.get("walks")
    answer = compose_milestone_answer(table, walks, {"age_months": None}, topic_title="Not walking yet")
    text = "\n".join(m.text for m in answer.messages)
    assert answer.referral is None and answer.topic == "late_walking"
    assert "8.2 and 17.6 months" in text and "15 months" in text and "Where sources differ" in text
    assert "my 14 month old isn't walking yet" in text
    assert all(s.url in text for s in walks.sources)  # every source is named, with its link
    assert answer.messages[-1].buttons[-1] == {"title": "Not walking yet", "payload": "Tell me about not walking yet"}
    assert [b["payload"] for b in answer.messages[-1].buttons[:2]] == ["Yes, this was helpful", "No, this wasn't helpful"]


def test_answer_without_a_check_age_says_so_and_gives_the_cdc_age(table: MilestoneTable) -> None:
    cruises = table.get("cruises")
    general = "\n".join(m.text for m in compose_milestone_answer(table, cruises, {"age_months": None}).messages)
    assert "no fixed age" in general and "3 in 4 children to walk holding on" in general and "by 12 months" in general
    assert "Talk to a provider if" not in general
    older = compose_milestone_answer(table, cruises, {"age_months": 14.0, "weeks_early": 0.0}, not_yet=True)
    assert older.referral == "none" and "mention it at the next check-up" in "\n".join(m.text for m in older.messages)
    assert stage(cruises, 12.0) == "done" and stage(cruises, 8.0) == "now"


def test_age_given_but_born_early_unknown_mentions_corrected_age(table: MilestoneTable) -> None:
    answer = compose_milestone_answer(table, table.get("crawls"), {"age_months": 11.0, "weeks_early": None})
    assert "compare by corrected age" in answer.messages[0].text


def test_urgent_earlier_is_never_downgraded(table: MilestoneTable) -> None:
    answer = compose_milestone_answer(
        table, table.get("sits"), {"age_months": 6.0, "weeks_early": 0.0}, previous_referral="urgent"
    )
    assert answer.referral == "urgent"


def test_overview_by_age_and_in_general(table: MilestoneTable) -> None:
    at_nine = compose_milestone_answer(table, None, {"age_months": 9.0, "weeks_early": 0.0})
    lines = at_nine.messages[1].text
    assert lines.startswith("**Around 9 months**") and at_nine.referral is None
    assert "sitting without support" in lines.split("Most children already manage:")[1].split("\n")[0]
    assert "walking alone" in lines.split("Still to come:")[1]
    general = compose_milestone_answer(table, None, {"age_months": None}).messages[1].text
    order = [line.split("**")[1] for line in general.splitlines()[1:]]
    assert order.index("Sitting without support") < order.index("Crawling on hands and knees") < order.index("Walking alone")


@pytest.mark.parametrize("months, expected", [(4.0, "later"), (6.0, "now"), (8.0, "done"), (9.0, "done")])
def test_stage_of_sitting(table: MilestoneTable, months: float, expected: str) -> None:
    sits = table.get("sits")
    assert sits is not None and stage(sits, months) == expected


# ------------------------------------------------------------------ the question plan for a milestone question


def test_milestone_question_asks_age_with_a_general_option(kb: KnowledgeBase, table: MilestoneTable) -> None:
    subject = subject_for(table.get("walks"))
    turn = dialogue.start(subject, kb.questions, empty(kb), TriageState(), "when do babies usually walk?")
    assert (
        turn.next_slot == "age_months" and {"title": "Just in general", "payload": "Just in general"} in turn.messages[-1].buttons
    )
    general = dialogue.handle_reply(subject, kb.questions, "age_months", "inform", "Just in general", empty(kb), turn.state)
    assert general.next_slot is None  # no age: no "born early?" either, straight to the answer


def test_milestone_question_with_age_asks_born_early_only_under_two(kb: KnowledgeBase, table: MilestoneTable) -> None:
    subject = subject_for(table.get("pulls_to_stand"))
    young = dialogue.start(subject, kb.questions, empty(kb, age_months=10.0), TriageState(), not_yet=True)
    assert young.next_slot == "weeks_early" and young.state.not_yet
    older = dialogue.start(subject, kb.questions, empty(kb, age_months=30.0), TriageState())
    assert older.next_slot is None


def _resolve(kb: KnowledgeBase, table: MilestoneTable, **given: Any) -> subjects.Resolved:
    args: Dict[str, Any] = {"topic_slot": None, "state": TriageState(), "intent": None, "text": "", "requested": None}
    args.update(given)
    return subjects.resolve(kb.topics, table, kb.questions, **args)


def test_resolve_subject(kb: KnowledgeBase, table: MilestoneTable) -> None:
    asked = _resolve(kb, table, intent="ask_milestone", text="is it normal my 10 month old doesn't pull up yet")
    assert asked.subject is not None and asked.subject.id == "milestone:pulls_to_stand" and asked.restart and asked.not_yet
    in_form = TriageState(topic="not_crawling")
    answer = _resolve(
        kb, table, intent="ask_milestone", text="yes she sits", state=in_form, topic_slot="not_crawling", requested="sits_alone"
    )
    assert (
        answer.subject is not None and answer.subject.id == "not_crawling" and not answer.restart
    )  # an answer, not a new question
    switch = _resolve(
        kb,
        table,
        intent="ask_milestone",
        text="when do babies usually walk?",
        state=in_form,
        topic_slot="not_crawling",
        requested="sits_alone",
    )
    assert switch.subject is not None and switch.subject.id == "milestone:walks" and switch.restart
    going = _resolve(
        kb,
        table,
        intent="inform",
        text="14 months",
        state=TriageState(topic="milestone:walks"),
        topic_slot="crawling_backward",
        requested="age_months",
    )
    assert going.subject is not None and going.subject.id == "milestone:walks" and not going.restart
    topic = _resolve(
        kb,
        table,
        intent="ask_toe_walking",
        text="he walks on his toes",
        state=TriageState(topic="milestone:walks"),
        requested="age_months",
    )
    assert topic.subject is not None and topic.subject.id == "toe_walking" and topic.restart


def test_a_reply_that_sounds_like_another_topic_is_still_a_reply(kb: KnowledgeBase, table: MilestoneTable) -> None:
    walking = TriageState(topic="late_walking")
    reply = _resolve(
        kb,
        table,
        intent="ask_standing_alone",
        text="yes she stands for ages holding my fingers",
        state=walking,
        topic_slot="standing_alone",
        requested="pulls_to_stand",
    )
    assert reply.subject is not None and reply.subject.id == "late_walking" and not reply.restart
    switch = _resolve(
        kb,
        table,
        intent="ask_bottom_scooting",
        text="actually I'm more worried that she shuffles on her bottom",
        state=walking,
        topic_slot="bottom_scooting",
        requested="age_months",
    )
    assert switch.subject is not None and switch.subject.id == "bottom_scooting" and switch.restart
