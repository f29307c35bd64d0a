"""Rasa NLU component: ages (months), durations (seconds) and weeks born early, from bot.nlu.parsers."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.parsers import extract_entities


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class MotorEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds `age`, `duration` and `weeks_early` entities with normalised numeric values."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MotorEntityExtractor:
        """Create the component (nothing to train or load)."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Append the extracted entities to each message."""
        for message in messages:
            text = message.get(TEXT) or ""
            found = [
                {"entity": m.entity, "start": m.start, "end": m.end, "value": round(m.value, 2), "confidence_entity": 1.0}
                for m in extract_entities(text)
            ]
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
        return messages
