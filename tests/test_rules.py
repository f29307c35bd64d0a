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
    (
        "crawling_backward",
        dict(age_months=8, weeks_early=0, alternating_crawl="no", uses_both_sides="yes"),
        "none",
        "typical_under_12_months",
    ),
    (
        "crawling_backward",
        dict(age_months=13, weeks_early=0, alternating_crawl="no", uses_both_sides="yes"),
        "provider",
        "no_alternating_crawl_by_12_months",
    ),
    (
        "crawling_backward",
        dict(age_months=13, weeks_early=8, alternating_crawl="no", uses_both_sides="yes"),
        "none",
        "typical_under_12_months",
    ),
    (
        "crawling_backward",
        dict(age_months=14, weeks_early=2, alternating_crawl="no", uses_both_sides="yes"),
        "provider",
        "no_alternating_crawl_by_12_months",
    ),
    (
        "crawling_backward",
        dict(age_months=9, weeks_early=0, alternating_crawl="yes", uses_both_sides="no"),
        "provider",
        "one_sided_movement",
    ),
    (
        "crawling_backward",
        dict(age_months=None, weeks_early=None, alternating_crawl="yes", uses_both_sides="yes"),
        "none",
        "alternating_crawl_reassuring",
    ),
    # bottom scooting
    (
        "bottom_scooting",
        dict(age_months=10, weeks_early=0, uses_both_sides="yes", bears_weight="no", pulls_to_stand="no", hips_checked="yes"),
        "none",
        "typical_under_12_months",
    ),
    (
        "bottom_scooting",
        dict(age_months=13, weeks_early=0, uses_both_sides="yes", bears_weight="no", pulls_to_stand="no", hips_checked="yes"),
        "provider",
        "no_weight_on_legs_by_12_months",
    ),
    (
        "bottom_scooting",
        dict(age_months=14, weeks_early=10, uses_both_sides="yes", bears_weight="no", pulls_to_stand="no", hips_checked="yes"),
        "none",
        "typical_under_12_months",
    ),
    (
        "bottom_scooting",
        dict(age_months=19, weeks_early=0, uses_both_sides="yes", bears_weight="yes", pulls_to_stand="no", hips_checked="yes"),
        "provider",
        "not_pulling_to_stand_by_12_months",
    ),
    (
        "bottom_scooting",
        dict(age_months=11, weeks_early=0, uses_both_sides="no", bears_weight="yes", pulls_to_stand="yes", hips_checked="yes"),
        "provider",
        "one_sided_movement",
    ),
    (
        "bottom_scooting",
        dict(age_months=15, weeks_early=0, uses_both_sides="yes", bears_weight="yes", pulls_to_stand="yes", hips_checked="no"),
        "none",
        "hip_check_suggested",
    ),
    (
        "bottom_scooting",
        dict(age_months=15, weeks_early=0, uses_both_sides="yes", bears_weight="yes", pulls_to_stand="yes", hips_checked="yes"),
        "none",
        "symmetric_shuffler_on_track",
    ),
    # late walking
    (
        "late_walking",
        dict(
            age_months=11, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=0, uses_both_sides="yes", hips_checked="yes"
        ),
        "none",
        "typical_under_12_months",
    ),
    (
        "late_walking",
        dict(
            age_months=19, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=20, uses_both_sides="yes", hips_checked="yes"
        ),
        "provider",
        "not_walking_by_18_months",
    ),
    (
        "late_walking",
        dict(
            age_months=19, weeks_early=8, pulls_to_stand="yes", stands_alone_seconds=20, uses_both_sides="yes", hips_checked="yes"
        ),
        "none",
        "building_standing_time",
    ),
    (
        "late_walking",
        dict(
            age_months=14, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=0, uses_both_sides="yes", hips_checked="yes"
        ),
        "provider",
        "never_stands_alone_after_pulling_up",
    ),
    (
        "late_walking",
        dict(
            age_months=13,
            weeks_early=0,
            pulls_to_stand="no",
            stands_alone_seconds=None,
            uses_both_sides="yes",
            hips_checked="yes",
        ),
        "provider",
        "not_pulling_to_stand_by_12_months",
    ),
    (
        "late_walking",
        dict(
            age_months=15, weeks_early=0, pulls_to_stand="yes", stands_alone_seconds=10, uses_both_sides="no", hips_checked="yes"
        ),
        "provider",
        "one_sided_movement",
    ),
    (
        "late_walking",
        dict(
            age_months=15,
            weeks_early=0,
            pulls_to_stand="yes",
            stands_alone_seconds=10,
            uses_both_sides="yes",
            hips_checked="unsure",
        ),
        "none",
        "hip_check_suggested",
    ),
    # army crawling
    (
        "army_crawling",
        dict(age_months=8, weeks_early=0, uses_both_sides="yes", alternating_crawl="no"),
        "none",
        "typical_under_10_months",
    ),
    (
        "army_crawling",
        dict(age_months=13, weeks_early=0, uses_both_sides="yes", alternating_crawl="no"),
        "provider",
        "no_alternating_crawl_by_12_months",
    ),
    (
        "army_crawling",
        dict(age_months=13, weeks_early=8, uses_both_sides="yes", alternating_crawl="no"),
        "none",
        "belly_crawling_10_to_12_months",
    ),
    (
        "army_crawling",
        dict(age_months=9, weeks_early=0, uses_both_sides="no", alternating_crawl="yes"),
        "provider",
        "one_sided_movement",
    ),
    (
        "army_crawling",
        dict(age_months=None, weeks_early=None, uses_both_sides="yes", alternating_crawl="yes"),
        "none",
        "alternating_crawl_reassuring",
    ),
    # not crawling
    (
        "not_crawling",
        dict(age_months=7, weeks_early=0, sits_alone="yes", gets_around="no", uses_both_sides="yes", pulls_to_stand="no"),
        "none",
        "typical_under_9_months",
    ),
    (
        "not_crawling",
        dict(age_months=10, weeks_early=0, sits_alone="yes", gets_around="no", uses_both_sides="yes", pulls_to_stand="no"),
        "provider",
        "sits_but_goes_nowhere_from_9_months",
    ),
    (
        "not_crawling",
        dict(age_months=10, weeks_early=8, sits_alone="yes", gets_around="no", uses_both_sides="yes", pulls_to_stand="no"),
        "none",
        "typical_under_9_months",
    ),
    (
        "not_crawling",
        dict(age_months=13, weeks_early=0, sits_alone="yes", gets_around="no", uses_both_sides="yes", pulls_to_stand="yes"),
        "provider",
        "no_way_of_moving_by_12_months",
    ),
    (
        "not_crawling",
        dict(age_months=11, weeks_early=0, sits_alone="yes", gets_around="yes", uses_both_sides="yes", pulls_to_stand="yes"),
        "none",
        "skipped_to_standing",
    ),
    (
        "not_crawling",
        dict(age_months=10, weeks_early=0, sits_alone="no", gets_around=None, uses_both_sides=None, pulls_to_stand=None),
        "provider",
        "not_sitting_by_9_months",
    ),
    # standing alone
    (
        "standing_alone",
        dict(
            age_months=10,
            weeks_early=0,
            pulls_to_stand="yes",
            stands_alone_seconds=0,
            standing_time_growing="no",
            uses_both_sides="yes",
        ),
        "none",
        "typical_under_12_months",
    ),
    (
        "standing_alone",
        dict(
            age_months=13,
            weeks_early=0,
            pulls_to_stand="yes",
            stands_alone_seconds=0,
            standing_time_growing="no",
            uses_both_sides="yes",
        ),
        "provider",
        "never_stands_alone_after_pulling_up",
    ),
    (
        "standing_alone",
        dict(
            age_months=13,
            weeks_early=8,
            pulls_to_stand="yes",
            stands_alone_seconds=0,
            standing_time_growing="no",
            uses_both_sides="yes",
        ),
        "none",
        "typical_under_12_months",
    ),
    (
        "standing_alone",
        dict(
            age_months=18,
            weeks_early=0,
            pulls_to_stand="yes",
            stands_alone_seconds=3,
            standing_time_growing="no",
            uses_both_sides="yes",
        ),
        "provider",
        "not_standing_alone_by_17_months",
    ),
    (
        "standing_alone",
        dict(
            age_months=18,
            weeks_early=8,
            pulls_to_stand="yes",
            stands_alone_seconds=3,
            standing_time_growing="no",
            uses_both_sides="yes",
        ),
        "none",
        "standing_time_stuck",
    ),
    (
        "standing_alone",
        dict(
            age_months=14,
            weeks_early=0,
            pulls_to_stand="yes",
            stands_alone_seconds=15,
            standing_time_growing="yes",
            uses_both_sides="yes",
        ),
        "none",
        "meets_who_definition",
    ),
    # tummy time
    (
        "tummy_time",
        dict(age_months=5, weeks_early=0, lifts_head="no", rolls_over="unsure"),
        "provider",
        "no_head_lift_by_4_months",
    ),
    ("tummy_time", dict(age_months=5, weeks_early=8, lifts_head="no", rolls_over="unsure"), "none", "head_lift_still_coming"),
    ("tummy_time", dict(age_months=7, weeks_early=0, lifts_head="yes", rolls_over="no"), "provider", "not_rolling_by_6_months"),
    ("tummy_time", dict(age_months=7, weeks_early=6, lifts_head="yes", rolls_over="no"), "none", "rolling_still_coming"),
    ("tummy_time", dict(age_months=2, weeks_early=0, lifts_head="yes", rolls_over="no"), "none", "early_months_dose"),
    ("tummy_time", dict(age_months=None, weeks_early=None, lifts_head="yes", rolls_over="yes"), "none", "on_track"),
    # hip health
    (
        "hip_health",
        dict(hip_signs="yes", breech="no", hip_family_history="no", hips_checked="yes", w_sitting="no"),
        "provider",
        "hip_signs_seen",
    ),
    (
        "hip_health",
        dict(hip_signs="no", breech="yes", hip_family_history="no", hips_checked="unsure", w_sitting=None),
        "provider",
        "breech_hips_not_checked",
    ),
    (
        "hip_health",
        dict(hip_signs="no", breech="no", hip_family_history="yes", hips_checked="no", w_sitting=None),
        "provider",
        "family_history_hips_not_checked",
    ),
    (
        "hip_health",
        dict(hip_signs="no", breech="yes", hip_family_history="no", hips_checked="yes", w_sitting="no"),
        "none",
        "breech_hips_checked",
    ),
    (
        "hip_health",
        dict(hip_signs="no", breech="no", hip_family_history="no", hips_checked="yes", w_sitting="yes"),
        "none",
        "w_sitting",
    ),
    (
        "hip_health",
        dict(hip_signs="no", breech="no", hip_family_history="no", hips_checked="no", w_sitting="no"),
        "none",
        "no_signs_no_risk_factors",
    ),
    # corrected age
    (
        "preterm_age",
        dict(age_months=10, weeks_early=0, uses_both_sides="yes", sits_alone="no"),
        "provider",
        "not_sitting_by_9_months",
    ),
    ("preterm_age", dict(age_months=10, weeks_early=8, uses_both_sides="yes", sits_alone="no"), "none", "sitting_still_coming"),
    (
        "preterm_age",
        dict(age_months=11, weeks_early=2, uses_both_sides="yes", sits_alone="no"),
        "provider",
        "no_correction_needed",
    ),
    ("preterm_age", dict(age_months=8, weeks_early=8, uses_both_sides="no", sits_alone="yes"), "provider", "one_sided_movement"),
    ("preterm_age", dict(age_months=9, weeks_early=6, uses_both_sides="yes", sits_alone="yes"), "none", "correction_applies"),
    ("preterm_age", dict(age_months=26, weeks_early=None, uses_both_sides="yes", sits_alone="yes"), "none", "correction_stopped"),
    # toe walking
    (
        "toe_walking",
        dict(age_months=15, weeks_early=0, toe_walking_one_side="no", hip_signs="no", uses_both_sides="yes"),
        "none",
        "typical_under_2_years",
    ),
    (
        "toe_walking",
        dict(age_months=26, weeks_early=0, toe_walking_one_side="no", hip_signs="no", uses_both_sides="yes"),
        "provider",
        "toe_walking_from_2_years",
    ),
    (
        "toe_walking",
        dict(age_months=26, weeks_early=8, toe_walking_one_side="no", hip_signs="no", uses_both_sides="yes"),
        "provider",
        "toe_walking_from_2_years",
    ),
    (
        "toe_walking",
        dict(age_months=16, weeks_early=0, toe_walking_one_side="yes", hip_signs="no", uses_both_sides="yes"),
        "provider",
        "one_sided_toe_walking",
    ),
    (
        "toe_walking",
        dict(age_months=18, weeks_early=0, toe_walking_one_side="no", hip_signs="yes", uses_both_sides="yes"),
        "provider",
        "hip_signs_seen",
    ),
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
    assert reached == {t: {"none", "provider"} for t in knowledge().topics}  # every topic has a table here


def test_unknown_answers_match_no_rule_but_known_false() -> None:
    assert not condition_holds(Condition("age_months", "gte", 12), {"age_months": None})
    assert condition_holds(Condition("age_months", "known", False), {"age_months": None})
    assert not condition_holds(Condition("age_months", "gte", 12), {"age_months": "twelve"})


@pytest.mark.parametrize(
    "age, weeks, expected, corrected",
    [
        (10, 6, 8.6, True),  # 6 weeks early: 10 - 6 / 4.3482 (a month is 365.25 / 12 days), to a tenth
        (10, 5, 8.9, True),  # 10 - 5 / 4.3482 = 8.8501: 4.345 or 52 / 12 weeks a month would give 8.8
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
    assert used.months == (pytest.approx(expected, abs=1e-9) if expected is not None else None)


@pytest.mark.parametrize(
    "months, text",
    [(10, "10 months"), (10.5, "10½ months"), (1, "1 month"), (0.5, "2 weeks"), (30, "2 years and 6 months"), (24, "2 years")],
)
def test_describe_months(months: float, text: str) -> None:
    assert describe_months(months) == text
