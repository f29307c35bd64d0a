"""Replies when a message is not about a topic: suggest the closest topics, or say what is outside the scope."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.after_advice import missing_comment
from actions.tracker_io import knowledge_base
from bot.knowledge.messages import say
from bot.triage.milestones import tell_me_about

OUT_OF_SCOPE = "utter_out_of_scope"
# The same reply, opening with the emergency line: for a message outside the topics that mentions a health worry
# (red flags never get here: the NLU component turns them into report_red_flag and utter_urgent_help).
OUT_OF_SCOPE_HEALTH = "utter_out_of_scope_health"
# Words that show a worry about the child's health or an accident (whole words, lower case, a few typos).
_HEALTH_WORRY = re.compile(
    r"\b("
    r"fevers?|feverish|fevre|temps?|temperatures?|temprature|burning up|high temp|"
    r"vomit\w*|vomm?it\w*|sick|puk(e|ed|es|ing)|throw(s|ing)? up|threw up|diarrh?o?ea|dehydrat\w*|"
    r"rash(es)?|spots|hives|swelling|swell(ed|s)?|swollen|allerg\w*|bruis\w*|bleed\w*|blood|bloody|"
    r"swallow(ed|ing)?|poison\w*|chok\w*|"
    r"fell|fallen|fall(ing)? (off|down|out)|hit (his|her|their) head|banged (his|her|their) head|head injury|"
    r"burn(s|t|ed)?|scald\w*|hurt(s|ing)?|injur\w*|pain(ful)?|"
    r"breath(e|es|ing|less)?|wheez\w*|cough\w*|floppy|drowsy|letharg\w*|unresponsive|"
    r"seizures?|fitting|convuls\w*|unwell|poorly|infection|meningitis|sepsis|jaundice|not feeding"
    r")\b",
    re.IGNORECASE,
)


def mentions_health_worry(text: str) -> bool:
    """Does the message mention a worry about the child's health or an accident (fever, rash, vomiting, a fall...)?"""
    return bool(_HEALTH_WORRY.search(text or ""))


def out_of_scope_response(text: str) -> str:
    """The out-of-scope response for `text`: the one that opens with the emergency line when a health worry is
    mentioned, else the plain one ("what's the weather")."""
    return OUT_OF_SCOPE_HEALTH if mentions_health_worry(text) else OUT_OF_SCOPE


class ActionSuggestTopic(Action):
    """Searches the knowledge base for the caregiver's words; offers matching topics as buttons, never forces one."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_suggest_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Suggest topics, or explain what the assistant covers (after "what was missing?": keep the answer)."""
        comment = missing_comment(dispatcher, tracker)
        if comment is not None:
            return comment
        text = tracker.latest_message.get("text") or ""
        matches = knowledge_base().best_topics(text, limit=3)
        if not matches:
            dispatcher.utter_message(response="utter_default")
            return []
        buttons = [{"title": topic.title, "payload": tell_me_about(topic.title)} for topic, _ in matches]
        something_else = {"title": say("topics.something_else.title"), "payload": say("topics.something_else.payload")}
        dispatcher.utter_message(text=say("topics.suggest"), buttons=buttons + [something_else])
        return []


class ActionHandleOutOfScope(Action):
    """Says honestly that the question is outside what the assistant covers, and clears the topic."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_handle_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Reply with utter_out_of_scope (utter_out_of_scope_health, with the emergency line first, when the message
        mentions a health worry); topic becomes null (the contract for questions outside the topics). After "what
        was missing?", a message without a health worry is the parent's answer to it: kept, and thanked for."""
        text = tracker.latest_message.get("text") or ""
        comment = None if mentions_health_worry(text) else missing_comment(dispatcher, tracker)
        if comment is not None:
            return comment
        dispatcher.utter_message(response=out_of_scope_response(text))
        return [SlotSet("topic", None)]
