"""action_suggest_topic: when the message was not understood, offer the closest topics from a full-text search."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
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
