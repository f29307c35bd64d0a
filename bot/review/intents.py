"""The assistant's intents, read from the domain files (for the "correct the intent" menu)."""

from __future__ import annotations

from functools import lru_cache
from typing import List

import yaml

from bot.settings import PROJECT_ROOT


@lru_cache(maxsize=1)
def known_intents() -> List[str]:
    """Every intent in domain/*.yml (including the generated topic intents), sorted."""
    found = set()
    for path in sorted((PROJECT_ROOT / "domain").glob("*.yml")):
        for intent in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or []:
            found.add(next(iter(intent)) if isinstance(intent, dict) else str(intent))
    return sorted(found)
