"""The safety net: no topic or milestone answer says "nothing to check" while a known fact crosses a threshold,
"not sure" is never "all fine", the one question a child's age calls for is asked, and the build's new checks."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.knowledge.consistency import REASSURANCE
from bot.knowledge.documents import KnowledgeError
from bot.knowledge.safety_net import Check, SafetyNet
from bot.knowledge.store import KnowledgeBase
from bot.knowledge.validate import load_knowledge
from bot.nlu.observations import default_catalogue
from bot.triage import dialogue
from bot.triage.dialogue import TriageState
from bot.triage.milestones import subject_for
from bot.triage.respond import advise
from bot.triage.safety_net import guard, hits
from tests.test_knowledge_build import FRONT, GOOD_RULES, write_knowledge

LEVEL = {"none": 0, "provider": 1, "urgent": 2}
# The all-clear of a milestone answer, and the verdict that opens a topic's short answer when nothing needs a check.
ALL_CLEAR = re.compile(r"nothing points to needing a check right now|this looks on track")


def _net(kb: KnowledgeBase) -> SafetyNet:
    net = kb.safety_net
    assert net is not None and net.checks
    return net


def _ages(check: Check) -> List[float]:
    """Ages at and past the threshold, up to 3 years (any-age checks: a baby, a toddler)."""
    if check.months == 0:
        return [3.0, 14.0, 30.0]
    return sorted({check.months, check.months + 0.5, min(check.months + 6, 36.0)})


def _topic_answers(kb: KnowledgeBase, topic_id: str, rng: random.Random, n: int) -> List[Dict[str, Any]]:
    """Sampled combinations of a topic's own yes/no/unsure answers (every value of each, in some combination)."""
    slots = [s for s in kb.topics[topic_id].questions if kb.questions[s].type == "yes_no_unsure"]
    combos = list(itertools.product(("yes", "no", "unsure", None), repeat=len(slots)))
    picked = rng.sample(combos, min(n, len(combos)))
    return [{slot: value for slot, value in zip(slots, combo, strict=False) if value is not None} for combo in picked]


def _crossing(check: Check, value: str) -> Dict[str, Any]:
    facts: Dict[str, Any] = {check.slot: value}
    facts.update({c.slot: c.value for c in check.when})
    return facts


def _subjects(kb: KnowledgeBase) -> List[str]:
    milestones = [f"milestone:{m.id}" for m in kb.milestones.milestones] if kb.milestones else []
    return [*kb.topics, *milestones, "milestone:overview"]


def _advise(kb: KnowledgeBase, subject: str, answers: Dict[str, Any], **kwargs: Any):
    return advise(
        subject, kb.topics, kb.questions, kb.milestones, default_catalogue(), answers, safety_net=kb.safety_net, **kwargs
    )


def _for_your_child(outcome) -> str:
    """What the answer says about this child: a milestone answer's "For your child" message, else the topic's short
    answer (its first message, with the verdict)."""
    return next((m.text for m in outcome.messages if m.text.startswith("**For your child**")), outcome.messages[0].text)


@pytest.mark.parametrize("value", ["crosses", "unsure"])
def test_every_topic_refers_when_a_known_fact_crosses_a_threshold(kb: KnowledgeBase, value: str) -> None:
    """Generated over the rule space: every topic and milestone answer, every check, ages at and past its threshold,
    born on time or early (corrected age), with sampled combinations of the topic's own answers."""
    net = _net(kb)
    rng = random.Random(12)
    failures: List[str] = []
    checked = 0
    for subject in _subjects(kb):
        topic_id = subject if subject in kb.topics else None
        own = _topic_answers(kb, topic_id, rng, 12) if topic_id else [{}]
        for check in net.checks:
            fact = _crossing(check, check.crosses if value == "crosses" else "unsure")
            need = check.referral if value == "crosses" else "provider"
            # born 10 weeks early: 2.2998 months (10 / 4.3482) older, so the corrected age is the threshold age
            for months, (weeks_early, extra) in itertools.product(_ages(check), [(0, 0.0), (10, 2.2998)]):
                for answers in own:
                    given = {**answers, **fact, "age_months": months + extra, "weeks_early": weeks_early}
                    outcome = _advise(kb, subject, given)
                    checked += 1
                    said = _for_your_child(outcome)
                    problems = []
                    if outcome.referral is None or LEVEL[outcome.referral] < LEVEL[need]:
                        problems.append(f"referral {outcome.referral}")
                    if ALL_CLEAR.search(said):
                        problems.append("says nothing to check")
                    if not any(
                        r.startswith(f"safety:{c.id}") for c in net.checks if c.slot == check.slot for r in outcome.rule_ids
                    ):
                        problems.append("check not recorded")
                    found = REASSURANCE.search(said)
                    if found:
                        problems.append(f"reassures: {found.group(0)!r}")
                    if problems:
                        failures.append(f"{subject} {check.id} {given}: {', '.join(problems)}")
    assert checked > 2000
    assert not failures, f"{len(failures)} of {checked}, e.g.:\n" + "\n".join(failures[:10])


def test_an_urgent_referral_is_never_lowered(kb: KnowledgeBase) -> None:
    for subject in _subjects(kb):
        outcome = _advise(kb, subject, {"age_months": 10.0, "weeks_early": 0}, previous_referral="urgent")
        if subject == "milestone:overview":  # no child assessed: the referral slot is left as it is (urgent)
            assert outcome.referral is None
        else:
            assert outcome.referral == "urgent", subject
        outcome = _advise(
            kb, subject, {"age_months": 10.0, "weeks_early": 0, "uses_both_sides": "no"}, previous_referral="urgent"
        )
        assert outcome.referral == "urgent", subject


def test_below_the_threshold_nothing_fires_and_born_early_counts(kb: KnowledgeBase) -> None:
    answers = {"age_months": 17.0, "weeks_early": 0, "walks_alone": "no"}
    assert not hits(_net(kb), answers)
    assert [h.check.id for h in hits(_net(kb), {**answers, "age_months": 18.0})] == ["not_walking_by_18_months"]
    # 20 months old, born 12 weeks early: corrected age about 17.2 months, not yet late
    assert not hits(_net(kb), {"age_months": 20.0, "weeks_early": 12, "walks_alone": "no"})


def test_the_issue_example_a_22_month_old_shuffler_who_does_not_walk(kb: KnowledgeBase) -> None:
    told = {
        "age_months": 22.0,
        "weeks_early": 0,
        "uses_both_sides": "yes",
        "bears_weight": "yes",
        "pulls_to_stand": "yes",
        "hips_checked": "yes",
    }
    subject = guard(kb.topics["bottom_scooting"], kb.topics, kb.safety_net)
    assert dialogue.next_question(subject, {**told, "breech": "no", "hip_family_history": "no"}, TriageState()) == "walks_alone"
    outcome = _advise(kb, "bottom_scooting", {**told, "walks_alone": "no"})
    assert outcome.referral == "provider"
    said = _for_your_child(outcome)
    assert "18 months" in said and not ALL_CLEAR.search(said)
    assert "following the usual pattern" not in said  # the topic's reassurance is not shown beside a referral


ASKED = [
    ("standing_alone", {"age_months": 20.0, "pulls_to_stand": "yes", "stands_alone_seconds": 30}, "walks_alone"),
    ("late_walking", {"age_months": 20.0, "walks_alone": "yes"}, None),
    ("toe_walking", {"age_months": 20.0}, None),  # a toe walker walks
    ("tummy_time", {"age_months": 10.0, "lifts_head": "yes", "rolls_over": "yes"}, "sits_alone"),
    ("crawling_backward", {"age_months": 13.0, "alternating_crawl": "yes", "uses_both_sides": "yes"}, "pulls_to_stand"),
    ("crawling_backward", {"age_months": 13.0, "alternating_crawl": "yes", "uses_both_sides": "no"}, None),  # already referred
    ("preterm_age", {"age_months": 19.0, "weeks_early": 10, "uses_both_sides": "yes", "sits_alone": "yes"}, "pulls_to_stand"),
    ("tummy_time", {"age_months": 3.0, "lifts_head": "yes", "rolls_over": "no"}, None),  # too young for any check
    ("hip_health", {"breech": "yes", "hip_signs": "no", "hips_checked": "yes"}, "hips_imaged"),
    ("hip_health", {"breech": "no", "hip_family_history": "no", "hip_signs": "no"}, None),
    ("milestone:walks", {"age_months": 19.0, "weeks_early": 0}, "walks_alone"),
]


@pytest.mark.parametrize("subject_id, answers, expected", ASKED)
def test_the_one_question_this_childs_age_calls_for(
    kb: KnowledgeBase, subject_id: str, answers: Dict[str, Any], expected: str
) -> None:
    subject = guard(
        kb.topics.get(subject_id) or subject_for(kb.milestones.get(subject_id.split(":", 1)[1])), kb.topics, kb.safety_net
    )
    own = {slot: "no" if slot in ("breech", "hip_family_history", "hip_signs") else "yes" for slot in subject.questions}
    own.update({"age_months": answers.get("age_months"), "weeks_early": answers.get("weeks_early", 0)})
    own.update(answers)
    if subject_id == "hip_health":
        own = {**{s: "no" for s in subject.questions}, **answers}
    assert subject.more_question(own, ()) == expected


def test_a_skipped_safety_question_is_not_asked_again(kb: KnowledgeBase) -> None:
    subject = guard(kb.topics["late_walking"], kb.topics, kb.safety_net)
    answers = {"age_months": 20.0, "weeks_early": 0, **{s: "yes" for s in ("pulls_to_stand", "uses_both_sides", "hips_checked")}}
    answers.update({"stands_alone_seconds": 5, "breech": "no", "hip_family_history": "no"})
    assert dialogue.next_question(subject, answers, TriageState(skipped=("walks_alone",))) is None


def test_not_sure_about_a_warning_sign_gets_a_narrower_question_once(kb: KnowledgeBase) -> None:
    topic = kb.topics["crawling_backward"]
    answers = {"age_months": 8.0, "weeks_early": 0, "alternating_crawl": "yes"}
    first = dialogue.handle_reply(
        topic, kb.questions, "uses_both_sides", "inform", "not sure", answers, TriageState(topic=topic.id)
    )
    assert first.next_slot == "uses_both_sides" and "uses_both_sides" not in first.answers
    assert "another way" in first.messages[-1].text and first.messages[-1].buttons
    second = dialogue.handle_reply(topic, kb.questions, "uses_both_sides", "inform", "still not sure", answers, first.state)
    assert second.answers.get("uses_both_sides") == "unsure"
    outcome = _advise(kb, "crawling_backward", {**answers, "uses_both_sides": "unsure"})
    assert outcome.referral == "provider" and not ALL_CLEAR.search(_for_your_child(outcome))


def test_a_milestone_answer_does_not_say_within_the_usual_range_beside_a_referral(kb: KnowledgeBase) -> None:
    outcome = _advise(kb, "milestone:sits", {"age_months": 7.0, "weeks_early": 0, "uses_both_sides": "no"})
    said = _for_your_child(outcome)
    assert outcome.referral == "provider"
    assert "usual range" not in said and "only worth a check" not in said


# ------------------------------------------------------------------ the build's checks, each with a failing example

NET = """\
sources:
  - {key: CDC-12m, title: "CDC 12-month milestones", url: "https://helpmegrowvc.org/12-month-milestones/"}
checks:
  - id: not_pulling_up
    slot: pulls_to_stand
    crosses: "no"
    from_months: 12
    referral: provider
    say: "Please see a provider."
    unsure: "Worth checking with a provider."
    sources: [CDC-12m]
"""


def _topic(rules: str) -> str:
    return FRONT.format(rules=rules.rstrip("\n"))


def test_a_topic_answer_value_that_leads_to_no_rule_fails_the_build(tmp_path: Path) -> None:
    rules = GOOD_RULES.split("  - id: pulls_up")[0]  # nothing for pulls_to_stand yes / unsure
    root = write_knowledge(tmp_path / "knowledge", topic=_topic(rules))
    with pytest.raises(KnowledgeError, match="the answer 'yes' to 'pulls_to_stand' leads to no rule"):
        load_knowledge(root)


def test_a_safety_net_check_covers_the_values_it_reads(tmp_path: Path) -> None:
    rules = (
        GOOD_RULES.split("  - id: pulls_up")[0]
        + '  - id: up\n    when: {pulls_to_stand: "yes"}\n    referral: none\n    say: "Good."\n'
    )
    root = write_knowledge(tmp_path / "knowledge", topic=_topic(rules), files={"safety_net.yml": NET})
    assert load_knowledge(root).safety_net.checks[0].months == 12.0  # "unsure" is covered by the check


def test_reassurance_shown_beside_a_stricter_referral_fails_the_build(tmp_path: Path) -> None:
    rules = (
        GOOD_RULES
        + '  - id: calm\n    when: {pulls_to_stand: "no"}\n    referral: none\n    always_shown: true\n    say: "This is completely normal."\n'
    )
    root = write_knowledge(tmp_path / "knowledge", topic=_topic(rules))
    with pytest.raises(KnowledgeError, match="rule 'calm' can be shown beside a stricter referral but reassures"):
        load_knowledge(root)


def test_a_rule_that_reassures_past_the_milestone_threshold_fails_the_build(tmp_path: Path) -> None:
    rules = (
        GOOD_RULES
        + '  - id: wait\n    when: {corrected_age_months: {lt: 18}, pulls_to_stand: "no"}\n    referral: none\n    say: "Wait."\n'
    )
    root = write_knowledge(tmp_path / "knowledge", topic=_topic(rules), files={"safety_net.yml": NET})
    with pytest.raises(KnowledgeError, match="rule 'wait' \\(none\\) reassures past the threshold for 'pulls_to_stand: no'"):
        load_knowledge(root)


def test_a_rule_that_refers_later_than_the_milestone_threshold_fails_the_build(tmp_path: Path) -> None:
    rules = GOOD_RULES.replace("{gte: 12}, pulls_to_stand", "{gte: 18}, pulls_to_stand")
    root = write_knowledge(tmp_path / "knowledge", topic=_topic(rules), files={"safety_net.yml": NET})
    with pytest.raises(KnowledgeError, match="rule 'late' \\(provider\\) starts later than the threshold"):
        load_knowledge(root)


@pytest.mark.parametrize(
    "broken, message",
    [
        (NET.replace("slot: pulls_to_stand", "slot: shoe_size"), "'slot' must be a yes/no/unsure question"),
        (NET.replace('crosses: "no"', "crosses: no"), '\'crosses\' is "yes" or "no" (quoted)'),
        (NET.replace("from_months: 12", "milestone: walks"), "unknown milestone 'walks'"),
        (NET.replace("    from_months: 12\n", ""), "needs exactly one of 'milestone'"),
        (NET.replace("    sources: [CDC-12m]\n", "    sources: [NOPE]\n"), "unknown source key(s) NOPE"),
        (NET.replace('    unsure: "Worth checking with a provider."\n', ""), "needs 'unsure'"),
    ],
)
def test_an_invalid_safety_net_fails_naming_the_line(tmp_path: Path, broken: str, message: str) -> None:
    root = write_knowledge(tmp_path / "knowledge", files={"safety_net.yml": broken})
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(root)
    assert message in error.value.message and error.value.path.name == "safety_net.yml" and error.value.line > 0


# What used to be a topic's own "not sure" rule at level none is now the safety net's "worth checking" (provider).
UNSURE = [
    (
        "crawling_backward",
        dict(age_months=12.5, weeks_early=0, alternating_crawl="unsure", uses_both_sides="yes"),
        "crawl_not_alternating_by_12_months",
    ),
    (
        "army_crawling",
        dict(age_months=12.5, weeks_early=0, uses_both_sides="yes", alternating_crawl="unsure"),
        "crawl_not_alternating_by_12_months",
    ),
    (
        "toe_walking",
        dict(age_months=20, weeks_early=0, toe_walking_one_side="unsure", hip_signs="no", uses_both_sides="yes"),
        "toe_walking_one_foot",
    ),
    (
        "hip_health",
        dict(hip_signs="unsure", breech="no", hip_family_history="no", hips_checked="yes", w_sitting="no"),
        "hip_signs_seen",
    ),
    ("tummy_time", dict(age_months=5, weeks_early=0, lifts_head="unsure", rolls_over="yes"), "no_head_lift_by_4_months"),
    ("preterm_age", dict(age_months=12, weeks_early=8, uses_both_sides="yes", sits_alone="unsure"), "not_sitting_by_9_months"),
]


@pytest.mark.parametrize("topic_id, given, check_id", UNSURE)
def test_not_sure_past_a_threshold_is_worth_checking(
    kb: KnowledgeBase, topic_id: str, given: Dict[str, Any], check_id: str
) -> None:
    outcome = _advise(kb, topic_id, given)
    assert outcome.referral == "provider" and f"safety:{check_id}:unsure" in outcome.rule_ids
    assert not ALL_CLEAR.search(_for_your_child(outcome))


def test_what_the_topic_tells_still_counts_when_the_slot_is_empty(kb: KnowledgeBase) -> None:
    # a toe walker walks: with walks_alone unknown (None), the earlier milestones are not asked either
    subject = guard(kb.topics["toe_walking"], kb.topics, kb.safety_net)
    answers = {
        "age_months": 19.0,
        "weeks_early": 0,
        "toe_walking_one_side": "no",
        "hip_signs": "no",
        "uses_both_sides": "yes",
        "walks_alone": None,
    }
    assert subject.more_question(answers, ()) is None


def test_a_described_sign_that_calls_for_a_provider_stops_the_extra_question(kb: KnowledgeBase) -> None:
    answers = {"age_months": 10.0, "weeks_early": 0, "uses_both_sides": "yes", "alternating_crawl": "yes"}
    assert guard(kb.topics["army_crawling"], kb.topics, kb.safety_net).more_question(answers, ()) == "sits_alone"
    assert (
        guard(kb.topics["army_crawling"], kb.topics, kb.safety_net, signs_referral="provider").more_question(answers, ()) is None
    )
