"""The container image's entrypoint: run one role of the assistant, configured from the environment only.

Usage: python deploy/entrypoint.py ROLE [ARGS...]
  rasa       the Rasa server (REST, socket.io, platform webhooks, token-protected HTTP API) on RASA_PORT
  actions    the action server on ACTION_PORT (listening on ACTION_INTERFACE: 0.0.0.0 in the image)
  web        the demo pages, the chat widget and the review dashboard on WEB_PORT
  migrate    create the tracker store's and the dashboard's tables once, then exit (before the replicas start:
             several replicas creating the same PostgreSQL tables at once can fail)
  review     python -m bot.review ARGS (dashboard accounts, retention, erasure, index)
  health     exit 0 when the role started in this container (or the one named: health rasa) answers its
             health URL, else 1 (the image's HEALTHCHECK)

The servers' command lines and environment come from bot/serve.py, as in `make run`; this file only picks one
and replaces itself with it (exec), so the server is the container's main process and gets its signals.
Shared secrets must be set, never generated per container: a token or secret made in one replica's data
directory would differ from the next replica's, so the rasa role refuses to start without them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # run as a script (python deploy/entrypoint.py): the project's packages

from bot.serve import action_command, answers, latest_model, rasa_command, service_env, web_command  # noqa: E402
from bot.settings import get_settings  # noqa: E402

SERVER_ROLES = ("rasa", "actions", "web")
# Variables every replica of a role must share (bot/settings.py would otherwise make one per data directory).
REQUIRED = {
    "rasa": ("RASA_TOKEN", "WEBCHAT_SECRET", "MESSAGING_SECRET"),
    "actions": ("WEBCHAT_SECRET",),
    "web": ("WEBCHAT_SECRET",),
}
ROLE_FILE = Path(tempfile.gettempdir()) / "caregiver-role"  # the role this container runs, for `health`


def server_command(role: str) -> List[str]:
    """The command line of a server role, from the settings."""
    settings = get_settings()
    if role == "actions":
        return action_command(settings.action_port)
    if role == "web":
        return web_command(settings.web_port)
    return rasa_command(settings.rasa_port, latest_model(settings.model_dir), settings.rasa_token)


def health_url(role: str) -> str:
    """The URL that answers 200 once the role serves (Rasa's `/` only after its model is loaded)."""
    settings = get_settings()
    ports = {
        "rasa": (settings.rasa_port, "/"),
        "actions": (settings.action_port, "/health"),
        "web": (settings.web_port, "/health"),
    }
    port, path = ports[role]
    return f"http://127.0.0.1:{port}{path}"


def missing_secrets(role: str, env: Dict[str, str]) -> List[str]:
    """The shared secrets a role needs that the environment leaves unset."""
    return [name for name in REQUIRED.get(role, ()) if not env.get(name)]


def migrate() -> int:
    """Create the configured tracker store's tables (through Rasa, as a replica would) and the dashboard's."""
    from rasa_components import adaptations

    adaptations.install()
    from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    store = TrackerStore.create(read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "tracker_store"))
    if not isinstance(store, SQLTrackerStore):  # Rasa falls back to memory when the configured class fails to load
        print(f"[entrypoint] the tracker store is {type(store).__name__}, not the configured SQL store", flush=True)
        return 1
    from bot.review.db import get_engine

    get_engine()  # creates the dashboard's tables
    print("[entrypoint] the tracker store's and the dashboard's tables are in place", flush=True)
    return 0


def health(role: Optional[str]) -> int:
    """0 when the role answers its health URL, else 1."""
    if role is None:
        role = ROLE_FILE.read_text(encoding="utf-8").strip() if ROLE_FILE.exists() else ""
    return 0 if role in SERVER_ROLES and answers(health_url(role)) else 1


def main(argv: Optional[List[str]] = None) -> int:
    """Run the role named first in argv (exec for the servers); 2 on an unknown role or a missing secret."""
    args = sys.argv[1:] if argv is None else argv
    role, rest = (args[0], args[1:]) if args else ("", [])
    if role == "health":
        return health(rest[0] if rest else None)
    env = service_env()
    if role == "review":
        os.execve(sys.executable, [sys.executable, "-m", "bot.review", *rest], env)
    if role == "migrate":
        os.environ.update(env)
        return migrate()
    if role not in SERVER_ROLES:
        print(f"[entrypoint] unknown role {role!r}: use one of {', '.join((*SERVER_ROLES, 'migrate', 'review', 'health'))}")
        return 2
    missing = missing_secrets(role, env)
    if missing:
        print(f"[entrypoint] the {role} role needs {', '.join(missing)}: set the same value on every replica")
        return 2
    command = server_command(role)
    ROLE_FILE.write_text(role, encoding="utf-8")
    os.chdir(PROJECT_ROOT)  # endpoints.yml and credentials.yml are named relative to the project
    os.execve(command[0], command, env)


if __name__ == "__main__":
    sys.exit(main())
