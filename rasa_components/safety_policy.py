"""Rasa policy: red flags get the urgent-help reply before anything else, an urgent referral is never lowered
within a conversation, and a failed custom action still gets a reply. Runs inside the Rasa server, so all three
hold when the action server is down. A failed custom action is known by its explicit signal, the `action_failed`
slot event that rasa_components/adaptations.py (FAILURE_SIGNAL) adds; the Rasa process must be started through
rasa_components.run for it to exist (a policy loaded without it logs a warning)."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME, ACTION_RESTART_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, Restarted, SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.contract import ACTION_FAILED_SLOT, RED_FLAG_INTENT, REFERRAL_SLOT, URGENT
from rasa_components import adaptations

logger = logging.getLogger(__name__)

URGENT_RESPONSE = "utter_urgent_help"
TROUBLE_RESPONSE = "utter_technical_trouble"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class SafetyPolicy(Policy):
    """Deterministic safety net, with a priority above RulePolicy (default 7).

    - after a red-flag message: utter_urgent_help, stop any active form, listen;
    - once `referral` has been urgent in a conversation, it is set back to urgent whenever anything lowered it
      (going back a turn, starting over, a new topic, an event posted through the HTTP API);
    - after a restart: listen (Rasa would otherwise predict on an empty tracker);
    - after a custom action or form that could not run (its action_failed event, see adaptations.signalling_run):
      tell the caregiver, then listen. The form stays active so the conversation resumes when the server is back.
      A custom action that returns no events is not a failure.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Priority above RulePolicy (6)."""
        return {"priority": 7}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyPolicy:
        """Create the policy (nothing to train)."""
        return cls({**cls.get_default_config(), **config}, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyPolicy:
        """Load the policy (nothing was persisted), for a Rasa process that will predict."""
        if not adaptations.installed():
            logger.warning(
                "Rasa was started without rasa_components.run: a custom action that fails will not be reported "
                "to the caregiver (see rasa_components/adaptations.py)."
            )
        return cls.create(config, model_storage, resource, execution_context)

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn: the behaviour is fixed."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predict the safety action with confidence 1, or abstain (all zeros)."""
        action = self.next_action(tracker, domain)
        probabilities = self._default_predictions(domain)
        events = keep_urgent(tracker)  # applied whichever policy wins
        if action is None:
            return self._prediction(probabilities, events=events)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, events=events, is_no_user_prediction=True)

    @staticmethod
    def next_action(tracker: DialogueStateTracker, domain: Domain) -> Optional[str]:
        """The action the safety rules require now, if any."""
        last = tracker.events[-1] if tracker.events else None
        latest_action = tracker.latest_action_name
        if failed_action(tracker) is not None:
            return TROUBLE_RESPONSE
        if isinstance(last, Restarted) or latest_action == ACTION_RESTART_NAME:
            return ACTION_LISTEN_NAME  # "start over": utter_restart was said, wait for the new question
        if latest_action == ACTION_LISTEN_NAME and tracker.latest_message:
            if (tracker.latest_message.intent or {}).get("name") == RED_FLAG_INTENT:
                return URGENT_RESPONSE
            return None
        if latest_action == URGENT_RESPONSE:
            return ACTION_DEACTIVATE_LOOP_NAME if tracker.active_loop_name else ACTION_LISTEN_NAME
        if latest_action == ACTION_DEACTIVATE_LOOP_NAME and _action_before_last(tracker) == URGENT_RESPONSE:
            return ACTION_LISTEN_NAME
        if latest_action == TROUBLE_RESPONSE:
            return ACTION_LISTEN_NAME
        return None


def keep_urgent(tracker: DialogueStateTracker) -> List[Event]:
    """SlotSet(referral=urgent) when the conversation has been urgent but the slot no longer says so."""
    if tracker.get_slot(REFERRAL_SLOT) == URGENT:
        return []
    for event in tracker.events:
        if isinstance(event, SlotSet) and event.key == REFERRAL_SLOT and event.value == URGENT:
            return [SlotSet(REFERRAL_SLOT, URGENT)]
    return []


def failed_action(tracker: DialogueStateTracker) -> Optional[str]:
    """The custom action or form that could not run just now: the tracker ends with its action_failed event."""
    last = tracker.events[-1] if tracker.events else None
    if isinstance(last, SlotSet) and last.key == ACTION_FAILED_SLOT and isinstance(last.value, str):
        return last.value
    return None


def _action_before_last(tracker: DialogueStateTracker) -> Optional[str]:
    executed = [e.action_name for e in tracker.events if isinstance(e, ActionExecuted)]
    return executed[-2] if len(executed) >= 2 else None
