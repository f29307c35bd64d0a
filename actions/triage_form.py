"""validate_triage_form: each follow-up turn of the triage form, decided by bot.triage.dialogue.

The contract with Rasa's FormAction: the domain's triage_form declares no required slots
(bot/knowledge/export.py writes `required_slots: []`), and this action alone decides the questions. Every run
returns SlotSet(requested_slot): the question to ask next (one of the knowledge's question slots), or None to end
the form, after which the advice follows. With no required slots, Rasa never picks a question of its own.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions.tracker_io import (
    answers_from,
    knowledge_base,
    latest_intent,
    observation_events,
    observations_so_far,
    send,
    topic_slot,
    understanding_of,
)
from bot.contract import TOPIC_SLOT
from bot.nlu.observations import default_catalogue
from bot.settings import get_settings
from bot.triage import dialogue, safety_net, subjects
from bot.triage.advice import signs_from
from bot.triage.dialogue import TriageState


class ValidateTriageForm(Action):
    """Parses the reply to the pending question, handles interruptions, and asks the next question.

    The questions come from the topic's document, so the form's slots are dynamic: this action sets
    `requested_slot` itself on every run (None ends the form, and the advice follows); see the module docstring.
    """

    def name(self) -> str:
        """Rasa calls this action to validate `triage_form`."""
        return "validate_triage_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Run one form turn."""
        kb = knowledge_base()
        state = TriageState.from_dict(tracker.get_slot("triage_state"))
        requested = tracker.get_slot(REQUESTED_SLOT)
        text = tracker.latest_message.get("text") or ""
        heard = understanding_of(tracker)
        resolved = subjects.resolve(
            kb.topics, kb.milestones, kb.questions, topic_slot(tracker), state, latest_intent(tracker), text, requested, heard
        )
        answers = answers_from(tracker, kb)
        if resolved.subject is None:  # nothing to ask about: end the form quietly, the advice action explains
            return [SlotSet(REQUESTED_SLOT, None)]
        observed = [*observations_so_far(tracker), *heard.observation_ids]
        topic = safety_net.guard(resolved.subject, kb.topics, kb.safety_net, signs_from(default_catalogue(), observed).referral)
        if resolved.restart:
            turn = dialogue.start(topic, kb.questions, answers, state, text, not_yet=resolved.not_yet, understanding=heard)
        else:
            turn = dialogue.handle_reply(
                topic,
                kb.questions,
                requested,
                latest_intent(tracker),
                text,
                answers,
                state,
                max_reasks=get_settings().max_reasks,
                understanding=heard,
            )
        send(dispatcher, turn.messages)
        events: List[EventType] = [SlotSet(slot, value) for slot, value in turn.answers.items()]
        events += observation_events(tracker, heard)
        events += [SlotSet("triage_state", turn.state.to_dict()), SlotSet(REQUESTED_SLOT, turn.next_slot)]
        if topic.id in kb.topics and topic_slot(tracker) != topic.id:  # a milestone's topic is set with its answer
            events.append(SlotSet(TOPIC_SLOT, topic.id))
        if turn.human_requested:
            events.append(SlotSet("human_requested", True))
        return events
