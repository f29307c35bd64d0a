"""The knowledge an appointment summary reads, gathered once per process (the knowledge base, the observation
catalogue and the red flags' definitions), for the action server and the web server alike."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Mapping

from bot.knowledge.store import get_knowledge_base
from bot.nlu.observations import default_catalogue
from bot.nlu.red_flags import load_definitions
from bot.triage.appointment import Library


@lru_cache(maxsize=1)
def red_flag_definitions() -> Mapping[str, Mapping[str, Any]]:
    """The red flags of knowledge/red_flags.yml by id (their signpost and sources), read once."""
    flags: Dict[str, Mapping[str, Any]] = {}
    for flag in load_definitions():
        if isinstance(flag, dict) and isinstance(flag.get("id"), str):
            flags[flag["id"]] = flag
    return flags


def current_library() -> Library:
    """The project's knowledge for summaries (KnowledgeBaseMissing before `make knowledge`)."""
    kb = get_knowledge_base()
    return Library(
        topics=kb.topics,
        questions=kb.questions,
        milestones=kb.milestones,
        safety_net=kb.safety_net,
        catalogue=default_catalogue(),
        red_flags=red_flag_definitions(),
    )
