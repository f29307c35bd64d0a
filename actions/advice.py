"""action_give_advice: tailored advice for the topic once the follow-up questions are done."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_io import advise_now, send, topic_slot
from bot.triage.dialogue import TriageState


class ActionGiveAdvice(Action):
    """Composes the advice (bot.triage.respond) and records the referral level and the rules behind it."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_give_advice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Give the advice, or close politely when the caregiver stopped the questions."""
        state = TriageState.from_dict(tracker.get_slot("triage_state"))
        reset = SlotSet("triage_state", TriageState().to_dict())
        if state.stopped:  # the caregiver ended the questions; the goodbye was already said
            return [reset]
        subject = state.topic if state.topic else topic_slot(tracker)
        outcome = advise_now(tracker, subject, not_yet=state.not_yet)
        if outcome is None:
            dispatcher.utter_message(response="utter_default")
            return [reset]
        send(dispatcher, outcome.messages)
        events: List[EventType] = [
            SlotSet("advice_rules", list(outcome.rule_ids)),
            reset,
            SlotSet("advised", {"subject": subject, "not_yet": state.not_yet, "part": "advice"}),
        ]
        if outcome.topic:
            events.append(SlotSet("topic", outcome.topic))
        if outcome.referral:  # a milestone answer sets it only when a child was assessed (an age was given)
            events.append(SlotSet("referral", outcome.referral))
        return events
