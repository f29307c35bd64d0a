"""Why each referral in a conversation was given, as the transcript shows it (pure; the knowledge base is passed in).

A decision's `advice_rules` hold topic rule ids, and ids with a prefix (bot.contract): `observation:<id>` for a
sign the parent described, `safety:<id>` (or `safety:<id>:unsure`) for a safety-net check, `milestone:<id>` for a
milestone question. Each is explained by the knowledge it came from; an id the knowledge base no longer has is
shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from bot.contract import MILESTONE_PREFIX, OBSERVATION_PREFIX, SAFETY_PREFIX, UNSURE_SUFFIX

if TYPE_CHECKING:
    from bot.knowledge.documents import Rule, Source
    from bot.knowledge.milestones import Milestone
    from bot.knowledge.store import KnowledgeBase
    from bot.nlu.observations import ObservationCatalogue


@dataclass(frozen=True)
class Reason:
    """A sign or a safety-net check that raised a referral, shown like a topic rule: id, level, what it says."""

    id: str
    referral: Optional[str]
    say: str


# What the transcript lists for a decision: a topic rule, a sign or check, or a plain line (an unknown id, a milestone).
Explanation = Union["Rule", Reason, str]


@dataclass(frozen=True)
class Decision:
    """One referral decision, explained: the level, where and when, and what raised it with its sources."""

    referral: str
    topic: Optional[str]
    red_flag: Optional[str]
    at: Optional[float]
    rules: Tuple[Explanation, ...]
    sources: Tuple[Source, ...]


def _unprefixed(rule_id: object, prefix: str) -> Optional[str]:
    """The id after prefix, or None when rule_id is not a string starting with it."""
    return rule_id[len(prefix) :] if isinstance(rule_id, str) and rule_id.startswith(prefix) else None


def observation_rules(rule_ids: Sequence[object], catalogue: Optional[ObservationCatalogue] = None) -> Dict[str, Reason]:
    """The signs the parent described that raised the referral (`observation:<id>`), by rule id."""
    if catalogue is None:
        from bot.nlu.observations import default_catalogue

        catalogue = default_catalogue()
    found: Dict[str, Reason] = {}
    for rule_id in rule_ids:
        observation_id = _unprefixed(rule_id, OBSERVATION_PREFIX)
        observation = catalogue.observations.get(observation_id) if observation_id is not None else None
        if isinstance(rule_id, str) and observation is not None:
            found[rule_id] = Reason(rule_id, observation.referral, f"{observation.label}. {observation.say}")
    return found


def safety_rules(kb: Optional[KnowledgeBase], rule_ids: Sequence[object]) -> Dict[str, Reason]:
    """The safety-net checks that raised the referral (`safety:<id>`, `safety:<id>:unsure`), by rule id."""
    from bot.triage.safety_net import UNSURE_REFERRAL

    net = kb.safety_net if kb else None
    checks = {check.id: check for check in net.checks} if net else {}
    found: Dict[str, Reason] = {}
    for rule_id in rule_ids:
        check_id = _unprefixed(rule_id, SAFETY_PREFIX)
        if not isinstance(rule_id, str) or check_id is None:
            continue
        unsure = check_id.endswith(UNSURE_SUFFIX)
        check = checks.get(check_id[: -len(UNSURE_SUFFIX)] if unsure else check_id)
        if check is not None:
            label = f"Safety net: {check.slot.replace('_', ' ')} {'not sure' if unsure else check.crosses}"
            found[rule_id] = Reason(
                rule_id, UNSURE_REFERRAL if unsure else check.referral, f"{label}. {check.unsure if unsure else check.say}"
            )
    return found


def milestone_of(kb: Optional[KnowledgeBase], rule_ids: Sequence[object]) -> Optional[Milestone]:
    """The milestone whose question a decision answered (`milestone:<id>`), if any."""
    if not kb or not kb.milestones:
        return None
    for rule_id in rule_ids:
        milestone_id = _unprefixed(rule_id, MILESTONE_PREFIX)
        if milestone_id is not None:
            return kb.milestones.get(milestone_id)
    return None


def milestone_line(milestone: Milestone) -> str:
    """How the transcript names a milestone question, e.g. `milestone question: walking alone (check by 18 months)`."""
    check = f"check by {milestone.check_by:g} months" if milestone.check_by is not None else "no fixed age to check"
    return f"milestone question: {milestone.name.lower()} ({check})"


def explain(
    decision: Mapping[str, Any], kb: Optional[KnowledgeBase], catalogue: Optional[ObservationCatalogue] = None
) -> Decision:
    """A decision from bot.review.transcript.decisions, with its rules explained and its sources.

    A milestone question shows its milestone and the milestone's sources instead of the topic's rules; the signs
    and safety-net checks that raised the referral come last, whatever else applied.
    """
    rule_ids: List[object] = list(decision.get("rules") or [])
    topic = kb.topic(decision.get("topic")) if kb else None
    topic_rules = {rule.id: rule for rule in topic.rules} if topic else {}
    sources: Tuple[Source, ...] = tuple(topic.sources) if topic else ()
    signs = {**observation_rules(rule_ids, catalogue), **safety_rules(kb, rule_ids)}
    milestone = milestone_of(kb, rule_ids)
    if milestone is not None:
        sources = tuple(milestone.sources)
        rule_ids = [milestone_line(milestone)]
    rules: List[Explanation] = [topic_rules.get(str(rule_id)) or str(rule_id) for rule_id in rule_ids if rule_id not in signs]
    return Decision(
        referral=str(decision["referral"]),
        topic=decision.get("topic"),
        red_flag=decision.get("red_flag"),
        at=decision.get("at"),
        rules=(*rules, *signs.values()),
        sources=sources,
    )
