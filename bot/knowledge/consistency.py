"""Checks across a topic's rules and the safety net: every answer leads somewhere, and no reassurance is shown
beside a stricter referral."""

from __future__ import annotations

import re
from typing import Dict, Optional

from bot.knowledge.documents import Condition, KnowledgeError, Question, Topic
from bot.knowledge.safety_net import SafetyNet

ANSWER_VALUES = ("yes", "no", "unsure")

# Wording that tells a parent there is nothing to check: fine on its own, wrong beside a reason to see someone.
REASSURANCE = re.compile(
    r"\b(?:only (?:needs|worth|calls for) a check|nothing (?:to worry|points|to check)|no need to|not a concern|"
    r"on track|within the usual|usual pattern|(?:completely|perfectly|entirely) (?:normal|typical|fine)|"
    r"(?:it|this|that|which)(?: is|'s) (?:a |all |quite |very )?(?:normal|harmless|reassuring|fine)|"
    r"exactly what to (?:look for|expect))\b",
    re.IGNORECASE,
)


def _accepts(condition: Condition, value: str) -> bool:
    if condition.op == "eq":
        return bool(condition.value == value)
    if condition.op == "in":
        return value in condition.value
    if condition.op == "ne":
        return bool(condition.value != value)
    return False


def check_coverage(topic: Topic, questions: Dict[str, Question], net: Optional[SafetyNet]) -> None:
    """Every answer to every yes/no/unsure question a topic asks leads to a rule of the topic or a safety-net check,
    so "not sure" (or any answer) is never silently read as "all fine"."""
    for slot in topic.questions:
        if questions[slot].type != "yes_no_unsure":
            continue
        for value in ANSWER_VALUES:
            by_rule = any(c.slot == slot and _accepts(c, value) for rule in topic.rules for c in rule.conditions)
            by_check = net is not None and any(
                check.slot == slot and (check.crosses == value or value == "unsure") for check in net.checks
            )
            if not (by_rule or by_check):
                raise KnowledgeError(
                    topic.path,
                    topic.lines.get("rules", 1),
                    f"topic '{topic.id}': the answer '{value}' to '{slot}' leads to no rule; add a rule for it "
                    "(for a warning sign, 'unsure' needs a narrower question or a 'worth checking' rule, never silence)",
                )


def check_reassurance(topic: Topic) -> None:
    """A rule shown beside a stricter referral (always_shown, or any provider rule) must not reassure."""
    for rule in topic.rules:
        if not (rule.always_shown or rule.referral != "none"):
            continue
        found = REASSURANCE.search(rule.say)
        if found:
            raise KnowledgeError(
                topic.path,
                rule.line,
                f"rule '{rule.id}' can be shown beside a stricter referral but reassures (\"{found.group(0)}\"): "
                "reword it, or drop always_shown so it is shown only when nothing calls for a check",
            )


AGE = "corrected_age_months"


def check_thresholds(topic: Topic, net: Optional[SafetyNet]) -> None:
    """One threshold per milestone. For a rule about a milestone not reached (or a sign seen) that a safety-net
    check reads: a "none" rule must stop below the check's age (the milestone's check_by), and a stricter rule
    must not start later than it (an earlier sign with its own source is allowed)."""
    if net is None:
        return
    for rule in topic.rules:
        for check in net.checks:
            if check.months <= 0 or not any(c.slot == check.slot and _accepts(c, check.crosses) for c in rule.conditions):
                continue
            if check.when and not all(any(c == w for c in rule.conditions) for w in check.when):
                continue
            ages = [c for c in rule.conditions if c.slot == AGE]
            if any(c.op == "known" and c.value is False and c.slot in (AGE, "age_months") for c in rule.conditions):
                continue  # only while the age is unknown, when no check can apply
            if rule.referral == "none":
                upper = [float(c.value) for c in ages if c.op in ("lt", "lte")]
                wrong = (
                    not upper or min(upper) > check.months or any(c.op == "lte" and float(c.value) == check.months for c in ages)
                )
                problem = "reassures past" if wrong else ""
            else:
                lower = [float(c.value) for c in ages if c.op in ("gt", "gte")]
                wrong = bool(lower) and max(lower) > check.months
                problem = "starts later than" if wrong else ""
            if problem:
                raise KnowledgeError(
                    topic.path,
                    rule.line,
                    f"rule '{rule.id}' ({rule.referral}) {problem} the threshold for '{check.slot}: {check.crosses}': the "
                    f"safety net's check '{check.id}' applies from {check.months:g} months (one threshold per milestone: "
                    "use that age, or change the milestone's check_by in milestones.yml with its source)",
                )
