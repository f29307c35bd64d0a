"""The follow-up question plan: which question comes next, and what to do with each reply.

Pure functions over the topic, the answers so far and a small state; the Rasa form adapter calls them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Protocol, Tuple

from bot.knowledge.documents import Question
from bot.nlu.parsers import extract_entities
from bot.triage.advice import Message
from bot.triage.age import asks_about_prematurity
from bot.triage.answers import AnswerStatus, interpret_answer

# Intents that interrupt a follow-up question instead of answering it.
ASK_WHY = "ask_why"
REQUEST_HUMAN = "request_human"
GOODBYE = "goodbye"
ASK_CAPABILITIES = "ask_capabilities"
# What to ask when a reply is right but lacks the number ("yes, she was early", "she can, a bit").
DETAIL_PROMPTS = {"weeks_early": "About how many weeks early?", "seconds": "Roughly how many seconds?"}


GENERAL_OPTION = {"title": "Just in general", "payload": "Just in general"}


class Subject(Protocol):
    """What the questions are about: a topic document, or a milestone question (bot.triage.milestones)."""

    @property
    def id(self) -> str: ...  # noqa: D102

    @property
    def title(self) -> str: ...  # noqa: D102

    @property
    def questions(self) -> Tuple[str, ...]: ...  # noqa: D102

    @property
    def uses_age(self) -> bool: ...  # noqa: D102

    @property
    def general_option(self) -> bool: ...  # noqa: D102 - "Just in general" offered when asking the age


@dataclass(frozen=True)
class TriageState:
    """What the form remembers between turns (stored in the `triage_state` slot as a dict)."""

    topic: Optional[str] = None
    skipped: Tuple[str, ...] = ()
    failures: Tuple[Tuple[str, int], ...] = ()
    stopped: bool = False
    not_yet: bool = False  # a milestone question said the child isn't doing it yet

    def failures_for(self, slot: str) -> int:
        """How many unusable replies this question has had."""
        return dict(self.failures).get(slot, 0)

    def with_failure(self, slot: str) -> TriageState:
        """This state with one more unusable reply to `slot`."""
        counts = dict(self.failures)
        counts[slot] = counts.get(slot, 0) + 1
        return replace(self, failures=tuple(sorted(counts.items())))

    def with_skipped(self, slot: str) -> TriageState:
        """This state with `slot` treated as unknown from now on."""
        return replace(self, skipped=tuple(dict.fromkeys(self.skipped + (slot,))))

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly form for the tracker."""
        return {
            "topic": self.topic,
            "skipped": list(self.skipped),
            "failures": dict(self.failures),
            "stopped": self.stopped,
            "not_yet": self.not_yet,
        }

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> TriageState:
        """Rebuild from the tracker slot (tolerates a missing or malformed value)."""
        if not isinstance(data, Mapping):
            return cls()
        failures = data.get("failures") or {}
        return cls(
            topic=data.get("topic"),
            skipped=tuple(data.get("skipped") or ()),
            failures=tuple(sorted((str(k), int(v)) for k, v in failures.items())) if isinstance(failures, Mapping) else (),
            stopped=bool(data.get("stopped")),
            not_yet=bool(data.get("not_yet")),
        )


@dataclass(frozen=True)
class Turn:
    """The outcome of one form turn."""

    messages: Tuple[Message, ...]
    answers: Dict[str, Any]
    state: TriageState
    next_slot: Optional[str]
    human_requested: bool = False


def applicable(subject: Subject, slot: str, answers: Mapping[str, Any]) -> bool:
    """Whether a question can still change the advice given what is already known.

    "Born early?" matters only when the subject judges by age, the age is known (corrected age needs it)
    and the child is under about 2 years (when correcting stops).
    """
    if slot == "weeks_early":
        age = answers.get("age_months")
        return subject.uses_age and age is not None and asks_about_prematurity(age)
    return True


_STANDING = re.compile(r"\bstand(s|ing)?\b|\bon (his|her|their) own\b", re.IGNORECASE)


def facts_in_passing(topic: Subject, text: str, known: Mapping[str, Any], skip: Optional[str] = None) -> Dict[str, Any]:
    """Answers to other questions that a message states clearly ("born 6 weeks early", "stands for 5 seconds").

    Only unambiguous facts: weeks born early, and a duration in a message about standing. Ages are not
    taken in passing (too easy to confuse with other amounts of time).
    """
    found: Dict[str, Any] = {}
    wanted = {slot for slot in topic.questions if known.get(slot) is None and slot != skip}
    for match in extract_entities(text or ""):
        if match.entity == "weeks_early" and "weeks_early" in wanted:
            found.setdefault("weeks_early", match.value)
        elif match.entity == "duration" and "stands_alone_seconds" in wanted and _STANDING.search(text):
            found.setdefault("stands_alone_seconds", match.value)
    return found


def next_question(topic: Subject, answers: Mapping[str, Any], state: TriageState) -> Optional[str]:
    """The first of the topic's questions that is unanswered, not skipped and still relevant."""
    for slot in topic.questions:
        if answers.get(slot) is None and slot not in state.skipped and applicable(topic, slot, answers):
            return slot
    return None


def ask(question: Question, prefix: str = "", subject: Optional[Subject] = None) -> Message:
    """The message that asks a question, with its quick replies (plus "Just in general" for a milestone's age)."""
    buttons = tuple(question.buttons)
    if question.type == "months" and subject is not None and subject.general_option:
        buttons += (GENERAL_OPTION,)
    return Message(f"{prefix}{question.ask}", buttons)


def start(
    topic: Subject,
    questions: Mapping[str, Question],
    answers: Mapping[str, Any],
    state: TriageState,
    text: str = "",
    not_yet: bool = False,
) -> Turn:
    """Begin (or switch to) a topic: acknowledge it and ask the first missing question."""
    updates = facts_in_passing(topic, text, answers)
    answers = {**answers, **updates}
    switched = state.topic is not None and state.topic != topic.id
    new_state = TriageState(topic=topic.id, skipped=state.skipped if not switched else (), not_yet=not_yet)
    pending = next_question(topic, answers, new_state)
    if switched:
        lead = f"OK, let's look at **{topic.title.lower()}** instead."
    else:
        lead = f"I can help with **{topic.title.lower()}**."
    if pending and topic.general_option:
        lead += " I can compare with your child if you tell me a little about them."
    elif pending:
        lead += " A few quick questions first, so my advice fits your child."
    return _finish(topic, questions, dict(answers), updates, new_state, [Message(lead)])


def handle_reply(
    topic: Subject,
    questions: Mapping[str, Question],
    slot: str,
    intent: Optional[str],
    text: str,
    answers: Mapping[str, Any],
    state: TriageState,
    max_reasks: int = 1,
) -> Turn:
    """Handle the caregiver's reply to the question for `slot`."""
    question = questions[slot]
    updates: Dict[str, Any] = {}
    known = {**answers}
    if intent == ASK_WHY:
        return Turn(
            messages=(Message(question.why), ask(question, prefix="So: ", subject=topic)),
            answers=updates,
            state=state,
            next_slot=slot,
        )
    if intent == REQUEST_HUMAN:
        note = (
            "I've noted that you'd like to talk to a person, and the support team will see this conversation. "
            "I'm an automated assistant and can't connect you live. If you're worried about your child right "
            "now, call your doctor or health visitor — or your local emergency number in an emergency. "
            "Meanwhile, I can keep helping:"
        )
        return Turn(messages=(Message(note), ask(question, subject=topic)), answers=updates, state=state, next_slot=slot, human_requested=True)
    if intent == GOODBYE:
        return Turn(
            messages=(Message("OK, we'll stop here. Come back any time — just ask your question again."),),
            answers=updates,
            state=replace(state, stopped=True),
            next_slot=None,
        )
    answer = interpret_answer(question.type, text or "", question.all_clear)
    messages: List[Message] = []
    if answer.status is AnswerStatus.VALUE:
        updates[slot] = answer.value
        known[slot] = answer.value
    elif answer.status is AnswerStatus.UNKNOWN:
        state = state.with_skipped(slot)
        messages.append(Message("No problem — we'll go without that."))
    elif answer.status is AnswerStatus.NEEDS_DETAIL and state.failures_for(slot) < max_reasks:
        state = state.with_failure(slot)
        return Turn(
            messages=(Message(f"Thanks. {DETAIL_PROMPTS.get(question.type, 'Could you be a bit more specific?')} For example: {question.example}."),),
            answers=updates,
            state=state,
            next_slot=slot,
        )
    elif state.failures_for(slot) < max_reasks:
        state = state.with_failure(slot)
        hint = "" if intent != ASK_CAPABILITIES else "I help with how babies and toddlers move. "
        return Turn(
            messages=(Message(f"{hint}Sorry, I couldn't use that answer. {question.ask} For example: {question.example}.", tuple(question.buttons)),),
            answers=updates,
            state=state,
            next_slot=slot,
        )
    else:
        state = state.with_skipped(slot)
        messages.append(Message("No problem — I'll leave that one out and carry on."))
    extra = facts_in_passing(topic, text, known, skip=slot)
    updates.update(extra)
    known.update(extra)
    return _finish(topic, questions, known, updates, state, messages)


def _finish(
    topic: Subject,
    questions: Mapping[str, Question],
    known: Dict[str, Any],
    updates: Dict[str, Any],
    state: TriageState,
    messages: List[Message],
) -> Turn:
    """Ask the next missing question, or finish (next_slot None) when none is left."""
    slot = next_question(topic, known, state)
    if slot:
        messages.append(ask(questions[slot], subject=topic))
    return Turn(messages=tuple(messages), answers=updates, state=state, next_slot=slot)
