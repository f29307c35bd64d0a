"""Evaluate a topic's rules over the caregiver's answers (safe structured conditions, never eval)."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Tuple

from bot.contract import REFERRAL_LEVELS
from bot.knowledge.documents import Condition, Rule, Topic
from bot.triage.age import AgeUsed, age_for_rules

_COMPARE: Dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "in": lambda value, options: value in options,
}


@dataclass(frozen=True)
class Decision:
    """The referral level and the rules that produced it."""

    referral: str
    rules: Tuple[Rule, ...]
    age: AgeUsed


def facts_from_answers(answers: Mapping[str, Any]) -> Tuple[Dict[str, Any], AgeUsed]:
    """Answers plus derived facts (corrected_age_months)."""
    age = age_for_rules(answers.get("age_months"), answers.get("weeks_early"))
    facts = dict(answers)
    facts["corrected_age_months"] = age.months
    return facts, age


def condition_holds(condition: Condition, facts: Mapping[str, Any]) -> bool:
    """True when the fact satisfies the condition; unknown facts satisfy only `known: false`."""
    value = facts.get(condition.slot)
    if condition.op == "known":
        return (value is not None) == bool(condition.value)
    if value is None:
        return False
    try:
        return bool(_COMPARE[condition.op](value, condition.value))
    except TypeError:  # e.g. a number compared with text: the rule does not apply
        return False


def higher(level_a: str, level_b: str) -> str:
    """The more serious of two referral levels."""
    return max(level_a, level_b, key=REFERRAL_LEVELS.index)


def decide(topic: Topic, answers: Mapping[str, Any]) -> Decision:
    """All rules whose conditions hold apply; the referral is the most serious among them."""
    facts, age = facts_from_answers(answers)
    matched = tuple(rule for rule in topic.rules if all(condition_holds(c, facts) for c in rule.conditions))
    referral = "none"
    for rule in matched:
        referral = higher(referral, rule.referral)
    return Decision(referral=referral, rules=matched, age=age)
