"""The clinical review report (reports/rules.md, `make rules-report`): complete, readable, and never stale."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from bot.knowledge.documents import Condition
from bot.knowledge.report import conditions_words, precedence_of, rules_report
from bot.knowledge.validate import Knowledge, load_knowledge
from bot.settings import PROJECT_ROOT

KNOWLEDGE = PROJECT_ROOT / "knowledge"
COMMITTED = PROJECT_ROOT / "reports" / "rules.md"


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def report(knowledge: Knowledge) -> str:
    """The report as `make rules-report` writes it (bot.knowledge.report.build_report, with the knowledge loaded once)."""
    return rules_report(knowledge, precedence_of(KNOWLEDGE / "red_flags.yml"))


def test_report_names_every_topic_rule_check_and_red_flag(knowledge: Knowledge, report: str) -> None:
    missing = [f"topic {t}" for t in knowledge.topics if f"`{t}`" not in report]
    missing += [f"rule {t.id}/{r.id}" for t in knowledge.topics.values() for r in t.rules if f"**`{r.id}`**" not in report]
    assert knowledge.safety_net is not None
    missing += [f"check {c.id}" for c in knowledge.safety_net.checks if f"**`{c.id}`**" not in report]
    missing += [f"red flag {f}" for f in knowledge.red_flags if f"**`{f}`**" not in report]
    missing += [f"question {q}" for q in knowledge.questions if f"| `{q}` |" not in report]
    assert not missing, missing


def test_every_rule_is_listed_under_its_own_topic(knowledge: Knowledge, report: str) -> None:
    for topic in knowledge.topics.values():
        start = report.index(f"### {topic.title} (`{topic.id}`)")
        end = report.find("\n### ", start + 1)
        section = report[start : end if end != -1 else len(report)]
        for rule in topic.rules:
            assert f"**`{rule.id}`** → " in section, (topic.id, rule.id)
            assert conditions_words(rule.conditions, knowledge.questions) in section, (topic.id, rule.id)


def test_conditions_read_in_plain_words(knowledge: Knowledge) -> None:
    conditions = (Condition("corrected_age_months", "gte", 12), Condition("pulls_to_stand", "eq", "no"))
    assert conditions_words(conditions, knowledge.questions) == "corrected age ≥ 12 months and pulls to stand = no"
    between = (Condition("corrected_age_months", "gte", 12), Condition("corrected_age_months", "lt", 18))
    assert conditions_words(between, knowledge.questions) == "corrected age ≥ 12 months and < 18 months"
    assert (
        conditions_words((Condition("hips_checked", "in", ["no", "unsure"]),), knowledge.questions)
        == "hips checked = no or not sure"
    )
    assert (
        conditions_words((Condition("weeks_early", "known", False),), knowledge.questions)
        == "weeks born early is not known (not answered)"
    )
    assert conditions_words((), knowledge.questions) == "always (no conditions)"


def test_a_rule_with_conditions_shows_them_in_plain_words(knowledge: Knowledge, report: str) -> None:
    rule = next(r for t in knowledge.topics.values() for r in t.rules if len(r.conditions) >= 2)
    assert f"  - When: {conditions_words(rule.conditions, knowledge.questions)}\n" in report
    assert "_months" not in conditions_words(rule.conditions, knowledge.questions)


def test_rule_sources_are_linked_and_uncited_rules_point_to_the_topic_sources(knowledge: Knowledge, report: str) -> None:
    cited = [(t, r) for t in knowledge.topics.values() for r in t.rules if r.sources]
    assert cited, "no rule cites its sources: the report would show no rule source link"
    topic, rule = cited[0]
    source = next(s for s in topic.sources if s.key == rule.sources[0])
    assert f"`{source.key}` [{source.title}]({source.url})" in report
    uncited = [(t, r) for t in knowledge.topics.values() for r in t.rules if not r.sources]
    if uncited:
        topic = uncited[0][0]
        assert "Sources: topic sources (" + ", ".join(f"`{s.key}`" for s in topic.sources) + ")" in report


def test_thresholds_observations_and_red_flag_messages_are_shown(knowledge: Knowledge, report: str) -> None:
    assert knowledge.milestones is not None and knowledge.observations is not None
    for milestone in knowledge.milestones.milestones:
        assert f"(`{milestone.id}`) | " in report
        if milestone.check_by is None:
            assert f"(`{milestone.id}`) | no fixed age |" in report
    for observation in knowledge.observations.observations.values():
        if observation.referral:
            assert f"**`{observation.id}`**" in report
            assert " ".join((observation.say or "").split()) in report
    precedence = precedence_of(KNOWLEDGE / "red_flags.yml")
    assert set(precedence) == set(knowledge.red_flags)
    for flag in knowledge.red_flags.values():
        assert " ".join(flag.message.split()) in report
        line = next(line for line in report.splitlines() if line.startswith(f"- **`{flag.id}`**"))
        order = precedence[flag.id]
        assert (f"priority {order.priority}" if order.priority is not None else "no priority") in line
        assert all(f"`{other}`" in line for other in order.overrides)


def test_report_is_deterministic(knowledge: Knowledge, report: str) -> None:
    assert rules_report(knowledge, precedence_of(KNOWLEDGE / "red_flags.yml")) == report
    assert report.endswith("\n") and not report.endswith("\n\n")
    assert "make rules-report" in report.splitlines()[2]


def test_committed_report_is_up_to_date(report: str) -> None:
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed != report:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(True), report.splitlines(True), "reports/rules.md (committed)", "regenerated"
                )
            )[:60]
        )
        pytest.fail(
            "reports/rules.md is out of date with knowledge/: run `make rules-report` and commit reports/rules.md.\n" + diff
        )


def test_main_writes_the_report(tmp_path: Path, knowledge: Knowledge, report: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.knowledge import report as module
    from bot.settings import get_settings

    monkeypatch.setenv("KNOWLEDGE_DIR", str(KNOWLEDGE))
    monkeypatch.setattr(module, "load_knowledge", lambda root: knowledge if root == KNOWLEDGE else load_knowledge(root))
    get_settings.cache_clear()
    try:
        out = tmp_path / "nested" / "rules.md"
        assert module.main(["--out", str(out)]) == 0
    finally:
        get_settings.cache_clear()
    assert out.read_text(encoding="utf-8") == report
