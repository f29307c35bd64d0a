"""Misunderstood-turn signals (bot.review.signals): flags only where the assistant failed the parent.

The bot replies in these conversations are the assistant's own: the follow-up turns come from bot.triage.dialogue
with the built knowledge base, the other replies from the message catalogue, so a change of wording or of how the
form re-asks is caught here.
"""

from __future__ import annotations

import json
import random
from typing import Any, Dict, List, Optional, Sequence

from bot.knowledge.messages import say
from bot.knowledge.store import KnowledgeBase
from bot.review.reading import read_event
from bot.review.signals import REASON_LABELS, REASONS, Flag, misunderstood_turns
from bot.triage import dialogue
from bot.triage.dialogue import TriageState

T0 = 1_700_000_000.0
Event = Dict[str, Any]


class Chat:
    """Builds a conversation's events the way Rasa stores them."""

    def __init__(self) -> None:
        self.events: List[Event] = [{"event": "action", "name": "action_session_start", "timestamp": T0}]
        self.clock = T0

    def _at(self) -> float:
        self.clock += 1.0
        return self.clock

    def user(self, text: str, intent: str = "inform", confidence: float = 0.9) -> Chat:
        self.events.append(
            {
                "event": "user",
                "timestamp": self._at(),
                "text": text,
                "input_channel": "rest",
                "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []},
            }
        )
        return self

    def action(self, name: str) -> Chat:
        self.events.append({"event": "action", "name": name, "timestamp": self._at()})
        return self

    def bot(self, text: str, response: Optional[str] = None) -> Chat:
        event: Event = {"event": "bot", "text": text, "timestamp": self._at(), "data": {}}
        if response:
            event["metadata"] = {"utter_action": response}
        self.events.append(event)
        return self

    def slot(self, name: str, value: Any) -> Chat:
        self.events.append({"event": "slot", "name": name, "value": value, "timestamp": self._at()})
        return self

    def listen(self) -> Chat:
        return self.action("action_listen")

    def form_turn(self, turn: dialogue.Turn) -> Chat:
        """What the triage form stores for one of its turns."""
        self.action("triage_form")
        for message in turn.messages:
            self.bot(message.text)
        for slot, value in turn.answers.items():
            self.slot(slot, value)
        self.slot("triage_state", turn.state.to_dict()).slot("requested_slot", turn.next_slot)
        return self.listen()


def reasons(events: Sequence[Any]) -> List[tuple]:
    return [(flag.reason, flag.turn) for flag in misunderstood_turns(events)]


def start_topic(kb: KnowledgeBase, chat: Chat, topic: str, text: str, answers: Dict[str, Any]) -> dialogue.Turn:
    """The parent names a topic; the form starts and asks its first question."""
    chat.user(text, "ask_" + topic).slot("topic", topic)
    turn = dialogue.start(kb.topics[topic], kb.questions, {}, TriageState(), text)
    answers.update(turn.answers)
    chat.form_turn(turn)
    return turn


def reply(
    kb: KnowledgeBase, chat: Chat, topic: str, turn: dialogue.Turn, answers: Dict[str, Any], text: str, **parse: Any
) -> dialogue.Turn:
    chat.user(text, **parse)
    assert turn.next_slot
    nxt = dialogue.handle_reply(kb.topics[topic], kb.questions, turn.next_slot, parse.get("intent"), text, answers, turn.state)
    answers.update(nxt.answers)
    chat.form_turn(nxt)
    return nxt


def test_reasons_have_labels() -> None:
    assert set(REASON_LABELS) == set(REASONS) and all(REASON_LABELS[r] for r in REASONS)


def test_a_reply_the_form_used_below_the_confidence_threshold_is_understood(kb: KnowledgeBase) -> None:
    chat = Chat()
    answers: Dict[str, Any] = {}
    turn = start_topic(kb, chat, "late_walking", "my son isn't walking yet", answers)
    turn = reply(kb, chat, "late_walking", turn, answers, "14 months", intent="inform", confidence=0.4)
    assert turn.next_slot == "weeks_early"
    turn = reply(kb, chat, "late_walking", turn, answers, "no, on time", intent="nlu_fallback", confidence=0.25)
    assert answers["weeks_early"] == 0  # the form used it
    assert reasons(chat.events) == []


def test_a_fallback_reply_is_misunderstood() -> None:
    chat = Chat().user("hello", "greet").action("utter_greet").bot(say("greet.text"), "utter_greet").listen()
    chat.user("zxqv blorp", "nlu_fallback", 0.2).action("action_suggest_topic").bot(say("topics.suggest")).listen()
    chat.user("??", "nlu_fallback", 0.1).action("action_default_fallback")
    chat.bot(say("conversation.default"), "utter_default").listen()
    flags = misunderstood_turns(chat.events)
    assert [(f.reason, f.turn, f.text) for f in flags] == [("not_understood", 1, "zxqv blorp"), ("not_understood", 2, "??")]
    assert flags[0].timestamp == T0 + 5 and isinstance(flags[0], Flag)


def test_the_fallback_reply_alone_is_recognised_by_its_words() -> None:
    """Events read by bot.review.reading keep no response name: the catalogue's words still tell."""
    chat = Chat().user("blorp", "nlu_fallback", 0.1).bot(say("conversation.default")).listen()
    assert reasons([read_event(json.dumps(e)) for e in chat.events]) == [("not_understood", 0)]


def test_low_confidence_alone_is_not_a_failure() -> None:
    chat = Chat().user("hiya", "greet", 0.3).action("utter_greet").bot(say("greet.text")).listen()
    chat.user("what can you do", "ask_capabilities", 0.35).action("utter_capabilities").bot(
        say("conversation.capabilities")
    ).listen()
    assert reasons(chat.events) == []


def test_out_of_scope_replies(kb: KnowledgeBase) -> None:
    chat = Chat().user("what's the weather", "out_of_scope").action("action_handle_out_of_scope")
    chat.bot(say("out_of_scope.plain"), "utter_out_of_scope").slot("topic", None).listen()
    answers: Dict[str, Any] = {}
    turn = start_topic(kb, chat, "crawling_backward", "my baby crawls backwards", answers)
    turn = reply(kb, chat, "crawling_backward", turn, answers, "can I give her paracetamol", intent="out_of_scope")
    assert turn.next_slot == "age_months"  # the aside, then the same question
    assert reasons(chat.events) == [("out_of_scope", 0), ("out_of_scope", 2)]


def test_a_question_asked_again_then_dropped(kb: KnowledgeBase) -> None:
    chat = Chat()
    answers: Dict[str, Any] = {}
    turn = start_topic(kb, chat, "late_walking", "not walking yet", answers)
    turn = reply(kb, chat, "late_walking", turn, answers, "purple", intent="nlu_fallback", confidence=0.1)
    assert turn.next_slot == "age_months" and "age_months" not in answers
    turn = reply(kb, chat, "late_walking", turn, answers, "banana", intent="nlu_fallback", confidence=0.1)
    assert turn.next_slot != "age_months"  # the form gave up on it
    assert reasons(chat.events) == [("re_asked", 1), ("dropped_question", 2)]


def test_a_parent_asking_to_repeat_or_why_is_not_a_failure(kb: KnowledgeBase) -> None:
    chat = Chat()
    answers: Dict[str, Any] = {}
    turn = start_topic(kb, chat, "late_walking", "not walking yet", answers)
    turn = reply(kb, chat, "late_walking", turn, answers, "why do you ask?", intent="ask_why")
    turn = reply(kb, chat, "late_walking", turn, answers, "sorry, can you say that again?")
    turn = reply(kb, chat, "late_walking", turn, answers, "14 months", intent="inform")
    turn = reply(kb, chat, "late_walking", turn, answers, "yes she was early", intent="inform")
    assert turn.next_slot == "weeks_early" and "weeks_early" not in answers  # the number asked for: not a failure
    turn = reply(kb, chat, "late_walking", turn, answers, "6 weeks", intent="inform", confidence=0.2)
    assert answers["weeks_early"] == 6
    assert reasons(chat.events) == []


def test_no_reply_at_all_drops_the_question() -> None:
    chat = Chat().user("my son won't stand up", "ask_standing_alone", 0.6).listen()
    assert reasons(chat.events) == [("dropped_question", 0)]


def test_technical_trouble_is_not_a_misunderstanding() -> None:
    chat = Chat().user("my 9 month old crawls backwards", "ask_crawling_backward").slot("action_failed", "triage_form")
    chat.action("utter_technical_trouble").bot(say("trouble.technical"), "utter_technical_trouble").listen()
    chat.user("hello?", "nlu_fallback", 0.2).bot(say("trouble.technical")).listen()
    assert reasons(chat.events) == []


def _switch(chat: Chat, text: str, topic: Optional[str], advise: bool = False) -> Chat:
    chat.user(text, "inform").action("triage_form").slot("topic", topic).bot("OK, a question.")
    if advise:
        chat.action("action_give_advice").bot("Advice.").slot("referral", "none")
    return chat.listen()


def test_a_topic_switch_the_parent_undid() -> None:
    chat = _switch(Chat(), "he crawls backwards", "crawling_backward")
    _switch(chat, "he is 10 months and stands", "standing_alone")  # misread as a new topic
    _switch(chat, "no, crawling backwards", "crawling_backward")
    assert reasons(chat.events) == [("topic_undone", 1)]


def test_no_i_meant_after_a_first_topic() -> None:
    chat = _switch(Chat(), "she walks funny", "toe_walking")
    _switch(chat, "no, I meant she isn't walking yet", "late_walking")
    assert reasons(chat.events) == [("topic_undone", 0)]


def test_a_topic_explored_and_left_is_not_undone() -> None:
    chat = _switch(Chat(), "he crawls backwards", "crawling_backward", advise=True)
    _switch(chat, "and what about tummy time", "tummy_time", advise=True)
    _switch(chat, "back to crawling: is 11 months late?", "crawling_backward")
    far = _switch(Chat(), "he crawls backwards", "crawling_backward")
    for i in range(5):
        _switch(far, f"answer {i}", "tummy_time")
    _switch(far, "crawling again", "crawling_backward")
    assert reasons(chat.events) == [] and reasons(far.events) == []


def test_a_restart_is_not_an_undo() -> None:
    chat = _switch(Chat(), "he crawls backwards", "crawling_backward")
    _switch(chat, "tummy time", "tummy_time")
    chat.user("start over", "restart").action("action_restart").bot(say("conversation.restart")).events.append(
        {"event": "restart", "timestamp": chat._at()}
    )
    _switch(chat, "no, crawling backwards", "crawling_backward")
    assert reasons(chat.events) == []


def test_turns_count_every_user_message_even_unreadable_ones() -> None:
    chat = Chat().user("hi", "greet").bot(say("greet.text")).listen()
    chat.events.append({"event": "user", "text": {"not": "text"}, "parse_data": "junk"})
    chat.events.append({"event": "action", "name": "action_listen"})
    chat.user("blorp", "nlu_fallback", 0.1).action("action_suggest_topic").bot(say("topics.suggest")).listen()
    flags = misunderstood_turns(chat.events)
    assert [(f.reason, f.turn) for f in flags] == [("dropped_question", 1), ("not_understood", 2)]
    assert flags[0].text == "" and flags[0].timestamp is None


HOSTILE: List[Any] = [
    None,
    "user",
    42,
    [],
    {},
    {"event": None},
    {"event": ["user"]},
    {"event": "user", "text": None, "timestamp": float("nan"), "parse_data": None},
    {"event": "user", "text": "x" * 100_000, "timestamp": "yesterday", "parse_data": {"intent": "greet"}},
    {"event": "bot", "text": {"a": 1}, "metadata": "utter_default"},
    {"event": "bot", "text": None, "metadata": {"utter_action": ["utter_default"]}},
    {"event": "slot", "name": {"topic": 1}, "value": "x"},
    {"event": "slot", "name": "topic", "value": {"nested": [1, 2]}},
    {"event": "slot", "name": "requested_slot", "value": ["age_months"]},
    {"event": "slot", "name": "age_months", "value": float("inf")},
    {"event": "action", "name": None},
    {"event": "action", "name": "x" * 10_000},
    {"event": "active_loop", "name": None},
    {"event": "restart"},
    {"event": "session_started"},
]


def test_hostile_events_never_crash() -> None:
    assert isinstance(misunderstood_turns(HOSTILE), list)
    assert misunderstood_turns(None) == [] and misunderstood_turns("user") == []  # type: ignore[arg-type]
    rng = random.Random(16)
    base = _switch(_switch(Chat(), "a", "crawling_backward"), "b", "tummy_time").events
    for _ in range(300):
        events = base + rng.sample(HOSTILE, rng.randint(1, len(HOSTILE)))
        rng.shuffle(events)
        for flag in misunderstood_turns(events):
            assert flag.reason in REASONS and isinstance(flag.text, str) and flag.turn >= 0
