"""action_restart ("start over"), replacing Rasa's default: the same reset, but an urgent referral stays urgent.

Rasa's own action_restart resets every slot, and the next message then opens a new session that no longer
holds the emergency. Here the conversation starts again too, except that `referral=urgent` is set once more after
the reset, so the advice that follows still says to get help now (bot.triage.advice.carried_referral). When the
action server is down, SafetyPolicy answers instead and nothing is reset.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_io import previous_referral
from bot.contract import REFERRAL_SLOT, URGENT


class ActionStartOver(Action):
    """Start the conversation again, keeping an urgent referral."""

    def name(self) -> str:
        return "action_restart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_restart")
        kept = URGENT if previous_referral(tracker) == URGENT else None
        return [Restarted(), SlotSet(REFERRAL_SLOT, kept)]
