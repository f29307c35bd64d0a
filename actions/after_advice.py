"""After an answer: the rest of the advice one part at a time, and "was this helpful?" (the vote, then what was
missing). Thin: the parts come from bot.triage.respond, the stored values from bot.triage.feedback."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_io import advise_now, latest_intent, send
from bot.contract import ADVISED_SLOT, FEEDBACK_SLOT, HELPFUL_INTENT, MORE_INTENTS, REFERRAL_SLOT
from bot.knowledge.messages import say
from bot.nlu.understand import Understanding
from bot.triage import feedback


def advised(tracker: Tracker) -> Dict[str, Any]:
    """The last answer given: {"subject", "not_yet", "part"} (empty before any)."""
    value = tracker.get_slot(ADVISED_SLOT)
    return value if isinstance(value, dict) else {}


class ActionMoreDetail(Action):
    """What else to try, why it happens, when to worry, or every source: for the topic of the last answer."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_more_detail"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Send the part the intent asks for; without an answer given yet, say what is needed first."""
        part = MORE_INTENTS.get(latest_intent(tracker) or "", "when")
        last = advised(tracker)
        outcome = advise_now(tracker, last.get("subject"), not_yet=bool(last.get("not_yet"))) if last else None
        messages = outcome.parts.get(part) if outcome is not None else None
        if not messages:
            dispatcher.utter_message(text=say("advice.more_first"))
            return []
        send(dispatcher, messages)
        return [SlotSet(ADVISED_SLOT, {**last, "part": part})]


class ActionFeedback(Action):
    """Keeps a "was this helpful?" vote; after "no", asks what was missing (the next message may answer it)."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Store the vote with the conversation and thank the parent."""
        return record_vote(dispatcher, tracker, latest_intent(tracker) == HELPFUL_INTENT)


def record_vote(dispatcher: CollectingDispatcher, tracker: Tracker, helpful: bool) -> List[EventType]:
    """The vote's slot event, and the reply: thanks, or "what was missing?"."""
    dispatcher.utter_message(text=say("feedback.thanks" if helpful else "feedback.what_was_missing"))
    return [SlotSet(FEEDBACK_SLOT, feedback.vote(helpful, advised(tracker), tracker.get_slot(REFERRAL_SLOT)))]


def missing_comment(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """When the assistant just asked what was missing and the message is not a question it can answer: keep the
    message as the comment and thank the parent (None otherwise)."""
    if not feedback.awaits_comment(tracker.get_slot(FEEDBACK_SLOT)) or last_action(tracker) != "action_feedback":
        return None
    text = tracker.latest_message.get("text") or ""
    dispatcher.utter_message(text=say("feedback.comment_thanks"))
    return [SlotSet(FEEDBACK_SLOT, feedback.comment(text, advised(tracker), tracker.get_slot(REFERRAL_SLOT)))]


def feedback_in_reply(dispatcher: CollectingDispatcher, tracker: Tracker, heard: Understanding) -> Optional[List[EventType]]:
    """A plain "yes" or "no" right after "was this helpful?": the vote (None otherwise, and for a message that
    states a fact, describes something or corrects: that is what it is)."""
    if not last_bot_asked_feedback(tracker):
        return None
    states = bool(heard.facts or heard.observations or heard.correction or heard.repair)
    helpful = feedback.vote_in_reply(tracker.latest_message.get("text") or "", states)
    return None if helpful is None else record_vote(dispatcher, tracker, helpful)


def last_action(tracker: Tracker) -> Optional[str]:
    """The last action the assistant ran before the latest message (action_listen aside)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return str(event.get("name"))
    return None


def last_bot_asked_feedback(tracker: Tracker) -> bool:
    """The assistant's last message before the latest one carried the "was this helpful?" buttons."""
    seen_user = False
    helpful_payload = say("advice.feedback.helpful.payload")
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            return any(isinstance(b, dict) and b.get("payload") == helpful_payload for b in buttons)
    return False
