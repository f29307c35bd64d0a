"""Which subject a form turn is about: the topic asked, a milestone question, or the one already under way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from bot.knowledge.documents import Question, Topic
from bot.knowledge.milestones import MilestoneTable, find_milestone, says_not_yet
from bot.nlu.understand import Understanding
from bot.triage.answers import AnswerStatus, interpret_answer
from bot.triage.dialogue import Subject, TriageState
from bot.triage.milestones import is_milestone_subject, milestone_id_of, subject_for


@dataclass(frozen=True)
class Resolved:
    """The subject of this turn; `restart` when the message begins it (a new question, or a switch)."""

    subject: Optional[Subject]
    restart: bool
    not_yet: bool = False


def answers_question(question: Question, text: str, understanding: Optional[Understanding] = None) -> bool:
    """Whether a message reads as a usable (or "not sure") answer to the pending question, or states its fact."""
    if understanding is not None and (understanding.value_for(question.slot) is not None or understanding.repair):
        return True
    own = understanding.own_text(text) if understanding is not None else text
    return interpret_answer(question.type, own, question.all_clear, question.reads).status in (
        AnswerStatus.VALUE,
        AnswerStatus.UNKNOWN,
    )


def milestone_subject(table: MilestoneTable, subject_id: str) -> Subject:
    """Rebuild a milestone subject from its id (kept in the triage state between turns)."""
    return subject_for(table.get(milestone_id_of(subject_id)))


def resolve(
    topics: Mapping[str, Topic],
    table: Optional[MilestoneTable],
    questions: Mapping[str, Question],
    topic_slot: Optional[str],
    state: TriageState,
    intent: Optional[str],
    text: str,
    requested: Optional[str],
    understanding: Optional[Understanding] = None,
) -> Resolved:
    """Decide what the form talks about this turn.

    A question about a milestone or a topic starts it (or switches to it), unless the message is really the
    answer to the pending question: "yes, she sits" to "Can your child sit?" may read like a milestone
    question, and "she stands for ages holding my fingers" like one about standing. Otherwise the subject
    under way continues. A topic chosen only because the message describes a sign (routed) never interrupts the
    questions under way: the sign is kept as a fact and the questions go on.
    """
    pending = questions.get(requested) if requested else None
    answering = pending is not None and answers_question(pending, text, understanding)
    if understanding is not None and understanding.routed and pending is not None and state.topic:
        answering = True
    if table and intent == table.intent and not answering:
        return Resolved(subject_for(find_milestone(table, text)), restart=True, not_yet=says_not_yet(text))
    asked = next((t for t in topics.values() if t.intent == intent), None)
    if asked and not (answering and state.topic and state.topic != asked.id):
        return Resolved(asked, restart=requested is None or state.topic != asked.id)
    if table and is_milestone_subject(state.topic):
        return Resolved(milestone_subject(table, str(state.topic)), restart=requested is None, not_yet=state.not_yet)
    topic = topics.get(state.topic or "") or topics.get(topic_slot or "")
    if topic is None:
        return Resolved(None, restart=False)
    return Resolved(topic, restart=requested is None or state.topic != topic.id)
