"""Shared helpers for actions: read answers from the tracker, send bot-core messages."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge.store import KnowledgeBase, get_knowledge_base
from bot.triage.advice import Message


def knowledge_base() -> KnowledgeBase:
    """The knowledge base (loaded once per action-server process)."""
    return get_knowledge_base()


def answers_from(tracker: Tracker, kb: KnowledgeBase) -> Dict[str, Any]:
    """Every known answer slot (None when unknown)."""
    return {slot: tracker.get_slot(slot) for slot in kb.questions}


def latest_intent(tracker: Tracker) -> Optional[str]:
    """Name of the intent of the latest user message."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def send(dispatcher: CollectingDispatcher, messages: Iterable[Message]) -> None:
    """Send bot-core messages, with their quick replies."""
    for message in messages:
        dispatcher.utter_message(text=message.text, buttons=list(message.buttons) or None)
