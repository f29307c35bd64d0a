"""Rule tables: for each topic, each referral level, including corrected age for babies born early."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional

import pytest

from bot.knowledge.documents import Condition
from bot.knowledge.validate import Knowledge, load_knowledge
from bot.settings import PROJECT_ROOT
from bot.triage.age import age_for_rules, describe_months
from bot.triage.rules import condition_holds, decide


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    return load_knowledge(PROJECT_ROOT / "knowledge")


def answers(**given: Any) -> Dict[str, Any]:
    base: Dict[str, Any] = {slot: None for slot in knowledge().questions}
    base.update(given)
    return base


CASES = [
    # crawling backwards
    ("crawling_backward", dict(age_months=8, weeks_early=0, alternating_crawl="no", uses_both_sides="yes"), "none", "typical_under_12_months"),
    ("crawling_backward", dict(age_months=13, weeks_early=0, alternating_crawl="no", uses_both_sides="yes"), "provider", "no_alternating_crawl_by_12_months"),
    ("crawling_backward", dict(age_months=13, weeks_early=8, alternating_crawl="no", uses_both_sides="yes"), "none", "typical_under_12_months"),
    ("crawling_backward", dict(age_months=14, weeks_early=2, alternating_crawl="no", uses_both_sides="yes"), "provider", "no_alternating_crawl_by_12_months"),
    ("crawling_backward", dict(age_months=9, weeks_early=0, alternating_crawl="yes", uses_both_sides="no"), "provider", "one_sided_movement"),
    ("crawling_backward", dict(age_months=12.5, weeks_early=0, alternating_crawl="unsure", uses_both_sides="yes"), "none", "alternating_crawl_unclear_after_12_months"),
    ("crawling_backward", dict(age_months=None, weeks_early=None, alternating_crawl="yes", uses_both_sides="yes"), "none", "alternating_crawl_reassuring"),
    # bottom scooting
    ("bottom_scooting", dict(age_months=10, weeks_early=0, uses_both_sides="yes", bears_weight="no", pulls_to_stand="no", hips_checked="yes"), "none", "typical_under_12_months"),
    ("bottom_scooting", dict(age_months=13, weeks_early=0, uses_both_sides="yes", bears_weight="no", pulls_to_stand="no", hips_checked="yes"), "provider", "no_weight_on_legs_by_12_months"),
    ("bottom_scooting", dict(age_months=14, weeks_early=10, uses_both_sides="yes", bears_weight="no", pulls_to_stand="no", hips_checked="yes"), "none", "typical_under_12_months"),
    ("bottom_scooting", dict(age_months=19, weeks_early=0, uses_both_sides="yes", bears_weight="yes", pulls_to_stand="no", hips_checked="yes"), "provider", "not_pulling_to_stand_by_18_months"),
    ("bottom_scooting", dict(age_months=11, weeks_early=0, uses_both_sides="no", bears_weight="yes", pulls_to_stand="yes", hips_checked="yes"), "provider", "one_sided_movement"),
    ("bottom_scooting", dict(age_months=15, weeks_early=0, uses_both_sides="yes", bears_weight="yes", pulls_to_stand="yes", hips_checked="no"), "none", "hip_check_suggested"),
    ("bottom_scooting", dict(age_months=15, weeks_early=0, uses_both_sides="yes", bears_weight="yes", pulls_to_stand="yes", hips_checked="yes"), "none", "symmetric_shuffler_on_track"),
    # late walking
    ("late_walking", dict(age_months=11, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=0, uses_both_sides="yes", hips_checked="yes"), "none", "typical_under_12_months"),
    ("late_walking", dict(age_months=19, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=20, uses_both_sides="yes", hips_checked="yes"), "provider", "not_walking_by_18_months"),
    ("late_walking", dict(age_months=19, weeks_early=8, pulls_to_stand="yes", stands_alone_seconds=20, uses_both_sides="yes", hips_checked="yes"), "none", "building_standing_time"),
    ("late_walking", dict(age_months=14, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=0, uses_both_sides="yes", hips_checked="yes"), "provider", "never_stands_alone_after_pulling_up"),
    ("late_walking", dict(age_months=13, weeks_early=0, pulls_to_stand="no", stands_alone_seconds=None, uses_both_sides="yes", hips_checked="yes"), "provider", "not_pulling_to_stand_by_12_months"),
    ("late_walking", dict(age_months=15, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=10, uses_both_sides="no", hips_checked="yes"), "provider", "one_sided_movement"),
    ("late_walking", dict(age_months=15, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=10, uses_both_sides="yes", hips_checked="unsure"), "none", "hip_check_suggested"),
]


@pytest.mark.parametrize("topic_id, given, referral, rule_id", CASES)
def test_referral_table(topic_id: str, given: Dict[str, Any], referral: str, rule_id: str) -> None:
    decision = decide(knowledge().topics[topic_id], answers(**given))
    assert decision.referral == referral
    assert rule_id in [rule.id for rule in decision.rules]


def test_every_topic_can_reach_every_non_urgent_level() -> None:
    reached: Dict[str, set] = {}
    for topic_id, _, referral, _ in CASES:
        reached.setdefault(topic_id, set()).add(referral)
    assert reached == {t: {"none", "provider"} for t in ("crawling_backward", "bottom_scooting", "late_walking")}


def test_unknown_answers_match_no_rule_but_known_false() -> None:
    assert not condition_holds(Condition("age_months", "gte", 12), {"age_months": None})
    assert condition_holds(Condition("age_months", "known", False), {"age_months": None})
    assert not condition_holds(Condition("age_months", "gte", 12), {"age_months": "twelve"})


@pytest.mark.parametrize(
    "age, weeks, expected, corrected",
    [
        (10, 6, 8.6, True),  # 6 weeks early: 10 - 6/4.33
        (10, 3, 10, False),  # 3 weeks is not "more than 3 weeks"
        (10, 3.5, 9.2, True),
        (30, 10, 30, False),  # no correction past about 2 years
        (1, 12, 0, True),  # never negative
        (None, 6, None, False),
        (12, None, 12, False),
    ],
)
def test_corrected_age(age: Optional[float], weeks: Optional[float], expected: Optional[float], corrected: bool) -> None:
    used = age_for_rules(age, weeks)
    assert used.corrected is corrected
    assert used.months == (pytest.approx(expected, abs=0.1) if expected is not None else None)


@pytest.mark.parametrize(
    "months, text", [(10, "10 months"), (10.5, "10½ months"), (1, "1 month"), (0.5, "2 weeks"), (30, "2 years and 6 months"), (24, "2 years")]
)
def test_describe_months(months: float, text: str) -> None:
    assert describe_months(months) == text
