"""Replies when a message is not about a topic: suggest the closest topics, or say what is outside the scope."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_io import knowledge_base


class ActionSuggestTopic(Action):
    """Searches the knowledge base for the caregiver's words; offers matching topics as buttons, never forces one."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_suggest_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        """Suggest topics, or explain what the assistant covers."""
        text = tracker.latest_message.get("text") or ""
        matches = knowledge_base().best_topics(text, limit=3)
        if not matches:
            dispatcher.utter_message(response="utter_default")
            return []
        buttons = [{"title": topic.title, "payload": f"Tell me about {topic.title.lower()}"} for topic, _ in matches]
        dispatcher.utter_message(
            text="Sorry, I'm not sure I understood. Is your question about one of these?",
            buttons=buttons + [{"title": "Something else", "payload": "What can you help with?"}],
        )
        return []


class ActionHandleOutOfScope(Action):
    """Says honestly that the question is outside what the assistant covers, and clears the topic."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_handle_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        """Reply with utter_out_of_scope; topic becomes null (the contract for questions outside the topics)."""
        dispatcher.utter_message(response="utter_out_of_scope")
        return [SlotSet("topic", None)]
