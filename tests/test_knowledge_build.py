"""Knowledge build: a valid set of documents builds and is searchable; each kind of mistake fails clearly."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict

import pytest

from bot.knowledge.build import fingerprint, write_database
from bot.knowledge.documents import KnowledgeError
from bot.knowledge.store import KnowledgeBase
from bot.knowledge.validate import load_knowledge
from bot.settings import PROJECT_ROOT

QUESTIONS = """\
questions:
  age_months:
    type: months
    ask: "How old is your child?"
    example: "10 months"
    why: "Age changes what is typical."
  pulls_to_stand:
    type: yes_no_unsure
    ask: "Does your child pull up to stand?"
    example: "yes or no"
    why: "Pulling up comes before walking."
"""

RED_FLAGS = """\
default_message: "Please get help now."
red_flags:
  - id: seizure
    label: Seizure
    referral: urgent
    signpost: "has a fit that you can't interrupt"
    message: "Call your emergency number now."
    sources:
      - {key: DFTB, title: "Fever and a limp", url: "https://dontforgetthebubbles.com/fever-limp/"}
    patterns:
      phrases: ["seizure"]
"""

FRONT = """\
---
id: demo_topic
title: Demo topic
intent: ask_demo_topic
summary: A tiny topic about wobbly standing.
sources:
  - key: PATIENT
    title: "Delay in walking"
    url: https://patient.info/doctor/delay-in-walking
questions: [age_months, pulls_to_stand]
rules:
{rules}
short:
  first_steps:
    - say: "Play with toys on a low sturdy table."
      sources: [PATIENT]
    - say: "Let your child stand at the sofa."
      sources: [PATIENT]
  check_again:
    say: "Talk to a provider if your child is not pulling up by 12 months."
    sources: [PATIENT]
section_sources: {{why: [PATIENT], try: [PATIENT], when: [PATIENT]}}
---
## Why it happens
Standing takes balance and strength, which grow with practice.

## What you can try
- Play with toys on a low sturdy table.

## When to talk to a provider
If your child is not pulling up by 12 months.
"""

GOOD_RULES = """\
  - id: late
    when: {corrected_age_months: {gte: 12}, pulls_to_stand: "no"}
    referral: provider
    say: "Please ask your provider."
  - id: fine
    when: {corrected_age_months: {lt: 12}}
    referral: none
    say: "This is typical."
  - id: pulls_up
    when: {pulls_to_stand: {in: ["yes", "unsure"]}}
    referral: none
    say: "Keep playing at a low table."
"""


def write_knowledge(root: Path, topic: str = "", files: Dict[str, str] | None = None) -> Path:
    """Write a tiny knowledge folder: questions, red flags and one topic document."""
    (root / "topics").mkdir(parents=True)
    (root / "questions.yml").write_text(QUESTIONS)
    (root / "red_flags.yml").write_text(RED_FLAGS)
    (root / "topics" / "demo_topic.md").write_text(topic or FRONT.format(rules=GOOD_RULES.rstrip("\n")))
    for name, content in (files or {}).items():
        (root / name).write_text(content)
    return root


def test_valid_knowledge_builds_and_is_searchable(tmp_path: Path) -> None:
    knowledge = load_knowledge(write_knowledge(tmp_path / "knowledge"))
    db = tmp_path / "kb.db"
    write_database(knowledge, db, stamp="test")
    kb = KnowledgeBase(db)
    topic = kb.topic("demo_topic")
    assert topic is not None and topic.questions == ("age_months", "pulls_to_stand")
    assert [r.id for r in topic.rules] == ["late", "fine", "pulls_up"]
    assert topic.section("try").body.startswith("- Play with toys")
    assert topic.sources[0].url == "https://patient.info/doctor/delay-in-walking"
    assert kb.search("balance practice")[0].topic_id == "demo_topic"
    assert kb.search("zebra") == []


def test_fingerprint_changes_only_with_inputs(tmp_path: Path) -> None:
    root = write_knowledge(tmp_path / "knowledge")
    first = fingerprint(root)
    assert fingerprint(root) == first
    (root / "questions.yml").write_text(QUESTIONS + "\n# edited\n")
    assert fingerprint(root) != first


def _rules(text: str) -> str:
    return FRONT.format(rules=textwrap.dedent(text).rstrip("\n"))


BAD_DOCUMENTS = [
    pytest.param(
        _rules("""\
              - id: r1
                when: {crawl_speed: {gte: 3}}
                referral: provider
                say: "x"
            """),
        12,
        "unknown slot 'crawl_speed'",
        id="unknown-slot",
    ),
    pytest.param(
        _rules("""\
              - id: r1
                when: {corrected_age_months: {gte: 18, lt: 12}}
                referral: provider
                say: "x"
            """),
        12,
        "rule 'r1' is unreachable",
        id="impossible-range",
    ),
    pytest.param(
        _rules("""\
              - id: r1
                when: {age_months: {gte: 12}}
                referral: provider
                say: "x"
            """),
        12,
        "judge ages under 24 months by corrected_age_months",
        id="actual-age-threshold",
    ),
    pytest.param(
        _rules("""\
              - id: r1
                when: {pulls_to_stand: "no"}
                referral: provider
                say: "x"
              - id: r2
                when: {pulls_to_stand: "no"}
                referral: none
                say: "y"
            """),
        16,
        "rule 'r2' contradicts rule 'r1' (line 12)",
        id="contradictory-rules",
    ),
    pytest.param(
        _rules("""\
              - id: r1
                when: {pulls_to_stand: "maybe"}
                referral: provider
                say: "x"
            """),
        12,
        "can be yes, no, unsure, not 'maybe'",
        id="bad-choice-value",
    ),
    pytest.param(
        _rules("""\
              - id: r1
                when: {pulls_to_stand: "no"}
                referral: soon
                say: "x"
            """),
        14,
        "referral 'soon' is not one of none, provider, urgent",
        id="bad-referral",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace(
            'sources:\n  - key: PATIENT\n    title: "Delay in walking"\n    url: https://patient.info/doctor/delay-in-walking\n',
            "",
        ),
        2,
        "has no sources",
        id="missing-sources",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace("    url: https://patient.info/doctor/delay-in-walking\n", ""),
        7,
        "source is missing 'url'",
        id="source-without-url",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace("## What you can try", "## Fun facts"),
        38,
        "unknown section 'Fun facts'",
        id="unknown-section",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace("questions: [age_months, pulls_to_stand]", "questions: [age_months]"),
        12,
        "rule 'late' is unreachable: it needs 'pulls_to_stand'",
        id="slot-never-asked",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace(
            "questions: [age_months, pulls_to_stand]", "questions: [age_months, shoe_size]"
        ),
        10,
        "unknown question 'shoe_size'",
        id="unknown-question",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace(
            "      sources: [PATIENT]\n    - say", "      sources: [NOPE]\n    - say"
        ),
        26,
        "first step 'Play with toys on a low sturdy table.' cites source(s) the topic doesn't list: NOPE",
        id="short-answer-unknown-source",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace(
            '    - say: "Let your child stand at the sofa."\n      sources: [PATIENT]\n', ""
        ),
        25,
        "'first_steps' needs 2 or 3 entries",
        id="short-answer-one-step",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace(", when: [PATIENT]}", "}"),
        33,
        "'section_sources' needs the source keys of each section: why, try, when",
        id="section-sources-missing",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace("when: [PATIENT]}", "when: [OTHER]}"),
        33,
        "section_sources.when cites source(s) the topic doesn't list: OTHER",
        id="section-sources-unknown",
    ),
    pytest.param(
        FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace("title: Demo topic", "title: [Demo"),
        4,
        "invalid YAML",
        id="broken-yaml",
    ),
]


@pytest.mark.parametrize("document, line, message", BAD_DOCUMENTS)
def test_invalid_document_fails_naming_file_and_line(tmp_path: Path, document: str, line: int, message: str) -> None:
    root = write_knowledge(tmp_path / "knowledge", topic=document)
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(root)
    assert error.value.path.name == "demo_topic.md"
    assert message in error.value.message
    assert error.value.line == line, str(error.value)


def test_red_flag_without_source_fails(tmp_path: Path) -> None:
    broken = RED_FLAGS.replace(
        '    sources:\n      - {key: DFTB, title: "Fever and a limp", url: "https://dontforgetthebubbles.com/fever-limp/"}\n', ""
    )
    root = write_knowledge(tmp_path / "knowledge", files={"red_flags.yml": broken})
    with pytest.raises(KnowledgeError, match=r"red_flags.yml:\d+: red flag 'seizure' has no sources"):
        load_knowledge(root)


def test_project_knowledge_is_valid() -> None:
    knowledge = load_knowledge(PROJECT_ROOT / "knowledge")
    assert {"crawling_backward", "bottom_scooting", "late_walking"} <= set(knowledge.topics)
    for topic in knowledge.topics.values():
        assert topic.sources and all(s.url.startswith("http") for s in topic.sources)


def test_project_observations_are_valid_and_routed_to_real_topics() -> None:
    knowledge = load_knowledge(PROJECT_ROOT / "knowledge")
    assert knowledge.observations is not None
    observations = knowledge.observations.observations
    assert {"one_side_favoured", "leg_drags", "stands_not_at_all", "hips_checked"} <= set(observations)
    for observation in observations.values():
        assert all(slot in knowledge.questions for slot in observation.answers)
        assert all(topic in knowledge.topics for topic in observation.routes_to)


def test_observation_answering_an_unknown_question_fails(tmp_path: Path) -> None:
    observations = """\
sources:
  - {key: CDC-CP, title: "CDC early signs of cerebral palsy", url: "https://eastersealsucp.com/early-signs-of-cerebral-palsy/"}
observations:
  - id: stiff_legs
    label: "Stiff legs"
    say_back: "legs go stiff"
    answers: {walks_alone: "no"}
    referral: provider
    say: "Please ask a provider."
    sources: [CDC-CP]
    patterns: {phrases: ["stiff legs"]}
"""
    root = write_knowledge(tmp_path / "knowledge", files={"observations.yml": observations})
    with pytest.raises(
        KnowledgeError, match=r"observations.yml:7: observation 'stiff_legs' answers unknown question 'walks_alone'"
    ):
        load_knowledge(root)


def test_get_help_now_is_written_from_the_red_flags(tmp_path: Path) -> None:
    topic = FRONT.format(rules=GOOD_RULES.rstrip("\n")).replace("rules:\n", "get_help_now: [seizure]\nrules:\n", 1)
    flags = RED_FLAGS
    root = write_knowledge(tmp_path / "knowledge", topic=topic, files={"red_flags.yml": flags})
    when = load_knowledge(root).topics["demo_topic"].section("when").body
    assert when.startswith("If your child is not pulling up by 12 months.")
    assert when.endswith(
        "**Get help now** (call your local emergency number or go to the emergency department) if your child:\n"
        "- has a fit that you can't interrupt"
    )
    broken = write_knowledge(tmp_path / "broken", topic=topic.replace("[seizure]", "[sneezing]"), files={"red_flags.yml": flags})
    with pytest.raises(KnowledgeError, match="get_help_now: unknown red flag\\(s\\) sneezing"):
        load_knowledge(broken)


def test_every_topic_including_the_founding_ones_has_a_get_help_now_list() -> None:
    knowledge = load_knowledge(PROJECT_ROOT / "knowledge")
    for topic in knowledge.topics.values():
        body = topic.section("when").body
        assert "**Get help now**" in body and body.count("**Get help now**") == 1, topic.id
        assert any(knowledge.red_flags[f].signpost in body for f in topic.get_help_now), topic.id
