"""Rasa NLU component: a message that starts with "/" is read as text, never as an intent with entities.

Rasa's RegexMessageHandler runs last in every NLU graph and turns "/intent{json}" into that intent and those
entities, replacing what the deterministic red-flag rules found: "/ask_hip_health@1 my baby is having a
seizure" would start the hip questions, "/greet{"red_flag": {"x": 1}}" would put an object in a text slot, and
"/back" would undo an urgent reply. The assistant offers no button whose payload starts with "/", so no message
from any channel or from the HTTP API is meant as a command. This component runs first in the pipeline and
drops the leading slashes from the text every later component reads (the tokenizer and featurizers included),
so the handler never sees a command. The channels already drop the slashes (bot.channels.inbound, the same
function); this component is what holds for the HTTP API's /messages and /model/parse and any other channel.
Relies on how Rasa 3.6.21's RegexMessageHandler reads the text: listed in rasa_components/adaptations.py (RELIANCES).
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.channels.inbound import as_text

COMMAND_PREFIX = "/"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SlashCommandsAsText(GraphComponent):
    """Reads "/…" messages as text (see the module docstring). Must be the first component of the pipeline."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SlashCommandsAsText:
        """Create the component (nothing to train)."""
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are ours and never start with "/": nothing to change."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Drop the command prefix from each message's text."""
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and text.strip().startswith(COMMAND_PREFIX):
                message.set(TEXT, as_text(text))
        return messages
