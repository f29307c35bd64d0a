"""What to do with a message that tells us something while no follow-up question is pending.

Pure: the action adapter (actions/facts.py) applies the slot updates and, when `advise_again`, gives the
advice again for the corrected facts with `lead` ("Thanks — I've updated that: 17 months ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.knowledge.documents import Question
from bot.knowledge.messages import say
from bot.nlu.understand import CANCEL, CLARIFY, REPEAT, SKIP, Understanding
from bot.triage.advice import Message
from bot.triage.dialogue import merge_facts
from bot.triage.summary import changed_line, describe_value


@dataclass(frozen=True)
class Reply:
    """Slot updates, the conversation's observations, and either messages or advice to give again."""

    messages: Tuple[Message, ...]
    updates: Dict[str, Any]
    observed: List[str]
    advise_again: bool = False
    lead: Optional[str] = None


def after_questions(
    heard: Understanding,
    known: Mapping[str, Any],
    questions: Mapping[str, Question],
    observed: Sequence[str],
    last_bot: Sequence[Mapping[str, Any]],
    advised: bool,
) -> Reply:
    """Keep the facts; after advice, a new or changed fact means the advice is given again; else ask the topic."""
    seen = list(dict.fromkeys([*observed, *heard.observation_ids]))
    if heard.repair and not heard.facts:
        return Reply(_repair_messages(heard.repair, last_bot), {}, seen)
    updates, changes = merge_facts(heard.stated(), known, questions)
    new_signs = len(seen) > len(observed)
    if advised and (updates or new_signs):
        lead = changed_line(changes, questions) if changes else _noted(updates, questions)
        return Reply((), updates, seen, advise_again=True, lead=lead)
    if updates or new_signs:
        return Reply((_then_ask_topic(_noted(updates, questions)),), updates, seen)
    return Reply((_then_ask_topic(say("conversation.thanks")),), {}, seen)


def _then_ask_topic(lead: str) -> Message:
    """`lead`, then "What would you like to know about how your child moves?"."""
    return Message(f"{lead} {say('conversation.ask_topic')}")


def _noted(updates: Mapping[str, Any], questions: Mapping[str, Question]) -> str:
    described = [describe_value(questions[slot], value) for slot, value in updates.items() if slot in questions]
    items = [item for item in described if item]
    return say("conversation.noted_facts", facts="; ".join(items)) if items else say("conversation.noted")


def _repair_messages(repair: str, last_bot: Sequence[Mapping[str, Any]]) -> Tuple[Message, ...]:
    if repair == REPEAT:
        if not last_bot:
            return (_then_ask_topic(say("conversation.nothing_to_repeat")),)
        return tuple(Message(str(m.get("text") or ""), tuple(m.get("buttons") or ())) for m in last_bot if m.get("text"))
    if repair == CLARIFY:
        return (Message(say("conversation.clarify")),)
    if repair in (CANCEL, SKIP):
        return (_then_ask_topic(say("conversation.ok")),)
    return (Message(say("conversation.ask_topic")),)
