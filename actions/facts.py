"""action_update_facts: a message that tells us something (or corrects it) while no question is pending."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.after_advice import feedback_in_reply, missing_comment
from actions.tracker_io import advise_now, answers_from, knowledge_base, observations_so_far, send, understanding_of
from bot.triage.conversation import after_questions


class ActionUpdateFacts(Action):
    """Keeps every fact the message states; after advice, a changed fact gives the advice again, saying what changed.

    Also answers repair requests made outside the questions: say that again, skip, forget it.
    """

    def name(self) -> str:
        """Action name used in rules."""
        return "action_update_facts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        """Apply the facts and reply (bot.triage.conversation decides what to say). A plain yes or no to "was this
        helpful?" is the vote; a message with no fact after "what was missing?" is the answer to it."""
        kb = knowledge_base()
        heard = understanding_of(tracker)
        voted = feedback_in_reply(dispatcher, tracker, heard)
        if voted is not None:
            return voted
        advised = tracker.get_slot("advised") if isinstance(tracker.get_slot("advised"), dict) else {}
        reply = after_questions(
            heard, answers_from(tracker, kb), kb.questions, observations_so_far(tracker), last_bot_texts(tracker), bool(advised)
        )
        events: List[EventType] = [SlotSet(slot, value) for slot, value in reply.updates.items()]
        if reply.observed != observations_so_far(tracker):
            events.append(SlotSet("observations", reply.observed))
        if reply.advise_again:
            outcome = advise_now(
                tracker,
                advised.get("subject"),
                not_yet=bool(advised.get("not_yet")),
                changed=reply.lead,
                answers={**answers_from(tracker, kb), **reply.updates},
                observed=reply.observed,
            )
            if outcome is not None:
                send(dispatcher, outcome.messages)
                events.append(SlotSet("advice_rules", list(outcome.rule_ids)))
                if outcome.referral:
                    events.append(SlotSet("referral", outcome.referral))
                return events
        comment = None if events or reply.advise_again else missing_comment(dispatcher, tracker)
        if comment is not None:
            return comment
        send(dispatcher, reply.messages)
        return events


def last_bot_texts(tracker: Tracker) -> List[Dict[str, Any]]:
    """The assistant's messages before the latest user message (for "can you say that again?")."""
    found: List[Dict[str, Any]] = []
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                break
            seen_user = True
        elif kind == "bot" and seen_user:
            found.append({"text": event.get("text") or "", "buttons": (event.get("data") or {}).get("buttons") or []})
    return list(reversed(found))
