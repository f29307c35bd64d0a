"""The follow-up question plan: which question comes next, and what to do with each reply.

Pure functions over the topic, the answers so far and a small state; the Rasa form adapter calls them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Protocol, Tuple

from bot.contract import REQUEST_HUMAN_INTENT
from bot.knowledge.documents import Question
from bot.knowledge.messages import say
from bot.nlu.understand import CLARIFY, REPEAT, SKIP, Understanding, understand
from bot.triage.advice import Message
from bot.triage.age import asks_about_prematurity, plural
from bot.triage.answers import Answer, AnswerStatus, interpret_answer
from bot.triage.summary import changed_line

# Intents that interrupt a follow-up question instead of answering it.
ASK_WHY = "ask_why"
GOODBYE = "goodbye"
# What to ask when a reply is right but lacks the number ("yes, she was early", "she can, a bit"): catalogue keys.
DETAIL_PROMPTS = {"weeks_early": "triage.detail.weeks_early", "seconds": "triage.detail.seconds"}
# Said before asking the pending question again when the reply was small talk or outside what we cover.
ASIDES = {
    "greet": "triage.aside.greet",
    "thank": "triage.aside.thank",
    "ask_capabilities": "triage.aside.ask_capabilities",
    "out_of_scope": "out_of_scope.during_questions",
}


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
        topic = data.get("topic")
        return cls(
            topic=topic if isinstance(topic, str) and topic else None,
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
    changes: Tuple[Change, ...] = ()  # known facts the parent changed in this message


def applicable(subject: Subject, slot: str, answers: Mapping[str, Any]) -> bool:
    """Whether a question can still change the advice given what is already known.

    "Born early?" matters only when the subject judges by age, the age is known (corrected age needs it)
    and the child is under about 2 years (when correcting stops).
    """
    if slot == "weeks_early":
        age = answers.get("age_months")
        return subject.uses_age and age is not None and asks_about_prematurity(age)
    return True


@dataclass(frozen=True)
class Change:
    """A fact the parent changed: the slot, the value before and the value now."""

    slot: str
    old: Any
    new: Any


def merge_facts(
    stated: Mapping[str, Any], known: Mapping[str, Any], questions: Mapping[str, Question], skip: Optional[str] = None
) -> Tuple[Dict[str, Any], Tuple[Change, ...]]:
    """The slot updates a message's stated facts make, and which known values they change.

    Everything a parent says counts, in every topic: a stated fact fills its question whatever the topic asks,
    and the latest statement replaces an earlier one (a correction, or a better description).
    """
    updates: Dict[str, Any] = {}
    changes: List[Change] = []
    for slot, value in stated.items():
        if slot not in questions or slot == skip or value is None:
            continue
        before = known.get(slot)
        if before == value:
            continue
        updates[slot] = value
        if before is not None:
            changes.append(Change(slot, before, value))
    return updates, tuple(changes)


_FAREWELL = re.compile(
    r"\b(?:bye+|goodbye|good bye|byee*|cya|see (?:ya|you)|ttyl|gotta go|got to go|have to go|need to go|that'?s all|"
    r"that is all|no more questions|i'?m done|we'?re done|stop|quit|exit|leave it there|good ?night|take care|cheers)\b",
    re.IGNORECASE,
)


def says_goodbye(text: str) -> bool:
    """Whether a message really takes leave (the classifier alone may take a short answer for a goodbye)."""
    return bool(_FAREWELL.search(text or ""))


def _understanding(understanding: Optional[Understanding], text: str) -> Understanding:
    """The message's understanding from the NLU pipeline, or read here when it is missing (a test, a replay)."""
    return understanding if understanding is not None else understand(text or "")


def next_question(topic: Subject, answers: Mapping[str, Any], state: TriageState) -> Optional[str]:
    """The first of the topic's questions that is unanswered, not skipped and still relevant; then, for a subject
    guarded by the safety net (bot.triage.safety_net.Guarded), the fact this child's age makes worth asking."""
    for slot in topic.questions:
        if answers.get(slot) is None and slot not in state.skipped and applicable(topic, slot, answers):
            return slot
    more = getattr(topic, "more_question", None)
    return more(answers, state.skipped) if more else None


def ask(question: Question, prefix: str = "", subject: Optional[Subject] = None) -> Message:
    """The message that asks a question, after `prefix` ("Of course."), with its quick replies (plus "Just in general"
    for a milestone's age)."""
    buttons = tuple(question.buttons)
    if question.type == "months" and subject is not None and subject.general_option:
        general = say("triage.general_option")
        buttons += ({"title": general, "payload": general},)
    return Message(f"{prefix} {question.ask}" if prefix else question.ask, buttons)


def start(
    topic: Subject,
    questions: Mapping[str, Question],
    answers: Mapping[str, Any],
    state: TriageState,
    text: str = "",
    not_yet: bool = False,
    understanding: Optional[Understanding] = None,
) -> Turn:
    """Begin (or switch to) a topic: take every fact the message states, acknowledge, ask the first missing question."""
    heard = _understanding(understanding, text)
    updates, changes = merge_facts(heard.stated(), answers, questions)
    answers = {**answers, **updates}
    switched = state.topic is not None and state.topic != topic.id
    new_state = TriageState(topic=topic.id, skipped=state.skipped if not switched else (), not_yet=not_yet)
    pending = next_question(topic, answers, new_state)
    lead = [say("triage.switched" if switched else "triage.start", topic=topic.title.lower())]
    if changes:
        lead.append(changed_line(changes, questions))
    if pending:
        lead.append(say("triage.compare_offer" if topic.general_option else "triage.few_questions"))
    return _finish(topic, questions, dict(answers), updates, new_state, [Message(" ".join(lead))], changes)


def _repair(
    topic: Subject, question: Question, repair: str, known: Dict[str, Any], questions: Mapping[str, Question], state: TriageState
) -> Turn:
    """Repeat, explain, skip the pending question, or stop the questions: what the parent asked of the conversation."""
    slot = question.slot
    if repair == REPEAT:
        return Turn(messages=(ask(question, say("triage.of_course"), topic),), answers={}, state=state, next_slot=slot)
    if repair == CLARIFY:
        return Turn(
            messages=(Message(f"{question.why} {for_example(question)}"), ask(question, say("triage.so"), topic)),
            answers={},
            state=state,
            next_slot=slot,
        )
    if repair == SKIP:
        return _finish(topic, questions, known, {}, state.with_skipped(slot), [Message(say("triage.skip"))])
    return Turn(
        messages=(Message(say("triage.cancel")),),
        answers={},
        state=replace(state, stopped=True),
        next_slot=None,
    )


def handle_reply(
    topic: Subject,
    questions: Mapping[str, Question],
    slot: str,
    intent: Optional[str],
    text: str,
    answers: Mapping[str, Any],
    state: TriageState,
    max_reasks: int = 1,
    understanding: Optional[Understanding] = None,
) -> Turn:
    """Handle the caregiver's reply to the question for `slot`.

    The reply is read by what it says: a description ("he always reaches with his left") answers the question by
    its content before any yes/no keyword counts, a warning sign wins over reassurance, and every other fact it
    states (or corrects) fills its own question. A correction that doesn't answer the pending question is
    acknowledged and the question asked again.
    """
    question = questions[slot]
    interrupted = _interruption(topic, question, intent, text, state)
    if interrupted is not None:
        return interrupted
    heard = _understanding(understanding, text)
    if heard.repair and not heard.facts:
        return _repair(topic, question, heard.repair, {**answers}, questions, state)
    updates, changes = merge_facts(_stated_besides(heard, question), answers, questions, skip=slot)
    reply = _Reply(topic, questions, question, {**answers, **updates}, updates, changes)
    if changes:
        reply.messages.append(Message(changed_line(changes, questions)))
    own = heard.value_for(slot)
    if own is not None:
        answer = Answer(AnswerStatus.VALUE, own)
    elif heard.correction and updates:
        answer = Answer(AnswerStatus.UNPARSED)  # "sorry, he's 17 months not 11": not an answer to this question
    else:
        answer = interpret_answer(question.type, heard.own_text(text or ""), question.all_clear, question.reads)
    return _answered(reply, intent, answer, state, max_reasks)


def _interruption(topic: Subject, question: Question, intent: Optional[str], text: str, state: TriageState) -> Optional[Turn]:
    """The turn for a reply that interrupts the question ("why do you ask?", asking for a person, a real goodbye)."""
    slot = question.slot
    if intent == ASK_WHY:
        return Turn(
            messages=(Message(question.why), ask(question, say("triage.so"), topic)), answers={}, state=state, next_slot=slot
        )
    if intent == REQUEST_HUMAN_INTENT:
        note = Message(f"{say('handoff.noted')} {say('handoff.meanwhile')}")
        return Turn(messages=(note, ask(question, subject=topic)), answers={}, state=state, next_slot=slot, human_requested=True)
    if intent == GOODBYE and says_goodbye(text):  # "ya" or "seems even to me" taken for a goodbye is an answer
        return Turn(messages=(Message(say("triage.goodbye")),), answers={}, state=replace(state, stopped=True), next_slot=None)
    return None


@dataclass
class _Reply:
    """A reply being handled: the question it answers, what is known with it, and what to say so far."""

    topic: Subject
    questions: Mapping[str, Question]
    question: Question
    known: Dict[str, Any]
    updates: Dict[str, Any]
    changes: Tuple[Change, ...]
    messages: List[Message] = field(default_factory=list)

    def again(self, state: TriageState, *messages: Message) -> Turn:
        """Ask the same question again (one more unusable reply), after what was said so far and `messages`."""
        slot = self.question.slot
        return Turn(
            messages=(*self.messages, *messages),
            answers=self.updates,
            state=state.with_failure(slot),
            next_slot=slot,
            changes=self.changes,
        )


def _answered(reply: _Reply, intent: Optional[str], answer: Answer, state: TriageState, max_reasks: int) -> Turn:
    """Keep a usable answer and go on; else ask again (narrower, for the detail, after an aside) or leave it out."""
    question, slot, topic = reply.question, reply.question.slot, reply.topic
    retry = state.failures_for(slot) < max_reasks
    if answer.status is AnswerStatus.VALUE and answer.value == "unsure" and _narrow_on_unsure(question, state):
        return reply.again(state, narrower(question))  # "not sure" about a warning sign: ask once, narrower and concrete
    if answer.status is AnswerStatus.VALUE:
        reply.updates[slot] = reply.known[slot] = answer.value
    elif answer.status is AnswerStatus.UNKNOWN:
        state = state.with_skipped(slot)
        reply.messages.append(Message(say("triage.unknown")))
    elif reply.updates and retry:  # the reply told us something else: keep it, ask again
        noted = () if reply.changes else (Message(say("conversation.noted")),)
        return reply.again(state, *noted, ask(question, subject=topic))
    elif answer.status is AnswerStatus.NEEDS_DETAIL and retry:
        return reply.again(state, detail_prompt(question, answer))
    elif intent in ASIDES and retry:  # chit-chat or a question we can't handle
        again = f"{say(ASIDES[intent])} {say('triage.so')} {question.ask} {for_example(question)}"
        return reply.again(state, Message(again, ask(question, subject=topic).buttons))
    elif retry:
        return reply.again(state, reask(question))
    else:
        state = state.with_skipped(slot)
        reply.messages.append(Message(say("triage.gave_up")))
    return _finish(topic, reply.questions, reply.known, reply.updates, state, reply.messages, reply.changes)


def for_example(question: Question) -> str:
    """ "For example: <the question's example>." """
    return say("triage.for_example", example=question.example)


def detail_prompt(question: Question, answer: Answer) -> Message:
    """Ask for what a partly understood reply lacks: the number of weeks or seconds, or months versus years."""
    if question.type == "months" and isinstance(answer.value, float):
        n = answer.value
        months, years = say(f"units.months.{plural(n)}", n=n), say(f"units.years.{plural(n)}", n=n)
        return Message(
            say("triage.months_or_years", months=months, years=years),
            ({"title": months, "payload": months}, {"title": years, "payload": years}),
        )
    if question.type == "months":
        return Message(f"{say('triage.ask_age_again')} {for_example(question)}")
    return Message(f"{say(DETAIL_PROMPTS.get(question.type, 'triage.detail.other'))} {for_example(question)}")


NUMBER_SOURCES = frozenset({"age", "weeks_early", "duration"})


def _stated_besides(heard: Understanding, question: Question) -> Dict[str, Any]:
    """Facts the reply states besides its answer. A lone amount answering a number question is that answer only:
    "5 weeks" to "born early?" is not also an age (unless the parent says it is a correction)."""
    stated = heard.stated()
    if question.type == "yes_no_unsure" or heard.correction:
        return stated
    amounts = {f.slot for f in heard.facts if f.source in NUMBER_SOURCES}
    if len(amounts) == 1 and len([f for f in heard.facts if f.source in NUMBER_SOURCES]) == 1:
        stated = {slot: value for slot, value in stated.items() if slot not in amounts or slot == question.slot}
    return stated


def _narrow_on_unsure(question: Question, state: TriageState) -> bool:
    return bool(question.clarify and question.clarify.on_unsure) and state.failures_for(question.slot) == 0


def narrower(question: Question) -> Message:
    """After "not sure" to a question about a warning sign: the same question, asked about what can be seen."""
    clarify = question.clarify
    assert clarify is not None
    return Message(f"{say('triage.another_way')} {clarify.text}", tuple(clarify.buttons))


def reask(question: Question) -> Message:
    """Ask again after a reply we couldn't use: the question's narrower follow-up when it has one."""
    clarify = question.clarify
    if clarify:
        return Message(f"{say('triage.not_understood')} {clarify.text}", tuple(clarify.buttons))
    return Message(f"{say('triage.unusable')} {question.ask} {for_example(question)}", tuple(question.buttons))


def _finish(
    topic: Subject,
    questions: Mapping[str, Question],
    known: Dict[str, Any],
    updates: Dict[str, Any],
    state: TriageState,
    messages: List[Message],
    changes: Tuple[Change, ...] = (),
) -> Turn:
    """Ask the next missing question, or finish (next_slot None) when none is left."""
    slot = next_question(topic, known, state)
    if slot:
        messages.append(ask(questions[slot], subject=topic))
    return Turn(messages=tuple(messages), answers=updates, state=state, next_slot=slot, changes=changes)
