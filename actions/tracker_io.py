"""Shared helpers for actions: read answers from the tracker, send bot-core messages."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.contract import REFERRAL_LEVELS, REFERRAL_SLOT, TOPIC_SLOT
from bot.knowledge.store import KnowledgeBase, get_knowledge_base
from bot.nlu.observations import default_catalogue
from bot.nlu.understand import PARSE_KEY, Understanding, understand
from bot.triage.advice import Message
from bot.triage.answers import typed_value
from bot.triage.respond import Outcome, advise


def knowledge_base() -> KnowledgeBase:
    """The knowledge base (loaded once per action-server process)."""
    return get_knowledge_base()


def answers_from(tracker: Tracker, kb: KnowledgeBase) -> Dict[str, Any]:
    """Every known answer slot (None when unknown, or when the slot holds a value not of the question's type)."""
    return {slot: typed_value(question.type, tracker.get_slot(slot)) for slot, question in kb.questions.items()}


def topic_slot(tracker: Tracker) -> Optional[str]:
    """The `topic` slot when it holds a topic or milestone id (a string), else None."""
    value = tracker.get_slot(TOPIC_SLOT)
    return value if isinstance(value, str) and value else None


def previous_referral(tracker: Tracker) -> Optional[str]:
    """The referral given so far in this conversation, if it is one of the known levels."""
    value = tracker.get_slot(REFERRAL_SLOT)
    return value if value in REFERRAL_LEVELS else None


def latest_intent(tracker: Tracker) -> Optional[str]:
    """Name of the intent of the latest user message."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def send(dispatcher: CollectingDispatcher, messages: Iterable[Message]) -> None:
    """Send bot-core messages, with their quick replies."""
    for message in messages:
        dispatcher.utter_message(text=message.text, buttons=list(message.buttons) or None)


def understanding_of(tracker: Tracker) -> Understanding:
    """What the latest message says, as the NLU pipeline read it (read here only if the parse data lacks it)."""
    heard = Understanding.from_dict(tracker.latest_message.get(PARSE_KEY))
    return heard if heard is not None else understand(tracker.latest_message.get("text") or "")


def observations_so_far(tracker: Tracker) -> List[str]:
    """Observation ids recorded in this conversation."""
    value = tracker.get_slot("observations")
    return [str(v) for v in value] if isinstance(value, list) else []


def observation_events(tracker: Tracker, heard: Understanding) -> List[EventType]:
    """Add the message's observations to the conversation's `observations` slot (once each)."""
    before = observations_so_far(tracker)
    after = list(dict.fromkeys(before + list(heard.observation_ids)))
    return [SlotSet("observations", after)] if after != before else []


def advise_now(
    tracker: Tracker,
    subject_id: Optional[str],
    not_yet: bool = False,
    changed: Optional[str] = None,
    answers: Optional[Dict[str, Any]] = None,
    observed: Optional[List[str]] = None,
) -> Optional[Outcome]:
    """The advice for a topic or milestone subject from what the tracker knows (answers/observed override it)."""
    kb = knowledge_base()
    return advise(
        subject_id,
        kb.topics,
        kb.questions,
        kb.milestones,
        default_catalogue(),
        answers if answers is not None else answers_from(tracker, kb),
        observed=observed if observed is not None else observations_so_far(tracker),
        not_yet=not_yet,
        previous_referral=previous_referral(tracker),
        changed=changed,
        safety_net=kb.safety_net,
    )
