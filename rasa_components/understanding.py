"""Rasa NLU component: read each message once (bot.nlu.understand) and carry what it says in the parse data.

- entities `age`, `duration`, `weeks_early` with normalised values; an age that describes a past moment
  ("scanned at 6 weeks") has the role `past`, one the parent rejects ("not 11 months") the role `rejected`,
  so slot mappings (which take entities without a role) only see the current age;
- `understanding` in the parse data: facts with spans, observations, correction, repair (see bot.nlu.understand);
- intent: a correction or a repair request is `inform` (the form, or action_update_facts, handles it), and a
  message that only describes a sign ("one of her legs looks shorter") starts the topic that covers it.
Red flags are decided after this component (rasa_components.red_flags) and override all of it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.understand import INFORM, PARSE_KEY, Understanding, entity_dicts, routing_intent, understand

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=False,
)
class UnderstandingComponent(GraphComponent, EntityExtractorMixin):
    """Adds entities (with roles) and the `understanding` of the message; adjusts the intent for corrections,
    repair requests and openings that only describe a sign."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Defaults: the knowledge folder (None = the project's, from settings)."""
        return {"knowledge_dir": None}

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self._topic_intents: Optional[Dict[str, str]] = None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnderstandingComponent:
        """Create the component (nothing to train; observation rules load on first use)."""
        return cls(config)

    def _intents(self) -> Dict[str, str]:
        if self._topic_intents is None:
            from bot.knowledge.documents import parse_topic
            from bot.settings import get_settings

            root = Path(self._config["knowledge_dir"]) if self._config["knowledge_dir"] else get_settings().knowledge_dir
            topics = [parse_topic(path) for path in sorted((root / "topics").glob("*.md"))]
            self._topic_intents = {t.id: t.intent for t in topics}
        return self._topic_intents

    def process(self, messages: List[Message]) -> List[Message]:
        """Understand each message and adjust entities and intent."""
        for message in messages:
            text = message.get(TEXT) or ""
            try:
                understanding = understand(text)
            except Exception:  # noqa: BLE001 - a broken rule must not cost the parent a reply; red flags run after this
                logger.exception("understanding failed; the message goes on without facts or observations")
                understanding = Understanding()
            found = entity_dicts(understanding)
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
            intent = (message.get(INTENT) or {}).get("name")
            ranking = [r.get("name") for r in message.get(INTENT_RANKING_KEY) or []]
            new_intent = routing_intent(understanding, intent, ranking, self._intents())
            if new_intent:
                self._set_intent(message, new_intent)
                if new_intent != INFORM:
                    understanding = understanding.as_routed()
            message.set(PARSE_KEY, understanding.to_dict(), add_to_output=True)
        return messages

    @staticmethod
    def _set_intent(message: Message, name: str) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
        intent = {"name": name, "confidence": 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
