"""Rasa NLU component: deterministic red-flag rules on every message, overriding the classifier's intent."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.contract import RED_FLAG_INTENT
from bot.nlu.red_flags import RedFlagDetector, load_context, load_definitions

# The role of the red_flag entities that are not the primary one: the `red_flag` slot maps from the entity
# without a role, so it always holds the flag whose message fits best (RedFlagDetector.primary).
ALSO_ROLE = "also"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=False,
)
class RedFlagRules(GraphComponent, EntityExtractorMixin):
    """When the rules find a red flag, the intent becomes report_red_flag (confidence 1) with `red_flag` entities.

    Overridden flags are already gone (the `overrides` of red_flags.yml). Of the flags left, the one with the
    best-fitting message (the lowest `priority`) is the entity without a role, which fills the `red_flag` slot
    and so picks the utter_urgent_help variant; any others are kept, for the record, with the role "also".

    A red-flag intent from the classifier alone is kept only above `classifier_threshold`, and not when the
    message tells of a past that was checked or has settled and of nothing current ("he fell off the slide last
    month, they x-rayed him and it was fine"); otherwise the next intent in the ranking is used, so a vague or
    settled message is not escalated on a guess.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Defaults: the definitions file (None = knowledge/red_flags.yml) and the classifier threshold."""
        return {"definitions": None, "classifier_threshold": 0.8}

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        path: Optional[str] = self._config["definitions"]
        source = Path(path) if path else None
        self._detector = RedFlagDetector.from_definitions(load_definitions(source), context=load_context(source))

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagRules:
        """Create the component, compiling the rules once."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Detect red flags and adjust intent and entities."""
        for message in messages:
            hits = self._detector.detect(message.get(TEXT) or "")
            if hits:
                self._mark_red_flag(message, hits)
            else:
                self._check_classifier_only(message)
        return messages

    def _mark_red_flag(self, message: Message, hits: List[Any]) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != RED_FLAG_INTENT]
        intent = {"name": RED_FLAG_INTENT, "confidence": 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        primary = self._detector.primary(hits)
        entities = []
        for hit in hits:
            entity = {"entity": "red_flag", "start": hit.start, "end": hit.end, "value": hit.flag_id, "confidence_entity": 1.0}
            if hit is not primary:
                entity["role"] = ALSO_ROLE
            entities.append(entity)
        message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(entities), add_to_output=True)

    def _check_classifier_only(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        if intent.get("name") != RED_FLAG_INTENT:
            return
        confident = intent.get("confidence", 0) >= self._config["classifier_threshold"]
        if confident and not self._detector.settled_past(message.get(TEXT) or ""):
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != RED_FLAG_INTENT]
        if ranking:
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
