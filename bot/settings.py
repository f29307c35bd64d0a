"""The one place that reads configuration (environment variables, with embedded defaults).

Every variable is documented in .env.example.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Runtime settings."""

    knowledge_dir: Path
    knowledge_db: Path
    max_reasks: int
    rasa_port: int
    action_port: int
    rasa_token: Optional[str]
    model_dir: Path
    service_env: Dict[str, str]  # variables endpoints.yml reads, with defaults filled in


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read settings from the environment once."""
    action_port = int(_env("ACTION_PORT", "5055"))
    data_dir = _path("DATA_DIR", PROJECT_ROOT / "build")
    service_env = {
        "ACTION_SERVER_URL": _env("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}/webhook"),
        "TRACKER_DB_DIALECT": _env("TRACKER_DB_DIALECT", "sqlite"),
        "TRACKER_DB_URL": _env("TRACKER_DB_URL", f"sqlite:///{data_dir / 'tracker.db'}"),
        "LOCK_STORE_TYPE": _env("LOCK_STORE_TYPE", "in_memory"),
        "LOCK_STORE_HOST": _env("LOCK_STORE_HOST", "127.0.0.1"),
        "LOCK_STORE_PORT": _env("LOCK_STORE_PORT", "6379"),
        "RASA_TELEMETRY_ENABLED": "false",  # no calls to outside hosts
    }
    return Settings(
        knowledge_dir=_path("KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge"),
        knowledge_db=_path("KNOWLEDGE_DB", PROJECT_ROOT / "build" / "knowledge.db"),
        max_reasks=int(_env("TRIAGE_MAX_REASKS", "1")),
        rasa_port=int(_env("RASA_PORT", "5005")),
        action_port=action_port,
        rasa_token=os.environ.get("RASA_TOKEN") or None,
        model_dir=_path("MODEL_DIR", PROJECT_ROOT / "models"),
        service_env=service_env,
    )
