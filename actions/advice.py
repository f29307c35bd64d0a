"""action_give_advice: tailored advice for the topic once the follow-up questions are done."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_io import answers_from, knowledge_base, send
from bot.triage.advice import compose_advice
from bot.triage.dialogue import TriageState
from bot.triage.milestones import answer_subject, is_milestone_subject


class ActionGiveAdvice(Action):
    """Composes the advice (bot.triage.advice) and records the referral level and the rules behind it."""

    def name(self) -> str:
        """Action name used in rules."""
        return "action_give_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        """Give the advice, or close politely when the caregiver stopped the questions."""
        kb = knowledge_base()
        state = TriageState.from_dict(tracker.get_slot("triage_state"))
        reset = SlotSet("triage_state", TriageState().to_dict())
        if state.stopped:  # the caregiver ended the questions; the goodbye was already said
            return [reset]
        if kb.milestones and is_milestone_subject(state.topic):
            answer = answer_subject(
                kb.milestones,
                {t.id: t.title for t in kb.topics.values()},
                str(state.topic),
                answers_from(tracker, kb),
                not_yet=state.not_yet,
                previous_referral=tracker.get_slot("referral"),
            )
            send(dispatcher, answer.messages)
            events: List[EventType] = [SlotSet("advice_rules", [f"milestone_{answer.milestone_id}"]), reset]
            if answer.topic:
                events.append(SlotSet("topic", answer.topic))
            if answer.referral:  # set only when a child was assessed (an age was given)
                events.append(SlotSet("referral", answer.referral))
            return events
        topic = kb.topic(tracker.get_slot("topic"))
        if topic is None:
            dispatcher.utter_message(response="utter_default")
            return [reset]
        advice = compose_advice(topic, answers_from(tracker, kb), previous_referral=tracker.get_slot("referral"))
        send(dispatcher, advice.messages)
        return [SlotSet("referral", advice.referral), SlotSet("advice_rules", list(advice.rule_ids)), reset]
