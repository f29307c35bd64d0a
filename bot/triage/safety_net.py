"""The safety net at work: the signs that known facts raise in any topic, and the one question still worth asking.

Pure functions over the answers known about the child (from any topic, the opening message or a description);
the checks themselves are data (knowledge/safety_net.yml, parsed by bot.knowledge.safety_net).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from bot.contract import SAFETY_PREFIX, UNSURE_SUFFIX
from bot.knowledge.safety_net import Check, SafetyNet
from bot.triage.advice import Point, Signs
from bot.triage.rules import condition_holds, decide, facts_from_answers, higher

UNSURE_REFERRAL = "provider"  # "not sure" past a threshold is worth checking, never "all fine"


@dataclass(frozen=True)
class Hit:
    """A check that applies to this child: crossed (the answer crosses it) or unsure (the parent isn't sure)."""

    check: Check
    unsure: bool

    @property
    def rule_id(self) -> str:
        """How the advice records it: safety:<id>, or safety:<id>:unsure."""
        return SAFETY_PREFIX + self.check.id + (UNSURE_SUFFIX if self.unsure else "")

    @property
    def referral(self) -> str:
        """The level it calls for."""
        return UNSURE_REFERRAL if self.unsure else self.check.referral

    @property
    def say(self) -> str:
        """What the advice says about it."""
        return self.check.unsure if self.unsure else self.check.say


def _applies(check: Check, facts: Mapping[str, Any]) -> bool:
    """The age and extra conditions hold (whatever the check's own answer is)."""
    if check.months > 0:
        age = facts.get("corrected_age_months")
        if age is None or age < check.months:
            return False
    return all(condition_holds(c, facts) for c in check.when)


def hits(net: Optional[SafetyNet], answers: Mapping[str, Any]) -> Tuple[Hit, ...]:
    """The checks this child's known facts cross, or leave unsure, at the child's corrected age (one per question)."""
    if net is None:
        return ()
    facts, _ = facts_from_answers(answers)
    found: Dict[str, Hit] = {}
    for check in net.checks:
        value = facts.get(check.slot)
        if check.slot in found or value not in (check.crosses, "unsure") or not _applies(check, facts):
            continue
        found[check.slot] = Hit(check, unsure=value == "unsure")
    return tuple(found.values())


def safety_signs(net: Optional[SafetyNet], answers: Mapping[str, Any]) -> Signs:
    """The safety net's findings as signs: referral, sentences, sources, and the question each one answers."""
    found = hits(net, answers)
    referral = "none"
    for hit in found:
        referral = higher(referral, hit.referral)
    return Signs(
        referral=referral,
        rule_ids=tuple(h.rule_id for h in found),
        points=tuple(Point(h.say, h.referral, tuple(h.check.sources), (h.check.slot,)) for h in found),
    )


def question_to_ask(
    net: Optional[SafetyNet],
    subject_id: str,
    answers: Mapping[str, Any],
    skipped: Sequence[str] = (),
    referral: str = "none",
) -> Optional[str]:
    """The one fact still worth asking: it could cross a check at this child's age and nothing else calls for a
    provider yet. Only the most advanced milestone is asked (a child who walks alone also sits and stands)."""
    if net is None or referral != "none":
        return None
    facts, _ = facts_from_answers(answers)
    told = net.topics_tell.get(subject_id, {})
    said_yes = {slot for slot, value in {**told, **{k: v for k, v in facts.items() if v is not None}}.items() if value == "yes"}
    implied: Set[str] = {slot for check in net.checks if check.slot in said_yes for slot in check.implies}
    candidates: List[Check] = [
        check
        for check in net.checks
        if check.ask
        and facts.get(check.slot) is None
        and check.slot not in skipped
        and check.slot not in told
        and check.slot not in implied
        and _applies(check, facts)
    ]
    covered = {slot for check in candidates for slot in check.implies}
    remaining = [c for c in candidates if c.slot not in covered] or candidates
    if not remaining:
        return None
    return max(remaining, key=lambda c: c.months).slot  # max keeps the first in file order on a tie


@dataclass(frozen=True)
class Guarded:
    """A topic or milestone subject whose question plan also asks what the safety net needs for this child."""

    subject: Any  # bot.triage.dialogue.Subject
    net: Optional[SafetyNet]
    rules_referral: Any = None  # (answers) -> the subject's own referral so far, e.g. bot.triage.rules.decide's
    signs_referral: str = "none"  # what the signs described in the conversation already call for

    @property
    def id(self) -> str:  # noqa: D102
        return str(self.subject.id)

    @property
    def title(self) -> str:  # noqa: D102
        return str(self.subject.title)

    @property
    def questions(self) -> Tuple[str, ...]:  # noqa: D102
        return tuple(self.subject.questions)

    @property
    def uses_age(self) -> bool:  # noqa: D102
        return bool(self.subject.uses_age) or any(c.months > 0 for c in (self.net.checks if self.net else ()))

    @property
    def general_option(self) -> bool:  # noqa: D102
        return bool(self.subject.general_option)

    def more_question(self, answers: Mapping[str, Any], skipped: Sequence[str]) -> Optional[str]:
        """After the subject's own questions: the safety net's question, if this child needs one."""
        referral = higher(safety_signs(self.net, answers).referral, self.signs_referral)
        if self.rules_referral is not None:
            referral = higher(referral, self.rules_referral(answers))
        return question_to_ask(self.net, self.subject.id, answers, skipped, referral)


def guard(subject: Any, topics: Mapping[str, Any], net: Optional[SafetyNet], signs_referral: str = "none") -> Guarded:
    """Wrap a subject so its questions also cover the safety net; a topic's own rules and the signs described so far
    count toward "already referred"."""
    topic = topics.get(subject.id)
    rules_referral = (lambda answers: decide(topic, answers).referral) if topic is not None else None
    return Guarded(subject, net, rules_referral, signs_referral)
