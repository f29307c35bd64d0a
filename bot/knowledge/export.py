"""Write the Rasa domain and rules that the knowledge implies, so a new topic needs no hand edits.

Generated: domain/_generated.yml (topic intents, the topic/answer/red-flag slots, the triage form, the
urgent-help response per red flag, the utter_* responses written from the message catalogue) and
data/rules/_generated.yml (a topic question starts the form).
Plain YAML text: this module does not import rasa.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml

from bot.knowledge.messages import domain_responses, get_catalogue
from bot.knowledge.validate import Knowledge

HEADER = "# Generated from knowledge/ by `python -m bot.knowledge.build` (make knowledge). Do not edit.\n"
FORM = "triage_form"
SLOT_TYPE_FOR_ANSWER = {"months": "float", "weeks_early": "float", "seconds": "float", "yes_no_unsure": "text"}


def domain_data(knowledge: Knowledge) -> Dict[str, Any]:
    """The generated part of the Rasa domain."""
    topics = list(knowledge.topics.values())
    slots: Dict[str, Any] = {
        "topic": {
            "type": "text",
            "influence_conversation": False,
            "mappings": [{"type": "from_intent", "intent": t.intent, "value": t.id} for t in topics] + [{"type": "custom"}],
        },
        "red_flag": {
            "type": "text",
            "influence_conversation": False,
            "mappings": [{"type": "from_entity", "entity": "red_flag"}],
        },
    }
    for question in knowledge.questions.values():
        # Filled only by the actions, from the message's understanding: a fact is taken once, where the
        # correction and the past ages are known (a Rasa entity mapping would overwrite before we could compare).
        slots[question.slot] = {
            "type": SLOT_TYPE_FOR_ANSWER[question.type],
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        }
    variations = [
        {"condition": [{"type": "slot", "name": "red_flag", "value": flag.id}], "text": flag.message}
        for flag in knowledge.red_flags.values()
    ]
    generic = knowledge.red_flags_default_message
    milestone_intents = [knowledge.milestones.intent] if knowledge.milestones else []
    messages = knowledge.messages or get_catalogue()  # a knowledge folder without messages/ uses the project's
    return {
        "version": "3.1",
        "intents": [t.intent for t in topics] + milestone_intents,
        "slots": slots,
        "forms": {FORM: {"required_slots": []}},  # validate_triage_form picks each question (requested_slot)
        "responses": {"utter_urgent_help": variations + [{"text": generic}], **domain_responses(messages)},
    }


def rules_data(knowledge: Knowledge) -> Dict[str, Any]:
    """Rules that start the follow-up questions when a topic (or a milestone's usual age) is asked about."""
    intents = [t.intent for t in knowledge.topics.values()] + ([knowledge.milestones.intent] if knowledge.milestones else [])
    first = [{"intent": intents[0]}] if len(intents) == 1 else [{"or": [{"intent": i} for i in intents]}]
    return {
        "version": "3.1",
        "rules": [
            {
                "rule": "a question about a topic starts the follow-up questions",
                "steps": first + [{"action": FORM}, {"active_loop": FORM}],
            }
        ],
    }


def _write_if_changed(path: Path, data: Dict[str, Any]) -> bool:
    content = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return True


def write_rasa_files(knowledge: Knowledge, project_root: Path) -> bool:
    """Write both generated files; True when either changed (so Rasa must retrain)."""
    domain_changed = _write_if_changed(project_root / "domain" / "_generated.yml", domain_data(knowledge))
    rules_changed = _write_if_changed(project_root / "data" / "rules" / "_generated.yml", rules_data(knowledge))
    return domain_changed or rules_changed
