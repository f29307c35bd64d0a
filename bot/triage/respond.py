"""The advice for a conversation as it stands: a topic's or a milestone's, with the signs described and the facts used.

One function for both the first advice and advice given again after a correction, so they never differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence, Tuple

from bot.contract import MILESTONE_PREFIX
from bot.knowledge.documents import Question, Topic
from bot.knowledge.messages import say
from bot.knowledge.milestones import MilestoneTable
from bot.knowledge.safety_net import SafetyNet
from bot.nlu.observations import ObservationCatalogue
from bot.triage.advice import Message, compose_advice, signs_from
from bot.triage.milestones import answer_subject, is_milestone_subject
from bot.triage.safety_net import safety_signs
from bot.triage.summary import summary_line


@dataclass(frozen=True)
class Outcome:
    """What to say and record: messages, the referral (None when no child was assessed), the rules behind it."""

    messages: Tuple[Message, ...]
    referral: Optional[str]
    rule_ids: Tuple[str, ...]
    topic: Optional[str]
    parts: Mapping[str, Tuple[Message, ...]] = field(default_factory=dict)  # the rest of the advice, by part


def advise(
    subject_id: Optional[str],
    topics: Mapping[str, Topic],
    questions: Mapping[str, Question],
    milestones: Optional[MilestoneTable],
    catalogue: Optional[ObservationCatalogue],
    answers: Mapping[str, Any],
    observed: Sequence[str] = (),
    not_yet: bool = False,
    previous_referral: Optional[str] = None,
    changed: Optional[str] = None,
    safety_net: Optional[SafetyNet] = None,
) -> Optional[Outcome]:
    """The advice for a topic id or a milestone subject id; None when the subject is unknown.

    The signs described and the safety net's checks on every known fact count whatever the subject.
    """
    signs = signs_from(catalogue, observed).plus(safety_signs(safety_net, answers))
    described = [catalogue.observations[o] for o in dict.fromkeys(observed) if catalogue and o in catalogue.observations]
    summary = summary_line(answers, questions, described)
    if milestones and is_milestone_subject(subject_id):
        answer = answer_subject(
            milestones,
            {t.id: t.title for t in topics.values()},
            str(subject_id),
            answers,
            not_yet=not_yet,
            previous_referral=previous_referral,
            signs=signs,
            summary=summary,
        )
        messages = answer.messages
        if changed:
            messages = (Message(f"{changed} {say('milestone.again')}"), *messages)
        related = topics.get(answer.topic or "")  # "tell me more" after a milestone answer: its topic's parts
        parts = compose_advice(related, answers, previous_referral, signs).parts if related else {}
        ids = (MILESTONE_PREFIX + answer.milestone_id, *signs.rule_ids)
        return Outcome(messages, answer.referral, ids, answer.topic, parts)
    topic = topics.get(subject_id or "")
    if topic is None:
        return None
    advice = compose_advice(topic, answers, previous_referral=previous_referral, signs=signs, summary=summary, changed=changed)
    return Outcome(advice.messages, advice.referral, advice.rule_ids, topic.id, advice.parts)
